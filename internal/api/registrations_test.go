package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/testutil"
)

func TestRegistrationCRUD(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		appID, _ := e.appWithRoles("", "Forum", "user", "admin", "editor")
		uid := e.user("reg@example.com", "")

		// FusionAuth's documented request, with roles this application has
		// and a member Latch does not know.
		sent := map[string]any{
			"applicationId":      appID,
			"data":               map[string]any{"displayName": "Johnny", "favoriteSports": []any{"Football", "Basketball"}},
			"preferredLanguages": []any{"en", "fr"},
			"roles":              []any{"editor", "admin", "admin"},
			"timezone":           "America/Chicago",
			"username":           "johnny123",
			"custom":             map[string]any{"n": taNum(1)},
			"insertInstant":      taNum(1), // owned: ignored
			"verified":           false,    // owned: ignored
		}
		reg := e.register(uid, sent)
		regID, _ := reg["id"].(string)
		if _, ok := canonical(regID); !ok {
			t.Fatalf("registration id %q", reg["id"])
		}
		for _, c := range []struct {
			key  string
			want any
		}{
			{"applicationId", appID},
			{"roles", []any{"admin", "editor"}}, // a sorted set
			{"username", "johnny123"},
			{"timezone", "America/Chicago"},
			{"verified", true},
			{"usernameStatus", "ACTIVE"},
			{"custom", map[string]any{"n": taNum(1)}},
			{"data", sent["data"]},
			{"preferredLanguages", []any{"en", "fr"}},
		} {
			if !model.JSONEqual(reg[c.key], c.want) {
				t.Errorf("registration %s = %v, want %v", c.key, reg[c.key], c.want)
			}
		}
		now := taNum(e.s.Clock.Now().UnixMilli())
		if !model.JSONEqual(reg["insertInstant"], now) || !model.JSONEqual(reg["lastUpdateInstant"], now) || !model.JSONEqual(reg["verifiedInstant"], now) {
			t.Errorf("instants %v %v %v, want %v", reg["insertInstant"], reg["lastUpdateInstant"], reg["verifiedInstant"], now)
		}
		if _, ok := reg["authenticationToken"]; ok {
			t.Errorf("no token was asked for: %v", reg)
		}

		got := e.ok("retrieve", e.do("GET", "/api/user/registration/"+uid+"/"+appID, e.root, nil), "registration")
		if !model.JSONEqual(got, reg) {
			t.Errorf("retrieve %v\n differs from create %v", got, reg)
		}
		wantEmpty(t, "unknown application", e.do("GET", "/api/user/registration/"+uid+"/"+rgNewID(), e.root, nil), 404)
		wantEmpty(t, "unknown user", e.do("GET", "/api/user/registration/"+rgNewID()+"/"+appID, e.root, nil), 404)
		wantEmpty(t, "malformed ids", e.do("GET", "/api/user/registration/x/y", e.root, nil), 404)

		// One registration per user and application.
		want400(t, "duplicate", e.do("POST", "/api/user/registration/"+uid, e.root,
			map[string]any{"registration": map[string]any{"applicationId": appID}}), "[duplicate]registration")

		// Default roles when none are named; a chosen id; the same id again.
		u2 := e.user("second@example.com", "")
		otherApp, _ := e.appWithRoles("", "Wiki", "reader", "writer")
		chosen := rgNewID()
		r2 := e.register(u2, map[string]any{"applicationId": otherApp, "id": chosen})
		if r2["id"] != chosen || !rgEqual(rgStrings(r2["roles"]), "reader") {
			t.Errorf("default roles / chosen id: %v %v", r2["id"], r2["roles"])
		}
		want400(t, "registration id taken", e.do("POST", "/api/user/registration/"+uid, e.root,
			map[string]any{"registration": map[string]any{"applicationId": otherApp, "id": chosen}}), "[duplicate]registration.id")
		if r := e.register(u2, map[string]any{"applicationId": appID, "roles": []any{}}); !rgEqual(rgStrings(r["roles"]), "user") {
			t.Errorf("empty roles get the default roles: %v", r["roles"])
		}
		// The path's application wins over the body's.
		u3 := e.user("third@example.com", "")
		r3 := e.ok("register with the application in the path", e.do("POST", "/api/user/registration/"+u3+"/"+otherApp, e.root,
			map[string]any{"registration": map[string]any{"applicationId": appID, "roles": []any{"writer"}}}), "registration")
		if r3["applicationId"] != otherApp {
			t.Errorf("path application: %v", r3["applicationId"])
		}

		// Update replaces the object; roles not given are none; owned fields
		// and the id stay.
		e.s.Clock.Advance(time.Minute)
		upd := e.ok("update", e.do("PUT", "/api/user/registration/"+uid+"/"+appID, e.root, map[string]any{"registration": map[string]any{
			"roles": []any{"user"}, "data": map[string]any{"k": "v"}, "id": rgNewID(), "applicationId": otherApp}}), "registration")
		if upd["id"] != regID || upd["applicationId"] != appID || !rgEqual(rgStrings(upd["roles"]), "user") ||
			upd["custom"] != nil || upd["username"] != nil || !model.JSONEqual(upd["data"], map[string]any{"k": "v"}) {
			t.Errorf("update: %v", upd)
		}
		if !model.JSONEqual(upd["insertInstant"], reg["insertInstant"]) || model.JSONEqual(upd["lastUpdateInstant"], reg["lastUpdateInstant"]) {
			t.Errorf("update instants: %v %v", upd["insertInstant"], upd["lastUpdateInstant"])
		}
		upd = e.ok("update with the application in the body", e.do("PUT", "/api/user/registration/"+uid, e.root, map[string]any{"registration": map[string]any{
			"applicationId": appID, "roles": []any{}}}), "registration")
		if !rgEqual(rgStrings(upd["roles"])) {
			t.Errorf("update to no roles: %v", upd["roles"])
		}
		want400(t, "update without application", e.do("PUT", "/api/user/registration/"+uid, e.root, map[string]any{"registration": map[string]any{}}),
			"[missing]registration.applicationId")
		want400(t, "update to an unknown role", e.do("PUT", "/api/user/registration/"+uid+"/"+appID, e.root, map[string]any{"registration": map[string]any{
			"roles": []any{"ghost"}}}), "[invalid]registration.roles")
		wantEmpty(t, "update of a missing registration", e.do("PUT", "/api/user/registration/"+u3+"/"+appID, e.root,
			map[string]any{"registration": map[string]any{}}), 404)

		// PATCH in FusionAuth's form appends to roles; RFC 7396 replaces and
		// removes with null; RFC 6902 operates on the request form.
		e.ok("reset", e.do("PUT", "/api/user/registration/"+uid+"/"+appID, e.root, map[string]any{"registration": map[string]any{
			"roles": []any{"user"}, "data": map[string]any{"a": "1", "b": "2"}, "username": "u"}}), "registration")
		p := e.ok("patch", e.do("PATCH", "/api/user/registration/"+uid+"/"+appID, e.root, map[string]any{"registration": map[string]any{
			"roles": []any{"admin"}, "data": map[string]any{"a": nil}}}), "registration")
		if !rgEqual(rgStrings(p["roles"]), "admin", "user") || !model.JSONEqual(p["data"], map[string]any{"b": "2"}) || p["username"] != "u" {
			t.Errorf("FusionAuth patch: %v", p)
		}
		p = e.ok("merge patch", e.do("PATCH", "/api/user/registration/"+uid, e.root, map[string]any{"registration": map[string]any{
			"applicationId": appID, "roles": []any{"editor"}, "username": nil}}, "Content-Type", "application/merge-patch+json"), "registration")
		if !rgEqual(rgStrings(p["roles"]), "editor") || p["username"] != nil {
			t.Errorf("merge patch: %v", p)
		}
		p = e.ok("json patch", e.do("PATCH", "/api/user/registration/"+uid+"/"+appID, e.root, []any{
			map[string]any{"op": "add", "path": "/registration/roles/-", "value": "user"},
			map[string]any{"op": "add", "path": "/registration/timezone", "value": "Europe/Paris"}},
			"Content-Type", "application/json-patch+json"), "registration")
		if !rgEqual(rgStrings(p["roles"]), "editor", "user") || p["timezone"] != "Europe/Paris" {
			t.Errorf("json patch: %v", p)
		}
		want400(t, "patch to an unknown role", e.do("PATCH", "/api/user/registration/"+uid+"/"+appID, e.root, map[string]any{"registration": map[string]any{
			"roles": []any{"ghost"}}}), "[invalid]registration.roles")
		want400(t, "json patch without application", e.do("PATCH", "/api/user/registration/"+uid, e.root, []any{
			map[string]any{"op": "replace", "path": "/registration/username", "value": "x"}}, "Content-Type", "application/json-patch+json"),
			"[missing]registration.applicationId")

		// Delete.
		wantEmpty(t, "delete", e.do("DELETE", "/api/user/registration/"+uid+"/"+appID, e.root, nil), 200)
		wantEmpty(t, "retrieve deleted", e.do("GET", "/api/user/registration/"+uid+"/"+appID, e.root, nil), 404)
		wantEmpty(t, "delete again", e.do("DELETE", "/api/user/registration/"+uid+"/"+appID, e.root, nil), 404)
		wantEmpty(t, "delete with an event body", e.do("DELETE", "/api/user/registration/"+u3+"/"+otherApp, e.root,
			map[string]any{"eventInfo": map[string]any{"ipAddress": "10.0.0.1"}}), 200)

		// Every change is audited against the user, on the trail of
		// everything done to them.
		msgs := e.auditMessages(uid)
		for _, want := range []string{"Created registration", "Updated registration", "Deleted registration"} {
			if !rgHasPrefix(msgs, want) {
				t.Errorf("audit of %s lacks %q: %v", uid, want, msgs)
			}
		}
	})
}

