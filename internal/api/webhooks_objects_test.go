package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// signedReceiver is a receiver behind a webhook that signs with an ES256
// key of its own and takes the events named.
type signedReceiver struct {
	*receiver
	publicKey string
}

func newSignedReceiver(t *testing.T, s *testutil.Server, key string, events ...string) *signedReceiver {
	t.Helper()
	rc := newReceiver(t)
	r := s.Do(t, "POST", "/api/key/generate", key, map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "Webhook key " + rc.URL}})
	if r.Status != 200 {
		t.Fatalf("generate key: %d %s", r.Status, r.Body)
	}
	var k struct{ Key model.Key }
	r.JSON(t, &k)
	enabled := map[string]bool{}
	for _, e := range events {
		enabled[e] = true
	}
	createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true, "eventsEnabled": enabled,
		"signatureConfiguration": map[string]any{"enabled": true, "signingKeyId": k.Key.ID}})
	return &signedReceiver{receiver: rc, publicKey: k.Key.PublicKey}
}

// waitVerified waits for n events and checks each one's signature, body
// digest and BaseEvent members (id, type, createInstant, info).
func (rc *signedReceiver) waitVerified(t *testing.T, n int) []received {
	t.Helper()
	got := rc.waitFor(t, n)
	for _, g := range got {
		claims := verifyES256(t, g.Header.Get("X-FusionAuth-Signature-JWT"), rc.publicKey)
		sum := sha256.Sum256(g.Body)
		if claims["request_body_sha256"] != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Fatalf("request_body_sha256 %v does not match the body %s", claims["request_body_sha256"], g.Body)
		}
		if ev := g.Event; ev["id"] == nil || ev["createInstant"] == nil || ev["info"] == nil || ev["type"] == nil {
			t.Fatalf("BaseEvent members missing: %s", g.Body)
		}
	}
	return got
}

func newPublicKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func mustDo(t *testing.T, s *testutil.Server, method, path, key string, body any) *testutil.Response {
	t.Helper()
	r := s.Do(t, method, path, key, body)
	if r.Status != 200 {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	return r
}

func member(ev map[string]any, field string) map[string]any {
	m, _ := ev[field].(map[string]any)
	return m
}

// Group and member changes reach a webhook as FusionAuth's group events,
// each with its .complete twin, in order: the group (with original on
// update), and the members concerned for member events.
func TestWebhookGroupEvents(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tenant := defaultTenantID(t, s, key)
		var types []string
		for _, typ := range []string{"group.create", "group.update", "group.member.add", "group.member.update", "group.member.remove", "group.delete"} {
			types = append(types, typ, typ+".complete")
		}
		rc := newSignedReceiver(t, s, key, types...)
		userA := createTestUser(t, s, key, "member-a@example.com")
		userB := createTestUser(t, s, key, "member-b@example.com")
		var g struct{ Group struct{ ID string } }
		mustDo(t, s, "POST", "/api/group", key, map[string]any{"group": map[string]any{"name": "Readers"}}).JSON(t, &g)
		gid := g.Group.ID
		steps := []struct {
			method, path string
			body         any
			event        string
			members      []string // user ids the event names
		}{
			{"", "", nil, "group.create", nil},
			{"PUT", "/api/group/" + gid, map[string]any{"group": map[string]any{"name": "Writers"}}, "group.update", nil},
			{"POST", "/api/group/member", map[string]any{"members": map[string]any{gid: []any{map[string]any{"userId": userA}}}}, "group.member.add", []string{userA}},
			{"PATCH", "/api/user/" + userB, map[string]any{"user": map[string]any{"memberships": []any{map[string]any{"groupId": gid}}}}, "group.member.add", []string{userB}},
			{"PUT", "/api/group/member", map[string]any{"members": map[string]any{gid: []any{map[string]any{"userId": userB, "data": map[string]any{"n": 1}}}}}, "group.member.update", []string{userB}},
			{"DELETE", "/api/group/member?groupId=" + gid + "&userId=" + userB, nil, "group.member.remove", []string{userB}},
			{"DELETE", "/api/group/" + gid, nil, "group.delete", nil},
		}
		var want []string
		for _, st := range steps {
			if st.method != "" {
				mustDo(t, s, st.method, st.path, key, st.body)
			}
			want = append(want, st.event, st.event+".complete")
		}
		got := rc.waitVerified(t, len(want))
		if !slices.Equal(eventTypes(got), want) {
			t.Fatalf("events %v\nwant %v", eventTypes(got), want)
		}
		for i, gr := range got {
			ev, st := gr.Event, steps[i/2]
			grp := member(ev, "group")
			if ev["tenantId"] != tenant || grp["id"] != gid || grp["tenantId"] != tenant {
				t.Errorf("%s: %s", ev["type"], gr.Body)
			}
			switch st.event {
			case "group.create":
				if grp["name"] != "Readers" {
					t.Errorf("create: %s", gr.Body)
				}
			case "group.update":
				if grp["name"] != "Writers" || member(ev, "original")["name"] != "Readers" {
					t.Errorf("update: %s", gr.Body)
				}
			}
			if st.members != nil {
				list, _ := ev["members"].([]any)
				var ids []string
				for _, m := range list {
					mo, _ := m.(map[string]any)
					if mo["groupId"] != gid || mo["id"] == nil {
						t.Errorf("%s member: %s", ev["type"], gr.Body)
					}
					ids = append(ids, fmt.Sprint(mo["userId"]))
				}
				if !slices.Equal(ids, st.members) {
					t.Errorf("%s members %v, want %v", ev["type"], ids, st.members)
				}
			} else if ev["members"] != nil {
				t.Errorf("%s has members: %s", ev["type"], gr.Body)
			}
		}
	})
}

