package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// Field names are matched exactly, everywhere: a member whose name differs
// from a field only in letter case ({"Password":…}) or in spaces, control and
// format characters ({"password ":…}, {"pas\u200bsword":…}) is a 400 naming
// it, on every body decoder and every PATCH form, and nothing of it is
// written, so a secret sent that way is never stored, audited or returned.
func TestCaseVariantFieldsRefused(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		tenant := e.defaultTenant()
		app := e.createApp(tenant, "Case app")["id"].(string)
		user := e.ok("user", e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{
			"email": "case@example.com", "password": "case-password-1"}, "skipVerification": true}), "user")["id"].(string)
		e.ok("registration", e.do("POST", "/api/user/registration/"+user, e.root,
			map[string]any{"registration": map[string]any{"applicationId": app}}), "registration")
		_, keyID := e.scopedKey(tenant)
		hook := e.ok("webhook", e.do("POST", "/api/webhook", e.root, map[string]any{"webhook": map[string]any{
			"url": "https://hooks.example.com/in", "httpAuthenticationUsername": "u", "httpAuthenticationPassword": "case-hook-password"}}), "webhook")["id"].(string)
		template := e.ok("email template", e.do("POST", "/api/email/template", e.root, map[string]any{"emailTemplate": map[string]any{
			"name": "Case template", "defaultSubject": "Hi", "defaultFromName": "Latch", "defaultTextTemplate": "Hello", "defaultHtmlTemplate": "<p>Hello</p>"}}),
			"emailTemplate")["id"].(string)
		acl := e.ok("ip acl", e.do("POST", "/api/ip-acl", e.root, aclWith("Case list", aclAllowAll)), "ipAccessControlList")["id"].(string)

		const (
			plain = "application/json"
			merge = "application/merge-patch+json"
			patch = "application/json-patch+json"
		)
		cases := []struct {
			name, method, path, contentType, body, field string
		}{
			{"create user", "POST", "/api/user", plain, `{"user":{"email":"c1@example.com","Password":"%s"}}`, "user.Password"},
			{"create user upper", "POST", "/api/user", plain, `{"user":{"email":"c2@example.com","PASSWORD":"%s"}}`, "user.PASSWORD"},
			{"create user mixed", "POST", "/api/user", plain, `{"user":{"email":"c3@example.com","pAssword":"%s"}}`, "user.pAssword"},
			// encoding/json folds U+017F (long s) to s: it is a case variant too.
			{"create user long s", "POST", "/api/user", plain, `{"user":{"email":"c4@example.com","pa\u017f\u017fword":"%s"}}`, "user.paſſword"},
			{"create user salt", "POST", "/api/user", plain, `{"user":{"email":"c5@example.com","Salt":"%s"}}`, "user.Salt"},
			{"create user two-factor secret", "POST", "/api/user", plain,
				`{"user":{"email":"c6@example.com","twoFactor":{"methods":[{"method":"authenticator","Secret":"%s"}]}}}`, "user.twoFactor.methods[0].Secret"},
			{"create user wrapper", "POST", "/api/user", plain, `{"user":{"email":"c7@example.com","password":"case-password-7"},"SkipVerification":true,"x":"%s"}`, "SkipVerification"},
			{"register new user", "POST", "/api/user/registration", plain,
				`{"user":{"email":"c8@example.com","Password":"%s"},"registration":{"applicationId":"` + app + `"}}`, "user.Password"},
			{"register token", "PUT", "/api/user/registration/" + user + "/" + app, plain,
				`{"registration":{"applicationId":"` + app + `","AuthenticationToken":"%s"}}`, "registration.AuthenticationToken"},
			{"update user", "PUT", "/api/user/" + user, plain, `{"user":{"email":"case@example.com","Password":"%s"}}`, "user.Password"},
			{"patch user", "PATCH", "/api/user/" + user, plain, `{"user":{"Password":"%s"}}`, "user.Password"},
			{"merge-patch user", "PATCH", "/api/user/" + user, merge, `{"user":{"Password":"%s"}}`, "user.Password"},
			{"json-patch user", "PATCH", "/api/user/" + user, patch, `[{"op":"add","path":"/user/Password","value":"%s"}]`, "user.Password"},
			{"patch user salt", "PATCH", "/api/user/" + user, plain, `{"user":{"EncryptionScheme":"%s"}}`, "user.EncryptionScheme"},
			{"import", "POST", "/api/user/import", plain, `{"users":[{"email":"c9@example.com","Password":"%s"}]}`, "users[0].Password"},
			{"import hash", "POST", "/api/user/import", plain,
				`{"users":[{"email":"c10@example.com","password":"x","encryptionScheme":"salted-sha256","Salt":"%s"}]}`, "users[0].Salt"},
			{"tenant smtp", "POST", "/api/tenant", plain, `{"tenant":{"name":"Case 1","emailConfiguration":{"Password":"%s"}}}`, "tenant.emailConfiguration.Password"},
			{"tenant smtp object", "PATCH", "/api/tenant/" + tenant, plain, `{"tenant":{"EmailConfiguration":{"password":"%s"}}}`, "tenant.EmailConfiguration"},
			{"tenant smtp merge", "PATCH", "/api/tenant/" + tenant, merge, `{"tenant":{"emailConfiguration":{"PASSWORD":"%s"}}}`, "tenant.emailConfiguration.PASSWORD"},
			{"tenant captcha", "PUT", "/api/tenant/" + tenant, plain, `{"tenant":{"name":"Default","captchaConfiguration":{"SecretKey":"%s"}}}`, "tenant.captchaConfiguration.SecretKey"},
			{"application secret", "POST", "/api/application", plain,
				`{"application":{"name":"Case 2","tenantId":"` + tenant + `","oauthConfiguration":{"ClientSecret":"%s"}}}`, "application.oauthConfiguration.ClientSecret"},
			{"application secret put", "PUT", "/api/application/" + app, plain,
				`{"application":{"name":"Case app","OauthConfiguration":{"clientSecret":"%s"}}}`, "application.OauthConfiguration"},
			{"application secret json-patch", "PATCH", "/api/application/" + app, patch,
				`[{"op":"add","path":"/application/oauthConfiguration/clientsecret","value":"%s"}]`, "application.oauthConfiguration.clientsecret"},
			{"api key value", "POST", "/api/api-key", plain, `{"apiKey":{"name":"case","Key":"%s-0123456789abcdef"}}`, "apiKey.Key"},
			{"api key patch", "PATCH", "/api/api-key/" + keyID, merge, `{"apiKey":{"KEY":"%s-0123456789abcdef"}}`, "apiKey.KEY"},
			{"signing key secret", "POST", "/api/key/import", plain, `{"key":{"algorithm":"HS256","name":"case","Secret":"%s"}}`, "key.Secret"},
			{"two-factor secret", "POST", "/api/user/two-factor/" + user, plain, `{"method":"authenticator","code":"123456","Secret":"%s"}`, "Secret"},
			{"webhook password", "POST", "/api/webhook", plain, `{"webhook":{"url":"https://hooks.example.com/2","HTTPAuthenticationPassword":"%s"}}`, "webhook.HTTPAuthenticationPassword"},
			{"webhook patch password", "PATCH", "/api/webhook/" + hook, plain, `{"webhook":{"HttpAuthenticationPassword":"%s"}}`, "webhook.HttpAuthenticationPassword"},
			{"webhook merge-patch password", "PATCH", "/api/webhook/" + hook, merge, `{"webhook":{"httpauthenticationpassword":"%s"}}`, "webhook.httpauthenticationpassword"},
			{"email template patch", "PATCH", "/api/email/template/" + template, plain, `{"emailTemplate":{"DefaultTextTemplate":"%s"}}`, "emailTemplate.DefaultTextTemplate"},
			{"ip acl patch", "PATCH", "/api/ip-acl/" + acl, merge, `{"ipAccessControlList":{"Name":"%s"}}`, "ipAccessControlList.Name"},
			{"login password", "POST", "/api/login", plain, `{"loginId":"case@example.com","Password":"case-password-1","x":"%s"}`, "Password"},
			{"search", "POST", "/api/user/search", plain, `{"search":{"QueryString":"%s"}}`, "search.QueryString"},
			// Spaces, control and format characters in a name are refused as
			// letter case is: the name is read as nothing, and kept as sent.
			{"create user trailing space", "POST", "/api/user", plain, `{"user":{"email":"l1@example.com","password ":"%s"}}`, "user.password "},
			{"create user inner NUL", "POST", "/api/user", plain, `{"user":{"email":"l2@example.com","pass\u0000word":"%s"}}`, "user.pass\x00word"},
			{"create user trailing NUL", "POST", "/api/user", plain, `{"user":{"email":"l3@example.com","password\u0000":"%s"}}`, "user.password\x00"},
			{"create user zero-width space", "POST", "/api/user", plain, `{"user":{"email":"l4@example.com","pas\u200bsword":"%s"}}`, "user.pas\u200bsword"},
			{"create user case and tab", "POST", "/api/user", plain, `{"user":{"email":"l5@example.com","Pass\tword":"%s"}}`, "user.Pass\tword"},
			{"create user two-factor secret look-alike", "POST", "/api/user", plain,
				`{"user":{"email":"l6@example.com","twoFactor":{"methods":[{"method":"email","email":"l6@example.com","secret\u2060":"%s"}]}}}`,
				"user.twoFactor.methods[0].secret\u2060"},
			{"create user wrapper look-alike", "POST", "/api/user", plain, `{"user ":{"email":"l7@example.com","password":"%s"}}`, "user "},
			{"register new user look-alike", "POST", "/api/user/registration", plain,
				`{"user":{"email":"l8@example.com","\ufeffpassword":"%s"},"registration":{"applicationId":"` + app + `"}}`, "user.\ufeffpassword"},
			{"update user look-alike", "PUT", "/api/user/" + user, plain, `{"user":{"email":"case@example.com","password\u00ad":"%s"}}`, "user.password\u00ad"},
			{"patch user look-alike", "PATCH", "/api/user/" + user, plain, `{"user":{" password":"%s"}}`, "user. password"},
			{"merge-patch user look-alike", "PATCH", "/api/user/" + user, merge, `{"user":{"pass\u200dword":"%s"}}`, "user.pass\u200dword"},
			{"json-patch user look-alike", "PATCH", "/api/user/" + user, patch, `[{"op":"add","path":"/user/password\u200b","value":"%s"}]`, "user.password\u200b"},
			{"import look-alike", "POST", "/api/user/import", plain, `{"users":[{"email":"l9@example.com","password\r\n":"%s"}]}`, "users[0].password\r\n"},
			{"tenant smtp look-alike", "POST", "/api/tenant", plain, `{"tenant":{"name":"Case 3","emailConfiguration":{"pass\u00a0word":"%s"}}}`,
				"tenant.emailConfiguration.pass\u00a0word"},
			{"application secret look-alike", "POST", "/api/application", plain,
				`{"application":{"name":"Case 4","tenantId":"` + tenant + `","oauthConfiguration":{"client Secret":"%s"}}}`, "application.oauthConfiguration.client Secret"},
			{"api key look-alike", "POST", "/api/api-key", plain, `{"apiKey":{"name":"case","key\u200b":"%s-0123456789abcdef"}}`, "apiKey.key\u200b"},
			{"signing key look-alike", "POST", "/api/key/import", plain, `{"key":{"algorithm":"HS256","name":"case","secret\u0000":"%s"}}`, "key.secret\x00"},
			{"two-factor secret look-alike", "POST", "/api/user/two-factor/" + user, plain, `{"method":"authenticator","code":"123456","secret ":"%s"}`, "secret "},
			{"webhook password look-alike", "POST", "/api/webhook", plain,
				`{"webhook":{"url":"https://hooks.example.com/3","httpAuthenticationPassword\u200b":"%s"}}`, "webhook.httpAuthenticationPassword\u200b"},
			{"webhook merge-patch look-alike", "PATCH", "/api/webhook/" + hook, merge, `{"webhook":{"httpAuthentication Password":"%s"}}`,
				"webhook.httpAuthentication Password"},
			{"login password look-alike", "POST", "/api/login", plain, `{"loginId":"case@example.com","password\u0000":"case-password-1","x":"%s"}`, "password\x00"},
		}
		secrets := map[string]string{}
		for i, c := range cases {
			s := fmt.Sprintf("leak%d-%s", i, uuid.NewString())
			secrets[c.name] = s
			r := e.do(c.method, c.path, e.root, fmt.Sprintf(c.body, s), "Content-Type", c.contentType)
			want400(t, c.name, r, "[invalid]"+c.field)
			if bytes.Contains(r.Body, []byte(s)) {
				t.Errorf("%s: the answer echoes the value: %s", c.name, r.Body)
			}
		}

		// Nothing was written: no answer, stored row, audit entry or log line
		// holds any of the values.
		login := e.do("POST", "/api/login", e.root, map[string]any{"loginId": "case@example.com", "password": "case-password-1"})
		if login.Status != 200 && login.Status != 202 {
			t.Fatalf("login: %d %s", login.Status, login.Body)
		}
		var answers []byte
		for _, r := range []*testutil.Response{
			login,
			e.do("GET", "/api/user/"+user, e.root, nil),
			e.do("POST", "/api/user/search", e.root, map[string]any{"search": map[string]any{"queryString": "*"}}),
			e.do("GET", "/api/user/registration/"+user+"/"+app, e.root, nil),
			e.do("GET", "/api/tenant", e.root, nil),
			e.do("GET", "/api/application", e.root, nil),
			e.do("GET", "/api/api-key/"+keyID, e.root, nil),
			e.do("GET", "/api/key", e.root, nil),
			e.do("GET", "/api/webhook", e.root, nil),
			e.do("GET", "/api/email/template", e.root, nil),
			e.do("GET", "/api/system/audit-log/search?numberOfResults=1000", e.root, nil),
		} {
			answers = append(answers, r.Body...)
		}
		for _, k := range []string{`"Password"`, `"PASSWORD"`, `"pAssword"`, `"Salt"`, `"Secret"`, `"ClientSecret"`, `"EmailConfiguration"`, `"HTTPAuthenticationPassword"`, `"DefaultTextTemplate"`} {
			if bytes.Contains(answers, []byte(k)) {
				t.Errorf("an answer holds the member %s", k)
			}
		}
		output := e.s.Stdout.String() + e.s.Stderr.String()
		dump := e.atRest()
		if !bytes.Contains(dump, []byte("case@example.com")) {
			t.Fatalf("the scanned bytes do not hold the user; the scan proves nothing")
		}
		for name, s := range secrets {
			if bytes.Contains(answers, []byte(s)) {
				t.Errorf("%s: the value is returned by a later read", name)
			}
			for form, v := range map[string]string{"plain": s, "hex": hex.EncodeToString([]byte(s)), "base64": base64.StdEncoding.EncodeToString([]byte(s))} {
				if bytes.Contains(dump, []byte(v)) {
					t.Errorf("%s: the value is at rest (%s)", name, form)
				}
				if strings.Contains(output, v) {
					t.Errorf("%s: the value is in the server's output (%s)", name, form)
				}
			}
		}
	})
}