func TestRegistrationRules(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		def := e.defaultTenant()
		appID, _ := e.appWithRoles("", "Forum", "user")
		uid := e.user("rules@example.com", "")
		other := e.createTenant("Other")["id"].(string)
		foreignApp, _ := e.appWithRoles(other, "Foreign", "user")
		inactive, _ := e.appWithRoles(def, "Sleeping", "user")
		wantEmpty(t, "deactivate", e.do("DELETE", "/api/application/"+inactive, e.root, nil), 200)

		post := func(body any) *testutil.Response { return e.do("POST", "/api/user/registration/"+uid, e.root, body) }
		reg := func(m map[string]any) map[string]any {
			if _, ok := m["applicationId"]; !ok {
				m["applicationId"] = appID
			}
			return map[string]any{"registration": m}
		}
		cases := []struct {
			name string
			body any
			code string
		}{
			{"no application", map[string]any{"registration": map[string]any{}}, "[missing]registration.applicationId"},
			{"no registration", map[string]any{}, "[missing]registration.applicationId"},
			{"malformed application", reg(map[string]any{"applicationId": "app-1"}), "[invalid]registration.applicationId"},
			{"application of a number", reg(map[string]any{"applicationId": 7}), "[invalid]registration.applicationId"},
			{"unknown application", reg(map[string]any{"applicationId": rgNewID()}), "[invalid]registration.applicationId"},
			{"application of another tenant", reg(map[string]any{"applicationId": foreignApp}), "[invalid]registration.applicationId"},
			{"inactive application", reg(map[string]any{"applicationId": inactive}), "[invalid]registration.applicationId"},
			{"unknown role", reg(map[string]any{"roles": []any{"user", "ghost"}}), "[invalid]registration.roles"},
			{"roles not an array", reg(map[string]any{"roles": "user"}), "[invalid]registration.roles"},
			{"role not a string", reg(map[string]any{"roles": []any{1}}), "[invalid]registration.roles"},
			{"data not an object", reg(map[string]any{"data": "x"}), "[invalid]registration.data"},
			{"bad timezone", reg(map[string]any{"timezone": "Mars/Olympus"}), "[invalid]registration.timezone"},
			{"timezone not a string", reg(map[string]any{"timezone": 3}), "[invalid]registration.timezone"},
			{"bad locale", reg(map[string]any{"preferredLanguages": []any{"not a locale"}}), "[invalid]registration.preferredLanguages"},
			{"too many locales", reg(map[string]any{"preferredLanguages": make21Locales()}), "[tooMany]registration.preferredLanguages"},
			{"long username", reg(map[string]any{"username": strings.Repeat("u", 300)}), "[tooLong]registration.username"},
			{"malformed registration id", reg(map[string]any{"id": "r1"}), "[invalid]registration.id"},
			{"registration not an object", map[string]any{"registration": []any{}}, "[invalid]registration"},
			{"bad generate flag", map[string]any{"registration": map[string]any{"applicationId": appID}, "generateAuthenticationToken": "yes"}, "[invalid]generateAuthenticationToken"},
			{"invalid JSON", `{"registration": {`, "[invalidJSON]"},
			{"array body", `[]`, "[invalidJSON]"},
		}
		for _, c := range cases {
			want400(t, c.name, post(c.body), c.code)
		}
		wantEmpty(t, "unknown user", e.do("POST", "/api/user/registration/"+rgNewID(), e.root, reg(map[string]any{})), 404)
		wantEmpty(t, "malformed user", e.do("POST", "/api/user/registration/someone", e.root, reg(map[string]any{})), 404)
		want400(t, "no user at all", e.do("POST", "/api/user/registration", e.root, reg(map[string]any{})), "[missing]userId")
		if r := e.do("POST", "/api/user/registration/"+uid, e.root, strings.Repeat(" ", 2<<20)); r.Status != 400 {
			t.Errorf("a 2 MiB body: %d", r.Status)
		}
		// Nothing above created a registration.
		if r := e.do("GET", "/api/user/registration/"+uid+"/"+appID, e.root, nil); r.Status != 404 {
			t.Errorf("a refused registration exists: %d %s", r.Status, r.Body)
		}
		// The application must be active to register, not to edit.
		e.register(uid, map[string]any{"applicationId": appID})
		wantEmpty(t, "deactivate Forum", e.do("DELETE", "/api/application/"+appID, e.root, nil), 200)
		e.ok("edit under an inactive application", e.do("PUT", "/api/user/registration/"+uid+"/"+appID, e.root,
			map[string]any{"registration": map[string]any{"roles": []any{"user"}}}), "registration")
	})
}

