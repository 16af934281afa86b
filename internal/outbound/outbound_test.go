package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.1", true}, {"127.255.0.9", true}, {"::1", true}, {"169.254.169.254", true}, {"fe80::1", true},
		{"10.0.0.1", true}, {"10.255.255.255", true}, {"172.16.0.1", true}, {"192.168.1.1", true}, {"fd00::1", true},
		{"0.0.0.0", true}, {"::", true}, {"100.64.0.1", true}, {"224.0.0.1", true}, {"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true}, {"64:ff9b::a00:1", true}, {"255.255.255.255", true},
		{"::7f00:1", true}, {"::a00:1", true}, {"::ffff:0:7f00:1", true}, // IPv4-compatible and -translated forms
		{"93.184.216.34", false}, {"8.8.8.8", false}, {"2606:4700:4700::1111", false}, {"172.32.0.1", false},
	} {
		if got := Refused(netip.MustParseAddr(tc.addr)); got != tc.refused {
			t.Errorf("Refused(%s) = %v, want %v", tc.addr, got, tc.refused)
		}
	}
}

// A receiver on loopback: the only kind of server tests may reach. Requests
// it gets count as a failure of the refusal tests.
func loopbackReceiver(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	hits := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	return srv, hits
}

func send(t *testing.T, url string, allow bool) error {
	t.Helper()
	s := NewSender(keys.EmptySet, kit.SystemClock{})
	res := s.Send(context.Background(), &model.Webhook{URL: url, ConnectTimeout: 2000, ReadTimeout: 2000, AllowPrivateNetworks: allow}, []byte(`{}`))
	if res.Err == nil && !res.OK() {
		t.Fatalf("status %d", res.StatusCode)
	}
	return res.Err
}

// Each URL names a loopback, link-local or private address, literally or
// through DNS; every one is refused at dial time, before any byte is sent.
// The non-loopback ones would otherwise leave the machine: the refusal
// happens before the connect, so none does.
func TestSendRefusesPrivateAddresses(t *testing.T) {
	srv, hits := loopbackReceiver(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	for _, url := range []string{
		srv.URL,                                    // 127.0.0.1
		"http://[::1]:" + port + "/",               // IPv6 loopback
		"http://localhost:" + port + "/",           // a name resolving to loopback
		"http://169.254.169.254/latest/meta-data/", // cloud metadata
		"http://10.1.2.3:" + port + "/",            // 10/8
		"http://192.168.0.1/",
		"http://[::ffff:127.0.0.1]:" + port + "/", // IPv4-mapped loopback
		"http://0.0.0.0:" + port + "/",
	} {
		err := send(t, url, false)
		if !errors.Is(err, ErrRefusedAddress) {
			t.Errorf("%s: %v, want a refused address", url, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the receiver got %d requests", hits.Load())
	}
	// allowPrivateNetworks lets the same request through.
	if err := send(t, srv.URL, true); err != nil {
		t.Fatalf("allowed: %v", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("allowed request: %d hits", hits.Load())
	}
}

// A redirect's target is dialled, and so checked, like the first URL: a
// public-looking first hop (here a loopback server the check lets through by
// its exact address, standing in for a public one) that redirects to
// loopback is refused at the second hop.
func TestRedirectToLoopbackRefused(t *testing.T) {
	target, hits := loopbackReceiver(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/internal", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	first := netip.MustParseAddrPort(strings.TrimPrefix(redirector.URL, "http://"))
	check := func(ap netip.AddrPort) error {
		if ap == first {
			return nil
		}
		return checkAddr(ap)
	}
	c := newClient(2*time.Second, 2*time.Second, check)
	resp, err := c.Post(redirector.URL, "application/json", strings.NewReader(`{}`))
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrRefusedAddress) {
		t.Fatalf("redirect to loopback: %v, want a refused address", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the redirect target got %d requests", hits.Load())
	}
	// Followed when allowed.
	resp, err = newClient(2*time.Second, 2*time.Second, nil).Post(redirector.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("allowed redirect: %d hits", hits.Load())
	}
}

// A redirect that would turn the POST into a bodiless GET (301, 302, 303)
// is not followed: the delivery is a failure, not a success that lost the
// event. A 307 or 308 keeps method and body and is followed; to another
// host, without the webhook's own headers, which may be secrets.
func TestRedirectsKeepTheEvent(t *testing.T) {
	type hit struct {
		method, body, secret string
	}
	hits := make(chan hit, 8)
	record := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- hit{r.Method, string(b), r.Header.Get("X-Secret")}
	}
	other := httptest.NewServer(http.HandlerFunc(record))
	t.Cleanup(other.Close)
	same := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/landing":
			record(w, r)
		case "/elsewhere":
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/in", http.StatusTemporaryRedirect)
		default:
			code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
			http.Redirect(w, r, "/landing", code)
		}
	}))
	t.Cleanup(same.Close)
	c := newClient(2*time.Second, 2*time.Second, nil)
	for _, tc := range []struct {
		path   string
		status int
		want   *hit
	}{
		{"/301", 301, nil},
		{"/302", 302, nil},
		{"/303", 303, nil},
		{"/307", 200, &hit{"POST", `{"event":{}}`, "s3cret"}},
		{"/308", 200, &hit{"POST", `{"event":{}}`, "s3cret"}},
		{"/elsewhere", 200, &hit{"POST", `{"event":{}}`, ""}},
	} {
		req, _ := http.NewRequest("POST", same.URL+tc.path, strings.NewReader(`{"event":{}}`))
		req.Header.Set("X-Secret", "s3cret")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		select {
		case h := <-hits:
			if tc.want == nil || h != *tc.want {
				t.Errorf("%s: the target got %+v, want %+v", tc.path, h, tc.want)
			}
		default:
			if tc.want != nil {
				t.Errorf("%s: the target got nothing", tc.path)
			}
		}
	}
}

func TestSendReadTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(func() { close(release); srv.Close() })
	s := NewSender(keys.EmptySet, kit.SystemClock{})
	res := s.Send(context.Background(), &model.Webhook{URL: srv.URL, ConnectTimeout: 1000, ReadTimeout: 50, AllowPrivateNetworks: true}, []byte(`{}`))
	if res.Err == nil || res.OK() {
		t.Fatalf("a receiver that never answers: %+v", res)
	}
}

// One sender delivers a webhook's events over one kept-alive connection,
// and never lends a connection dialled for a webhook that may reach private
// networks to one that may not: that one is still refused at dial time.
func TestSendReusesConnectionsOnlyWithinASetting(t *testing.T) {
	var conns, hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := NewSender(keys.EmptySet, kit.SystemClock{})
	allowed := &model.Webhook{URL: srv.URL, ConnectTimeout: 2000, ReadTimeout: 2000, AllowPrivateNetworks: true}
	for range 3 {
		if res := s.Send(context.Background(), allowed, []byte(`{}`)); !res.OK() {
			t.Fatalf("allowed delivery: %+v", res)
		}
	}
	if hits.Load() != 3 || conns.Load() != 1 {
		t.Fatalf("%d deliveries over %d connections, want 3 over 1", hits.Load(), conns.Load())
	}
	refused := &model.Webhook{URL: srv.URL, ConnectTimeout: 2000, ReadTimeout: 2000}
	if res := s.Send(context.Background(), refused, []byte(`{}`)); !errors.Is(res.Err, ErrRefusedAddress) {
		t.Fatalf("a webhook without allowPrivateNetworks: %+v, want a refused address", res)
	}
	if hits.Load() != 3 {
		t.Fatalf("the refused webhook's request arrived over a kept connection")
	}
}
