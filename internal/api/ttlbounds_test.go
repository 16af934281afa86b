package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestLifetimesBounded: every lifetime a tenant, an application or an API key
// sets has a documented upper bound; beyond it is a 400 field error (not an
// overflowing exp), at it is accepted.
func TestLifetimesBounded(t *testing.T) {
	t.Parallel()
	const maxInt64 = "9223372036854775807"
	type field struct {
		path  string // dotted path under tenant/application
		max   string // the largest accepted value
		extra string // members PATCHed first, JSON without braces
		zero  bool   // 0 is accepted (it means none)
	}
	tenantFields := []field{
		{"jwtConfiguration.timeToLiveInSeconds", "31536000", "", false},
		{"jwtConfiguration.refreshTokenTimeToLiveInMinutes", "5256000", "", false},
		// Bounded while unused too: it applies once the policy changes.
		{"jwtConfiguration.refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes", "5256000", `"jwtConfiguration":{"refreshTokenExpirationPolicy":"Fixed"}`, true},
		{"jwtConfiguration.refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes", "5256000", `"jwtConfiguration":{"refreshTokenExpirationPolicy":"SlidingWindowWithMaximumLifetime","refreshTokenSlidingWindowConfiguration":{"maximumTimeToLiveInMinutes":5256000}}`, false},
		{"jwtConfiguration.refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds", "86400", "", true},
		{"externalIdentifierConfiguration.twoFactorIdTimeToLiveInSeconds", "31536000", "", false},
		{"externalIdentifierConfiguration.changePasswordIdTimeToLiveInSeconds", "31536000", "", false},
		{"externalIdentifierConfiguration.twoFactorTrustIdTimeToLiveInSeconds", "31536000", "", false},
		{"externalIdentifierConfiguration.loginIntentTimeToLiveInSeconds", "31536000", "", false},
		{"externalIdentifierConfiguration.trustTokenTimeToLiveInSeconds", "31536000", "", false},
		{"failedAuthenticationConfiguration.resetCountInSeconds", "31536000", "", false},
		{"failedAuthenticationConfiguration.actionDuration", "10", `"failedAuthenticationConfiguration":{"actionDurationUnit":"YEARS"}`, false},
		{"httpSessionMaxInactiveInterval", "31536000", "", false},
		{"maximumPasswordAge.days", "3650", "", false},
		{"minimumPasswordAge.seconds", "31536000", "", true},
		{"failedAuthenticationConfiguration.tooManyAttempts", "10000", "", false},
		{"passwordValidationRules.rememberPreviousPasswords.count", "100", `"passwordValidationRules":{"rememberPreviousPasswords":{"enabled":true}}`, false},
	}
	appFields := []field{
		{"jwtConfiguration.timeToLiveInSeconds", "31536000", `"jwtConfiguration":{"enabled":true}`, false},
		{"jwtConfiguration.refreshTokenTimeToLiveInMinutes", "5256000", `"jwtConfiguration":{"enabled":true}`, false},
		{"jwtConfiguration.refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds", "86400", `"jwtConfiguration":{"enabled":true}`, true},
	}
	// nest builds {"a":{"b":{"c":value}}}.
	nest := func(path, value string) string {
		parts := strings.Split(path, ".")
		body := value
		for i := len(parts) - 1; i >= 0; i-- {
			body = fmt.Sprintf(`{%q:%s}`, parts[i], body)
		}
		return body
	}
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		tenantID := e.defaultTenant()
		app := e.createApp(tenantID, "TTL app")
		appID := app["id"].(string)
		run := func(t *testing.T, kind, id string, fields []field) {
			for _, f := range fields {
				for _, c := range []struct {
					value string
					ok    bool
				}{{f.max, true}, {"1000000000000000000", false}, {maxInt64, false}, {"-1", false}, {"0", f.zero}} {
					t.Run(kind+"."+f.path+"="+c.value, func(t *testing.T) {
						if f.extra != "" {
							if r := e.do("PATCH", "/api/"+kind+"/"+id, e.root, `{"`+kind+`":{`+f.extra+`}}`); r.Status != 200 {
								t.Fatalf("prepare %s: %d %s", f.extra, r.Status, r.Body)
							}
						}
						body := `{"` + kind + `":` + nest(f.path, c.value) + `}`
						r := e.do("PATCH", "/api/"+kind+"/"+id, e.root, body)
						if c.ok {
							if r.Status != 200 {
								t.Errorf("%s: %d %s, want 200", body, r.Status, r.Body)
							}
							return
						}
						want400(t, body, r, "[invalid]"+kind+"."+f.path)
					})
				}
			}
		}
		run(t, "tenant", tenantID, tenantFields)
		run(t, "application", appID, appFields)

		// An API key's expiry is an instant: at most 100 years ahead.
		now := e.s.Clock.Now().UnixMilli()
		for _, c := range []struct {
			instant string
			ok      bool
		}{
			{fmt.Sprint(now + 3600_000), true},
			{fmt.Sprint(now + 100*365*24*3600*1000), true},
			{fmt.Sprint(now + 101*365*24*3600*1000), false},
			{maxInt64, false},
		} {
			r := e.do("POST", "/api/api-key", e.root, `{"apiKey":{"expirationInstant":`+c.instant+`}}`)
			if c.ok && r.Status != 200 {
				t.Errorf("key expiring at %s: %d %s", c.instant, r.Status, r.Body)
			}
			if !c.ok {
				want400(t, "key expiring at "+c.instant, r, "[invalid]apiKey.expirationInstant")
			}
		}
	})
}