func make21Locales() []any {
	out := make([]any, 21)
	for i := range out {
		out[i] = "en"
	}
	return out
}

func canonical(s string) (string, bool) {
	if len(s) != 36 || strings.ToLower(s) != s {
		return "", false
	}
	return s, true
}

func TestRegistrationVerificationAndToken(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		verifying := e.ok("create", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{
			"name": "Verifying", "verifyRegistration": true}}), "application")["id"].(string)
		plain, _ := e.appWithRoles("", "Plain", "user")
		u1, u2 := e.user("v1@example.com", ""), e.user("v2@example.com", "")

		r := e.register(u1, map[string]any{"applicationId": verifying})
		if r["verified"] != false || r["verifiedInstant"] != nil {
			t.Errorf("verifyRegistration: %v %v", r["verified"], r["verifiedInstant"])
		}
		r = e.ok("skip verification", e.do("POST", "/api/user/registration/"+u2, e.root, map[string]any{
			"registration": map[string]any{"applicationId": verifying}, "skipRegistrationVerification": true}), "registration")
		if r["verified"] != true {
			t.Errorf("skipRegistrationVerification: %v", r["verified"])
		}

		// An authentication token is shown by the call that sets it, and
		// only its hash is kept.
		resp := e.do("POST", "/api/user/registration/"+u1, e.root, map[string]any{
			"registration": map[string]any{"applicationId": plain}, "generateAuthenticationToken": true})
		reg := e.ok("generate a token", resp, "registration")
		token, _ := reg["authenticationToken"].(string)
		if len(token) < 40 {
			t.Fatalf("generated token %q", token)
		}
		got := e.ok("retrieve", e.do("GET", "/api/user/registration/"+u1+"/"+plain, e.root, nil), "registration")
		if _, ok := got["authenticationToken"]; ok {
			t.Errorf("the token is returned again: %v", got)
		}
		row, err := e.st.Read().RegistrationOf(context.Background(), u1, plain)
		if err != nil {
			t.Fatal(err)
		}
		if row.AuthTokenHash != secrets.HashToken(token) || strings.Contains(row.Data, token) {
			t.Errorf("stored token: hash %q, data %s", row.AuthTokenHash, row.Data)
		}
		upd := e.ok("set a token", e.do("PUT", "/api/user/registration/"+u1+"/"+plain, e.root, map[string]any{
			"registration": map[string]any{"authenticationToken": "chosen-token"}}), "registration")
		if upd["authenticationToken"] != "chosen-token" {
			t.Errorf("chosen token: %v", upd)
		}
		if row, _ := e.st.Read().RegistrationOf(context.Background(), u1, plain); row.AuthTokenHash != secrets.HashToken("chosen-token") {
			t.Errorf("chosen token not stored as its hash")
		}
		// An update without a token keeps the current one.
		e.ok("update without token", e.do("PUT", "/api/user/registration/"+u1+"/"+plain, e.root, map[string]any{
			"registration": map[string]any{}}), "registration")
		if row, _ := e.st.Read().RegistrationOf(context.Background(), u1, plain); row.AuthTokenHash != secrets.HashToken("chosen-token") {
			t.Errorf("token lost by an update")
		}
		// Audit entries (on the user's trail) never carry the token.
		regEntries := 0
		for _, a := range e.audits(u1) {
			if !strings.Contains(a.Message, "registration") {
				continue
			}
			regEntries++
			if strings.Contains(string(a.NewValue)+string(a.OldValue), token) || strings.Contains(string(a.NewValue), "chosen-token") {
				t.Errorf("audit entry %q carries the token", a.Message)
			}
		}
		if regEntries < 3 {
			t.Errorf("%d registration entries on the user's audit trail, want at least 3", regEntries)
		}
	})
}

