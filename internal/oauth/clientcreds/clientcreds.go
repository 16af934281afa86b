// Package clientcreds is the client_credentials grant of FusionAuth's
// Entity Management on /oauth2/token, and the introspection of its tokens
// on /oauth2/introspect: the client is an entity, not an application, so
// the grant shares only the endpoints, the error renderer (reply) and the
// provider's DPoP check with the rest of the provider.
package clientcreds

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/oauth/reply"
)

// GrantType is the grant's grant_type.
const GrantType = "client_credentials"

// Token is an access token issued to an entity.
type Token struct {
	AccessToken string
	ExpiresIn   int64
	Scope       string
}

// GrantError is a refusal of the grant in OAuth's terms: Code
// invalid_client (401) or invalid_scope (400).
type GrantError struct {
	Code        string
	Reason      string // FusionAuth's error_reason
	Description string
}

func (e *GrantError) Error() string { return e.Code + ": " + e.Description }

// TokenRequest is a client_credentials request.
type TokenRequest struct {
	TenantID string // when set, the tenant the entity must belong to
	ClientID string
	Secret   string
	Scope    string
	// Issuer maps the entity's tenant's issuer to the tokens' issuer (the
	// one discovery announces).
	Issuer func(tenantIssuer string) string
	// DPoPJKT binds the token to the DPoP key the request proved (cnf.jkt).
	DPoPJKT string
}

// Entities runs the grant for entities (internal/app implements it over
// internal/entities).
type Entities interface {
	// ClientCredentials authenticates the entity with its secret and
	// grants what the scope asks of its grants. Refusals are *GrantError.
	ClientCredentials(ctx context.Context, r TokenRequest) (*Token, error)
	// IntrospectEntityToken returns the claims of a valid client_credentials
	// token (of tenantID, when set) as a JSON object; ok is false for
	// anything else.
	IntrospectEntityToken(ctx context.Context, token, tenantID string) (claims []byte, ok bool, err error)
}

// Handler answers the grant and the introspection of its tokens.
type Handler struct {
	Entities Entities
	Issuer   func(tenantIssuer string) string
	// Proof checks the request's DPoP proof as on every grant: its key's
	// thumbprint, "" without a proof. OfferNonce sets DPoP-Nonce.
	Proof      func(r *http.Request, accessToken string) (string, *reply.Error)
	OfferNonce func(w http.ResponseWriter, r *http.Request)
	// Fail answers an unexpected error (the provider's server_error).
	Fail func(w http.ResponseWriter, r *http.Request, what string, err error)
}

// tokenResponse is FusionAuth's AccessToken as the grant answers it (no
// user, no refresh token).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	TokenType   string `json:"token_type"`
}

// credentials reads the entity's client_secret_basic or client_secret_post
// credentials (never both).
func credentials(r *http.Request) (id, secret string, status int, e *reply.Error) {
	id, secret, basic := r.BasicAuth()
	switch {
	case basic:
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", "", http.StatusUnauthorized, &reply.Error{Code: "invalid_client", Reason: "invalid_client_authentication", Description: "The Authorization header could not be read."}
		}
		if r.PostForm.Get("client_secret") != "" {
			return "", "", http.StatusBadRequest, reply.InvalidRequest("invalid_client_authentication_scheme", "Use one way to authenticate the client, not two.")
		}
		if fid := r.PostForm.Get("client_id"); fid != "" && fid != id {
			return "", "", http.StatusBadRequest, reply.InvalidRequest("client_id_mismatch", "client_id differs from the client that authenticated.")
		}
	case r.Header.Get("Authorization") != "":
		return "", "", http.StatusUnauthorized, &reply.Error{Code: "invalid_client", Reason: "invalid_client_authentication_scheme", Description: "Client authentication must be HTTP Basic or client_secret_post."}
	default:
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return "", "", http.StatusUnauthorized, &reply.Error{Code: "invalid_client", Reason: "missing_client_id", Description: "The request names no client."}
	}
	if secret == "" {
		return "", "", http.StatusUnauthorized, &reply.Error{Code: "invalid_client", Reason: "invalid_client_authentication", Description: "Client authentication failed."}
	}
	return id, secret, 0, nil
}

