package api_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// receiver is a webhook endpoint on loopback that records what it is sent
// and answers with the status it is told to.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []received
	notify chan struct{}
}

type received struct {
	Header http.Header
	Body   []byte
	Event  map[string]any
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{notify: make(chan struct{}, 1024)}
	rc.status.Store(200)
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			Event map[string]any `json:"event"`
		}
		_ = json.Unmarshal(body, &ev)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: body, Event: ev.Event})
		rc.mu.Unlock()
		w.WriteHeader(int(rc.status.Load()))
		rc.notify <- struct{}{}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// waitFor waits until the receiver holds n requests (the dispatcher polls;
// the test's own deadline bounds the wait).
func (rc *receiver) waitFor(t *testing.T, n int) []received {
	t.Helper()
	for {
		if got := rc.all(); len(got) >= n {
			return got
		}
		select {
		case <-rc.notify:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func eventTypes(rs []received) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprint(r.Event["type"]))
	}
	return out
}

func createWebhook(t *testing.T, s *testutil.Server, key string, hook map[string]any) model.Webhook {
	t.Helper()
	r := s.Do(t, "POST", "/api/webhook", key, map[string]any{"webhook": hook})
	if r.Status != 200 {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	var b struct{ Webhook model.Webhook }
	r.JSON(t, &b)
	return b.Webhook
}

func createTestUser(t *testing.T, s *testutil.Server, key, email string) string {
	t.Helper()
	r := s.Do(t, "POST", "/api/user", key, map[string]any{"user": map[string]any{"email": email, "password": "correct horse battery"}})
	if r.Status != 200 {
		t.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	var b struct{ User struct{ ID string } }
	r.JSON(t, &b)
	return b.User.ID
}

// verifyES256 checks a compact JWS against a PEM public key and returns its
// claims.
func verifyES256(t *testing.T, token, publicKeyPEM string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	block, _ := pem.Decode([]byte(publicKeyPEM))
	if block == nil {
		t.Fatal("no PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v (%d bytes)", err, len(sig))
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub.(*ecdsa.PublicKey), sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("signature does not verify")
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		// FusionAuth's documented request, less its tenants and keys that
		// do not exist here, and with a header name that can be sent (its
		// "Header 1" is no HTTP token: refused, or every delivery would fail).
		req := `{"webhook":{"connectTimeout":1000,"data":{"updatedBy":"richard"},"description":"The standard game Webhook",
			"eventsEnabled":{"user.create":true,"user.delete":false},"global":false,"headers":{"Header-1":"value 1"},
			"httpAuthenticationPassword":"password","httpAuthenticationUsername":"username","readTimeout":2000,
			"url":"http://mygameserver.local:7001/fusionauth-webhook"}}`
		id := "00000000-0000-0000-0000-000000000042"
		r := s.Do(t, "POST", "/api/webhook/"+id, key, req)
		if r.Status != 200 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var got struct{ Webhook model.Webhook }
		r.JSON(t, &got)
		w := got.Webhook
		if w.ID != id || w.Description != "The standard game Webhook" || !w.EventsEnabled["user.create"] || w.ConnectTimeout != 1000 ||
			w.HTTPAuthenticationPassword != "password" || w.Headers["Header-1"] != "value 1" || w.InsertInstant == 0 || w.AllowPrivateNetworks {
			t.Fatalf("created: %+v", w)
		}
		if r := s.Do(t, "POST", "/api/webhook/"+id, key, req); r.Status != 400 {
			t.Fatalf("duplicate id: %d %s", r.Status, r.Body)
		}
		got.Webhook = model.Webhook{}
		r = s.Do(t, "GET", "/api/webhook/"+id, key, nil)
		r.JSON(t, &got)
		if r.Status != 200 || got.Webhook.HTTPAuthenticationPassword != "password" || got.Webhook.Data["updatedBy"] != "richard" {
			t.Fatalf("retrieve: %d %s", r.Status, r.Body)
		}
		got.Webhook = model.Webhook{}
		r = s.Do(t, "PATCH", "/api/webhook/"+id, key, `{"webhook":{"description":"Patched","eventsEnabled":{"user.update":true}}}`)
		r.JSON(t, &got)
		if r.Status != 200 || got.Webhook.Description != "Patched" || !got.Webhook.EventsEnabled["user.update"] ||
			!got.Webhook.EventsEnabled["user.create"] || got.Webhook.HTTPAuthenticationPassword != "password" {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		got.Webhook = model.Webhook{}
		r = s.Do(t, "PUT", "/api/webhook/"+id, key, `{"webhook":{"url":"https://example.com/hook","description":"Replaced"}}`)
		r.JSON(t, &got)
		if r.Status != 200 || got.Webhook.URL != "https://example.com/hook" || len(got.Webhook.EventsEnabled) != 0 ||
			got.Webhook.HTTPAuthenticationUsername != "" || got.Webhook.ReadTimeout != 2000 {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		createWebhook(t, s, key, map[string]any{"url": "https://other.example.com/", "description": "Second"})
		var list struct {
			Webhooks []model.Webhook
			Total    int
		}
		r = s.Do(t, "GET", "/api/webhook", key, nil)
		r.JSON(t, &list)
		if r.Status != 200 || len(list.Webhooks) != 2 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		r = s.Do(t, "POST", "/api/webhook/search", key, `{"search":{"description":"replac"}}`)
		r.JSON(t, &list)
		if r.Status != 200 || list.Total != 1 || list.Webhooks[0].ID != id {
			t.Fatalf("search: %d %s", r.Status, r.Body)
		}
		r = s.Do(t, "GET", "/api/webhook/search?url=other", key, nil)
		r.JSON(t, &list)
		if r.Status != 200 || list.Total != 1 || list.Webhooks[0].Description != "Second" {
			t.Fatalf("search by parameters: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "DELETE", "/api/webhook/"+id, key, nil); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		for _, m := range []string{"GET", "DELETE"} {
			if r := s.Do(t, m, "/api/webhook/"+id, key, nil); r.Status != 404 {
				t.Fatalf("%s after delete: %d", m, r.Status)
			}
		}
		// The change is audited, without the password.
		r = s.Do(t, "POST", "/api/system/audit-log/search", key, `{"search":{"message":"webhook"}}`)
		if r.Status != 200 || !strings.Contains(string(r.Body), "Created webhook") || strings.Contains(string(r.Body), `"password"`) {
			t.Fatalf("audit: %d %s", r.Status, r.Body)
		}
	})
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	s, key := startWithKey(t, testutil.Backend{Name: "sqlite"})
	for _, tc := range []struct {
		name string
		hook map[string]any
		code string
	}{
		{"no url", map[string]any{}, "[blank]webhook.url"},
		{"relative url", map[string]any{"url": "/hook"}, "[invalid]webhook.url"},
		{"ftp url", map[string]any{"url": "ftp://example.com/"}, "[invalid]webhook.url"},
		{"unknown event", map[string]any{"url": "https://example.com/", "eventsEnabled": map[string]bool{"user.nope": true}}, "[invalid]webhook.eventsEnabled"},
		{"unknown tenant", map[string]any{"url": "https://example.com/", "tenantIds": []string{"7a0d3a0c-1111-4ad6-9e6f-5b1cf4b07fa8"}}, "[invalid]webhook.tenantIds"},
		{"unsigned key", map[string]any{"url": "https://example.com/", "signatureConfiguration": map[string]any{"enabled": true}}, "[blank]webhook.signatureConfiguration.signingKeyId"},
		{"username only", map[string]any{"url": "https://example.com/", "httpAuthenticationUsername": "u"}, "[blank]webhook.httpAuthenticationPassword"},
		{"header injection", map[string]any{"url": "https://example.com/", "headers": map[string]string{"X-A": "a\r\nX-B: b"}}, "[invalid]webhook.headers"},
		{"header name with a space", map[string]any{"url": "https://example.com/", "headers": map[string]string{"Bad Name": "v"}}, "[invalid]webhook.headers"},
		{"header value with a control", map[string]any{"url": "https://example.com/", "headers": map[string]string{"X-Ctl": "a\u0001b"}}, "[invalid]webhook.headers"},
		{"unknown signing key", map[string]any{"url": "https://example.com/", "signatureConfiguration": map[string]any{"enabled": true,
			"signingKeyId": "7a0d3a0c-1111-4ad6-9e6f-5b1cf4b07fa8"}}, "[invalid]webhook.signatureConfiguration.signingKeyId"},
		{"timeout", map[string]any{"url": "https://example.com/", "readTimeout": -1}, "[invalid]webhook.readTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, "POST", "/api/webhook", key, map[string]any{"webhook": tc.hook})
			if r.Status != 400 || !slices.Contains(errorCodes(t, r), tc.code) {
				t.Fatalf("%d %s, want 400 with %s", r.Status, r.Body, tc.code)
			}
		})
	}
}

func TestWebhookDeliversSignedUserEventsInOrder(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		rc := newReceiver(t)
		r := s.Do(t, "POST", "/api/key/generate", key, map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "Webhook signing"}})
		if r.Status != 200 {
			t.Fatalf("generate key: %d %s", r.Status, r.Body)
		}
		var k struct{ Key model.Key }
		r.JSON(t, &k)
		hook := createWebhook(t, s, key, map[string]any{
			"url": rc.URL + "/hook", "global": true, "allowPrivateNetworks": true,
			"eventsEnabled":              map[string]bool{"user.create": true, "user.update": true, "user.delete": true, "user.deactivate": true},
			"headers":                    map[string]string{"X-Game": "pong"},
			"httpAuthenticationUsername": "hook-user", "httpAuthenticationPassword": "hook-pass",
			"signatureConfiguration": map[string]any{"enabled": true, "signingKeyId": k.Key.ID},
		})
		// The key signs this webhook's requests: it cannot be deleted.
		if r := s.Do(t, "DELETE", "/api/key/"+k.Key.ID, key, nil); r.Status != 400 || !slices.Contains(errorCodes(t, r), "[KeyInUse]") ||
			!strings.Contains(string(r.Body), hook.ID) {
			t.Fatalf("delete the webhook's signing key: %d %s, want 400 [KeyInUse] naming the webhook", r.Status, r.Body)
		}
		id := createTestUser(t, s, key, "events@example.com")
		if r := s.Do(t, "PATCH", "/api/user/"+id, key, `{"user":{"firstName":"Eve"}}`); r.Status != 200 {
			t.Fatalf("patch user: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "DELETE", "/api/user/"+id, key, nil); r.Status != 200 {
			t.Fatalf("deactivate user: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "DELETE", "/api/user/"+id+"?hardDelete=true", key, nil); r.Status != 200 {
			t.Fatalf("delete user: %d %s", r.Status, r.Body)
		}
		got := rc.waitFor(t, 4)
		if want := []string{"user.create", "user.update", "user.deactivate", "user.delete"}; !slices.Equal(eventTypes(got), want) {
			t.Fatalf("events %v, want %v in order", eventTypes(got), want)
		}
		ids := map[string]bool{}
		for _, g := range got {
			ev := g.Event
			user, _ := ev["user"].(map[string]any)
			if ev["id"] == "" || ids[fmt.Sprint(ev["id"])] || ev["createInstant"] == nil || ev["tenantId"] == nil || ev["info"] == nil ||
				user["id"] != id || user["email"] != "events@example.com" || user["password"] != nil {
				t.Fatalf("event: %s", g.Body)
			}
			ids[fmt.Sprint(ev["id"])] = true
			if u, p, ok := (&http.Request{Header: g.Header}).BasicAuth(); !ok || u != "hook-user" || p != "hook-pass" {
				t.Fatalf("basic auth: %q %q %v", u, p, ok)
			}
			if g.Header.Get("X-Game") != "pong" || g.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("headers: %v", g.Header)
			}
			claims := verifyES256(t, g.Header.Get("X-FusionAuth-Signature-JWT"), k.Key.PublicKey)
			sum := sha256.Sum256(g.Body)
			if claims["request_body_sha256"] != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Fatalf("request_body_sha256 %v does not match the body", claims["request_body_sha256"])
			}
		}
		if orig, _ := got[1].Event["original"].(map[string]any); orig["firstName"] != nil {
			t.Fatalf("update event's original: %v", orig)
		}

		// The webhook event log shows each event delivered, with its attempt.
		var logs struct {
			WebhookEventLogs []model.WebhookEventLog
			Total            int
		}
		r = s.Do(t, "POST", "/api/system/webhook-event-log/search", key, `{"search":{"eventType":"user.create"}}`)
		r.JSON(t, &logs)
		if r.Status != 200 || logs.Total != 1 || logs.WebhookEventLogs[0].EventType != "user.create" {
			t.Fatalf("event log search: %d %s", r.Status, r.Body)
		}
		evID := fmt.Sprint(got[0].Event["id"])
		waitAttempts(t, s, key, evID, 1) // written after the round's requests
		var one struct{ WebhookEventLog model.WebhookEventLog }
		r = s.Do(t, "GET", "/api/system/webhook-event-log/"+evID, key, nil)
		r.JSON(t, &one)
		if r.Status != 200 || one.WebhookEventLog.EventResult != "Succeeded" || one.WebhookEventLog.SuccessfulAttempts != 1 ||
			len(one.WebhookEventLog.Attempts) != 1 || one.WebhookEventLog.Attempts[0].WebhookID != hook.ID {
			t.Fatalf("event log: %d %s", r.Status, r.Body)
		}
		var att struct{ WebhookAttemptLog model.WebhookAttemptLog }
		r = s.Do(t, "GET", "/api/system/webhook-attempt-log/"+one.WebhookEventLog.Attempts[0].ID, key, nil)
		r.JSON(t, &att)
		if r.Status != 200 || att.WebhookAttemptLog.AttemptResult != "Success" || att.WebhookAttemptLog.WebhookEventLogID != evID {
			t.Fatalf("attempt log: %d %s", r.Status, r.Body)
		}
	})
}

