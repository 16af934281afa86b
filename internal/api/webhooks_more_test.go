package api_test

import (
	"slices"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// The events of email verification, two-factor enrolment and removal,
// refresh and refresh-token revocation reach a webhook with FusionAuth's
// types and members, without token values. Seen failing before: none of
// them was emitted.
func TestWebhookVerificationTwoFactorAndTokenEvents(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) { webhookVerificationTwoFactorAndTokenEvents(t, b) })
}

func webhookVerificationTwoFactorAndTokenEvents(t *testing.T, b testutil.Backend) {
	mp := testutil.StartMailpit(t)
	e := lgStart(t, b)
	rc := newReceiver(t)
	createWebhook(t, e.s, e.root, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
		"eventsEnabled": map[string]bool{"user.email.verified": true, "user.two-factor.method.add": true,
			"user.two-factor.method.remove": true, "jwt.refresh": true, "jwt.refresh-token.revoke": true, "user.password.reset.send": true}})
	e.useMailpit(mp, map[string]any{"verifyEmail": true})
	app, uid, email, m := e.lgRefreshApp("Events", nil)
	rt := lgStr(m["refreshToken"])

	unverified := e.want("unverified user", e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": lgEmail("unverified"), "password": lgPassword}}), 200)
	uid2 := unverified["user"].(map[string]any)["id"].(string)
	e.want("verify by user id", e.do("POST", "/api/user/verify-email", e.root, map[string]any{"userId": uid2}), 200)
	secret, _ := e.tfSecret(e.root)
	enabled := e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root,
		map[string]any{"method": "authenticator", "secret": secret, "code": tfCode([]byte(secret), e.clock.Now())}), 200)
	recovery := lgStr(enabled["recoveryCodes"].([]any)[0])
	e.want("disable", e.do("DELETE", "/api/user/two-factor/"+uid+"?code="+recovery, e.root, nil), 200)
	e.want("refresh", e.refresh(rt), 200)
	e.want("revoke", e.do("DELETE", "/api/jwt/refresh?userId="+uid, e.root, nil), 200)
	e.want("forgot", e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": email, "applicationId": app}), 200)

	want := []string{"user.email.verified", "user.two-factor.method.add", "user.two-factor.method.remove", "jwt.refresh",
		"jwt.refresh-token.revoke", "user.password.reset.send"}
	got := rc.waitFor(t, len(want))
	// In order per user; the verified user is another user.
	types := eventTypes(got)
	slices.Sort(types)
	slices.Sort(want)
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", eventTypes(got), want)
	}
	for _, g := range got {
		ev := g.Event
		switch ev["type"] {
		case "user.two-factor.method.add", "user.two-factor.method.remove":
			if meth, _ := ev["method"].(map[string]any); meth["method"] != "authenticator" || meth["id"] == nil || meth["secret"] != nil {
				t.Errorf("%s: %s", ev["type"], g.Body)
			}
		case "jwt.refresh":
			if ev["userId"] != uid || ev["applicationId"] != app || ev["token"] != nil || ev["refreshToken"] != nil {
				t.Errorf("jwt.refresh: %s", g.Body)
			}
		case "jwt.refresh-token.revoke":
			if ev["userId"] != uid {
				t.Errorf("revoke: %s", g.Body)
			}
		default:
			if u, _ := ev["user"].(map[string]any); u["id"] != uid && u["id"] != uid2 {
				t.Errorf("%s: %s", ev["type"], g.Body)
			}
		}
		if ev["id"] == nil || ev["createInstant"] == nil || ev["tenantId"] != e.tenant {
			t.Errorf("%s lacks id, createInstant or tenantId: %s", ev["type"], g.Body)
		}
	}
}
