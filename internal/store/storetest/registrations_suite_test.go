package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/latchid/latch/internal/mailflows"
	"github.com/latchid/latch/internal/store"
)

// RegistrationVerification is the contract of the registration part of
// mailflows.Storage: a registration is found by user and application, and
// marking it verified sets its flag and instants, and nothing else.
func RegistrationVerification(t *testing.T, st *store.Store) {
	type S = mailflows.Storage
	ctx := context.Background()
	f := newFixture(t, st)
	reg := &store.RegistrationRow{ID: "reg-" + f.User, UserID: f.User, ApplicationID: f.App, Roles: []string{"r"}, Data: `{"username":"u"}`,
		InsertInstant: 10, LastUpdateInstant: 10}
	ok(t, "fixture", st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertRegistrationRow(ctx, reg) }))

	_, err := read[S](st).RegistrationOf(ctx, f.User2, f.App)
	noRows(t, "another user's", err)
	got, err := read[S](st).RegistrationOf(ctx, f.User, f.App)
	ok(t, "read", err)
	if got.Verified || got.VerifiedInstant != nil {
		t.Fatalf("new registration: %+v", got)
	}
	mustWrite(t, st, func(s S) error { return s.MarkRegistrationVerified(ctx, reg.ID, 20) })
	got, err = read[S](st).RegistrationOf(ctx, f.User, f.App)
	ok(t, "read verified", err)
	if !got.Verified || got.VerifiedInstant == nil || *got.VerifiedInstant != 20 || got.LastUpdateInstant != 20 ||
		got.InsertInstant != 10 || got.Data != reg.Data || len(got.Roles) != 1 {
		t.Errorf("verified registration: %+v", got)
	}
	if err := write(st, func(s S) error { return s.MarkRegistrationVerified(ctx, "nope", 30) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("unknown registration: %v, want ErrNotOne", err)
	}
}
