package authentication

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
	"github.com/latchid/latch/internal/tokens"
)

// newLoginTestService is the login service of a bootstrapped set on a fresh SQLite file, with its
// default signing key loaded. (testutil cannot be imported here: it starts
// the app, which imports this package.)
func newLoginTestService(t *testing.T) *Service {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mk, err := secrets.ParseMasterKey("0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0")
	if err != nil {
		t.Fatal(err)
	}
	log, clock := slog.New(slog.NewTextHandler(io.Discard, nil)), kit.SystemClock{}
	au := audit.New(st, clock, log)
	hasher := password.NewHasher(password.DefaultPoolConfig())
	keys := access.New(st, clock, mk, log, au, hasher).Keys
	sg := signing.New(st, clock, mk, log, au)
	tn := tenancy.New(st, clock, mk, log, au, keys, hasher.Limits())
	gr := groups.New(st, clock, au)
	tk := tokens.New(st, clock, mk, log, au, tn, sg.Cache)
	lo := lockout.New(st, clock, tk)
	svc := New(st, clock, mk, log, au, tn, gr, tk, identity.New(st, clock, mk, log, au, tn, gr, tk, lo, hasher, nil), lo, hasher, nil)
	if err := tn.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sg.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	sg.Cache.Refresh(ctx)
	return svc
}

// Unknown users and wrong passwords cost the same: exactly one password hash
// with the tenant's scheme and factor each (and a locked login id none).
// Timing is reported, not asserted: the hash count is what makes the paths
// alike, and a wall-clock bound would only measure the machine.
func TestLoginHashesOncePerPath(t *testing.T) {
	ctx := context.Background()
	svc := newLoginTestService(t)
	actor := kit.Actor{Type: kit.ActorSystem}
	if _, err := svc.identity.CreateUser(ctx, actor, kit.AllTenants, "", kit.Object{"user": kit.Object{"email": "known@example.com", "password": "right password"},
		"skipVerification": true}); err != nil {
		t.Fatal(err)
	}
	// A user whose stored hash this build cannot read, and one without a password.
	tenants, _ := svc.store.Read().TenantIDs(ctx)
	for _, u := range []struct{ email, hash string }{{"garbled@example.com", "not$a$valid$hash$at-all"}, {"nopw@example.com", ""}} {
		err := svc.store.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertUserRow(ctx, &store.UserRow{ID: uuid.NewString(), TenantID: tenants[0], Email: u.email,
				PasswordHash: u.hash, Active: true, Verified: true, Data: "{}", InsertInstant: 1, LastUpdateInstant: 1})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	caller := LoginCaller{Authenticated: true}
	try := func(loginID, pw string) (*LoginResult, int, error) {
		return svc.login(ctx, caller, LoginRequest{LoginID: loginID, Password: pw})
	}
	for _, c := range []struct {
		name, loginID, pw string
		outcome           Outcome // checked when no error is wanted
		wantErr           error
	}{
		{"right password", "known@example.com", "right password", Success, nil},
		{"wrong password", "known@example.com", "wrong password", 0, model.ErrNotFound},
		{"unknown user", "nobody@example.com", "wrong password", 0, model.ErrNotFound},
		{"unreadable stored hash", "garbled@example.com", "wrong password", 0, model.ErrNotFound},
		{"no stored password", "nopw@example.com", "wrong password", 0, model.ErrNotFound},
	} {
		res, hashes, err := try(c.loginID, c.pw)
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) || res != nil {
				t.Errorf("%s: %v %v, want %v", c.name, res, err, c.wantErr)
			}
		} else if err != nil || res.Outcome != c.outcome {
			t.Errorf("%s: %v %v", c.name, res, err)
		}
		if hashes != 1 {
			t.Errorf("%s: %d password hashes, want exactly 1", c.name, hashes)
		}
	}

	// Report the two 404 paths' times side by side (alternating, one run).
	const rounds = 15
	var known, unknown time.Duration
	for i := 0; i < rounds; i++ {
		start := time.Now()
		_, _, _ = try("known@example.com", "wrong password")
		known += time.Since(start)
		start = time.Now()
		_, _, _ = try("nobody-"+uuid.NewString()+"@example.com", "wrong password")
		unknown += time.Since(start)
		// Stay under the lockout (5 attempts by default).
		_, _, _ = try("known@example.com", "right password")
	}
	t.Logf("wrong password %v, unknown user %v per login (ratio %.2f) over %d rounds",
		known/rounds, unknown/rounds, float64(unknown)/float64(known), rounds)

	// A locked login id is refused without hashing.
	for i := 0; i < 5; i++ {
		_, _, _ = try("locked-out@example.com", "x")
	}
	res, hashes, err := try("locked-out@example.com", "x")
	if err != nil || res.Outcome != LoginPrevented || hashes != 0 {
		t.Errorf("locked: %v %v, %d hashes", res, err, hashes)
	}
}