func TestRegistrationCombined(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		appID, _ := e.appWithRoles("", "Forum", "user", "community_helper")

		// FusionAuth's documented combined request, on this application.
		body := taExample(t, "fusionauth-registration-combined-request.json")
		body["registration"].(map[string]any)["applicationId"] = appID
		user := body["user"].(map[string]any)
		user["password"] = "correct horse battery"
		delete(user, "twoFactor")
		r := e.do("POST", "/api/user/registration", e.root, body)
		if r.Status != 200 {
			t.Fatalf("combined: %d %s", r.Status, r.Body)
		}
		res := decodeObject(t, r)
		u, _ := res["user"].(map[string]any)
		reg, _ := res["registration"].(map[string]any)
		if u == nil || reg == nil || u["email"] != "example@fusionauth.io" ||
			reg["id"] != "00000000-0000-0002-0000-000000000000" || !rgEqual(rgStrings(reg["roles"]), "community_helper", "user") {
			t.Fatalf("combined response: %s", r.Body)
		}
		if _, ok := u["password"]; ok {
			t.Errorf("the password is returned")
		}
		newID, _ := u["id"].(string)
		e.ok("the user exists", e.do("GET", "/api/user/"+newID, e.root, nil), "user")
		e.ok("the registration exists", e.do("GET", "/api/user/registration/"+newID+"/"+appID, e.root, nil), "registration")

		// A failing registration leaves no user behind.
		bad := map[string]any{"user": map[string]any{"email": "half@example.com", "password": "correct horse battery"},
			"registration": map[string]any{"applicationId": appID, "roles": []any{"ghost"}}}
		want400(t, "combined with an unknown role", e.do("POST", "/api/user/registration", e.root, bad), "[invalid]registration.roles")
		wantEmpty(t, "no user left behind", e.do("GET", "/api/user?email=half@example.com", e.root, nil), 404)
		bad["registration"] = map[string]any{"applicationId": rgNewID()}
		want400(t, "combined with an unknown application", e.do("POST", "/api/user/registration", e.root, bad), "[invalid]registration.applicationId")
		wantEmpty(t, "still no user", e.do("GET", "/api/user?email=half@example.com", e.root, nil), 404)
		// A failing user leaves no registration (nor user).
		want400(t, "combined with a duplicate email", e.do("POST", "/api/user/registration", e.root, map[string]any{
			"user": map[string]any{"email": "EXAMPLE@fusionauth.io", "password": "correct horse battery"}, "registration": map[string]any{"applicationId": appID}}),
			"[duplicate]user.email")
		// With a chosen user id in the path.
		chosen := rgNewID()
		bad["registration"] = map[string]any{"applicationId": appID}
		r = e.do("POST", "/api/user/registration/"+chosen, e.root, bad)
		if r.Status != 200 || jsonAt(decodeObject(t, r), "user", "id") != chosen {
			t.Fatalf("combined with an id: %d %s", r.Status, r.Body)
		}
		if regs, ok := e.ok("user", e.do("GET", "/api/user/"+chosen, e.root, nil), "user")["registrations"].([]any); !ok || len(regs) != 1 {
			t.Errorf("the user's registrations: %v", regs)
		}

		// With several tenants the application names the tenant of the new
		// user; a tenant the key cannot see is refused.
		other := e.createTenant("Other")["id"].(string)
		otherApp, _ := e.appWithRoles(other, "Elsewhere", "member")
		r = e.do("POST", "/api/user/registration", e.root, map[string]any{
			"user": map[string]any{"email": "far@example.com", "password": "correct horse battery"}, "registration": map[string]any{"applicationId": otherApp}})
		if r.Status != 200 || jsonAt(decodeObject(t, r), "user", "tenantId") != other {
			t.Errorf("tenant from the application: %d %s", r.Status, r.Body)
		}
		defKey, _ := e.scopedKey(e.defaultTenant())
		r = e.do("POST", "/api/user/registration", defKey, map[string]any{
			"user": map[string]any{"email": "far2@example.com", "password": "correct horse battery"}, "registration": map[string]any{"applicationId": otherApp}})
		want400(t, "application of a tenant the key cannot see", r, "[invalid]registration.applicationId")
		if n := e.userCount("far2@example.com"); n != 0 {
			t.Errorf("a user was left behind: %d", n)
		}
	})
}

