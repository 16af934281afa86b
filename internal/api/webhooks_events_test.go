package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// Every change to a user and its registrations reaches a webhook with
// FusionAuth's event type, in the order the changes were made, with the
// members FusionAuth's payload has (the user, and for registration events
// the applicationId and registration).
func TestWebhookUserAndRegistrationEvents(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		rc := newReceiver(t)
		types := []string{"user.create", "user.create.complete", "user.update", "user.update.complete", "user.password.update",
			"user.registration.create", "user.registration.create.complete", "user.registration.update",
			"user.registration.update.complete", "user.registration.delete", "user.registration.delete.complete", "user.deactivate",
			"user.reactivate", "user.delete", "user.delete.complete"}
		enabled := map[string]bool{}
		for _, typ := range types {
			enabled[typ] = true
		}
		createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true, "eventsEnabled": enabled})
		app := createApp(t, s, key, "Events app")
		id := createTestUser(t, s, key, "lifecycle@example.com")
		steps := []struct {
			method, path string
			body         any
			events       []string
		}{
			{"POST", "", nil, []string{"user.create", "user.create.complete"}}, // made above
			{"PATCH", "/api/user/" + id, map[string]any{"user": map[string]any{"firstName": "Lee"}}, []string{"user.update", "user.update.complete"}},
			{"PATCH", "/api/user/" + id, map[string]any{"user": map[string]any{"password": "another fine password"}},
				[]string{"user.update", "user.update.complete", "user.password.update"}},
			{"POST", "/api/user/registration/" + id, map[string]any{"registration": map[string]any{"applicationId": app}}, []string{"user.registration.create", "user.registration.create.complete"}},
			{"PATCH", "/api/user/registration/" + id, map[string]any{"registration": map[string]any{"applicationId": app, "username": "lee"}},
				[]string{"user.registration.update", "user.registration.update.complete"}},
			{"DELETE", "/api/user/registration/" + id + "/" + app, nil, []string{"user.registration.delete", "user.registration.delete.complete"}},
			{"POST", "/api/user/registration/" + id, map[string]any{"registration": map[string]any{"applicationId": app}},
				[]string{"user.registration.create", "user.registration.create.complete"}},
			{"PATCH", "/api/user/" + id, map[string]any{"user": map[string]any{"lastName": "Park"}}, []string{"user.update", "user.update.complete"}},
			{"DELETE", "/api/user/" + id, nil, []string{"user.deactivate"}},
			{"PUT", "/api/user/" + id + "?reactivate=true", nil, []string{"user.reactivate"}},
			{"DELETE", "/api/user/" + id + "?hardDelete=true", nil, []string{"user.delete", "user.delete.complete"}},
		}
		var want []string
		for _, st := range steps {
			if st.path != "" {
				if r := s.Do(t, st.method, st.path, key, st.body); r.Status != 200 {
					t.Fatalf("%s %s: %d %s", st.method, st.path, r.Status, r.Body)
				}
			}
			want = append(want, st.events...)
		}
		got := rc.waitFor(t, len(want))
		if !slices.Equal(eventTypes(got), want) {
			t.Fatalf("events %v\nwant %v", eventTypes(got), want)
		}
		// The user of each event carries its registrations, as
		// FusionAuth's do: the application's from the first registration
		// until its deletion, and again from the second one on.
		registered := []bool{false, false, false, false, false, false, false, true, true, true, true, false, false,
			true, true, true, true, true, true, true, true}
		for i, g := range got {
			ev := g.Event
			u, _ := ev["user"].(map[string]any)
			if regs, _ := u["registrations"].([]any); registeredWith(u, app) != registered[i] || !registered[i] && len(regs) > 0 {
				t.Errorf("%s (event %d): registrations %v, want registered %v", ev["type"], i, u["registrations"], registered[i])
			}
			if u["id"] != id || u["password"] != nil || ev["id"] == nil || ev["createInstant"] == nil || ev["tenantId"] == nil {
				t.Errorf("%s: %s", ev["type"], g.Body)
			}
			switch ev["type"] {
			case "user.registration.create", "user.registration.update", "user.registration.delete",
				"user.registration.create.complete", "user.registration.update.complete", "user.registration.delete.complete":
				reg, _ := ev["registration"].(map[string]any)
				created := strings.HasPrefix(fmt.Sprint(ev["type"]), "user.registration.create")
				updated := strings.HasPrefix(fmt.Sprint(ev["type"]), "user.registration.update")
				if ev["applicationId"] != app || reg["applicationId"] != app || created == (reg["username"] == "lee") || updated != (ev["original"] != nil) {
					t.Errorf("%s: %s", ev["type"], g.Body)
				}
			case "user.reactivate":
				if u["active"] != true {
					t.Errorf("reactivate: %s", g.Body)
				}
			}
		}
	})
}

