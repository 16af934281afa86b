package oauth

import (
	"net/http"
	"strings"

	"github.com/latchid/latch/internal/httpx"
)

// CORS as the system configuration's corsConfiguration says (httpx.CORS),
// on the surface browsers' scripts call: /oauth2/* (never
// /oauth2/authorize, which only navigations reach), /app/* and
// /.well-known/*.

// corsPath reports whether CORS applies to a path.
func corsPath(path string) bool {
	switch {
	case path == "/oauth2/authorize" || strings.HasPrefix(path, "/oauth2/authorize/"):
		return false
	case strings.HasPrefix(path, "/oauth2/"), strings.HasPrefix(path, "/app/"), path == "/app",
		strings.HasPrefix(path, "/.well-known/"):
		return true
	}
	return false
}

// WithCORS applies the CORS policy in front of next.
func (p *Provider) WithCORS(next http.Handler) http.Handler {
	return httpx.CORS(next, p.CORS, p.PublicURL, corsPath)
}