// userCount counts users with the email in any tenant.
func (e *rgEnv) userCount(email string) int {
	e.t.Helper()
	var n int
	if err := e.st.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM users WHERE email_lower = $1", strings.ToLower(email)).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestRegistrationRolesFollowTheApplication(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		appID, roles := e.appWithRoles("", "Forum", "user", "moderator", "admin")
		uid := e.user("roles@example.com", "")
		e.register(uid, map[string]any{"applicationId": appID, "roles": []any{"moderator", "admin"}})

		e.ok("rename", e.do("PUT", "/api/application/"+appID+"/role/"+roles["moderator"], e.root,
			map[string]any{"role": map[string]any{"name": "mod"}}), "role")
		reg := e.ok("after rename", e.do("GET", "/api/user/registration/"+uid+"/"+appID, e.root, nil), "registration")
		if !rgEqual(rgStrings(reg["roles"]), "admin", "mod") {
			t.Errorf("renamed role: %v", reg["roles"])
		}
		wantEmpty(t, "delete role", e.do("DELETE", "/api/application/"+appID+"/role/"+roles["admin"], e.root, nil), 200)
		reg = e.ok("after delete", e.do("GET", "/api/user/registration/"+uid+"/"+appID, e.root, nil), "registration")
		if !rgEqual(rgStrings(reg["roles"]), "mod") {
			t.Errorf("deleted role: %v", reg["roles"])
		}
		// A new role of the old name is not granted back.
		e.ok("recreate", e.do("POST", "/api/application/"+appID+"/role", e.root, map[string]any{"role": map[string]any{"name": "admin"}}), "role")
		if roles, _ := e.effective(uid, appID); !rgEqual(roles, "mod") {
			t.Errorf("effective roles after recreate: %v", roles)
		}
	})
}