// requestTenant reads the optional tenantId (form, else FusionAuth's
// header); ok is false when it is not an id.
func requestTenant(r *http.Request) (string, bool) {
	t := r.PostForm.Get("tenantId")
	if t == "" {
		t = r.Header.Get("X-FusionAuth-TenantId")
	}
	if t == "" {
		return "", true
	}
	id, err := uuid.Parse(t)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

// Grant is POST /oauth2/token with grant_type=client_credentials (the form
// already read). Every request reads the entity and its grants, so a
// deleted entity or a removed grant stops issuing at once. A DPoP proof is
// checked as on the other grants and binds the token to its key.
func (h *Handler) Grant(w http.ResponseWriter, r *http.Request) {
	if h.Entities == nil {
		reply.Fail(w, http.StatusBadRequest, &reply.Error{Code: "unsupported_grant_type", Reason: "invalid_grant_type", Description: "This grant_type is not supported."})
		return
	}
	id, secret, status, e := credentials(r)
	if e != nil {
		reply.Fail(w, status, e)
		return
	}
	tenantID, ok := requestTenant(r)
	if !ok {
		reply.Fail(w, http.StatusBadRequest, reply.InvalidRequest("invalid_tenant_id", "tenantId is not a tenant id."))
		return
	}
	h.OfferNonce(w, r)
	jkt, e := h.Proof(r, "")
	if e != nil {
		reply.Fail(w, reply.StatusOf(e), e)
		return
	}
	t, err := h.Entities.ClientCredentials(r.Context(), TokenRequest{TenantID: tenantID, ClientID: id, Secret: secret,
		Scope: r.PostForm.Get("scope"), Issuer: h.Issuer, DPoPJKT: jkt})
	var ge *GrantError
	switch {
	case errors.As(err, &ge):
		status := http.StatusBadRequest
		if ge.Code == "invalid_client" {
			status = http.StatusUnauthorized
		}
		reply.Fail(w, status, &reply.Error{Code: ge.Code, Reason: ge.Reason, Description: ge.Description})
		return
	case err != nil:
		h.Fail(w, r, "client_credentials grant", err)
		return
	}
	res := tokenResponse{AccessToken: t.AccessToken, ExpiresIn: t.ExpiresIn, Scope: t.Scope, TokenType: "Bearer"}
	if jkt != "" {
		res.TokenType = "DPoP"
	}
	reply.JSON(w, http.StatusOK, res)
}

// IsIntrospection: a request that names no client is FusionAuth's
// introspectClientCredentialsAccessToken (the token alone, optionally a
// tenantId); anyone holding such a token may ask what it carries.
func IsIntrospection(r *http.Request) bool {
	return r.Header.Get("Authorization") == "" && r.PostForm.Get("client_id") == "" && r.PostForm.Get("client_secret") == ""
}

// Introspect answers the introspection of a client_credentials token (the
// form already read): its claims and active, or {"active":false}.
func (h *Handler) Introspect(w http.ResponseWriter, r *http.Request) {
	tok := r.PostForm.Get("token")
	if tok == "" {
		reply.Fail(w, http.StatusBadRequest, reply.InvalidRequest("missing_token", "The request has no token."))
		return
	}
	tenantID, ok := requestTenant(r)
	if !ok {
		reply.Fail(w, http.StatusBadRequest, reply.InvalidRequest("invalid_tenant_id", "tenantId is not a tenant id."))
		return
	}
	inactive := map[string]any{"active": false}
	if h.Entities == nil || strings.Count(tok, ".") != 2 {
		reply.JSON(w, http.StatusOK, inactive)
		return
	}
	claims, ok, err := h.Entities.IntrospectEntityToken(r.Context(), tok, tenantID)
	if err != nil {
		h.Fail(w, r, "introspect client_credentials token", err)
		return
	}
	if !ok {
		reply.JSON(w, http.StatusOK, inactive)
		return
	}
	// The claims as signed (a JSON object Latch encoded), after "active"
	// (FusionAuth's order): no decoding and encoding again. A DPoP-bound
	// token's cnf.jkt is among them.
	body := make([]byte, 0, len(claims)+16)
	body = append(append(body, `{"active":true,`...), claims[1:]...)
	reply.Raw(w, http.StatusOK, body)
}