func TestWebhookNotWantedWritesNothing(t *testing.T) {
	t.Parallel()
	s, key := startWithKey(t, testutil.Backend{Name: "sqlite"})
	rc := newReceiver(t)
	createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
		"eventsEnabled": map[string]bool{"user.delete": true}})
	createTestUser(t, s, key, "quiet@example.com")
	var logs struct{ Total int }
	r := s.Do(t, "POST", "/api/system/webhook-event-log/search", key, `{"search":{}}`)
	r.JSON(t, &logs)
	if r.Status != 200 || logs.Total != 0 {
		t.Fatalf("an event no webhook enabled was written: %s", r.Body)
	}
}

func TestWebhookRetriesWithTheSameEventID(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		clock := testutil.NewFakeClock()
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clock))
		key := s.Setup(t)
		rc := newReceiver(t)
		rc.status.Store(500)
		createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled": map[string]bool{"user.create": true}})
		createTestUser(t, s, key, "retry@example.com")
		first := rc.waitFor(t, 1)
		evID := fmt.Sprint(first[0].Event["id"])
		waitAttempts(t, s, key, evID, 1)
		clock.Advance(time.Minute) // past the first backoff
		rc.waitFor(t, 2)
		waitAttempts(t, s, key, evID, 2)
		rc.status.Store(204)
		clock.Advance(time.Minute)
		got := rc.waitFor(t, 3)
		if got[0].Event["id"] != got[1].Event["id"] || got[1].Event["id"] != got[2].Event["id"] {
			t.Fatalf("retries carry different ids: %v", eventTypes(got))
		}
		var one struct{ WebhookEventLog model.WebhookEventLog }
		for {
			r := s.Do(t, "GET", fmt.Sprintf("/api/system/webhook-event-log/%s", got[0].Event["id"]), key, nil)
			r.JSON(t, &one)
			if one.WebhookEventLog.EventResult != "Running" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if l := one.WebhookEventLog; l.EventResult != "Succeeded" || l.FailedAttempts != 2 || l.SuccessfulAttempts != 1 || len(l.Attempts) != 3 {
			t.Fatalf("event log: %+v", l)
		}
		// Delivered once accepted: no further requests however far the clock goes.
		clock.Advance(time.Hour)
		time.Sleep(500 * time.Millisecond)
		if n := len(rc.all()); n != 3 {
			t.Fatalf("%d requests after success, want 3", n)
		}
	})
}

