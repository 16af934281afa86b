package httpx

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/keys"
)

// JWKSHandler serves /.well-known/jwks.json from the current Set: the bytes
// rendered when the set was built, no work per request beyond writing them.
// It answers If-None-Match with 304 so clients that revalidate pay nothing.
func JWKSHandler(current func() *keys.Set) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := current()
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=UTF-8")
		h.Set("ETag", set.ETag())
		if etagMatches(r.Header.Get("If-None-Match"), set.ETag()) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(set.JWKS())))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(set.JWKS())
		}
	})
}

// etagMatches applies If-None-Match's weak comparison: "*" or any listed tag.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
