package bench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/testutil"
)

// BenchmarkJWKS is GET /.well-known/jwks.json with four published keys (the
// default RS256 pair, ES256, ES512, Ed25519) and one HMAC key left out.
//
//   - handler: the request through the same middleware and mux wiring as
//     serve, into an in-memory recorder: the server's own cost per request.
//   - server: a real `latch serve` over loopback HTTP with keep-alive, as many
//     clients as GOMAXPROCS: what a client sees, network stack included.
func BenchmarkJWKS(b *testing.B) {
	svc, _ := newService(b, 1)
	ctx := context.Background()
	if err := svc.Signing.EnsureDefault(ctx); err != nil {
		b.Fatal(err)
	}
	for _, alg := range []string{"ES256", "ES512", "Ed25519", "HS256"} {
		if _, err := svc.Signing.Generate(ctx, kit.Actor{Type: kit.ActorSystem}, "", &signing.KeyInput{Algorithm: alg, Name: "bench " + alg}); err != nil {
			b.Fatal(err)
		}
	}
	svc.SigningKeys.Refresh(ctx)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", httpx.JWKSHandler(svc.SigningKeys.Current))
	h := httpx.Middleware(log, mux)
	size := len(svc.SigningKeys.Current().JWKS())

	b.Run("handler", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
		b.SetBytes(int64(size))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 || w.Body.Len() != size {
				b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
			}
		}
	})

	srv := testutil.StartServer(b)
	root := srv.Setup(b)
	for _, alg := range []string{"ES256", "ES512", "Ed25519"} {
		if r := srv.Do(b, "POST", "/api/key/generate", root, map[string]any{"key": map[string]any{"algorithm": alg, "name": "bench " + alg}}); r.Status != 200 {
			b.Fatalf("generate: %d %s", r.Status, r.Body)
		}
	}
	b.Run("server", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		url := srv.URL + "/.well-known/jwks.json"
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	})
}
