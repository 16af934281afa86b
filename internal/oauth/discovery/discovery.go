// Package discovery renders the OpenID Connect Discovery document: what
// Latch's provider supports, and nothing more.
package discovery

import (
	"encoding/json"
	"slices"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/clientcheck"
	"github.com/latchid/latch/internal/oauth/clientcreds"
)

// Scopes and claims Latch supports (and lists, nothing more).
var (
	scopes = []string{"openid", "offline_access", "profile", "email", "phone"}
	claims = []string{"applicationId", "at_hash", "aud", "auth_time", "authenticationType", "birthdate", "c_hash",
		"email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "jti", "middle_name", "name", "nonce",
		"phone_number", "picture", "preferred_username", "roles", "scope", "sid", "sub", "tid"}
)

// responseTypes are the response types /oauth2/authorize answers. The
// implicit ones are served only to applications that enable the grant, as
// the password grant is: discovery describes the server, and an
// application's settings say which of these it may use.
var responseTypes = []string{"code", "id_token", "id_token token", "token"}

// grantTypes are the grants /oauth2/authorize and /oauth2/token answer
// (implicit, password and the device grant where the application enables
// them; client_credentials where entities are served).
func grantTypes(clientCredentials bool) []string {
	gts := []string{model.GrantAuthorizationCode, model.GrantImplicit, model.GrantRefreshToken, model.GrantPassword, model.GrantDeviceCode}
	if clientCredentials {
		gts = append(gts, clientcreds.GrantType)
	}
	return gts
}

// promptValues are the prompt values /oauth2/authorize accepts, and acts
// on (OpenID Connect Core 3.1.2.1).
var promptValues = []string{"none", "login", "consent", "select_account"}

// SupportsPrompt reports whether /oauth2/authorize accepts a prompt value.
func SupportsPrompt(v string) bool { return slices.Contains(promptValues, v) }

// Document is the discovery document of a tenant whose issuer is issuer,
// served at base (Latch's public URL), with the ID token algorithms algs.
func Document(base, issuer string, algs []string, clientCredentials bool) []byte {
	authMethods := []string{"client_secret_basic", "client_secret_post", "none"}
	doc := map[string]any{
		"issuer":                                         issuer,
		"authorization_endpoint":                         base + "/oauth2/authorize",
		"token_endpoint":                                 base + "/oauth2/token",
		"userinfo_endpoint":                              base + "/oauth2/userinfo",
		"jwks_uri":                                       base + "/.well-known/jwks.json",
		"end_session_endpoint":                           base + "/oauth2/logout",
		"introspection_endpoint":                         base + "/oauth2/introspect",
		"device_authorization_endpoint":                  base + "/oauth2/device_authorize",
		"revocation_endpoint":                            base + "/oauth2/revoke",
		"response_types_supported":                       responseTypes,
		"response_modes_supported":                       []string{"query", "fragment", "form_post"},
		"grant_types_supported":                          grantTypes(clientCredentials),
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          algs,
		"scopes_supported":                               scopes,
		"claims_supported":                               claims,
		"token_endpoint_auth_methods_supported":          authMethods,
		"introspection_endpoint_auth_methods_supported":  authMethods,
		"revocation_endpoint_auth_methods_supported":     authMethods,
		"code_challenge_methods_supported":               []string{"S256"},
		"prompt_values_supported":                        promptValues,
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
