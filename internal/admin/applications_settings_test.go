package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestApplicationDeactivation: an application_manager deactivates an
// application (FusionAuth's soft delete) and reactivates it; the list
// filters inactive ones; the admin application cannot be deactivated; each
// change is audited with the admin as the actor. An application_deleter is
// refused both.
func TestApplicationDeactivation(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("apps@example.com", "application_manager")
		e.admin("appdel@example.com", "application_deleter")
		const id = "b0b0b0b0-0000-4000-8000-000000000002"
		e.api("POST", "/api/application/"+id, map[string]any{"application": map[string]any{"name": "Kiosk"}}, 200)
		active := func() bool {
			var out struct{ Application struct{ Active bool } }
			e.api("GET", "/api/application/"+id, nil, 200).JSON(t, &out)
			return out.Application.Active
		}

		br := e.browser()
		br.signIn("apps@example.com", testPassword)
		page := br.get("/admin/applications/" + id)
		p := br.submit(page, "/admin/applications/"+id+"/deactivate")
		if p.status != 200 || !strings.Contains(p.body, "The application was deactivated") || !strings.Contains(p.body, "Reactivate application") {
			t.Fatalf("deactivate: %d %s", p.status, p.body)
		}
		if active() {
			t.Fatal("the application is still active")
		}
		// The filter: inactive only shows Kiosk and not the admin application.
		inactive := br.get("/admin/applications?status=inactive")
		if !strings.Contains(inactive.body, "Kiosk") || strings.Contains(inactive.body, ">FusionAuth<") || !strings.Contains(inactive.body, "1 inactive applications") {
			t.Fatalf("inactive filter: %s", inactive.body)
		}
		if act := br.get("/admin/applications?status=active"); strings.Contains(act.body, "Kiosk") || !strings.Contains(act.body, "FusionAuth") {
			t.Fatal("the active filter shows an inactive application, or misses an active one")
		}
		if all := br.get("/admin/applications"); !strings.Contains(all.body, "Kiosk") || !strings.Contains(all.body, "FusionAuth") {
			t.Fatal("the unfiltered list misses an application")
		}
		// The API sees it as FusionAuth's inactive list does.
		var list struct{ Applications []struct{ ID string } }
		e.api("GET", "/api/application?inactive=true", nil, 200).JSON(t, &list)
		if len(list.Applications) != 1 || list.Applications[0].ID != id {
			t.Fatalf("inactive applications by the API: %+v", list)
		}
		p = br.submit(p, "/admin/applications/"+id+"/reactivate")
		if p.status != 200 || !strings.Contains(p.body, "The application was reactivated") || !active() {
			t.Fatalf("reactivate: %d", p.status)
		}
		// The admin application cannot be deactivated: refused with the reason.
		if p := br.post("/admin/applications/"+adminAppID+"/deactivate", url.Values{"csrf_token": {page.csrf(t)}}); p.status != 400 ||
			!strings.Contains(p.body, "cannot be deactivated") {
			t.Fatalf("deactivate the admin application: %d", p.status)
		}
		// A missing application is a 404 page, not a 500.
		if p := br.post("/admin/applications/00000000-0000-4000-8000-0000000000ff/deactivate", url.Values{"csrf_token": {page.csrf(t)}}); p.status != 404 {
			t.Fatalf("deactivate a missing application: %d", p.status)
		}
		for _, text := range []string{"Deactivated application [Kiosk]", "Reactivated application [Kiosk]"} {
			if !e.auditedBy("apps@example.com", text) {
				t.Errorf("no audit entry by the admin containing %q", text)
			}
		}

		// An application_deleter sees neither control and is refused both.
		db := e.browser()
		dp := db.signIn("appdel@example.com", testPassword)
		if strings.Contains(db.get("/admin/applications/"+id).body, "Deactivate application") {
			t.Error("an application_deleter is offered deactivation")
		}
		for _, act := range []string{"deactivate", "reactivate"} {
			if p := db.post("/admin/applications/"+id+"/"+act, url.Values{"csrf_token": {dp.csrf(t)}}); p.status != 403 {
				t.Errorf("%s by an application_deleter: %d", act, p.status)
			}
		}
		if !active() {
			t.Fatal("a refused deactivation was written")
		}
	})
}

