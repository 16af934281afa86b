package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// BenchmarkUserSearch measures user search and lookup through the core (no
// HTTP) with many users in the database, on SQLite and PostgreSQL:
//
//   - emailPrefix: queryString email:user01234* (an index range on email)
//   - freeText:    queryString of the first three letters of a last name ("smi",
//     "wil"…: a prefix of email, username, full, first or last name, matching 6 to
//     20% of the users), total counted to 10,000
//   - all:         queryString * sorted by email, first page, total counted to 10,000
//   - byID:        search by ids (one id)
//   - lookupEmail: GET /api/user?email=… (the unique per-tenant index)
//
// Each reports its mean (ns/op) and its p50 and p95 in milliseconds.
// The users are inserted in one transaction through the store (100,000 by
// default); for the figure at a million users run
//
//	BENCH_USERS=1000000 go test ./bench -run '^$' -bench BenchmarkUserSearch -benchtime 200x -timeout 60m
//
// PostgreSQL runs where LATCH_TEST_POSTGRES_URL is set (a server on which
// the benchmark may create databases); otherwise it is skipped.
func BenchmarkUserSearch(b *testing.B) {
	n := 100_000
	if s := os.Getenv("BENCH_USERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1000 {
			b.Fatalf("BENCH_USERS=%q: want a number of at least 1000", s)
		}
		n = v
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(fmt.Sprintf("%s/%d", backend, n), func(b *testing.B) {
			svc, ids := newUserBenchService(b, backend, n)
			ctx := context.Background()
			all := kit.TenantScope{}
			rnd := rand.New(rand.NewPCG(1, 2))
			cases := []struct {
				name string
				op   func() (int, error)
			}{
				{"emailPrefix", func() (int, error) {
					// Two digits short of a whole email: about 100 users.
					prefix := fmt.Sprintf("user%07d", rnd.IntN(n))
					res, err := svc.Identity.SearchUsers(ctx, all, identity.UserSearch{QueryString: "email:" + prefix[:len(prefix)-2] + "*"}, nil)
					return len(res.Users), err
				}},
				{"freeText", func() (int, error) {
					res, err := svc.Identity.SearchUsers(ctx, all, identity.UserSearch{QueryString: benchLastNames[rnd.IntN(len(benchLastNames))][:3]}, nil)
					return len(res.Users), err
				}},
				{"all", func() (int, error) {
					res, err := svc.Identity.SearchUsers(ctx, all, identity.UserSearch{QueryString: "*", SortFields: []identity.SortField{{Name: "email"}}}, nil)
					return len(res.Users), err
				}},
				{"byID", func() (int, error) {
					res, err := svc.Identity.SearchUsers(ctx, all, identity.UserSearch{IDs: []string{ids[rnd.IntN(len(ids))]}}, nil)
					return len(res.Users), err
				}},
				{"lookupEmail", func() (int, error) {
					_, err := svc.Identity.UserBy(ctx, all, identity.LookupEmail, fmt.Sprintf("USER%07d@example.com", rnd.IntN(n)))
					return 1, err
				}},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					var took []time.Duration
					for b.Loop() {
						start := time.Now()
						found, err := c.op()
						took = append(took, time.Since(start))
						if err != nil || found == 0 {
							b.Fatalf("found %d: %v", found, err)
						}
					}
					slices.Sort(took)
					ms := func(q float64) float64 {
						return float64(took[min(len(took)-1, int(q*float64(len(took))))].Microseconds()) / 1000
					}
					b.ReportMetric(ms(0.50), "p50-ms")
					b.ReportMetric(ms(0.95), "p95-ms")
				})
			}
		})
	}
}

var (
	benchFirstNames = []string{"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Barbara"}
	benchLastNames  = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas"}
)

// newBenchService opens a fresh, migrated and bootstrapped database on
// backend ("sqlite", or "postgres" on LATCH_TEST_POSTGRES_URL's server,
// skipped without it) and returns its core, with no HTTP in front.
func newBenchService(b *testing.B, backend string) *services.Set {
	b.Helper()
	ctx := context.Background()
	url := ""
	if backend == "postgres" {
		if os.Getenv("LATCH_TEST_POSTGRES_URL") == "" {
			b.Skip("LATCH_TEST_POSTGRES_URL is not set")
		}
		url = testutil.PostgresURL(b)
	}
	st, err := store.Open(ctx, url, filepath.Join(b.TempDir(), "latch.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	mk, err := secrets.ParseMasterKey("0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0")
	if err != nil {
		b.Fatal(err)
	}
	svc := services.New(st, kit.SystemClock{}, mk, slog.New(slog.NewTextHandler(io.Discard, nil)), services.Options{})
	if err := svc.Tenancy.Bootstrap(ctx); err != nil {
		b.Fatal(err)
	}
	return svc
}

// newUserBenchService opens a fresh database, bootstraps it and inserts n
// users in one transaction (emails userNNNNNNN@example.com), then refreshes
// the planner statistics as autovacuum (PostgreSQL) would after a bulk load.
func newUserBenchService(b *testing.B, backend string, n int) (*services.Set, []string) {
	b.Helper()
	ctx := context.Background()
	svc := newBenchService(b, backend)
	st := svc.Store()
	var tenantID string
	if err := st.DB().QueryRowContext(ctx, "SELECT id FROM tenants").Scan(&tenantID); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	ids := make([]string, n)
	rnd := rand.New(rand.NewPCG(3, 4))
	err := st.InTx(ctx, func(tx *store.Tx) error {
		const chunk = 10_000
		rows := make([]*store.UserRow, 0, chunk)
		for i := range n {
			ids[i] = uuid.NewString()
			first, last := benchFirstNames[rnd.IntN(len(benchFirstNames))], benchLastNames[rnd.IntN(len(benchLastNames))]
			now := int64(1_700_000_000_000 + i)
			rows = append(rows, &store.UserRow{ID: ids[i], TenantID: tenantID, Email: fmt.Sprintf("user%07d@example.com", i),
				Username: fmt.Sprintf("%s.%s.%d", first, last, i), FullName: first + " " + last, FirstName: first, LastName: last,
				Active: true, Verified: true, Data: fmt.Sprintf(`{"firstName":%q,"lastName":%q,"data":{"n":%d}}`, first, last, i),
				InsertInstant: now, LastUpdateInstant: now})
			if len(rows) == chunk || i == n-1 {
				if err := tx.InsertUserRows(ctx, rows); err != nil {
					return err
				}
				rows = rows[:0]
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	insert := time.Since(start)
	if _, err := st.DB().ExecContext(ctx, benchAnalyze(backend)); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: inserted %d users in %v (%.0f users/s, search keys and indexes included)", backend, n, insert.Round(time.Millisecond),
		float64(n)/insert.Seconds())
	return svc, ids
}

// benchAnalyze refreshes planner statistics, and on PostgreSQL the visibility
// map, as autovacuum does in production after a bulk load (PostgreSQL 13 and
// later vacuum insert-only tables too: autovacuum_vacuum_insert_threshold).
// Measuring before that would time a database no deployment keeps for long:
// the search counts a term's matches from its key indexes alone, which
// PostgreSQL can do without reading the table only for pages the visibility
// map marks all-visible.
func benchAnalyze(backend string) string {
	if backend == "postgres" {
		return "VACUUM ANALYZE"
	}
	return "ANALYZE"
}
