package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/store"
)

// Email is the contract of email.Storage: templates, the email outbox with
// its leases, and the sole-tenant lookup of the mailer.
func Email(t *testing.T, st *store.Store) {
	type S = email.Storage
	ctx := context.Background()

	// Templates: read back, searched, updated, deleted.
	tmpl := func(name string, at int64) *store.EmailTemplateRow {
		return &store.EmailTemplateRow{ID: uuid.NewString(), Name: name, Body: `{"defaultSubject":"Hi"}`, InsertInstant: at, LastUpdateInstant: at}
	}
	welcome, reset, pct := tmpl("Welcome", 1), tmpl("password reset", 2), tmpl("50% off_now", 3)
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertEmailTemplate(ctx, welcome), s.InsertEmailTemplate(ctx, reset), s.InsertEmailTemplate(ctx, pct))
	})
	if got, err := read[S](st).EmailTemplateByID(ctx, reset.ID); err != nil || !reflect.DeepEqual(got, reset) {
		t.Errorf("template: %+v %v", got, err)
	}
	_, err := read[S](st).EmailTemplateByID(ctx, "nope")
	noRows(t, "unknown template", err)
	if err := write(st, func(s S) error { r := tmpl("x", 4); r.ID = welcome.ID; return s.InsertEmailTemplate(ctx, r) }); !store.IsUnique(err) {
		t.Errorf("a template id twice: %v", err)
	}
	ids := func(rows []*store.EmailTemplateRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	for _, c := range []struct {
		name string
		want []string
	}{{"WEL", []string{welcome.ID}}, {"%", []string{pct.ID}}, {"_", []string{pct.ID}}, {"e", []string{reset.ID, welcome.ID}}, {"zzz", nil}} {
		got, err := read[S](st).SearchEmailTemplates(ctx, c.name)
		ok(t, "search templates", err)
		// "e" matches "password reset" and "Welcome": collations order
		// cases differently, so compare sets.
		g := ids(got)
		slices.Sort(g)
		slices.Sort(c.want)
		if !slices.Equal(g, c.want) {
			t.Errorf("search templates %q: %v, want %v", c.name, g, c.want)
		}
	}
	upd := *welcome
	upd.Name, upd.Body, upd.LastUpdateInstant, upd.InsertInstant = "Hello", `{}`, 9, 0
	mustWrite(t, st, func(s S) error { return s.UpdateEmailTemplate(ctx, &upd) })
	upd.InsertInstant = welcome.InsertInstant
	if got, err := read[S](st).EmailTemplateByID(ctx, welcome.ID); err != nil || !reflect.DeepEqual(got, &upd) {
		t.Errorf("after update: %+v %v", got, err)
	}
	// The lock reports whether the template exists and changes nothing.
	for id, want := range map[string]bool{reset.ID: true, uuid.NewString(): false} {
		var exists bool
		mustWrite(t, st, func(s S) error { var err error; exists, err = s.LockEmailTemplate(ctx, id); return err })
		if exists != want {
			t.Errorf("lock template %s: %v, want %v", id, exists, want)
		}
	}
	if got, err := read[S](st).EmailTemplateByID(ctx, reset.ID); err != nil || !reflect.DeepEqual(got, reset) {
		t.Errorf("template after the lock: %+v %v", got, err)
	}
	mustWrite(t, st, func(s S) error { return s.DeleteEmailTemplate(ctx, pct.ID) })
	for name, change := range map[string]func(s S) error{
		"update": func(s S) error { r := upd; r.ID = "nope"; return s.UpdateEmailTemplate(ctx, &r) },
		"delete": func(s S) error { return s.DeleteEmailTemplate(ctx, pct.ID) },
	} {
		if err := write(st, change); !errors.Is(err, store.ErrNotOne) {
			t.Errorf("%s of an unknown template: %v", name, err)
		}
	}

	// The outbox: due messages are leased to one node, retried later, and
	// deleted only by their holder.
	const now = int64(10_000)
	for i, msg := range []string{"m1", "m2", "m3"} {
		mustWrite(t, st, func(s S) error { return s.InsertQueuedEmail(ctx, "tenant", msg, now+int64(i)) })
	}
	due := func(at int64) int {
		t.Helper()
		n, err := read[S](st).DueEmails(ctx, at)
		ok(t, "due", err)
		return n
	}
	if due(now-1) != 0 || due(now) != 1 {
		t.Errorf("due before and at the first message: %d %d", due(now-1), due(now))
	}
	claim := func(owner string, at int64, limit int) []*store.QueuedEmail {
		t.Helper()
		var got []*store.QueuedEmail
		mustWrite(t, st, func(s S) (err error) { got, err = s.ClaimEmails(ctx, owner, at, at+100, limit); return err })
		slices.SortFunc(got, func(a, b *store.QueuedEmail) int { return int(a.Seq - b.Seq) })
		return got
	}
	messages := func(qs []*store.QueuedEmail) []string {
		var out []string
		for _, q := range qs {
			out = append(out, q.Message+"#"+string(rune('0'+q.Attempts)))
		}
		return out
	}
	first := claim("a", now+1, 10)
	if !slices.Equal(messages(first), []string{"m1#1", "m2#1"}) || first[0].TenantID != "tenant" {
		t.Errorf("first claim: %v", messages(first))
	}
	if got := claim("b", now+5, 1); !slices.Equal(messages(got), []string{"m3#1"}) {
		t.Errorf("claim with a limit: %v", messages(got))
	}
	if got := claim("b", now+50, 10); len(got) != 0 || due(now+50) != 0 {
		t.Errorf("claimed under live leases: %v (due %d)", messages(got), due(now+50))
	}
	mustWrite(t, st, func(s S) error { return s.RetryEmail(ctx, first[0].Seq, "a", now+500) })
	mustWrite(t, st, func(s S) error { return s.RetryEmail(ctx, first[1].Seq, "someone else", now+20) })
	if got := claim("b", now+200, 10); !slices.Equal(messages(got), []string{"m2#2", "m3#2"}) {
		t.Errorf("after the leases ran out, before the retry is due: %v", messages(got))
	}
	// The node whose lease ran out cannot delete the message.
	mustWrite(t, st, func(s S) error { return s.FinishEmail(ctx, first[1].Seq, "a") })
	if got := claim("c", now+1000, 10); !slices.Equal(messages(got), []string{"m1#2", "m2#3", "m3#3"}) {
		t.Errorf("claim after the retry is due: %v", messages(got))
	}
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.FinishEmail(ctx, first[0].Seq, "c"), s.FinishEmail(ctx, first[1].Seq, "c"))
	})
	last := claim("d", now+5000, 10)
	if !slices.Equal(messages(last), []string{"m3#4"}) {
		t.Fatalf("after finishing two: %v", messages(last))
	}
	mustWrite(t, st, func(s S) error { return s.FinishEmail(ctx, last[0].Seq, "d") })
	if due(now+100_000) != 0 {
		t.Error("a finished message is still due")
	}

	// Nodes claiming at once never share a message.
	for i := range 5 {
		mustWrite(t, st, func(s S) error { return s.InsertQueuedEmail(ctx, "tenant", "r"+string(rune('0'+i)), now+6000) })
	}
	owners := []string{"p", "q", "r"}
	got := make([][]*store.QueuedEmail, len(owners))
	for _, err := range race(st, len(owners), func(i int, g *gate, s S) error {
		g.wait()
		var err error
		got[i], err = s.ClaimEmails(ctx, owners[i], now+6000, now+6100, 3)
		return err
	}) {
		ok(t, "racing claims", err)
	}
	seen := map[int64]string{}
	for i, qs := range append(got, claim("s", now+6000, 10)) {
		for _, q := range qs {
			if _, dup := seen[q.Seq]; dup {
				t.Errorf("message %d claimed twice", q.Seq)
			}
			seen[q.Seq] = append(owners, "s")[i]
		}
	}
	if len(seen) != 5 {
		t.Errorf("%d of 5 messages claimed", len(seen))
	}
	for seq, owner := range seen {
		mustWrite(t, st, func(s S) error { return s.FinishEmail(ctx, seq, owner) })
	}
	if due(now+100_000) != 0 {
		t.Error("finished messages are still due")
	}

	// Of nodes claiming the one due message, exactly one gets it.
	mustWrite(t, st, func(s S) error { return s.InsertQueuedEmail(ctx, "tenant", "solo", now+7000) })
	oneWinner(t, "claim one message", race(st, 3, func(i int, g *gate, s S) error {
		g.wait()
		got, err := s.ClaimEmails(ctx, owners[i], now+7000, now+7100, 1)
		if err == nil && len(got) == 0 {
			return errLost
		}
		if err == nil && got[0].Message != "solo" {
			return errors.New("claimed " + got[0].Message)
		}
		return err
	}))

	// The mailer's tenant: the only one, or none.
	if id, err := read[S](st).SoleTenantID(ctx); err != nil || id != "" {
		t.Errorf("sole tenant of none: %q %v", id, err)
	}
	one := bareTenant(t, st)
	if id, err := read[S](st).SoleTenantID(ctx); err != nil || id != one {
		t.Errorf("sole tenant: %q %v, want %s", id, err, one)
	}
	bareTenant(t, st)
	if id, err := read[S](st).SoleTenantID(ctx); err != nil || id != "" {
		t.Errorf("sole tenant of two: %q %v", id, err)
	}
}
