package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/clientcheck"
)

// placeholderIssuer is FusionAuth's default tenant issuer; strict relying
// parties refuse discovery whose issuer is not the URL they fetched it
// from, so such a tenant's issuer is Latch's public URL.
const placeholderIssuer = "acme.com"

// issuer is the issuer of a tenant's tokens and discovery.
func (p *Provider) issuer(t *model.TenantConfig) string {
	if iss := strings.TrimSpace(t.Issuer); iss != "" && iss != placeholderIssuer {
		return iss
	}
	return p.PublicURL
}

// Scopes and claims Latch supports (and lists in discovery, nothing more).
var (
	supportedScopes = []string{"openid", "offline_access", "profile", "email", "phone"}
	supportedClaims = []string{"applicationId", "at_hash", "aud", "auth_time", "authenticationType", "birthdate", "c_hash",
		"email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "jti", "middle_name", "name", "nonce",
		"phone_number", "picture", "preferred_username", "roles", "scope", "sid", "sub", "tid"}
)

// discovery is OpenID Connect Discovery, built from memory per request
// (the tenant's issuer comes from the settings cache).
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenantId")
	if tenantID != "" {
		if _, err := uuid.Parse(tenantID); err != nil {
			writeError(w, http.StatusNotFound, &oauthError{Code: "invalid_request", Reason: "invalid_tenant_id", Description: "No tenant has this id."})
			return
		}
	}
	t, err := p.Clients.Tenant(r.Context(), tenantID)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, &oauthError{Code: "invalid_request", Reason: "invalid_tenant_id", Description: "No tenant has this id."})
		return
	}
	if err != nil {
		p.serverError(w, r, "discovery", err)
		return
	}
	algs := p.Tokens.SigningAlgorithms()
	// The document changes only with the tenant's settings (a new cached
	// value) or the signing keys: rendered once for each.
	d, _ := p.discoveryDocs.Load(tenantID)
	doc, _ := d.(*discoveryDoc)
	if doc == nil || doc.tenant != t || !slices.Equal(doc.algs, algs) {
		doc = &discoveryDoc{tenant: t, algs: algs, body: p.discoveryBody(t, algs)}
		p.discoveryDocs.Store(tenantID, doc)
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(doc.body)
}

// discoveryDoc is a rendered discovery document and what it was rendered from.
type discoveryDoc struct {
	tenant *model.TenantConfig
	algs   []string
	body   []byte
}

func (p *Provider) discoveryBody(t *model.TenantConfig, algs []string) []byte {
	base := p.PublicURL
	doc := map[string]any{
		"issuer":                                         p.issuer(t),
		"authorization_endpoint":                         base + "/oauth2/authorize",
		"token_endpoint":                                 base + "/oauth2/token",
		"userinfo_endpoint":                              base + "/oauth2/userinfo",
		"jwks_uri":                                       base + "/.well-known/jwks.json",
		"end_session_endpoint":                           base + "/oauth2/logout",
		"introspection_endpoint":                         base + "/oauth2/introspect",
		"device_authorization_endpoint":                  base + "/oauth2/device_authorize",
		"revocation_endpoint":                            base + "/oauth2/revoke",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query", "fragment", "form_post"},
		"grant_types_supported":                          p.grantTypes(),
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          algs,
		"scopes_supported":                               supportedScopes,
		"claims_supported":                               supportedClaims,
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":               []string{"S256"},
		"prompt_values_supported":                        []string{"none", "login"},
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"require_request_uri_registration":               false,
		"authorization_response_iss_parameter_supported": true,
		"dpop_signing_alg_values_supported":              clientcheck.DPoPAlgorithms(),
		"frontchannel_logout_supported":                  false,
		"backchannel_logout_supported":                   false,
	}
	body, _ := json.Marshal(doc)
	return body
}

// grantTypes are the grants /oauth2/token answers.
func (p *Provider) grantTypes() []string {
	gts := []string{model.GrantAuthorizationCode, model.GrantRefreshToken, model.GrantPassword, model.GrantDeviceCode}
	if p.Entities != nil {
		gts = append(gts, GrantClientCredentials)
	}
	return gts
}

// serverError logs an unexpected error and answers server_error (the
// detail only in the log).
func (p *Provider) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	// A throttled or busy sign-in is no fault: the client may retry after Retry-After.
	if status, after, ok := httpx.RetryLater(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(after))
		desc := "The server is busy; retry after the time Retry-After gives."
		if status == http.StatusTooManyRequests {
			desc = "Too many sign-in attempts; retry after the time Retry-After gives."
		}
		writeError(w, status, &oauthError{Code: "temporarily_unavailable", Description: desc})
		return
	}
	p.Log.ErrorContext(r.Context(), "oauth: "+what, "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, &oauthError{Code: "server_error", Description: "The server could not complete the request; the cause is in its log."})
}
