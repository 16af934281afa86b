package httpx

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// CORS as the system configuration's corsConfiguration says. An origin the
// policy does not allow gets no CORS headers (its page cannot read the
// answer) and its preflight a 403; same-origin requests are left alone.
// Discovery and the JWKS (/.well-known/*) stay readable from any origin,
// without credentials.

// safelistedHeaders need no allowedHeaders entry (the Fetch standard's
// CORS-safelisted request headers).
var safelistedHeaders = []string{"accept", "accept-language", "content-language", "content-type"}

// CORS applies a CORS policy (policy() is the current one; nil: none) in
// front of next, on the paths applies accepts. Requests from selfOrigin
// (the server's own public URL) are same-origin and left alone.
func CORS(next http.Handler, policy func() *model.CORSConfiguration, selfOrigin string, applies func(path string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if policy == nil || origin == "" || !applies(r.URL.Path) || origin == selfOrigin {
			next.ServeHTTP(w, r)
			return
		}
		c := policy()
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
