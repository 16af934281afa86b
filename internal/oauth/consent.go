package oauth

import (
	"net/http"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/oauth/clientcheck"
)

// Consent for third-party applications (oauthConfiguration.relationship
// ThirdParty), as FusionAuth's consentMode says: AlwaysPrompt asks at every
// authorization, RememberDecision asks once per set of scopes (and again
// with prompt=consent), NeverPrompt never asks. First-party applications
// are never asked; for them prompt=consent is accepted and changes nothing.

// scopeDescriptions say what the standard scopes let an application do.
var scopeDescriptions = map[string]string{
	"openid":         "Know who you are (your account id)",
	"profile":        "Read your name, username, picture and birthdate",
	"email":          "Read your email address",
	"phone":          "Read your phone number",
	"offline_access": "Keep access while you are away",
}

// consentPage is the consent page's data.
type consentPage struct {
	formPage
	Scopes []string
}

// needsConsent reports whether the user must be asked before the client
// gets a code.
func (p *Provider) needsConsent(r *http.Request, ar *authRequest, user *User) (bool, error) {
	oc := ar.client.App.OAuthConfiguration
	if oc.Relationship != "ThirdParty" || ar.userCode != "" || ar.consented {
		return false, nil
	}
	switch oc.ConsentMode {
	case "NeverPrompt":
		return false, nil
	case "RememberDecision":
		if ar.prompt("consent") {
			return true, nil
		}
		given, err := p.State.Consent(r.Context(), user.ID, ar.client.App.ID)
		if err != nil {
			return false, err
		}
		return !covers(given, ar.scope), nil
	default: // AlwaysPrompt, FusionAuth's default
		return true, nil
	}
}

// covers: every scope of want is in given.
func covers(given, want string) bool {
	have := strings.Fields(given)
	for _, s := range strings.Fields(want) {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}

// showConsent renders the consent page for a signed-in user.
func (p *Provider) showConsent(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	data := consentPage{formPage: formPage{Action: "/oauth2/consent", Step: "consent", Hidden: p.hidden(ar), CSRF: p.csrfToken(w, r),
		AppName: appName(ar.client)}, Scopes: scopeList(ar.scope)}
	p.Pages.Page(w, r, http.StatusOK, "oauth_consent", "Allow access", ar.client.Tenant, data, p.redirectOrigins(ar)...)
}

// scopeList says, for people, what each scope of a request lets an
// application do.
func scopeList(scope string) []string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if d, ok := scopeDescriptions[s]; ok {
			out = append(out, d)
		} else {
			out = append(out, s)
		}
	}
	return out
}

// consentStep is the consent form's POST: allow completes the
// authorization (remembering the scopes under RememberDecision), deny
// answers access_denied to the client.
func (p *Provider) consentStep(w http.ResponseWriter, r *http.Request) {
	ar, ok := p.stepRequest(w, r)
	if !ok {
		return
	}
	sess, user := p.currentSession(r, ar.client)
	if sess == nil {
		p.showLogin(w, r, ar, http.StatusOK, "", "Your session ended. Sign in again.")
		return
	}
	switch r.PostForm.Get("decision") {
	case "allow":
	case "deny":
		p.redirectError(w, r, ar, &oauthError{Code: "access_denied", Reason: "consent_canceled", Description: "The user did not allow access."})
		return
	default:
		p.showConsent(w, r, ar)
		return
	}
	if ar.client.App.OAuthConfiguration.ConsentMode == "RememberDecision" {
		given, err := p.State.Consent(r.Context(), user.ID, ar.client.App.ID)
		if err != nil {
			p.pageFailure(w, r, "read consent", err)
			return
		}
		if err := p.State.SaveConsent(r.Context(), user.ID, ar.client.App.ID, clientcheck.NormalizeScope(given+" "+ar.scope), p.now()); err != nil {
			p.pageFailure(w, r, "save consent", err)
			return
		}
	}
	ar.consented = true
	p.completeAuthorization(w, r, ar, sess, user)
}