// TestApplicationTokenAndSignInSettings: the JWT settings (enabled, keys
// with a private key, lifetimes, the refresh token usage policy) and the
// sign-in and registration settings are saved through the API's rules; bad
// input is shown with the reason, as entered, and writes nothing.
func TestApplicationTokenAndSignInSettings(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("apps@example.com", "application_manager")
		e.admin("viewer@example.com", "application_deleter")
		const id = "b0b0b0b0-0000-4000-8000-000000000003"
		e.api("POST", "/api/application/"+id, map[string]any{"application": map[string]any{"name": "Shop", "data": map[string]any{"keep": "me"}}}, 200)
		var key, pub struct{ Key struct{ ID string } }
		e.api("POST", "/api/key/generate", map[string]any{"key": map[string]any{"name": "Shop key", "algorithm": "ES256"}}, 200).JSON(t, &key)
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		publicPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		e.api("POST", "/api/key/import", map[string]any{"key": map[string]any{"name": "Verify only", "publicKey": publicPEM}}, 200).JSON(t, &pub)
		type stored struct {
			Application struct {
				Data             map[string]any
				JWTConfiguration struct {
					Enabled                         bool
					AccessTokenKeyID                string `json:"accessTokenKeyId"`
					IDTokenKeyID                    string `json:"idTokenKeyId"`
					TimeToLiveInSeconds             int
					RefreshTokenTimeToLiveInMinutes int
					RefreshTokenUsagePolicy         string
				} `json:"jwtConfiguration"`
				LoginConfiguration struct {
					AllowTokenRefresh, GenerateRefreshTokens, RequireAuthentication bool
				} `json:"loginConfiguration"`
				PasswordlessConfiguration struct{ Enabled bool } `json:"passwordlessConfiguration"`
				RegistrationConfiguration struct{ Enabled bool } `json:"registrationConfiguration"`
			}
		}
		load := func() stored {
			var out stored
			e.api("GET", "/api/application/"+id, nil, 200).JSON(t, &out)
			return out
		}
		br := e.browser()
		br.signIn("apps@example.com", testPassword)
		page := br.get("/admin/applications/" + id)
		if strings.Contains(page.body, "Verify only") {
			t.Error("a key without a private key is offered for signing")
		}
		good := []string{"jwtEnabled", "on", "accessTokenKeyId", key.Key.ID, "idTokenKeyId", "", "timeToLiveInSeconds", "600",
			"refreshTokenTimeToLiveInMinutes", "1440", "refreshTokenUsagePolicy", "OneTimeUse"}
		with := func(k, v string) []string {
			out := append([]string{}, good...)
			for i := 0; i < len(out); i += 2 {
				if out[i] == k {
					out[i+1] = v
				}
			}
			return out
		}
		before := load()
		for _, c := range []struct{ name, field, value, says string }{
			{"lifetime not a number", "timeToLiveInSeconds", "ten minutes", "access token lifetime must be a whole number"},
			{"refresh lifetime not a number", "refreshTokenTimeToLiveInMinutes", "1d", "refresh token lifetime must be a whole number"},
			{"lifetime 0", "timeToLiveInSeconds", "0", "timeToLiveInSeconds"},
			{"lifetime past the bound", "timeToLiveInSeconds", "999999999", "timeToLiveInSeconds"},
			{"unknown usage policy", "refreshTokenUsagePolicy", "Twice", "refreshTokenUsagePolicy"},
			{"a key without a private key", "accessTokenKeyId", pub.Key.ID, "cannot sign"},
			{"an unknown key", "idTokenKeyId", "00000000-0000-4000-8000-0000000000aa", "names no signing key"},
		} {
			p := br.submit(page, "/admin/applications/"+id+"/tokens", with(c.field, c.value)...)
			if p.status != 400 || !strings.Contains(p.body, "Nothing was changed") || !strings.Contains(p.body, c.says) {
				t.Errorf("%s: %d, want 400 saying %q", c.name, p.status, c.says)
			}
			if c.field == "timeToLiveInSeconds" && !strings.Contains(p.body, `value="`+c.value+`"`) {
				t.Errorf("%s: the form lost what was entered", c.name)
			}
		}
		if got := load(); got.Application.JWTConfiguration != before.Application.JWTConfiguration {
			t.Fatalf("a refused change was written: %+v", got.Application.JWTConfiguration)
		}
		if p := br.submit(page, "/admin/applications/"+id+"/tokens", good...); p.status != 200 || !strings.Contains(p.body, "The token settings were saved") {
			t.Fatalf("save tokens: %d", p.status)
		}
		j := load().Application.JWTConfiguration
		if !j.Enabled || j.AccessTokenKeyID != key.Key.ID || j.IDTokenKeyID != "" || j.TimeToLiveInSeconds != 600 ||
			j.RefreshTokenTimeToLiveInMinutes != 1440 || j.RefreshTokenUsagePolicy != "OneTimeUse" {
			t.Fatalf("stored jwt: %+v", j)
		}
		// Back to the tenant's key: the key id is removed.
		if p := br.submit(page, "/admin/applications/"+id+"/tokens", with("accessTokenKeyId", "")...); p.status != 200 {
			t.Fatalf("back to the tenant's key: %d", p.status)
		}
		if j := load().Application.JWTConfiguration; j.AccessTokenKeyID != "" || !j.Enabled {
			t.Fatalf("stored jwt after choosing the tenant's key: %+v", j)
		}

		// Sign-in and registration: checked boxes on, the others off.
		p := br.submit(page, "/admin/applications/"+id+"/login", "registrationEnabled", "on", "generateRefreshTokens", "on",
			"allowTokenRefresh", "on", "passwordlessEnabled", "on")
		if p.status != 200 || !strings.Contains(p.body, "The sign-in and registration settings were saved") {
			t.Fatalf("save sign-in settings: %d", p.status)
		}
		got := load().Application
		if !got.RegistrationConfiguration.Enabled || got.LoginConfiguration.RequireAuthentication || !got.LoginConfiguration.GenerateRefreshTokens ||
			!got.LoginConfiguration.AllowTokenRefresh || !got.PasswordlessConfiguration.Enabled {
			t.Fatalf("stored sign-in settings: %+v", got)
		}
		if got.Data["keep"] != "me" {
			t.Fatalf("settings the page does not show were lost: %+v", got.Data)
		}
		if !e.auditedBy("apps@example.com", "Updated application [Shop]") {
			t.Error("the settings changes are not audited with the admin as actor")
		}

		// A role that may only view sees the settings, without forms, and is refused.
		vb := e.browser()
		vp := vb.signIn("viewer@example.com", testPassword)
		if v := vb.get("/admin/applications/" + id); !strings.Contains(v.body, "Tokens (JWT)") || strings.Contains(v.body, "Save token settings") ||
			strings.Contains(v.body, "Save sign-in settings") {
			t.Fatal("an application_deleter's page: want the settings shown, not editable")
		}
		for _, act := range []string{"tokens", "login"} {
			if p := vb.post("/admin/applications/"+id+"/"+act, url.Values{"csrf_token": {vp.csrf(t)}, "timeToLiveInSeconds": {"5"}}); p.status != 403 {
				t.Errorf("%s by an application_deleter: %d", act, p.status)
			}
		}
	})
}
