package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// rawResult is what came back for a request written byte for byte.
type rawResult struct {
	Status   int
	Body     string
	Location string
}

// rawDo writes the request line exactly as given (no client cleans or escapes
// the target) plus the headers, and reads one response.
func rawDo(t *testing.T, s *testutil.Server, method, target, key string, headers ...string) rawResult {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: 0\r\n", method, target, s.Addr)
	if key != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return rawResult{Status: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location")}
}

// TestGuardPathTricks: no other spelling of a path reaches a handler. Every
// request is written byte for byte, so what the test names is what the server
// reads. A key allowed only GET /api/ip-acl must never reach
// /api/system/version; the full key shows that the odd spellings are not
// quietly cleaned into the real route either (404, after authentication).
func TestGuardPathTricks(t *testing.T) {
	t.Parallel()
	s, full := startWithKey(t, testutil.Backend{Name: "sqlite"})
	limited, _ := insertTestKey(t, s, model.APIKey{Name: "acl reader", Permissions: keyPerms("/api/ip-acl", "GET")})
	const noKey = ""
	cases := []struct {
		target               string
		full, limited, nokey int
	}{
		{"/api/system/version", 200, 401, 401},                      // the real route, for contrast
		{"http://" + s.Addr + "/api/system/version", 200, 401, 401}, // absolute form: same route, same rule
		{"/api//system/version", 404, 404, 401},
		{"/api/ip-acl/../system/version", 404, 404, 401},
		{"/api/ip-acl/search/../../system/version", 404, 404, 401},
		{"/api/%2e%2e/system/version", 404, 404, 401},
		{"/api/ip-acl/%2e%2e/%2e%2e/api/system/version", 404, 404, 401},
		{"/api/system/./version", 404, 404, 401},
		{"/api/system/version/", 404, 404, 401},
		{"/api/system/version//", 404, 404, 401},
		{"/API/SYSTEM/VERSION", 404, 404, 401},
		{"/api/system/Version", 404, 404, 401},
		{"/Api/system/version", 404, 404, 401},
		{"/api/system/%76ersion", 404, 404, 401},
		{"/api/system%2fversion", 404, 404, 401},
		{"/api/system/version;x", 404, 404, 401},
		{"/api/system/version%00", 404, 404, 401},
		{"/api/nothing-here", 404, 404, 401},
		{"/api/", 404, 404, 401},
	}
	for _, c := range cases {
		for _, k := range []struct {
			name, key string
			want      int
		}{{"full key", full, c.full}, {"limited key", limited, c.limited}, {"no key", noKey, c.nokey}} {
			r := rawDo(t, s, "GET", c.target, k.key)
			if r.Status != k.want {
				t.Errorf("GET %s with %s: %d %q, want %d", c.target, k.name, r.Status, r.Body, k.want)
			}
			if r.Status != 200 && r.Body != "" {
				t.Errorf("GET %s with %s: %d with body %q, want an empty body", c.target, k.name, r.Status, r.Body)
			}
		}
	}
	// A path that does not start with /api/ at all is not the API's to answer;
	// the most it may do is redirect to the canonical spelling, which is then
	// guarded like any other request.
	for _, target := range []string{"//api/system/version", "/./api/system/version", "/x/../api/system/version"} {
		for _, key := range []string{limited, noKey} {
			r := rawDo(t, s, "GET", target, key)
			redirect := (r.Status == 301 || r.Status == 307 || r.Status == 308) && r.Location == "/api/system/version"
			if !redirect && r.Status != 401 && r.Status != 404 {
				t.Errorf("GET %s: %d %q (Location %q): want 401/404 or a redirect to the canonical path", target, r.Status, r.Body, r.Location)
			}
			if strings.Contains(r.Body, "version\":") {
				t.Errorf("GET %s reached the version handler: %q", target, r.Body)
			}
		}
	}
}

// TestGuardMethodTricks: the method the server dispatches on is the request
// line's, and HEAD and OPTIONS are not side doors to mutating routes.
func TestGuardMethodTricks(t *testing.T) {
	t.Parallel()
	s, full := startWithKey(t, testutil.Backend{Name: "sqlite"})
	acl := createACL(t, s, full, "Keep me", aclAllowAll)
	reader, _ := insertTestKey(t, s, model.APIKey{Name: "acl reader", Permissions: keyPerms("/api/ip-acl", "GET")})
	deleter, _ := insertTestKey(t, s, model.APIKey{Name: "acl deleter", Permissions: keyPerms("/api/ip-acl", "DELETE")})
	item := "/api/ip-acl/" + acl.ID
	cases := []struct {
		name, method, target, key string
		headers                   []string
		want                      int
	}{
		{"X-HTTP-Method-Override on GET", "GET", item, reader, []string{"X-HTTP-Method-Override", "DELETE"}, 200},
		{"X-Method-Override on GET", "GET", item, reader, []string{"X-Method-Override", "DELETE"}, 200},
		{"X-HTTP-Method on GET", "GET", item, reader, []string{"X-HTTP-Method", "DELETE"}, 200},
		{"_method query on GET", "GET", item + "?_method=DELETE", reader, nil, 200},
		{"override on POST to search", "POST", "/api/ip-acl/search", reader, []string{"X-HTTP-Method-Override", "GET"}, 401},
		{"HEAD as a reader (HEAD is GET)", "HEAD", item, reader, nil, 200},
		{"HEAD as a deleter", "HEAD", item, deleter, nil, 401},
		{"GET as a deleter with override", "GET", item, deleter, []string{"X-HTTP-Method-Override", "DELETE"}, 401},
		{"OPTIONS as a deleter", "OPTIONS", item, deleter, nil, 404},
		{"OPTIONS without a key", "OPTIONS", item, "", nil, 401},
		{"HEAD on a POST-only route", "HEAD", "/api/ip-acl", reader, nil, 404},
		{"HEAD on a POST-only route without a key", "HEAD", "/api/ip-acl", "", nil, 401},
		{"TRACE", "TRACE", item, full, nil, 404},
		{"lower-case method", "delete", item, full, nil, 404},
		{"made-up method", "PURGE", item, full, nil, 404},
	}
	for _, c := range cases {
		r := rawDo(t, s, c.method, c.target, c.key, c.headers...)
		if r.Status != c.want {
			t.Errorf("%s: %d %q, want %d", c.name, r.Status, r.Body, c.want)
		}
		if r.Status == 200 && c.method == "GET" && !strings.Contains(r.Body, acl.ID) {
			t.Errorf("%s: a GET that did not retrieve: %q", c.name, r.Body)
		}
	}
	if r := s.Do(t, "GET", item, full, nil); r.Status != 200 {
		t.Fatalf("a trick deleted the list: %d", r.Status)
	}
	// The deleter can delete through the front door, so the refusals above
	// were about the method, not the key.
	if r := s.Do(t, "DELETE", item, deleter, nil); r.Status != 200 {
		t.Fatalf("DELETE as the deleter: %d %s", r.Status, r.Body)
	}
}

// TestGuardPermissionStatus: a valid key that lacks the endpoint or method is
// 401 like FusionAuth, or 403 when LATCH_FORBIDDEN_STATUS=403; a missing,
// unknown or expired key is 401 either way.
func TestGuardPermissionStatus(t *testing.T) {
	t.Parallel()
	for _, forbidden := range []int{401, 403} {
		t.Run(fmt.Sprint(forbidden), func(t *testing.T) {
			var opts []testutil.Option
			if forbidden == 403 {
				opts = append(opts, testutil.WithEnv("LATCH_FORBIDDEN_STATUS", "403"))
			}
			s, full := startWithKey(t, testutil.Backend{Name: "sqlite"}, opts...)
			reader, _ := insertTestKey(t, s, model.APIKey{Name: "acl reader", Permissions: keyPerms("/api/ip-acl/search", "GET")})
			past := s.Clock.Now().Add(-time.Second).UnixMilli()
			expired, _ := insertTestKey(t, s, model.APIKey{Name: "expired", ExpirationInstant: &past})
			tenant := bootTenantID(t, s)
			scoped, _ := insertTestKey(t, s, model.APIKey{Name: "scoped", TenantID: tenant})
			cases := []struct {
				name, method, path, key string
				want                    int
			}{
				{"allowed", "GET", "/api/ip-acl/search", reader, 200},
				{"wrong method", "POST", "/api/ip-acl/search", reader, forbidden},
				{"wrong endpoint", "GET", "/api/system/version", reader, forbidden},
				{"wrong endpoint, the family's parent", "POST", "/api/ip-acl", reader, forbidden},
				{"non-manager on the key API", "GET", "/api/api-key/" + uuid.NewString(), reader, forbidden},
				{"tenant-scoped key on a global-only route", "GET", "/api/system/version", scoped, forbidden},
				{"tenant-scoped key on the audit log", "GET", "/api/system/audit-log/search", scoped, forbidden},
				{"no key", "GET", "/api/system/version", "", 401},
				{"unknown key", "GET", "/api/system/version", "no-such-key", 401},
				{"a scheme before the key", "GET", "/api/system/version", "Bearer " + full, 401},
				{"expired key", "GET", "/api/system/version", expired, 401},
				{"no key on an unknown route", "GET", "/api/nothing", "", 401},
				{"a key on an unknown route", "GET", "/api/nothing", reader, 404},
			}
			for _, c := range cases {
				r := s.Do(t, c.method, c.path, c.key, nil)
				if r.Status != c.want || (r.Status != 200 && len(r.Body) != 0) {
					t.Errorf("%s: %d %q, want %d with an empty body", c.name, r.Status, r.Body, c.want)
				}
			}
		})
	}
}

// TestGuardIPACL: a key with an ACL is refused from the addresses it blocks
// (always 401: the key does not count as presented), and a change to the list
// through the API applies at once.
func TestGuardIPACL(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, full := startWithKey(t, b, testutil.WithEnv("LATCH_FORBIDDEN_STATUS", "403"))
		blockLocal := createACL(t, s, full, "Block loopback", aclAllowAll, aclEntry("Block", "127.0.0.1", ""))
		allowLocal := createACL(t, s, full, "Only loopback", aclEntry("Block", "*", ""), aclEntry("Allow", "127.0.0.0", "127.255.255.255"))
		blocked, _ := insertTestKey(t, s, model.APIKey{Name: "blocked", IPAccessControlListID: blockLocal.ID})
		allowed, _ := insertTestKey(t, s, model.APIKey{Name: "allowed", IPAccessControlListID: allowLocal.ID})
		if r := s.Do(t, "GET", "/api/system/version", blocked, nil); r.Status != 401 || len(r.Body) != 0 {
			t.Errorf("blocked address: %d %q, want an empty 401", r.Status, r.Body)
		}
		if r := s.Do(t, "GET", "/api/nothing", blocked, nil); r.Status != 401 {
			t.Errorf("blocked address on an unknown route: %d, want 401", r.Status)
		}
		if r := s.Do(t, "GET", "/api/system/version", allowed, nil); r.Status != 200 {
			t.Errorf("allowed address: %d", r.Status)
		}
		// Flip both lists; the key cache holds each key's ACL and must follow.
		if r := s.Do(t, "PUT", "/api/ip-acl/"+blockLocal.ID, full, aclWith("Block loopback", aclAllowAll)); r.Status != 200 {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		r := s.Do(t, "PATCH", "/api/ip-acl/"+allowLocal.ID, full, map[string]any{"ipAccessControlList": map[string]any{
			"entries": []model.IPAccessControlEntry{aclEntry("Allow", "*", ""), aclEntry("Block", "::ffff:127.0.0.1", "")}}},
			"Content-Type", "application/merge-patch+json")
		if r.Status != 200 {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "GET", "/api/system/version", blocked, nil); r.Status != 200 {
			t.Errorf("after allowing loopback: %d", r.Status)
		}
		if r := s.Do(t, "GET", "/api/system/version", allowed, nil); r.Status != 401 {
			t.Errorf("after blocking loopback (written v4-mapped): %d", r.Status)
		}
	})
}

