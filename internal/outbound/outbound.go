// Package outbound makes Latch's requests to other servers: webhook
// deliveries, signed as FusionAuth signs them, through an HTTP client that
// refuses loopback, link-local and private addresses (SSRF) unless the
// webhook allows them. The check runs on the address actually dialled, after
// DNS resolution, for the first request and for every redirect.
package outbound

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/version"
)

// ErrRefusedAddress is a request to an address the webhook may not reach.
var ErrRefusedAddress = errors.New("refused address")

// maxRedirects bounds the redirects a delivery follows.
const maxRedirects = 3

// blocked are the ranges beside what netip classifies (loopback, private,
// link-local, multicast, unspecified) that no webhook reaches by default.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may map to any IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated): embeds an IPv4
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT): embeds an IPv4
}

// Refused reports whether an address is one a webhook may reach only with
// allowPrivateNetworks.
func Refused(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// checkAddr refuses an address no webhook reaches by default.
func checkAddr(ap netip.AddrPort) error {
	if Refused(ap.Addr()) {
		return fmt.Errorf("%w: %s is loopback, link-local or private", ErrRefusedAddress, ap.Addr())
	}
	return nil
}

// forwardedHeaders are the headers of a delivery a redirect to another host
// keeps (canonical names).
var forwardedHeaders = map[string]bool{"Content-Type": true, "User-Agent": true, "X-Fusionauth-Signature-Jwt": true}

// Client returns an HTTP client for one webhook's settings: its timeouts,
// and the SSRF check unless allowPrivate.
func Client(connectTimeout, readTimeout time.Duration, allowPrivate bool) *http.Client {
	check := checkAddr
	if allowPrivate {
		check = nil
	}
	return newClient(connectTimeout, readTimeout, check)
}

// newClient checks every address it dials with check (nil: none), in the
// dialer's Control, that is after DNS resolution and for each redirect's
// connection too. It uses no proxy from the environment (a proxy would dial
// for us, past the check). A connection it keeps alive was checked when it
// was dialled, and is reused only by this client, for the same host and
// port.
func newClient(connectTimeout, readTimeout time.Duration, check func(netip.AddrPort) error) *http.Client {
	d := &net.Dialer{Timeout: connectTimeout}
	if check != nil {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
			}
			return check(ap)
		}
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    connectTimeout + time.Second,
		ResponseHeaderTimeout:  readTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		// A dispatcher round sends up to a batch at once; idle connections
		// go before common servers' own keep-alive timeouts (Node's is 5 s)
		// so that a delivery rarely meets a connection closed under it.
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     4 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   connectTimeout + readTimeout + time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %s URL refused", req.URL.Scheme)
			}
			// 301, 302 and 303 turn the POST into a GET without the event:
			// the redirect is the answer, a failure to deliver.
			if req.Method != via[0].Method {
				return http.ErrUseLastResponse
			}
			// Another host gets the event and its signature, not the
			// webhook's own headers, which may be credentials.
			if req.URL.Host != via[0].URL.Host {
				for name := range req.Header {
					if !forwardedHeaders[name] {
						req.Header.Del(name)
					}
				}
			}
			return nil // the new connection's dial is checked again
		},
	}
}

// Sender delivers webhook events. It keeps a client per webhook setting
// (timeouts, allowPrivateNetworks), so that a busy webhook's deliveries
// reuse connections instead of dialling one per event. Clients are never
// shared across settings: a connection dialled for a webhook that may reach
// private networks is never used for one that may not.
type Sender struct {
	keys  func() *keys.Set
	clock kit.Clock

	mu      sync.Mutex
	clients map[clientKey]*http.Client
}

type clientKey struct {
	connect, read time.Duration
	allowPrivate  bool
}

// maxClients bounds the clients kept; past it (timeouts edited over and
// over) they are all dropped and made again as used.
const maxClients = 64

// NewSender makes a Sender signing with the keys of the signing cache.
func NewSender(signingKeys func() *keys.Set, clock kit.Clock) *Sender {
	return &Sender{keys: signingKeys, clock: clock, clients: map[clientKey]*http.Client{}}
}

// client is the client of a webhook's settings.
func (s *Sender) client(hook *model.Webhook) *http.Client {
	k := clientKey{time.Duration(hook.ConnectTimeout) * time.Millisecond, time.Duration(hook.ReadTimeout) * time.Millisecond, hook.AllowPrivateNetworks}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[k]; ok {
		return c
	}
	if len(s.clients) >= maxClients {
		for _, c := range s.clients {
			c.CloseIdleConnections()
		}
		clear(s.clients)
	}
	c := Client(k.connect, k.read, k.allowPrivate)
	s.clients[k] = c
	return c
}

var _ events.Sender = (*Sender)(nil)

// Send POSTs one event to a webhook, as FusionAuth does: JSON body, the
// webhook's headers, HTTP Basic when set, and when signing is enabled a JWT
// in X-FusionAuth-Signature-JWT carrying the body's SHA-256.
func (s *Sender) Send(ctx context.Context, hook *model.Webhook, body []byte) events.SendResult {
	res := events.SendResult{URL: hook.URL}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		res.Err = err
		return res
	}
	for k, v := range hook.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Latch/"+version.Version)
	if hook.HTTPAuthenticationUsername != "" {
		req.SetBasicAuth(hook.HTTPAuthenticationUsername, hook.HTTPAuthenticationPassword)
	}
	if hook.SignatureConfiguration.Enabled {
		jwt, err := s.sign(hook.SignatureConfiguration.SigningKeyID, body)
		if err != nil {
			res.Err = err
			return res
		}
		req.Header.Set("X-FusionAuth-Signature-JWT", jwt)
	}
	resp, err := s.client(hook).Do(req)
	if err != nil {
		res.Err = err
		return res
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	res.StatusCode = resp.StatusCode
	return res
}

// sign makes the signature JWT: request_body_sha256 is the standard base64
// of the body's SHA-256, as FusionAuth sends it.
func (s *Sender) sign(keyID string, body []byte) (string, error) {
	sg, err := s.keys().Signer(keyID)
	if err != nil {
		return "", fmt.Errorf("webhook signing key %s: %w", keyID, err)
	}
	sum := sha256.Sum256(body)
	claims, err := json.Marshal(map[string]any{
		"request_body_sha256": base64.StdEncoding.EncodeToString(sum[:]),
		"iat":                 s.clock.Now().Unix(),
	})
	if err != nil {
		return "", err
	}
	return sg.Sign(claims)
}
