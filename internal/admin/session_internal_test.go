package admin

import "testing"

// After sign-in the browser goes only to a local /admin address: never to
// another host (an open redirect through the sign-in flow).
func TestSafeNext(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/admin", "/admin"},
		{"/admin/api-keys?page=2", "/admin/api-keys?page=2"},
		{"", "/admin"},
		{"https://evil.example/admin", "/admin"},
		{"//evil.example/admin", "/admin"},
		{"/admin\\@evil.example", "/admin"},
		{"/administrator", "/admin"},
		{"/oauth2/logout", "/admin"},
		{"/admin/\r\nSet-Cookie: x", "/admin"},
	} {
		if got := safeNext(c.in); got != c.want {
			t.Errorf("safeNext(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