// registeredWith: the event's user has one registration, with app.
func registeredWith(u map[string]any, app string) bool {
	regs, _ := u["registrations"].([]any)
	if len(regs) != 1 {
		return false
	}
	r, _ := regs[0].(map[string]any)
	return r["applicationId"] == app
}

// A transactional event a webhook refuses refuses its change: FusionAuth's
// 504 with [WebhookTransactionException], and nothing changed. The same
// change goes through once the webhook accepts. A .complete event cannot
// veto, whatever the tenant says (FusionAuth's NonTransactionalEvent).
func TestTransactionalWebhookVetoes(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tenant := defaultTenantID(t, s, key)
		app := createApp(t, s, key, "Veto app")
		id := createTestUser(t, s, key, "veto@example.com")
		txEvents := []string{"user.create", "user.update", "user.registration.create", "user.deactivate", "user.delete", "user.create.complete"}
		conf := map[string]any{}
		for _, typ := range txEvents {
			conf[typ] = map[string]any{"enabled": true, "transactionType": "Any"}
		}
		if r := s.Do(t, "PATCH", "/api/tenant/"+tenant, key, map[string]any{"tenant": map[string]any{"eventConfiguration": map[string]any{"events": conf}}}); r.Status != 200 {
			t.Fatalf("tenant: %d %s", r.Status, r.Body)
		}
		rc := newReceiver(t)
		createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled": map[string]bool{"user.create": true, "user.update": true, "user.registration.create": true, "user.deactivate": true, "user.delete": true}})
		complete := newReceiver(t)
		complete.status.Store(500)
		createWebhook(t, s, key, map[string]any{"url": complete.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled": map[string]bool{"user.create.complete": true}})

		userField := func(field string) any {
			r := s.Do(t, "GET", "/api/user/"+id, key, nil)
			if r.Status != 200 {
				return r.Status
			}
			var u struct{ User map[string]any }
			r.JSON(t, &u)
			return u.User[field]
		}
		cases := []struct {
			name         string
			method, path string
			body         any
			unchanged    func() bool
		}{
			{"user.create", "POST", "/api/user", map[string]any{"user": map[string]any{"email": "vetoed@example.com", "password": "correct horse battery"}},
				func() bool { return s.Do(t, "GET", "/api/user?email=vetoed@example.com", key, nil).Status == 404 }},
			{"user.update", "PATCH", "/api/user/" + id, map[string]any{"user": map[string]any{"firstName": "Vetoed"}},
				func() bool { return userField("firstName") == nil }},
			{"user.registration.create", "POST", "/api/user/registration/" + id, map[string]any{"registration": map[string]any{"applicationId": app}},
				func() bool { return s.Do(t, "GET", "/api/user/registration/"+id+"/"+app, key, nil).Status == 404 }},
			{"user.deactivate", "DELETE", "/api/user/" + id, nil, func() bool { return userField("active") == true }},
			{"user.delete", "DELETE", "/api/user/" + id + "?hardDelete=true", nil, func() bool { return userField("id") == id }},
		}
		for _, c := range cases {
			rc.status.Store(500)
			r := s.Do(t, c.method, c.path, key, c.body)
			if r.Status != 504 || !slices.Contains(errorCodes(t, r), "[WebhookTransactionException]") {
				t.Fatalf("%s vetoed: %d %s", c.name, r.Status, r.Body)
			}
			if !c.unchanged() {
				t.Fatalf("%s: the vetoed change was made", c.name)
			}
			rc.status.Store(200)
			if r := s.Do(t, c.method, c.path, key, c.body); r.Status != 200 {
				t.Fatalf("%s accepted: %d %s", c.name, r.Status, r.Body)
			}
			if c.unchanged() {
				t.Fatalf("%s: the accepted change was not made", c.name)
			}
		}
		// Each accepted change's event was sent once, before commit; each
		// refused one once too (the refusal).
		if got := len(rc.all()); got != 2*len(cases) {
			t.Fatalf("%d deliveries, want %d: %v", got, 2*len(cases), eventTypes(rc.all()))
		}
		// user.create.complete kept failing and vetoed nothing: it waits in
		// the outbox, retried.
		if len(complete.all()) == 0 {
			complete.waitFor(t, 1)
		}
	})
}