// TestGuardForwardedFor: X-Forwarded-For counts only from a trusted proxy,
// and then only its right-most untrusted hop: what a client writes into the
// header itself sits further left and does not win.
func TestGuardForwardedFor(t *testing.T) {
	t.Parallel()
	const allowedIP, otherIP = "203.0.113.7", "198.51.100.9"
	xff := func(v ...string) []string {
		var h []string
		for _, x := range v {
			h = append(h, "X-Forwarded-For", x)
		}
		return h
	}
	cases := []struct {
		name    string
		headers []string
		direct  int // no trusted proxies
		proxied int // LATCH_TRUSTED_PROXIES=127.0.0.1
	}{
		{"no header", nil, 401, 401},
		{"the allowed address", xff(allowedIP), 401, 200},
		{"spoofed left-most entry", xff(allowedIP + ", " + otherIP), 401, 401},
		{"allowed address right-most", xff(otherIP + ", " + allowedIP), 401, 200},
		{"trusted hops are skipped", xff(allowedIP + ", 127.0.0.1"), 401, 200},
		{"spoofed first header line", xff(allowedIP, otherIP), 401, 401},
		{"garbage hop", xff(allowedIP + ", not-an-ip"), 401, 401},
		{"v4-mapped", xff("::ffff:" + allowedIP), 401, 200},
		{"X-Real-IP is not read", []string{"X-Real-IP", allowedIP}, 401, 401},
		{"Forwarded is not read", []string{"Forwarded", "for=" + allowedIP}, 401, 401},
	}
	for _, mode := range []string{"direct", "proxied"} {
		t.Run(mode, func(t *testing.T) {
			var opts []testutil.Option
			if mode == "proxied" {
				opts = append(opts, testutil.WithEnv("LATCH_TRUSTED_PROXIES", "127.0.0.1"))
			}
			s, full := startWithKey(t, testutil.Backend{Name: "sqlite"}, opts...)
			only := createACL(t, s, full, "One address", aclEntry("Block", "*", ""), aclEntry("Allow", allowedIP, ""))
			key, _ := insertTestKey(t, s, model.APIKey{Name: "remote", IPAccessControlListID: only.ID})
			for _, c := range cases {
				want := c.direct
				if mode == "proxied" {
					want = c.proxied
				}
				if r := s.Do(t, "GET", "/api/system/version", key, nil, c.headers...); r.Status != want {
					t.Errorf("%s: %d, want %d", c.name, r.Status, want)
				}
			}
		})
	}
}

