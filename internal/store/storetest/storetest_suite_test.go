package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/store"
)

// Suite is one contract test. It gets a freshly migrated store of its own
// and makes its rows with newFixture and its interface.
type Suite struct {
	Name string
	Run  func(t *testing.T, st *store.Store)
}

// Suites lists every contract test.
func Suites() []Suite {
	return []Suite{
		{"RefreshTokens", RefreshTokens},
		{"SSOSessions", SSOSessions},
		{"AuthorizationCodes", AuthorizationCodes},
		{"TokenRevocations", TokenRevocations},
		{"OneTimeCodes", OneTimeCodes},
		{"APIKeys", APIKeys},
		{"IPACLs", IPACLs},
		{"Lockout", Lockout},
		{"Audit", Audit},
		{"RateLimits", RateLimits},
		{"Groups", Groups},
		{"Signing", Signing},
		{"Users", Users},
		{"Tenancy", Tenancy},
		{"Entities", Entities},
		{"Setup", Setup},
		{"Logins", Logins},
		{"Kit", Kit},
		{"Events", Events},
		{"Email", Email},
		{"RegistrationVerification", RegistrationVerification},
	}
}

// errLost is a racer's clean refusal: it lost, and knew it.
var errLost = errors.New("lost the race")

// write runs fn in one transaction, with the store seen as S.
func write[S any](st *store.Store, fn func(s S) error) error {
	return st.InTx(context.Background(), func(tx *store.Tx) error { return fn(any(tx).(S)) })
}

// mustWrite is write that fails the test on error.
func mustWrite[S any](t *testing.T, st *store.Store, fn func(s S) error) {
	t.Helper()
	if err := write(st, fn); err != nil {
		t.Fatal(err)
	}
}

// read is the store outside a transaction, seen as S.
func read[S any](st *store.Store) S { return any(st.Read()).(S) }

// race runs n transactions at once, each fn(i, g, s), and returns their
// errors. fn calls g.wait() where every racer must have got to before any
// goes on: on PostgreSQL that makes the transactions overlap at the
// contested statement; SQLite's immediate transactions take the write lock
// at BEGIN, so there writers queue there and g.wait does nothing. A racer
// that ends without waiting counts as arrived, so that none waits forever.
func race[S any](st *store.Store, n int, fn func(i int, g *gate, s S) error) []error {
	shared := &barrier{n: n, all: make(chan struct{})}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		g := &gate{b: shared, on: st.Dialect() == store.Postgres}
		wg.Go(func() {
			errs[i] = write(st, func(s S) error { return fn(i, g, s) })
			g.arrive()
		})
	}
	wg.Wait()
	return errs
}

// barrier opens when all n racers have arrived.
type barrier struct {
	n   int
	mu  sync.Mutex
	in  int
	all chan struct{}
}

// gate is one racer's handle on the barrier.
type gate struct {
	b       *barrier
	on      bool
	arrived bool
}

func (g *gate) arrive() {
	if g.arrived {
		return
	}
	g.arrived = true
	g.b.mu.Lock()
	g.b.in++
	if g.b.in == g.b.n {
		close(g.b.all)
	}
	g.b.mu.Unlock()
}

func (g *gate) wait() {
	g.arrive()
	if g.on {
		<-g.b.all
	}
}

// oneWinner checks that exactly one racer won (nil) and every other lost
// cleanly (errLost).
func oneWinner(t *testing.T, what string, errs []error) {
	t.Helper()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errLost):
			t.Errorf("%s: a racer failed with %v, want a clean loss", what, err)
		}
	}
	if won != 1 {
		t.Errorf("%s: %d winners, want exactly 1 (%v)", what, won, errs)
	}
}

// fixture is a tenant with an application and two users, made with plain
// SQL so that suites depend on no interface but their own.
type fixture struct {
	Tenant, App, User, User2 string
}

func newFixture(t *testing.T, st *store.Store) fixture {
	t.Helper()
	f := fixture{Tenant: uuid.NewString(), App: uuid.NewString(), User: uuid.NewString(), User2: uuid.NewString()}
	ctx := context.Background()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO tenants (id, name, name_lower, data, insert_instant, last_update_instant) VALUES ($1, $2, $2, '{}', 1, 1)",
			[]any{f.Tenant, "tenant " + f.Tenant}},
		{"INSERT INTO applications (id, tenant_id, name, active, data, insert_instant, last_update_instant) VALUES ($1, $2, 'app', TRUE, '{}', 1, 1)",
			[]any{f.App, f.Tenant}},
		{"INSERT INTO users (id, tenant_id, email, email_lower, insert_instant, last_update_instant) VALUES ($1, $2, $3, $3, 1, 1)",
			[]any{f.User, f.Tenant, f.User + "@example.com"}},
		{"INSERT INTO users (id, tenant_id, email, email_lower, insert_instant, last_update_instant) VALUES ($1, $2, $3, $3, 1, 1)",
			[]any{f.User2, f.Tenant, f.User2 + "@example.com"}},
	} {
		if _, err := st.DB().ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	return f
}

// noRows fails the test unless err is ErrNoRows.
func noRows(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNoRows) {
		t.Errorf("%s: %v, want ErrNoRows", what, err)
	}
}

// ok fails the test on err.
func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