// waitAttempts waits until an event has n recorded attempts (the dispatcher
// records an attempt after the receiver answered).
func waitAttempts(t *testing.T, s *testutil.Server, key, eventID string, n int) {
	t.Helper()
	for {
		var one struct{ WebhookEventLog model.WebhookEventLog }
		s.Do(t, "GET", "/api/system/webhook-event-log/"+eventID, key, nil).JSON(t, &one)
		if len(one.WebhookEventLog.Attempts) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookGivesUpIntoTheEventLog(t *testing.T) {
	t.Parallel()
	clock := testutil.NewFakeClock()
	s := testutil.StartServer(t, testutil.WithBackend(testutil.Backend{Name: "sqlite"}), testutil.WithClock(clock))
	key := s.Setup(t)
	rc := newReceiver(t)
	// Without allowPrivateNetworks a loopback receiver is refused: every
	// attempt fails without a request.
	createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "eventsEnabled": map[string]bool{"user.create": true}})
	createTestUser(t, s, key, "refused@example.com")
	var logs struct {
		EventLogs []model.EventLog
		Total     int
	}
	for logs.Total == 0 {
		clock.Advance(15 * time.Minute)
		time.Sleep(20 * time.Millisecond)
		r := s.Do(t, "POST", "/api/system/event-log/search", key, `{"search":{"type":"Error"}}`)
		r.JSON(t, &logs)
	}
	if len(rc.all()) != 0 {
		t.Fatalf("a refused address got %d requests", len(rc.all()))
	}
	msg := logs.EventLogs[0].Message
	if !strings.Contains(msg, "user.create") || !strings.Contains(msg, "refused address") {
		t.Fatalf("event log: %q", msg)
	}
	var el struct{ EventLog model.EventLog }
	r := s.Do(t, "GET", fmt.Sprintf("/api/system/event-log/%d", logs.EventLogs[0].ID), key, nil)
	r.JSON(t, &el)
	if r.Status != 200 || el.EventLog.Message != msg {
		t.Fatalf("retrieve event log: %d %s", r.Status, r.Body)
	}
	var wl struct{ WebhookEventLogs []model.WebhookEventLog }
	r = s.Do(t, "GET", "/api/system/webhook-event-log/search?eventResult=Failed", key, nil)
	r.JSON(t, &wl)
	if r.Status != 200 || len(wl.WebhookEventLogs) != 1 || wl.WebhookEventLogs[0].FailedAttempts == 0 {
		t.Fatalf("failed events: %d %s", r.Status, r.Body)
	}
}