// Rows written before case variants and look-alike names were refused may
// still hold one in their stored object, and a two-factor method may hold the
// secretBase32Encoded earlier releases did not read. Reads never return them
// (GET, search, login), and the next write of the object drops them.
func TestStoredCaseVariantsNotReturned(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		ctx := context.Background()
		tenant := e.defaultTenant()
		app := e.createApp(tenant, "Legacy app")["id"].(string)
		user := e.ok("user", e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{
			"email": "legacy@example.com", "password": "legacy-password-1"}, "skipVerification": true}), "user")["id"].(string)
		leak := "legacy-" + uuid.NewString()

		err := e.st.InTx(ctx, func(tx *store.Tx) error {
			u, err := tx.UserRowByID(ctx, user)
			if err != nil {
				return err
			}
			u.Data = `{"Password":"` + leak + `-1","pass\u200bword":"` + leak + `-5","password ":"` + leak + `-6","Salt":"x","twoFactor":{"methods":[{"id":"ABCD","method":"email","email":"legacy@example.com","Secret":"` + leak + `-2",` +
				`"secretBase32Encoded":"` + leak + `-7"}]},"data":{"Password":"kept"}}`
			if err := tx.UpdateUserRow(ctx, u); err != nil {
				return err
			}
			tn, err := tx.TenantByID(ctx, tenant)
			if err != nil {
				return err
			}
			tn.Data = strings.Replace(tn.Data, `{`, `{"EmailConfiguration":{"password":"`+leak+`-3"},`, 1)
			if err := tx.UpdateTenantRow(ctx, tn); err != nil {
				return err
			}
			a, err := tx.ApplicationByID(ctx, app)
			if err != nil {
				return err
			}
			a.Data = strings.Replace(a.Data, `"oauthConfiguration":{`, `"oauthConfiguration":{"ClientSecret":"`+leak+`-4",`, 1)
			return tx.UpdateApplicationRow(ctx, a)
		})
		if err != nil {
			t.Fatal(err)
		}
		reads := map[string]*testutil.Response{
			"login":       e.do("POST", "/api/login", e.root, map[string]any{"loginId": "legacy@example.com", "password": "legacy-password-1"}),
			"get user":    e.do("GET", "/api/user/"+user, e.root, nil),
			"user by":     e.do("GET", "/api/user?email=legacy@example.com", e.root, nil),
			"search":      e.do("POST", "/api/user/search", e.root, map[string]any{"search": map[string]any{"queryString": "*"}}),
			"tenant":      e.do("GET", "/api/tenant/"+tenant, e.root, nil),
			"tenants":     e.do("GET", "/api/tenant", e.root, nil),
			"application": e.do("GET", "/api/application/"+app, e.root, nil),
		}
		for what, r := range reads {
			want := 200
			if what == "login" {
				want = 242 // the user has a two-factor method: the answer lists the methods
			}
			if r.Status != want {
				t.Errorf("%s: %d %s, want %d", what, r.Status, r.Body, want)
			}
			if bytes.Contains(r.Body, []byte(leak)) {
				t.Errorf("%s returns a stored case variant: %s", what, r.Body)
			}
		}
		if got := jsonAt(decodeObject(t, reads["get user"]), "user", "data", "Password"); got != "kept" {
			t.Errorf("user.data is the user's own: got %v", got)
		}

		// A write of each object drops what it read.
		e.ok("patch user", e.do("PATCH", "/api/user/"+user, e.root, map[string]any{"user": map[string]any{"firstName": "L"}}), "user")
		e.ok("patch tenant", e.do("PATCH", "/api/tenant/"+tenant, e.root, map[string]any{"tenant": map[string]any{"issuer": "legacy.example"}}), "tenant")
		e.ok("patch application", e.do("PATCH", "/api/application/"+app, e.root, map[string]any{"application": map[string]any{"name": "Legacy 2"}}), "application")
		rd := e.st.Read()
		u, err := rd.UserRowByID(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		tn, err := rd.TenantByID(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		a, err := rd.ApplicationByID(ctx, app)
		if err != nil {
			t.Fatal(err)
		}
		for what, data := range map[string]string{"user": u.Data, "tenant": tn.Data, "application": a.Data} {
			if strings.Contains(data, leak) {
				t.Errorf("the %s row still holds a case variant after a write: %s", what, data)
			}
		}
	})
}
