// Package bench measures Latch. These are benchmarks, not tests: run them with
// bench/run (figures go to BENCHMARKS.md), never as pass/fail time limits.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/api"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
)

// newService opens a fresh SQLite database holding n full-access keys and
// returns the services and the key values.
func newService(b *testing.B, n int) (*services.Set, []string) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", filepath.Join(b.TempDir(), "latch.db"))
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
	values := make([]string, n)
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i := range values {
			values[i] = secrets.Token(48)
			row := &store.APIKeyRow{APIKey: model.APIKey{ID: uuid.NewString(), Name: fmt.Sprintf("bench %d", i),
				InsertInstant: 1, LastUpdateInstant: 1}, KeyHash: secrets.HashToken(values[i])}
			if err := tx.InsertAPIKey(ctx, row); err != nil {
				return err
			}
		}
		return tx.BumpCacheVersion(ctx, store.CacheAPIKeys)
	})
	if err != nil {
		b.Fatal(err)
	}
	return svc, values
}

// BenchmarkAuthenticateWarm is the per-request cost of recognising a key once
// the cache holds every key: a SHA-256 and a map lookup, no database.
func BenchmarkAuthenticateWarm(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			svc, values := newService(b, n)
			ctx := context.Background()
			svc.Keys.Refresh(ctx)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := svc.Keys.Authenticate(ctx, values[i%n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthenticateCold is the cost when the node has not loaded the key
// yet (one database read per key, then cached): 10,000 stored keys, each
// request with a key this cache has not seen.
func BenchmarkAuthenticateCold(b *testing.B) {
	const n = 10_000
	svc, values := newService(b, n)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%n == 0 {
			b.StopTimer()
			svc = freshCache(b, svc)
			b.StartTimer()
		}
		if _, err := svc.Keys.Authenticate(ctx, values[i%n]); err != nil {
			b.Fatal(err)
		}
	}
}

// freshCache wires new services on the same store, so its key cache starts empty.
func freshCache(b *testing.B, svc *services.Set) *services.Set {
	mk, _ := secrets.ParseMasterKey("0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0")
	return services.New(svc.Store(), kit.SystemClock{}, mk, slog.New(slog.NewTextHandler(io.Discard, nil)), services.Options{})
}

// BenchmarkGuard compares a request through the whole /api guard (route match,
// key, permission, tenant) with the same handler reached without it. The
// difference is the authentication overhead per request.
func BenchmarkGuard(b *testing.B) {
	svc, values := newService(b, 10_000)
	ctx := context.Background()
	svc.Keys.Refresh(ctx)
	cfg := &config.Config{ForbiddenStatus: 401}
	guarded := api.New(svc, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = io.WriteString(w, `{"version":"0.1.0-dev"}`+"\n")
	})
	// routed is the bare handler behind a ServeMux with the same pattern, so
	// guarded minus routed is the guard's own cost (key, permission, tenant).
	routed := http.NewServeMux()
	routed.Handle("GET /api/system/version", bare)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"routed", routed}, {"guarded", guarded}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/system/version", nil)
			req.Header.Set("Authorization", values[0])
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