func TestWebhookLoginEvents(t *testing.T) {
	t.Parallel()
	clock := testutil.NewFakeClock()
	s, key := startWithKey(t, testutil.Backend{Name: "sqlite"}, testutil.WithClock(clock))
	rc := newReceiver(t)
	createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
		"eventsEnabled": map[string]bool{"user.login.success": true, "user.login.failed": true}})
	id := createTestUser(t, s, key, "login-events@example.com")
	app := createApp(t, s, key, "Login events app")
	if r := s.Do(t, "POST", "/api/user/registration/"+id, key, map[string]any{"registration": map[string]any{"applicationId": app}}); r.Status != 200 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/login", key, `{"loginId":"login-events@example.com","password":"wrong password!"}`); r.Status != 404 {
		t.Fatalf("failed login: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/login", key, `{"loginId":"login-events@example.com","password":"correct horse battery"}`); r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	got := rc.waitFor(t, 2)
	if want := []string{"user.login.failed", "user.login.success"}; !slices.Equal(eventTypes(got), want) {
		t.Fatalf("events %v, want %v", eventTypes(got), want)
	}
	for _, g := range got {
		// The user as FusionAuth's events carry it: with its registrations.
		if u, _ := g.Event["user"].(map[string]any); u["id"] != id || g.Event["authenticationType"] != "PASSWORD" || !registeredWith(u, app) {
			t.Fatalf("login event: %s", g.Body)
		}
	}

	// A login that passes a second factor is a login too: its success comes
	// when the code is accepted, not at the password step (242).
	secret := []byte("twenty bytes secret!")
	if r := s.Do(t, "POST", "/api/user/two-factor/"+id, key, map[string]any{"method": "authenticator", "secret": string(secret),
		"code": tfCode(secret, clock.Now())}); r.Status != 200 {
		t.Fatalf("enable two-factor: %d %s", r.Status, r.Body)
	}
	clock.Advance(30 * time.Second)
	r := s.Do(t, "POST", "/api/login", key, `{"loginId":"login-events@example.com","password":"correct horse battery","applicationId":"`+app+`"}`)
	var pending struct{ TwoFactorID string }
	r.JSON(t, &pending)
	if r.Status != 242 || pending.TwoFactorID == "" {
		t.Fatalf("password step: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "POST", "/api/two-factor/login", key, map[string]any{"twoFactorId": pending.TwoFactorID, "code": tfCode(secret, clock.Now())}); r.Status != 200 {
		t.Fatalf("second factor: %d %s", r.Status, r.Body)
	}
	got = rc.waitFor(t, 3)
	if last := got[2]; len(got) != 3 || last.Event["type"] != "user.login.success" || last.Event["applicationId"] != app {
		t.Fatalf("event of the two-factor login: %s", last.Body)
	}
}

