package api_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/testutil"
)

var (
	registrationLink = regexp.MustCompile(`/registration/verify/([A-Za-z0-9_-]+)`)
	mailedCode       = regexp.MustCompile(`Or enter this code: (\S+)`)
)

// Registration verification end to end through Mailpit: a registration with
// an application that verifies registrations is mailed a verificationId and
// short code (FormField strategy: both needed); login answers 213 until the
// id is used, once; user.registration.verified reaches a webhook; PUT issues
// a new id; the hosted page verifies too. Seen failing before: no mail, no
// route (404), login stayed 213.
func TestVerifyRegistration(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		rc := newReceiver(t)
		createWebhook(t, e.s, e.root, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled": map[string]bool{"user.registration.verified": true}})
		a := e.want("app", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "Verified " + b.Name,
			"verifyRegistration": true, "verificationStrategy": "FormField", "verificationEmailTemplateId": email.DefaultRegistrationVerificationTemplateID}}), 200)
		app := a["application"].(map[string]any)["id"].(string)
		register := func(address string) (string, string) {
			t.Helper()
			before := len(mp.Messages(t))
			e.want("register", e.do("POST", "/api/user/registration", e.root, map[string]any{"user": map[string]any{"email": address, "password": lgPassword},
				"registration": map[string]any{"applicationId": app}}), 200)
			msg := mailTo(t, mp, before, address)
			if msg.Subject != "Verify your registration" || !strings.Contains(msg.Text, "Verified "+b.Name) {
				t.Fatalf("registration email: %q %q", msg.Subject, msg.Text)
			}
			return registrationLink.FindStringSubmatch(msg.Text)[1], mailedCode.FindStringSubmatch(msg.Text)[1]
		}
		login := func(address string) *testutil.Response {
			return e.login(e.root, map[string]any{"loginId": address, "password": lgPassword, "applicationId": app})
		}

		addr := lgEmail("registered-" + b.Name)
		vid, code := register(addr)
		e.want("unverified", login(addr), 213)
		e.want("no code", e.do("POST", "/api/user/verify-registration", "", map[string]any{"verificationId": vid}), 400)
		e.want("wrong code", e.do("POST", "/api/user/verify-registration", "", map[string]any{"verificationId": vid, "oneTimeCode": code + "x"}), 400)
		e.want("unknown id", e.do("POST", "/api/user/verify-registration", "", map[string]any{"verificationId": "nope", "oneTimeCode": code}), 404)
		e.want("verify", e.do("POST", "/api/user/verify-registration", "", map[string]any{"verificationId": vid, "oneTimeCode": code}), 200)
		e.want("used", e.do("POST", "/api/user/verify-registration", "", map[string]any{"verificationId": vid, "oneTimeCode": code}), 404)
		e.want("verified", login(addr), 200)
		got := rc.waitFor(t, 1)
		ev := got[0].Event
		if reg, _ := ev["registration"].(map[string]any); ev["type"] != "user.registration.verified" || ev["applicationId"] != app || reg["verified"] != true {
			t.Fatalf("event: %s", got[0].Body)
		}

		e.want("resend without application", e.do("PUT", "/api/user/verify-registration?email="+addr, e.root, nil), 400)
		e.want("resend, unknown address", e.do("PUT", "/api/user/verify-registration?applicationId="+app+"&email=nobody@example.com", e.root, nil), 404)
		e.want("resend without key", e.do("PUT", "/api/user/verify-registration?applicationId="+app+"&email="+addr, "", nil), 401)
		ids := e.want("generate", e.do("PUT", "/api/user/verify-registration?sendVerifyPasswordEmail=false&applicationId="+app+"&email="+addr, e.root, nil), 200)
		if ids["verificationId"] == nil || ids["oneTimeCode"] == nil {
			t.Fatalf("generated ids: %v", ids)
		}

		// The hosted page.
		other := lgEmail("page-" + b.Name)
		vid, code = register(other)
		form := func(body string) *testutil.Response {
			return e.do("POST", "/registration/verify/"+vid, "", body, "Content-Type", "application/x-www-form-urlencoded")
		}
		if r := e.do("GET", "/registration/verify/"+vid, "", nil); r.Status != 200 || !strings.Contains(string(r.Body), "Verify my registration") {
			t.Fatalf("page: %d %s", r.Status, r.Body)
		}
		if r := form(""); r.Status != 400 || !strings.Contains(string(r.Body), `name="oneTimeCode"`) {
			t.Fatalf("without the code: %d %s", r.Status, r.Body)
		}
		e.want("still unverified", login(other), 213)
		if r := form("oneTimeCode=" + code); r.Status != 200 || !strings.Contains(string(r.Body), "Registration verified") {
			t.Fatalf("verify page: %d %s", r.Status, r.Body)
		}
		e.want("verified by the page", login(other), 200)
	})
}