func TestRegistrationTenantIsolation(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		def := e.defaultTenant()
		other := e.createTenant("Other")["id"].(string)
		defApp, _ := e.appWithRoles(def, "Home", "user")
		otherApp, _ := e.appWithRoles(other, "Away", "user")
		mine := e.user("mine@example.com", def)
		theirs := e.user("theirs@example.com", other)
		e.register(theirs, map[string]any{"applicationId": otherApp})

		key, _ := e.scopedKey(def)
		path := "/api/user/registration/" + theirs + "/" + otherApp
		wantEmpty(t, "retrieve", e.do("GET", path, key, nil), 404)
		wantEmpty(t, "update", e.do("PUT", path, key, map[string]any{"registration": map[string]any{}}), 404)
		wantEmpty(t, "patch", e.do("PATCH", path, key, map[string]any{"registration": map[string]any{}}), 404)
		wantEmpty(t, "delete", e.do("DELETE", path, key, nil), 404)
		wantEmpty(t, "register", e.do("POST", "/api/user/registration/"+theirs, key, map[string]any{"registration": map[string]any{"applicationId": otherApp}}), 404)
		wantEmpty(t, "header narrows the root key", e.do("GET", path, e.root, nil, "X-FusionAuth-TenantId", def), 404)
		// Its own users work, but not with an application of another tenant.
		want400(t, "foreign application", e.do("POST", "/api/user/registration/"+mine, key,
			map[string]any{"registration": map[string]any{"applicationId": otherApp}}), "[invalid]registration.applicationId")
		e.ok("own", e.do("POST", "/api/user/registration/"+mine, key, map[string]any{"registration": map[string]any{"applicationId": defApp}}), "registration")
		e.ok("still there", e.do("GET", path, e.root, nil), "registration")
	})
}