// Entity changes reach a webhook as FusionAuth's entity events with their
// .complete twins: the entity without its client secret, and the original
// on update.
func TestWebhookEntityEvents(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tenant := defaultTenantID(t, s, key)
		rc := newSignedReceiver(t, s, key, "entity.create", "entity.create.complete", "entity.update", "entity.update.complete",
			"entity.delete", "entity.delete.complete")
		var typ struct{ EntityType struct{ ID string } }
		mustDo(t, s, "POST", "/api/entity/type", key, map[string]any{"entityType": map[string]any{"name": "Service"}}).JSON(t, &typ)
		var ent struct{ Entity struct{ ID string } }
		mustDo(t, s, "POST", "/api/entity", key, map[string]any{"entity": map[string]any{"name": "Billing", "type": map[string]any{"id": typ.EntityType.ID}}}).JSON(t, &ent)
		id := ent.Entity.ID
		mustDo(t, s, "PATCH", "/api/entity/"+id, key, map[string]any{"entity": map[string]any{"name": "Invoicing"}})
		mustDo(t, s, "DELETE", "/api/entity/"+id, key, nil)
		want := []string{"entity.create", "entity.create.complete", "entity.update", "entity.update.complete", "entity.delete", "entity.delete.complete"}
		got := rc.waitVerified(t, len(want))
		if !slices.Equal(eventTypes(got), want) {
			t.Fatalf("events %v\nwant %v", eventTypes(got), want)
		}
		for _, gr := range got {
			ev := gr.Event
			e := member(ev, "entity")
			name := "Invoicing"
			if strings.HasPrefix(fmt.Sprint(ev["type"]), "entity.create") {
				name = "Billing"
			}
			if ev["tenantId"] != tenant || e["id"] != id || e["name"] != name || member(e, "type")["id"] != typ.EntityType.ID ||
				strings.Contains(string(gr.Body), "clientSecret") {
				t.Errorf("%s: %s", ev["type"], gr.Body)
			}
			if updated := strings.HasPrefix(fmt.Sprint(ev["type"]), "entity.update"); updated != (member(ev, "original")["name"] == "Billing") {
				t.Errorf("%s original: %s", ev["type"], gr.Body)
			}
		}
	})
}

