package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/services"
)

// BenchmarkImportUsers measures POST /api/user/import through the core (no
// HTTP, the body already decoded): batches of users with pre-hashed passwords
// (salted-pbkdf2-hmac-sha256, stored as given, never re-hashed), with and
// without a registration each, on SQLite and PostgreSQL. It reports users/s.
// The goal is 50,000 users/s. Batch size: BENCH_IMPORT_BATCH (10,000).
// The context is cancellable, as a request's is.
func BenchmarkImportUsers(b *testing.B) {
	batch := 10_000
	if v := os.Getenv("BENCH_IMPORT_BATCH"); v != "" {
		fmt.Sscan(v, &batch)
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, withReg := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/registrations=%v", backend, withReg), func(b *testing.B) {
				svc, appID := newImportBenchService(b, backend)
				h, err := password.NewWith(password.SchemePBKDF2SHA256, 24000, "correct horse battery staple")
				if err != nil {
					b.Fatal(err)
				}
				// A request's context can be cancelled; drivers treat such a
				// context differently (SQLite's watches it per statement).
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				actor := kit.Actor{Type: kit.ActorSystem}
				var total, cpu time.Duration
				n := 0
				for b.Loop() {
					body, err := json.Marshal(importBody(n, batch, h, appID, withReg))
					if err != nil {
						b.Fatal(err)
					}
					start, startCPU := time.Now(), cpuTimeUsed()
					if _, err := svc.UserImport.ImportUsersFrom(ctx, actor, kit.AllTenants, bytes.NewReader(body)); err != nil {
						b.Fatal(err)
					}
					total += time.Since(start)
					cpu += cpuTimeUsed() - startCPU
					n += batch
				}
				b.ReportMetric(float64(n)/total.Seconds(), "users/s")
				// CPU time of this process (user and system, all threads) per
				// user: steadier than users/s on a loaded machine. With SQLite
				// it is the whole cost; with PostgreSQL the server's is not in it.
				b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/user")
			})
		}
	}
}

// importBody builds an ImportRequest body of count users numbered from first.
func importBody(first, count int, h password.Hash, appID string, withReg bool) kit.Object {
	users := make([]any, count)
	for i := range users {
		k := first + i
		u := kit.Object{
			"email": fmt.Sprintf("user%07d@example.com", k), "username": fmt.Sprintf("user%07d", k),
			"firstName": benchFirstNames[k%len(benchFirstNames)], "lastName": benchLastNames[k%len(benchLastNames)],
			"encryptionScheme": h.Scheme, "factor": jsonNumber(h.Factor), "salt": h.Salt, "password": h.Value,
			"active": true, "verified": true, "data": kit.Object{"n": jsonNumber(k)},
		}
		if withReg {
			u["registrations"] = []any{kit.Object{"applicationId": appID, "roles": []any{"user"}}}
		}
		users[i] = u
	}
	return kit.Object{"users": users}
}

// jsonNumber is a number as a decoded request body holds it.
func jsonNumber(n int) any { return json.Number(strconv.Itoa(n)) }

// newImportBenchService opens a fresh, bootstrapped database with one
// application (role "user") and returns the core and the application id.
func newImportBenchService(b *testing.B, backend string) (*services.Set, string) {
	b.Helper()
	ctx := context.Background()
	svc := newBenchService(b, backend)
	app, err := svc.Tenancy.CreateApplication(ctx, kit.Actor{Type: kit.ActorSystem}, kit.AllTenants, "", kit.Object{
		"application": kit.Object{"name": "Imported", "roles": []any{kit.Object{"name": "user"}}}})
	if err != nil {
		b.Fatal(err)
	}
	return svc, app.ID
}