func TestWebhookPasswordResetAndImportEvents(t *testing.T) {
	t.Parallel()
	s, key := startWithKey(t, testutil.Backend{Name: "sqlite"})
	rc := newReceiver(t)
	createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
		"eventsEnabled": map[string]bool{"user.password.reset.start": true, "user.password.reset.success": true, "user.bulk.create": true}})
	id := createTestUser(t, s, key, "reset@example.com")
	r := s.Do(t, "POST", "/api/user/forgot-password", key, `{"loginId":"reset@example.com","sendForgotPasswordEmail":false}`)
	if r.Status != 200 {
		t.Fatalf("forgot password: %d %s", r.Status, r.Body)
	}
	var fp struct{ ChangePasswordID string }
	r.JSON(t, &fp)
	if r := s.Do(t, "POST", "/api/user/change-password/"+fp.ChangePasswordID, "", `{"password":"a brand new password"}`); r.Status != 200 {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	app := createApp(t, s, key, "Import events app")
	if r := s.Do(t, "POST", "/api/user/import", key, `{"users":[{"email":"imported1@example.com","registrations":[{"applicationId":"`+app+`"}]},{"email":"imported2@example.com"}]}`); r.Status != 200 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	got := rc.waitFor(t, 3)
	// In order for the user; the import is about other users, so it may
	// arrive before, between or after.
	var userEvents []string
	var bulk *received
	for i, g := range got {
		if g.Event["type"] == "user.bulk.create" {
			bulk = &got[i]
			continue
		}
		if u, _ := g.Event["user"].(map[string]any); u["id"] != id {
			t.Fatalf("reset event: %s", g.Body)
		}
		userEvents = append(userEvents, fmt.Sprint(g.Event["type"]))
	}
	if want := []string{"user.password.reset.start", "user.password.reset.success"}; !slices.Equal(userEvents, want) {
		t.Fatalf("events %v, want %v", userEvents, want)
	}
	if bulk == nil {
		t.Fatal("no user.bulk.create")
	}
	// The users as FusionAuth's events carry them: with their registrations.
	users, _ := bulk.Event["users"].([]any)
	if len(users) != 2 {
		t.Fatalf("bulk create: %s", bulk.Body)
	}
	for i, u := range users {
		if registeredWith(u.(map[string]any), app) != (i == 0) {
			t.Errorf("bulk create user %d: %v", i, u)
		}
	}
}

// An event committed but not yet accepted survives the node: after a
// restart (another node would do the same), it is delivered with its id.
func TestWebhookEventSurvivesRestart(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		clock := testutil.NewFakeClock()
		s1 := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clock))
		key := s1.Setup(t)
		rc := newReceiver(t)
		rc.status.Store(503)
		createWebhook(t, s1, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled": map[string]bool{"user.create": true}})
		createTestUser(t, s1, key, "survivor@example.com")
		first := rc.waitFor(t, 1)
		evID := fmt.Sprint(first[0].Event["id"])
		waitAttempts(t, s1, key, evID, 1)
		s1.Stop(t)

		rc.status.Store(200)
		later := testutil.NewFakeClock()
		later.Set(clock.Now().Add(time.Hour)) // past the backoff and any lease
		s2 := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(later), testutil.WithDataDir(s1.DataDir))
		got := rc.waitFor(t, 2)
		if got[1].Event["id"] != evID || got[1].Event["type"] != "user.create" {
			t.Fatalf("after restart: %s", got[1].Body)
		}
		waitAttempts(t, s2, key, evID, 2)
	})
}
