package clientcheck

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
)

// FuzzRedirectAllowed: whatever the registered URL and the requested URI,
// the comparison never panics, never admits a URI with a fragment or user
// information, and under the exact policy admits only the registered URL
// itself or a loopback redirect differing in its port alone.
func FuzzRedirectAllowed(f *testing.F) {
	for _, s := range [][2]string{
		{"https://app.example.com/callback", "https://app.example.com/callback"},
		{"https://app.example.com/callback", "https://app.example.com/callback?x=1"},
		{"https://app.example.com/callback", "https://app.example.com@evil.com/callback"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"},
		{"http://[::1]/cb", "http://[::1]:8080/cb"},
		{"https://*.example.com/cb", "https://tenant.example.com/cb"},
		{"https://*.example.com/cb", "https://evil.com/.example.com/cb"},
		{"https://app.example.com/*", "https://app.example.com/a/b"},
		{"https://app.example.com/cb?next=*", "https://app.example.com/cb?next=x&y=z"},
		{"com.example.app:/oauth", "com.example.app:/oauth"},
	} {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, reg, uri string, wildcards bool) {
		oc := model.OAuth2Configuration{AuthorizedRedirectURLs: []string{reg}}
		if wildcards {
			oc.AuthorizedURLValidationPolicy = "AllowWildcards"
		}
		if !RedirectAllowed(oc, uri) {
			return
		}
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatalf("admitted an unparsable URI %q", uri)
		}
		if strings.Contains(uri, "#") || u.User != nil || !u.IsAbs() {
			t.Fatalf("admitted %q (fragment, user information or relative)", uri)
		}
		if uri == reg || wildcards && strings.Contains(reg, "*") {
			return
		}
		// Only the loopback exception is left: same URL but the port.
		ru, err := url.Parse(reg)
		if err != nil {
			t.Fatalf("%q admitted by an unparsable registration %q", uri, reg)
		}
		ip := net.ParseIP(u.Hostname())
		if ip == nil || !ip.IsLoopback() || u.Scheme != "http" || ru.Hostname() != u.Hostname() ||
			ru.EscapedPath() != u.EscapedPath() || ru.RawQuery != u.RawQuery {
			t.Fatalf("%q admitted for %q without being it or its loopback port variant", uri, reg)
		}
	})
}