// jwt.public-key.update: a key made, renamed or deleted, and a tenant or an
// application that starts signing with another key. An unused key's event
// has no tenant and no application ids; a key in use names the tenant and
// the applications that may be affected.
func TestWebhookPublicKeyUpdateEvents(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tenant := defaultTenantID(t, s, key)
		app := createApp(t, s, key, "Key app")
		rc := newSignedReceiver(t, s, key, "jwt.public-key.update")
		var k struct{ Key model.Key }
		mustDo(t, s, "POST", "/api/key/generate", key, map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "Rotated in"}}).JSON(t, &k)
		var spare struct{ Key model.Key }
		mustDo(t, s, "POST", "/api/key/generate", key, map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "Spare"}}).JSON(t, &spare)
		tenantApps := func() []any {
			var apps struct{ Applications []struct{ ID string } }
			mustDo(t, s, "GET", "/api/application", key, nil).JSON(t, &apps)
			var ids []string
			for _, a := range apps.Applications {
				ids = append(ids, a.ID)
			}
			slices.Sort(ids)
			out := []any{}
			for _, id := range ids {
				out = append(out, id)
			}
			return out
		}
		steps := []struct {
			name         string
			method, path string
			body         any
			tenant       any
			apps         []any
		}{
			{"generate", "", "", nil, nil, []any{}},
			{"generate spare", "", "", nil, nil, []any{}},
			{"tenant rotates", "PATCH", "/api/tenant/" + tenant, map[string]any{"tenant": map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": k.Key.ID}}}, tenant, tenantApps()},
			{"rename a key in use", "PUT", "/api/key/" + k.Key.ID, map[string]any{"key": map[string]any{"name": "Renamed"}}, tenant, tenantApps()},
			{"application rotates", "PATCH", "/api/application/" + app, map[string]any{"application": map[string]any{"jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": spare.Key.ID}}}, tenant, []any{app}},
			{"tenant setting without a key change", "PATCH", "/api/tenant/" + tenant, map[string]any{"tenant": map[string]any{"data": map[string]any{"x": 1}}}, nil, nil},
			{"import", "POST", "/api/key/import", map[string]any{"key": map[string]any{"name": "Imported", "publicKey": newPublicKeyPEM(t)}}, nil, []any{}},
			{"delete an unused key", "POST", "/api/key/generate/d1f4b5a0-4c8e-4a57-9a3e-0f3f8f1b2c3d", map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "Short-lived"}}, nil, []any{}},
			{"", "DELETE", "/api/key/d1f4b5a0-4c8e-4a57-9a3e-0f3f8f1b2c3d", nil, nil, []any{}},
		}
		// Events of different keys and tenants are not ordered among
		// themselves: each step waits for its event.
		n := 0
		for _, st := range steps {
			if st.method != "" {
				mustDo(t, s, st.method, st.path, key, st.body)
			}
			if st.apps == nil {
				continue
			}
			n++
			ev := rc.waitVerified(t, n)[n-1].Event
			if ev["type"] != "jwt.public-key.update" || ev["tenantId"] != st.tenant || fmt.Sprint(ev["applicationIds"]) != fmt.Sprint(st.apps) {
				t.Errorf("%s: %v, want tenant %v and applicationIds %v", st.name, ev, st.tenant, st.apps)
			}
		}
		if all := rc.all(); len(all) != n {
			t.Errorf("%d events, want %d: %v", len(all), n, eventTypes(all))
		}
	})
}

// user.email.update names the previous email; a change that keeps the
// email sends none.
func TestWebhookUserEmailUpdate(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		rc := newSignedReceiver(t, s, key, "user.email.update")
		id := createTestUser(t, s, key, "before@example.com")
		mustDo(t, s, "PATCH", "/api/user/"+id, key, map[string]any{"user": map[string]any{"firstName": "Same email"}})
		mustDo(t, s, "PATCH", "/api/user/"+id, key, map[string]any{"user": map[string]any{"email": "after@example.com"}})
		got := rc.waitVerified(t, 1)
		ev := got[0].Event
		if ev["type"] != "user.email.update" || ev["previousEmail"] != "before@example.com" || member(ev, "user")["email"] != "after@example.com" ||
			member(ev, "user")["id"] != id || ev["tenantId"] == nil {
			t.Fatalf("event: %s", got[0].Body)
		}
		mustDo(t, s, "PATCH", "/api/user/"+id, key, map[string]any{"user": map[string]any{"email": "again@example.com"}})
		got = rc.waitVerified(t, 2)
		if len(got) != 2 || got[1].Event["previousEmail"] != "after@example.com" {
			t.Fatalf("events: %v", eventTypes(got))
		}
	})
}

