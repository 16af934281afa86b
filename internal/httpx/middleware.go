package httpx

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/latchid/latch/internal/metrics"
	"github.com/latchid/latch/internal/secrets"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeKey
)

// routeLabel is where a handler names the route pattern it serves, for the
// request metrics (a raw path would be an unbounded label).
type routeLabel struct{ pattern string }

// NoteRoute tells the middleware which route pattern serves r (the API's
// guard does, its ServeMux being one level below the middleware's).
func NoteRoute(r *http.Request, pattern string) {
	if l, ok := r.Context().Value(routeKey).(*routeLabel); ok {
		l.pattern = pattern
	}
}

// RequestID returns the id Middleware gave this request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (a long call
// such as the user import extends its own deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Middleware gives each request an id, logs it, counts it in m (by route
// pattern and status), sets safe default headers and turns a panic into an
// empty 500 (the stack goes to the log, not the client).
func Middleware(log *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := secrets.Token(9)
		w.Header().Set("X-Request-Id", id)
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		rec := &statusRecorder{ResponseWriter: w}
		route := &routeLabel{}
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		r = r.WithContext(context.WithValue(ctx, routeKey, route))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic serving request", "panic", p)
				if rec.status == 0 {
					WriteStatus(rec, http.StatusInternalServerError)
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if route.pattern == "" {
				route.pattern = r.Pattern // set by a ServeMux that shares r (the pages' mux)
			}
			if route.pattern == "" {
				route.pattern = "unmatched"
			}
			m.Request(route.pattern, status, time.Since(start))
			// The path only: query strings may carry tokens.
			log.LogAttrs(r.Context(), slog.LevelDebug, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
		}()
		next.ServeHTTP(rec, r)
	})
}

// ClientIP is the address of the socket peer, or, when that peer is a trusted
// proxy, the right-most address in X-Forwarded-For that is not itself trusted.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // garbage from the proxy: trust only what we saw
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
		peer = a
	}
	return peer
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
