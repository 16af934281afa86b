package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
)

// GrantClientCredentials is the client_credentials grant of FusionAuth's
// Entity Management: the client is an entity, not an application.
const GrantClientCredentials = "client_credentials"

// EntityToken is an access token issued to an entity.
type EntityToken struct {
	AccessToken string
	ExpiresIn   int64
	Scope       string
}

// EntityGrantError is a refusal of the client_credentials grant in OAuth's
// terms: Code invalid_client (401) or invalid_scope (400).
type EntityGrantError struct {
	Code        string
	Reason      string // FusionAuth's error_reason
	Description string
}

func (e *EntityGrantError) Error() string { return e.Code + ": " + e.Description }

// EntityTokenRequest is a client_credentials request.
type EntityTokenRequest struct {
	TenantID string // when set, the tenant the entity must belong to
	ClientID string
	Secret   string
	Scope    string
	// Issuer maps the entity's tenant's issuer to the tokens' issuer (the
	// one discovery announces).
	Issuer func(tenantIssuer string) string
}

// EntityClients runs the client_credentials grant for entities.
type EntityClients interface {
	// ClientCredentials authenticates the entity with its secret and
	// grants what the scope asks of its grants. Refusals are
	// *EntityGrantError.
	ClientCredentials(ctx context.Context, r EntityTokenRequest) (*EntityToken, error)
	// IntrospectEntityToken returns the claims of a valid client_credentials
	// token (of tenantID, when set) as a JSON object; ok is false for
	// anything else.
	IntrospectEntityToken(ctx context.Context, token, tenantID string) (claims []byte, ok bool, err error)
}

// entityTokenResponse is FusionAuth's AccessToken as the grant answers it
// (no user, no refresh token).
type entityTokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	TokenType   string `json:"token_type"`
}

// entityCredentials reads the entity's client_secret_basic or
// client_secret_post credentials (never both).
func entityCredentials(r *http.Request) (id, secret string, status int, e *oauthError) {
	id, secret, basic := r.BasicAuth()
	switch {
	case basic:
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", "", http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "invalid_client_authentication", Description: "The Authorization header could not be read."}
		}
		if r.PostForm.Get("client_secret") != "" {
			return "", "", http.StatusBadRequest, errInvalidRequest("invalid_client_authentication_scheme", "Use one way to authenticate the client, not two.")
		}
		if fid := r.PostForm.Get("client_id"); fid != "" && fid != id {
			return "", "", http.StatusBadRequest, errInvalidRequest("client_id_mismatch", "client_id differs from the client that authenticated.")
		}
	case r.Header.Get("Authorization") != "":
		return "", "", http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "invalid_client_authentication_scheme", Description: "Client authentication must be HTTP Basic or client_secret_post."}
	default:
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return "", "", http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "missing_client_id", Description: "The request names no client."}
	}
	if secret == "" {
		return "", "", http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "invalid_client_authentication", Description: "Client authentication failed."}
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

// clientCredentialsGrant is POST /oauth2/token with
// grant_type=client_credentials. Every request reads the entity and its
// grants, so a deleted entity or a removed grant stops issuing at once.
func (p *Provider) clientCredentialsGrant(w http.ResponseWriter, r *http.Request) {
	if p.Entities == nil {
		writeError(w, http.StatusBadRequest, &oauthError{Code: "unsupported_grant_type", Reason: "invalid_grant_type", Description: "This grant_type is not supported."})
		return
	}
	id, secret, status, e := entityCredentials(r)
	if e != nil {
		writeError(w, status, e)
		return
	}
	tenantID, ok := requestTenant(r)
	if !ok {
		writeError(w, http.StatusBadRequest, errInvalidRequest("invalid_tenant_id", "tenantId is not a tenant id."))
		return
	}
	t, err := p.Entities.ClientCredentials(r.Context(), EntityTokenRequest{TenantID: tenantID, ClientID: id, Secret: secret,
		Scope: r.PostForm.Get("scope"), Issuer: p.issuerOf})
	var ge *EntityGrantError
	switch {
	case errors.As(err, &ge):
		status := http.StatusBadRequest
		if ge.Code == "invalid_client" {
			status = http.StatusUnauthorized
		}
		writeError(w, status, &oauthError{Code: ge.Code, Reason: ge.Reason, Description: ge.Description})
		return
	case err != nil:
		p.serverError(w, r, "client_credentials grant", err)
		return
	}
	writeJSON(w, http.StatusOK, entityTokenResponse{AccessToken: t.AccessToken, ExpiresIn: t.ExpiresIn, Scope: t.Scope, TokenType: "Bearer"})
}

// issuerOf is the issuer of a tenant's tokens on this surface.
func (p *Provider) issuerOf(tenantIssuer string) string {
	return p.issuer(&model.TenantConfig{Issuer: tenantIssuer})
}

// isEntityIntrospection: a request that names no client is FusionAuth's
// introspectClientCredentialsAccessToken (the token alone, optionally a
// tenantId); anyone holding such a token may ask what it carries.
func isEntityIntrospection(r *http.Request) bool {
	return r.Header.Get("Authorization") == "" && r.PostForm.Get("client_id") == "" && r.PostForm.Get("client_secret") == ""
}

// introspectEntityToken answers the introspection of a client_credentials
// token: its claims and active, or {"active":false}.
func (p *Provider) introspectEntityToken(w http.ResponseWriter, r *http.Request) {
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest("missing_token", "The request has no token."))
		return
	}
	tenantID, ok := requestTenant(r)
	if !ok {
		writeError(w, http.StatusBadRequest, errInvalidRequest("invalid_tenant_id", "tenantId is not a tenant id."))
		return
	}
	inactive := map[string]any{"active": false}
	if p.Entities == nil || strings.Count(tok, ".") != 2 {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	claims, ok, err := p.Entities.IntrospectEntityToken(r.Context(), tok, tenantID)
	if err != nil {
		p.serverError(w, r, "introspect client_credentials token", err)
		return
	}
	if !ok {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	// The claims as signed (a JSON object Latch encoded), after "active"
	// (FusionAuth's order): no decoding and encoding again.
	body := make([]byte, 0, len(claims)+16)
	body = append(append(body, `{"active":true,`...), claims[1:]...)
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
