package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// tfMethods is a user's twoFactor member with the methods given.
func tfMethods(methods ...map[string]any) map[string]any {
	list := make([]any, len(methods))
	for i, m := range methods {
		list[i] = m
	}
	return map[string]any{"methods": list}
}

// tfWorks proves a user's authenticator method holds key: a two-factor
// login started for the user completes with the key's current code.
func (e *lgEnv) tfWorks(what, uid, app string, key []byte) {
	e.t.Helper()
	e.clock.Advance(30 * time.Second) // a fresh code: each is accepted once
	m := e.want(what+": start", e.do("POST", "/api/two-factor/start", e.root, map[string]any{"userId": uid, "applicationId": app}), 200)
	r := e.tfFinish(lgStr(m["twoFactorId"]), tfCode(key, e.clock.Now()), "applicationId", app)
	if r.Status != 200 && r.Status != 202 {
		e.t.Errorf("%s: the method does not hold its key: two-factor login %d %s", what, r.Status, r.Body)
	}
}

// A two-factor method given through the user API (create, update, PATCH,
// import, registration with a new user) takes its secret as secret or as
// secretBase32Encoded, the two names FusionAuth's enable API has for it.
// Either is sealed with the user's secrets, holds at least 160 bits, and is
// never kept in the user object, answered, audited or emitted; an
// authenticator method with neither is refused.
func TestTwoFactorSecretThroughUserAPI(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("Two-factor user API", lgAppOpts{})
		e.want("webhook", e.do("POST", "/api/webhook", e.root, map[string]any{"webhook": map[string]any{
			"url": "https://hooks.example.com/two-factor", "global": true, "eventsEnabled": map[string]bool{
				model.EventUserCreate: true, model.EventUserUpdate: true, model.EventUserRegistrationCreate: true, model.EventUserBulkCreate: true,
				model.EventUserTwoFactorChallenge: true, model.EventAuditLogCreate: true}}}), 200)

		// Keys as authenticator apps are given them: bytes that are not
		// text, and text; in base32 as apps show it (lower case, spaced).
		var sent []string // every secret value sent, as sent
		binaryKey := func() ([]byte, string) {
			k := make([]byte, 20)
			_, _ = rand.Read(k)
			k[0] = 0xff // never UTF-8
			b32 := base32.StdEncoding.EncodeToString(k)
			spaced := strings.ToLower(b32[:8] + " " + b32[8:16] + " " + b32[16:])
			sent = append(sent, b32, spaced)
			return k, spaced
		}
		textKey := func() ([]byte, string) {
			raw := make([]byte, 21)
			_, _ = rand.Read(raw)
			k := []byte(base64.StdEncoding.EncodeToString(raw))
			b32 := base32.StdEncoding.EncodeToString(k)
			sent = append(sent, string(k), b32)
			return k, b32
		}
		b32Method := func(b32 string) map[string]any {
			return map[string]any{"method": "authenticator", "secretBase32Encoded": b32}
		}
		plainUser := func() string { return e.user(lgEmail("tf-plain"), lgPassword, nil) }

		// Every way a user object comes in takes secretBase32Encoded.
		type made struct {
			what, uid string
			key       []byte
		}
		var users []made
		for _, c := range []struct {
			name string
			key  func() ([]byte, string)
			do   func(email string, tf map[string]any) (uid string, r *testutil.Response)
		}{
			{"create", binaryKey, func(email string, tf map[string]any) (string, *testutil.Response) {
				r := e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": email, "password": lgPassword, "twoFactor": tf},
					"skipVerification": true})
				return tfUserID(r), r
			}},
			{"create text key", textKey, func(email string, tf map[string]any) (string, *testutil.Response) {
				r := e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": email, "password": lgPassword, "twoFactor": tf}})
				return tfUserID(r), r
			}},
			{"registration with a new user", binaryKey, func(email string, tf map[string]any) (string, *testutil.Response) {
				r := e.do("POST", "/api/user/registration", e.root, map[string]any{"user": map[string]any{"email": email, "password": lgPassword, "twoFactor": tf},
					"registration": map[string]any{"applicationId": app}, "skipVerification": true})
				return tfUserID(r), r
			}},
			{"import", textKey, func(email string, tf map[string]any) (string, *testutil.Response) {
				uid := uuid.NewString()
				r := e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{map[string]any{"id": uid, "email": email,
					"password": lgPassword, "active": true, "verified": true, "twoFactor": tf}}})
				return uid, r
			}},
			{"update", binaryKey, func(email string, tf map[string]any) (string, *testutil.Response) {
				uid := plainUser()
				return uid, e.do("PUT", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"email": email, "twoFactor": tf}})
			}},
			{"patch", textKey, func(_ string, tf map[string]any) (string, *testutil.Response) {
				uid := plainUser()
				return uid, e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"twoFactor": tf}})
			}},
		} {
			key, b32 := c.key()
			uid, r := c.do(lgEmail("tf"), tfMethods(b32Method(b32)))
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
			}
			if bytes.Contains(r.Body, []byte("secretBase32Encoded")) || bytes.Contains(r.Body, []byte(b32)) {
				t.Errorf("%s: the answer shows the secret: %s", c.name, r.Body)
			}
			e.tfWorks(c.name, uid, app, key)
			users = append(users, made{c.name, uid, key})
		}

		// A method that keeps its id keeps its secret, also when sent with
		// a blank one.
		kept := users[0]
		keptUser := e.want("get user", e.do("GET", "/api/user/"+kept.uid, e.root, nil), 200)["user"].(map[string]any)
		id := lgStr(keptUser["twoFactor"].(map[string]any)["methods"].([]any)[0].(map[string]any)["id"])
		put := func(what, uid string, m map[string]any) {
			e.want(what, e.do("PUT", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"email": keptUser["email"], "twoFactor": tfMethods(m)}}), 200)
		}
		for _, m := range []map[string]any{{"id": id, "method": "authenticator"}, {"id": id, "method": "authenticator", "secret": ""},
			{"id": id, "method": "authenticator", "secretBase32Encoded": nil}} {
			put("update keeping the method", kept.uid, m)
			e.tfWorks("update keeping the method", kept.uid, app, kept.key)
		}
		// secret and secretBase32Encoded naming the same key are one secret.
		same, sameB32 := textKey()
		put("both names, one key", kept.uid, map[string]any{"id": id, "method": "authenticator", "secret": string(same), "secretBase32Encoded": sameB32})
		e.tfWorks("both names, one key", kept.uid, app, same)
		users[0].key = same

		// What is refused, however the user object comes in.
		short := base32.StdEncoding.EncodeToString([]byte("0123456789")) // 80 bits
		sent = append(sent, short)
		other, otherB32 := textKey()
		paths := []struct {
			name, prefix string
			index        string // where the method lands: a PATCH appends it to the user's
			do           func(tf map[string]any) *testutil.Response
		}{
			{"create", "user.", "[0]", func(tf map[string]any) *testutil.Response {
				return e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": lgEmail("tf-bad"), "twoFactor": tf}})
			}},
			{"registration", "user.", "[0]", func(tf map[string]any) *testutil.Response {
				return e.do("POST", "/api/user/registration", e.root, map[string]any{"user": map[string]any{"email": lgEmail("tf-bad"), "twoFactor": tf},
					"registration": map[string]any{"applicationId": app}})
			}},
			{"import", "users[0].", "[0]", func(tf map[string]any) *testutil.Response {
				return e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{map[string]any{"email": lgEmail("tf-bad"), "twoFactor": tf}}})
			}},
			{"update", "user.", "[0]", func(tf map[string]any) *testutil.Response {
				return e.do("PUT", "/api/user/"+users[4].uid, e.root, map[string]any{"user": map[string]any{"email": lgEmail("tf-bad"), "twoFactor": tf}})
			}},
			{"patch", "user.", "[1]", func(tf map[string]any) *testutil.Response {
				return e.do("PATCH", "/api/user/"+users[5].uid, e.root, map[string]any{"user": map[string]any{"twoFactor": tf}})
			}},
		}
		refused := []struct {
			name   string
			method map[string]any
			code   string
		}{
			{"no secret", map[string]any{"method": "authenticator"}, "[blank]twoFactor.methods[0].secret"},
			{"blank secret", map[string]any{"method": "authenticator", "secret": ""}, "[blank]twoFactor.methods[0].secret"},
			{"null secret", map[string]any{"method": "authenticator", "secret": nil}, "[blank]twoFactor.methods[0].secret"},
			{"blank base32", map[string]any{"method": "authenticator", "secretBase32Encoded": " "}, "[blank]twoFactor.methods[0].secret"},
			{"short base32", b32Method(short), "[tooShort]twoFactor.methods[0].secretBase32Encoded"},
			{"not base32", b32Method("not base32 at all!"), "[invalid]twoFactor.methods[0].secretBase32Encoded"},
			{"base32 not a string", map[string]any{"method": "authenticator", "secretBase32Encoded": 12345}, "[invalid]twoFactor.methods[0].secretBase32Encoded"},
			{"two keys", map[string]any{"method": "authenticator", "secret": string(other), "secretBase32Encoded": sameB32},
				"[invalid]twoFactor.methods[0].secretBase32Encoded"},
			{"case variant", map[string]any{"method": "authenticator", "SecretBase32Encoded": otherB32}, "[invalid]twoFactor.methods[0].SecretBase32Encoded"},
			{"look-alike", map[string]any{"method": "authenticator", "secretBase32Encoded\u200b": otherB32}, "[invalid]twoFactor.methods[0].secretBase32Encoded\u200b"},
		}
		for _, p := range paths {
			for _, c := range refused {
				r := p.do(tfMethods(c.method))
				code := strings.Replace(strings.Replace(c.code, "]", "]"+p.prefix, 1), "methods[0]", "methods"+p.index, 1)
				want400(t, p.name+": "+c.name, r, code)
			}
		}
		// The refusals changed nothing.
		e.tfWorks("after the refused update", users[4].uid, app, users[4].key)
		e.tfWorks("after the refused patch", users[5].uid, app, users[5].key)

		// No read, audit entry or event shows a secret, nor holds one at rest.
		var answers []byte
		for _, u := range users {
			answers = append(answers, e.do("GET", "/api/user/"+u.uid, e.root, nil).Body...)
			m := e.want("start", e.do("POST", "/api/two-factor/start", e.root, map[string]any{"userId": u.uid, "applicationId": app}), 200)
			if len(m["methods"].([]any)) != 1 {
				t.Errorf("%s: start lists %v", u.what, m["methods"])
			}
			answers = append(answers, e.do("POST", "/api/two-factor/start", e.root, map[string]any{"userId": u.uid}).Body...)
		}
		email := lgStr(e.want("get user", e.do("GET", "/api/user/"+users[0].uid, e.root, nil), 200)["user"].(map[string]any)["email"])
		r := e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app})
		e.want("242", r, 242)
		answers = append(answers, r.Body...)
		answers = append(answers, e.do("GET", "/api/system/audit-log/search?numberOfResults=1000", e.root, nil).Body...)
		answers = append(answers, e.do("POST", "/api/system/webhook-event-log/search", e.root, map[string]any{"search": map[string]any{"numberOfResults": 1000}}).Body...)
		if !bytes.Contains(answers, []byte(users[0].uid)) || !bytes.Contains(answers, []byte(`"eventType":"user.create"`)) {
			t.Fatalf("the answers scanned do not hold the users and their events; the scan proves nothing: %.2000s", answers)
		}
		if bytes.Contains(answers, []byte("secretBase32Encoded")) {
			t.Errorf("an answer holds secretBase32Encoded")
		}
		dump := e.atRest()
		for _, s := range sent {
			for _, form := range []string{s, strings.ToLower(s)} {
				if bytes.Contains(answers, []byte(form)) {
					t.Errorf("a secret (%s) is answered", form)
				}
				if bytes.Contains(dump, []byte(form)) {
					t.Errorf("a secret (%s) is at rest", form)
				}
			}
		}
	})
}

// tfUserID is the id of the user a body holds ("" for none).
func tfUserID(r *testutil.Response) string {
	var body struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	_ = json.Unmarshal(r.Body, &body)
	return body.User.ID
}