// audit-log.create carries each audit entry as it was written, its id
// included: the entries of changes and those a client appends. It is an
// instance event (no tenant). Without a webhook taking it, nothing is
// written to the webhook event log.
func TestWebhookAuditLogCreate(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		other := newSignedReceiver(t, s, key, "user.create")
		createTestUser(t, s, key, "unwatched@example.com")
		other.waitVerified(t, 1)
		var logs struct{ Total int }
		mustDo(t, s, "POST", "/api/system/webhook-event-log/search", key, `{"search":{"eventType":"audit-log.create"}}`).JSON(t, &logs)
		if logs.Total != 0 {
			t.Fatalf("audit-log.create written with no webhook taking it: %d", logs.Total)
		}

		rc := newSignedReceiver(t, s, key, "audit-log.create")
		// Making the webhook's own key and the webhook were audited before
		// it existed: nothing for them.
		createTestUser(t, s, key, "watched@example.com")
		mustDo(t, s, "POST", "/api/system/audit-log", key, map[string]any{"auditLog": map[string]any{"insertUser": "ops", "message": "Appended by hand"}})
		// audit-log.create events are not ordered among themselves (each
		// entry is its own object): sorted by entry id here.
		got := rc.waitVerified(t, 2)[:2]
		slices.SortFunc(got, func(a, b received) int {
			return strings.Compare(fmt.Sprintf("%020v", member(a.Event, "auditLog")["id"]), fmt.Sprintf("%020v", member(b.Event, "auditLog")["id"]))
		})
		wantMsg := []string{"Created user", "Appended by hand"}
		for i, gr := range got {
			ev := gr.Event
			a := member(ev, "auditLog")
			if ev["type"] != "audit-log.create" || ev["tenantId"] != nil || !strings.Contains(fmt.Sprint(a["message"]), wantMsg[i]) || a["id"] == nil || a["insertInstant"] == nil {
				t.Fatalf("event %d: %s", i, gr.Body)
			}
			id := fmt.Sprint(a["id"])
			var entry struct{ AuditLog model.AuditLog }
			mustDo(t, s, "GET", "/api/system/audit-log/"+id, key, nil).JSON(t, &entry)
			if entry.AuditLog.Message != a["message"] {
				t.Fatalf("entry %s is %q, event says %q", id, entry.AuditLog.Message, a["message"])
			}
		}
	})
}

