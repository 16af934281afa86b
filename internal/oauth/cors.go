package oauth

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// CORS as the system configuration's corsConfiguration says, on the
// surface browsers' scripts call: /oauth2/* (never /oauth2/authorize, which
// only navigations reach), /app/* and /.well-known/*. An origin the policy
// does not allow gets no CORS headers (its page cannot read the answer) and
// its preflight a 403; same-origin requests are left alone. Discovery and
// the JWKS stay readable from any origin (without credentials).

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

// safelistedHeaders need no allowedHeaders entry (the Fetch standard's
// CORS-safelisted request headers).
var safelistedHeaders = []string{"accept", "accept-language", "content-language", "content-type"}

// WithCORS applies the CORS policy in front of next.
func (p *Provider) WithCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if p.CORS == nil || origin == "" || !corsPath(r.URL.Path) || origin == p.PublicURL {
			next.ServeHTTP(w, r)
			return
		}
		c := p.CORS()
		w.Header().Add("Vary", "Origin")
		allowed := c != nil && c.Enabled && originAllowed(c, origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			method := r.Header.Get("Access-Control-Request-Method")
			headers := requestedHeaders(r.Header.Get("Access-Control-Request-Headers"))
			if !allowed || !methodAllowed(c, method) || !headersAllowed(c, headers) {
				w.Header().Set("Content-Length", "0")
				w.WriteHeader(http.StatusForbidden)
				return
			}
			h := w.Header()
			setAllowOrigin(h, c, origin)
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowedMethods, ", "))
			if len(headers) > 0 {
				h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
			}
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.PreflightMaxAgeInSeconds))
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		switch {
		case allowed && methodAllowed(c, r.Method):
			setAllowOrigin(w.Header(), c, origin)
			if len(c.ExposedHeaders) > 0 {
				w.Header().Set("Access-Control-Expose-Headers", strings.Join(c.ExposedHeaders, ", "))
			}
		case strings.HasPrefix(r.URL.Path, "/.well-known/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			// Discovery and the JWKS are public metadata: any page may
			// read them, without credentials.
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		next.ServeHTTP(w, r)
	})
}

// setAllowOrigin names the origin (with credentials, or when the policy
// lists it) or * (any origin, without credentials).
func setAllowOrigin(h http.Header, c *model.CORSConfiguration, origin string) {
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		return
	}
	if slices.Contains(c.AllowedOrigins, "*") {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
}

func originAllowed(c *model.CORSConfiguration, origin string) bool {
	o := strings.ToLower(strings.TrimRight(origin, "/"))
	for _, a := range c.AllowedOrigins {
		if a == "*" || a == o {
			return true
		}
	}
	return false
}

func methodAllowed(c *model.CORSConfiguration, m string) bool {
	return slices.Contains(c.AllowedMethods, strings.ToUpper(m))
}

func requestedHeaders(v string) []string {
	var out []string
	for _, h := range strings.Split(v, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}

func headersAllowed(c *model.CORSConfiguration, headers []string) bool {
	for _, h := range headers {
		if slices.Contains(safelistedHeaders, h) {
			continue
		}
		if !slices.ContainsFunc(c.AllowedHeaders, func(a string) bool { return strings.EqualFold(a, h) }) {
			return false
		}
	}
	return true
}