func createApp(t *testing.T, s *testutil.Server, key, name string) string {
	t.Helper()
	r := s.Do(t, "POST", "/api/application", key, map[string]any{"application": map[string]any{"name": name}})
	if r.Status != 200 {
		t.Fatalf("create application: %d %s", r.Status, r.Body)
	}
	var a struct{ Application struct{ ID string } }
	r.JSON(t, &a)
	return a.Application.ID
}

// The server refuses to send events to loopback, link-local and private
// addresses, named literally or through DNS, unless the webhook sets
// allowPrivateNetworks: here a transactional user.create, so the refusal
// shows as the create's 504 and the receiver on loopback is never reached.
// (internal/outbound's tests cover the dial check itself and redirects.)
func TestWebhookSSRFRefused(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tenant := defaultTenantID(t, s, key)
		if r := s.Do(t, "PATCH", "/api/tenant/"+tenant, key, map[string]any{"tenant": map[string]any{"eventConfiguration": map[string]any{
			"events": map[string]any{"user.create": map[string]any{"enabled": true, "transactionType": "Any"}}}}}); r.Status != 200 {
			t.Fatalf("tenant: %d %s", r.Status, r.Body)
		}
		rc := newReceiver(t)
		_, port, _ := strings.Cut(strings.TrimPrefix(rc.URL, "http://"), ":")
		n := 0
		for _, c := range []struct {
			url   string
			allow bool
		}{
			{rc.URL, false},                                     // 127.0.0.1
			{"http://[::1]:" + port + "/", false},               // IPv6 loopback
			{"http://localhost:" + port + "/", false},           // a name resolving to loopback
			{"http://169.254.169.254/latest/meta-data/", false}, // cloud metadata
			{"http://10.20.30.40:" + port + "/", false},         // 10/8
			{"http://[::ffff:127.0.0.1]:" + port + "/", false},
			{rc.URL, true},
		} {
			hook := createWebhook(t, s, key, map[string]any{"url": c.url, "global": true, "allowPrivateNetworks": c.allow,
				"connectTimeout": 1000, "readTimeout": 1000, "eventsEnabled": map[string]bool{"user.create": true}})
			n++
			r := s.Do(t, "POST", "/api/user", key, map[string]any{"user": map[string]any{"email": fmt.Sprintf("ssrf%d@example.com", n), "password": "correct horse battery"}})
			want := 504
			if c.allow {
				want = 200
			}
			if r.Status != want {
				t.Errorf("%s (allowPrivateNetworks %v): %d %s, want %d", c.url, c.allow, r.Status, r.Body, want)
			}
			if r := s.Do(t, "DELETE", "/api/webhook/"+hook.ID, key, nil); r.Status != 200 {
				t.Fatalf("delete webhook: %d", r.Status)
			}
		}
		if got := len(rc.all()); got != 1 {
			t.Fatalf("the loopback receiver got %d requests, want only the allowed one", got)
		}
	})
}