// The transactional events among the new ones veto their change like
// user.create: 504 [WebhookTransactionException] and nothing written, then
// the change goes through once the webhook accepts.
func TestTransactionalObjectEventsVeto(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tenant := defaultTenantID(t, s, key)
		userID := createTestUser(t, s, key, "veto-member@example.com")
		var typ struct{ EntityType struct{ ID string } }
		mustDo(t, s, "POST", "/api/entity/type", key, map[string]any{"entityType": map[string]any{"name": "Vetoed type"}}).JSON(t, &typ)
		var g struct{ Group struct{ ID string } }
		mustDo(t, s, "POST", "/api/group", key, map[string]any{"group": map[string]any{"name": "Before veto"}}).JSON(t, &g)
		var k struct{ Key model.Key }
		mustDo(t, s, "POST", "/api/key/generate", key, map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "Veto key"}}).JSON(t, &k)

		txEvents := []string{"group.create", "group.member.add", "group.update", "group.member.update", "group.member.remove", "group.delete",
			"entity.create", "entity.update", "entity.delete", "jwt.public-key.update"}
		conf := map[string]any{}
		enabled := map[string]bool{}
		for _, e := range txEvents {
			conf[e] = map[string]any{"enabled": true, "transactionType": "Any"}
			enabled[e] = true
		}
		mustDo(t, s, "PATCH", "/api/tenant/"+tenant, key, map[string]any{"tenant": map[string]any{"eventConfiguration": map[string]any{"events": conf}}})
		rc := newReceiver(t)
		createWebhook(t, s, key, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true, "eventsEnabled": enabled})

		count := func(path, field string) int {
			var out map[string]any
			mustDo(t, s, "GET", path, key, nil).JSON(t, &out)
			list, _ := out[field].([]any)
			return len(list)
		}
		members := func() any {
			var out struct {
				Total   int
				Members []map[string]any
			}
			mustDo(t, s, "POST", "/api/group/member/search", key, map[string]any{"search": map[string]any{"groupId": g.Group.ID}}).JSON(t, &out)
			if out.Total == 0 {
				return 0
			}
			return fmt.Sprint(out.Total, out.Members[0]["data"])
		}
		object := func(path, field string) func() any {
			return func() any {
				r := s.Do(t, "GET", path, key, nil)
				if r.Status != 200 {
					return r.Status
				}
				var out map[string]map[string]any
				r.JSON(t, &out)
				return out[field]["name"]
			}
		}
		entityID := "5b0c6a4e-3f0e-4d6b-9d0a-6a8f3c1e2b7d"
		tenantKey := func() any {
			var out struct{ Tenant map[string]any }
			mustDo(t, s, "GET", "/api/tenant/"+tenant, key, nil).JSON(t, &out)
			return member(out.Tenant, "jwtConfiguration")["accessTokenKeyId"]
		}
		cases := []struct {
			name         string
			method, path string
			body         any
			state        func() any
		}{
			{"group.create", "POST", "/api/group", map[string]any{"group": map[string]any{"name": "Vetoed"}}, func() any { return count("/api/group", "groups") }},
			{"group.member.add", "POST", "/api/group/member", map[string]any{"members": map[string]any{g.Group.ID: []any{map[string]any{"userId": userID}}}}, members},
			{"group.update", "PUT", "/api/group/" + g.Group.ID, map[string]any{"group": map[string]any{"name": "Renamed"}}, object("/api/group/"+g.Group.ID, "group")},
			{"group.member.update", "PUT", "/api/group/member", map[string]any{"members": map[string]any{g.Group.ID: []any{map[string]any{"userId": userID, "data": map[string]any{"v": 2}}}}}, members},
			{"group.member.remove", "DELETE", "/api/group/member?groupId=" + g.Group.ID + "&userId=" + userID, nil, members},
			{"group.delete", "DELETE", "/api/group/" + g.Group.ID, nil, object("/api/group/"+g.Group.ID, "group")},
			{"entity.create", "POST", "/api/entity/" + entityID, map[string]any{"entity": map[string]any{"name": "Vetoed", "type": map[string]any{"id": typ.EntityType.ID}}},
				func() any {
					var out struct{ Total int }
					mustDo(t, s, "POST", "/api/entity/search", key, map[string]any{"search": map[string]any{"queryString": "*"}}).JSON(t, &out)
					return out.Total
				}},
			{"entity.update", "PATCH", "/api/entity/" + entityID, map[string]any{"entity": map[string]any{"name": "Renamed"}}, object("/api/entity/"+entityID, "entity")},
			{"entity.delete", "DELETE", "/api/entity/" + entityID, nil, object("/api/entity/"+entityID, "entity")},
			{"jwt.public-key.update", "PATCH", "/api/tenant/" + tenant, map[string]any{"tenant": map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": k.Key.ID}}}, tenantKey},
		}
		for _, c := range cases {
			before := c.state()
			rc.status.Store(500)
			r := s.Do(t, c.method, c.path, key, c.body)
			if r.Status != 504 || !slices.Contains(errorCodes(t, r), "[WebhookTransactionException]") {
				t.Fatalf("%s vetoed: %d %s", c.name, r.Status, r.Body)
			}
			if after := c.state(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("%s: the vetoed change was made (%v, then %v)", c.name, before, after)
			}
			rc.status.Store(200)
			mustDo(t, s, c.method, c.path, key, c.body)
			if after := c.state(); fmt.Sprint(after) == fmt.Sprint(before) {
				t.Fatalf("%s: the accepted change was not made", c.name)
			}
		}
		if got := eventTypes(rc.all()); len(got) != 2*len(cases) {
			t.Fatalf("deliveries %v", got)
		}
	})
}

