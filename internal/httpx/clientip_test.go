package httpx

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func prefixes(t testing.TB, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestClientIP(t *testing.T) {
	proxy := prefixes(t, "10.0.0.0/8", "fd00::/8")
	cases := []struct {
		name    string
		remote  string
		xff     []string // one entry per header line
		trusted []netip.Prefix
		want    string // "" for the zero Addr
	}{
		{"direct peer", "198.51.100.1:5555", nil, nil, "198.51.100.1"},
		{"header from an untrusted peer is ignored", "198.51.100.1:5555", []string{"203.0.113.7"}, nil, "198.51.100.1"},
		{"header from an untrusted peer, proxies configured", "198.51.100.1:5555", []string{"203.0.113.7"}, proxy, "198.51.100.1"},
		{"trusted peer without a header", "10.0.0.1:5555", nil, proxy, "10.0.0.1"},
		{"trusted peer", "10.0.0.1:5555", []string{"203.0.113.7"}, proxy, "203.0.113.7"},
		{"right-most untrusted hop wins over a spoofed left one", "10.0.0.1:5555", []string{"6.6.6.6, 203.0.113.7"}, proxy, "203.0.113.7"},
		{"trusted hops are skipped", "10.0.0.1:5555", []string{"203.0.113.7, 10.0.0.9, 10.0.0.8"}, proxy, "203.0.113.7"},
		{"every hop trusted: the left-most", "10.0.0.1:5555", []string{"10.0.0.3, 10.0.0.2"}, proxy, "10.0.0.3"},
		{"several header lines read as one list", "10.0.0.1:5555", []string{"6.6.6.6", "203.0.113.7"}, proxy, "203.0.113.7"},
		{"garbage hop: only the peer is believed", "10.0.0.1:5555", []string{"203.0.113.7, junk"}, proxy, "10.0.0.1"},
		{"hop with a port is garbage", "10.0.0.1:5555", []string{"203.0.113.7:80"}, proxy, "10.0.0.1"},
		{"empty hop is garbage", "10.0.0.1:5555", []string{"203.0.113.7,"}, proxy, "10.0.0.1"},
		{"garbage left of the decisive hop does not matter", "10.0.0.1:5555", []string{"junk, 203.0.113.7"}, proxy, "203.0.113.7"},
		{"spaces around hops", "10.0.0.1:5555", []string{"  6.6.6.6 ,  203.0.113.7  "}, proxy, "203.0.113.7"},
		{"v4-mapped peer is the v4 peer", "[::ffff:10.0.0.1]:5555", []string{"203.0.113.7"}, proxy, "203.0.113.7"},
		{"v4-mapped hop is unmapped", "10.0.0.1:5555", []string{"::ffff:203.0.113.7"}, proxy, "203.0.113.7"},
		{"IPv6 peer", "[2001:db8::1]:443", []string{"203.0.113.7"}, proxy, "2001:db8::1"},
		{"IPv6 trusted proxy, IPv6 client", "[fd00::1]:443", []string{"2001:db8::5"}, proxy, "2001:db8::5"},
		{"remote address without a port", "198.51.100.1", nil, nil, "198.51.100.1"},
		{"unparsable remote address", "somewhere", []string{"203.0.113.7"}, proxy, ""},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		got := ClientIP(r, c.trusted)
		want := netip.Addr{}
		if c.want != "" {
			want = netip.MustParseAddr(c.want)
		}
		if got != want {
			t.Errorf("%s: %v, want %v", c.name, got, want)
		}
	}
}

// FuzzClientIP: whatever the header says, an untrusted peer is the answer, and
// otherwise the answer is the peer or an address the header named.
func FuzzClientIP(f *testing.F) {
	for _, s := range [][2]string{
		{"10.0.0.1:1", "203.0.113.7"}, {"10.0.0.1:1", "6.6.6.6, 203.0.113.7"}, {"198.51.100.1:1", "203.0.113.7"},
		{"[::ffff:10.0.0.1]:1", "::ffff:1.2.3.4, 10.0.0.2"}, {"10.0.0.1:1", "junk,,"}, {"[fd00::1]:1", "fe80::1%eth0"},
	} {
		f.Add(s[0], s[1])
	}
	trusted := prefixes(f, "10.0.0.0/8", "fd00::/8")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := ClientIP(r, trusted)
		bare := ClientIP(&http.Request{RemoteAddr: remote, Header: http.Header{}}, trusted)
		if !isTrusted(bare, trusted) {
			if got != bare {
				t.Fatalf("untrusted peer %q: got %v from the header %q", remote, got, xff)
			}
			return
		}
		if got == bare {
			return
		}
		for _, hop := range strings.Split(xff, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil && a.Unmap() == got {
				return
			}
		}
		t.Fatalf("peer %q, header %q: %v is neither the peer nor a hop", remote, xff, got)
	})
}