// TestGuardTenantHeader: X-FusionAuth-TenantId can narrow a scoped key to one
// of its tenants, never widen it; global-only routes refuse scoped keys
// whatever the header says.
func TestGuardTenantHeader(t *testing.T) {
	t.Parallel()
	s, full := startWithKey(t, testutil.Backend{Name: "sqlite"})
	own := bootTenantID(t, s)
	other := uuid.NewString()
	scopedManager, _ := insertTestKey(t, s, model.APIKey{Name: "scoped manager", KeyManager: true, TenantID: own})
	scoped, _ := insertTestKey(t, s, model.APIKey{Name: "scoped", TenantID: own})
	absentKey := "/api/api-key/" + uuid.NewString()
	cases := []struct {
		name, path, key, tenant string
		want                    int
	}{
		// 404 means the guard let it through to the handler (no such key).
		{"scoped, no header", absentKey, scopedManager, "", 404},
		{"scoped, its own tenant", absentKey, scopedManager, own, 404},
		{"scoped, another tenant", absentKey, scopedManager, other, 401},
		{"scoped, another tenant, odd case", absentKey, scopedManager, strings.ToUpper(other), 401},
		{"global, any tenant", absentKey, full, other, 404},
		{"scoped on a global-only route", "/api/system/version", scoped, "", 401},
		{"scoped on a global-only route, own tenant", "/api/system/version", scoped, own, 401},
		{"global on a global-only route with a tenant", "/api/system/version", full, other, 200},
	}
	for _, c := range cases {
		var h []string
		if c.tenant != "" {
			h = []string{"X-FusionAuth-TenantId", c.tenant}
		}
		if r := s.Do(t, "GET", c.path, c.key, nil, h...); r.Status != c.want {
			t.Errorf("%s: %d %q, want %d", c.name, r.Status, r.Body, c.want)
		}
	}
}