// A tenant's eventConfiguration names FusionAuth's event types only, with
// one of its transaction types; a webhook may enable each of them.
func TestEventConfigurationValidation(t *testing.T) {
	t.Parallel()
	s, key := startWithKey(t, testutil.Backend{Name: "sqlite"})
	tenant := defaultTenantID(t, s, key)
	for _, tc := range []struct {
		name   string
		events map[string]any
		code   string
	}{
		{"unknown event", map[string]any{"group.nope": map[string]any{"enabled": true}}, "[invalid]tenant.eventConfiguration.events"},
		{"unknown transaction type", map[string]any{"group.create": map[string]any{"enabled": true, "transactionType": "Most"}},
			"[invalid]tenant.eventConfiguration.events[group.create].transactionType"},
		{"new events", map[string]any{"group.member.update": map[string]any{"enabled": true, "transactionType": "SimpleMajority"},
			"entity.delete.complete": map[string]any{"enabled": true, "transactionType": "None"}, "audit-log.create": map[string]any{"enabled": true},
			"jwt.public-key.update": map[string]any{"enabled": false}, "user.email.update": map[string]any{"enabled": true}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, "PATCH", "/api/tenant/"+tenant, key, map[string]any{"tenant": map[string]any{"eventConfiguration": map[string]any{"events": tc.events}}})
			if tc.code == "" {
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				return
			}
			if r.Status != 400 || !slices.Contains(errorCodes(t, r), tc.code) {
				t.Fatalf("%d %s, want 400 with %s", r.Status, r.Body, tc.code)
			}
		})
	}
	enabled := map[string]bool{}
	for _, e := range model.EventTypes {
		enabled[e] = true
	}
	createWebhook(t, s, key, map[string]any{"url": "https://example.com/all", "eventsEnabled": enabled})
}

// A user deleted while a member of groups leaves them with user.delete
// alone, by the single and the bulk delete: FusionAuth documents
// group.member.remove for the group member API only.
func TestWebhookUserDeleteSendsNoMemberRemove(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		rc := newSignedReceiver(t, s, key, "user.delete", "group.member.remove", "group.member.remove.complete")
		var g struct{ Group struct{ ID string } }
		mustDo(t, s, "POST", "/api/group", key, map[string]any{"group": map[string]any{"name": "Leavers"}}).JSON(t, &g)
		one, two := createTestUser(t, s, key, "leaver-1@example.com"), createTestUser(t, s, key, "leaver-2@example.com")
		mustDo(t, s, "POST", "/api/group/member", key, map[string]any{"members": map[string]any{g.Group.ID: []any{
			map[string]any{"userId": one}, map[string]any{"userId": two}}}})
		mustDo(t, s, "DELETE", "/api/user/"+one+"?hardDelete=true", key, nil)
		mustDo(t, s, "DELETE", "/api/user/bulk", key, map[string]any{"userIds": []string{two}, "hardDelete": true})
		got := rc.waitVerified(t, 2)
		var members struct{ Total int }
		mustDo(t, s, "POST", "/api/group/member/search", key, map[string]any{"search": map[string]any{"groupId": g.Group.ID}}).JSON(t, &members)
		var logs struct{ Total int }
		mustDo(t, s, "POST", "/api/system/webhook-event-log/search", key, `{"search":{}}`).JSON(t, &logs)
		if types := eventTypes(got); len(got) != 2 || types[0] != "user.delete" || types[1] != "user.delete" || members.Total != 0 || logs.Total != 2 {
			t.Fatalf("events %v (%d written), members left %d", types, logs.Total, members.Total)
		}
	})
}
