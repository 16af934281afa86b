package entities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// The client_credentials grant (FusionAuth's Entity Management): an entity
// authenticates with its client id and secret and asks for permissions on
// target entities with the scope
//
//	target-entity:{entityId}:{permission},{permission} target-entity:{entityId}
//
// (no permissions: all it holds). It gets what its grants allow, or nothing:
// a target it holds no grant on, or a permission not granted, is
// invalid_scope. Every request reads the entity and its grants from the
// database, so a deleted entity, a new secret or a removed grant takes
// effect at once on every node. The secret check is an HMAC-SHA256 compared
// in constant time (the secret has 256 bits of entropy when Latch made it):
// a microsecond, not a password hash.

const targetEntityScope = "target-entity:"

// maxScopeTargets bounds the targets of one request (each is a bound
// parameter of one query).
const maxScopeTargets = 100

// GrantError is a refusal of the grant, in the OAuth error's terms; the
// OAuth surface maps Code to its status (invalid_client is 401).
type GrantError struct {
	Code        string // invalid_client, invalid_scope, server_error
	Reason      string // FusionAuth's error_reason
	Description string
}

func (e *GrantError) Error() string { return e.Code + ": " + e.Description }

func invalidScope(reason, format string, args ...any) error {
	return &GrantError{Code: "invalid_scope", Reason: reason, Description: fmt.Sprintf(format, args...)}
}

var errInvalidClient = &GrantError{Code: "invalid_client", Reason: "invalid_client_authentication", Description: "Client authentication failed."}

// ClientToken is an access token the grant issued.
type ClientToken struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	TokenType   string `json:"token_type"`
}

// ClientClaims are the claims of a client_credentials access token,
// FusionAuth's names. Instants are epoch seconds.
type ClientClaims struct {
	Aud         any                 `json:"aud,omitempty"` // the target id, or ids when several
	Exp         int64               `json:"exp"`
	Iat         int64               `json:"iat"`
	Iss         string              `json:"iss"`
	Sub         string              `json:"sub"` // the client entity
	Jti         string              `json:"jti"`
	Permissions map[string][]string `json:"permissions"`
	Scope       string              `json:"scope,omitempty"`
	Tid         string              `json:"tid"`
	Cnf         *Confirmation       `json:"cnf,omitempty"` // a DPoP-bound token's key
}

// Confirmation is a token's cnf claim (RFC 7800): the SHA-256 thumbprint
// of the DPoP key it is bound to (RFC 9449 6.1).
type Confirmation struct {
	JKT string `json:"jkt"`
}

// targetRequest is one target of the scope and the permissions asked for
// (nil: all it holds).
type targetRequest struct {
	id    string
	perms []string
}

// parseScope reads the scope; targets appear once each, in order.
func parseScope(scope string) ([]targetRequest, error) {
	var out []targetRequest
	for _, item := range strings.Fields(scope) {
		rest, ok := strings.CutPrefix(item, targetEntityScope)
		if !ok {
			return nil, invalidScope("invalid_scope", "The scope [%s] is not one a client_credentials grant can ask for; use target-entity:{entityId}:{permission},….", item)
		}
		idText, permText, hasPerms := strings.Cut(rest, ":")
		id, ok := kit.CanonicalID(idText)
		if !ok {
			return nil, invalidScope("invalid_target_entity_scope", "[%s] is not an entity id.", idText)
		}
		var perms []string
		if hasPerms {
			perms = []string{}
			for _, p := range strings.Split(permText, ",") {
				if p = strings.TrimSpace(p); p == "" {
					return nil, invalidScope("invalid_target_entity_scope", "The scope [%s] names an empty permission.", item)
				}
				perms = append(perms, p)
			}
		}
		idx := slices.IndexFunc(out, func(t targetRequest) bool { return t.id == id })
		switch {
		case idx < 0 && len(out) == maxScopeTargets:
			return nil, invalidScope("invalid_target_entity_scope", "A request may name at most %d target entities.", maxScopeTargets)
		case idx < 0:
			out = append(out, targetRequest{id: id, perms: perms})
		case perms == nil || out[idx].perms == nil:
			out[idx].perms = nil // all it holds
		default:
			out[idx].perms = append(out[idx].perms, perms...)
		}
	}
	return out, nil
}

// authenticateClient finds the entity with clientID whose secret is secret.
// The MAC is computed whether or not the client exists, so that a refusal
// costs the same either way.
func (s *Service) authenticateClient(ctx context.Context, rd *store.Tx, clientID, secret string) (*store.EntityRow, string, error) {
	if clientID == "" || secret == "" {
		return nil, "", errInvalidClient
	}
	mac := s.master.MAC(SecretMACPurpose, secret)
	e, typeData, err := rd.EntityClient(ctx, clientID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, "", errInvalidClient
	}
	if err != nil {
		return nil, "", fmt.Errorf("look up entity client: %w", err)
	}
	if !secrets.Equal(mac, e.SecretMAC) {
		return nil, "", errInvalidClient
	}
	return e, typeData, nil
}

// ClientCredentialsRequest is a client_credentials token request: the
// client's id and secret (HTTP Basic or the form; the caller reads them),
// the scope, and optionally the tenant the client must belong to (an entity
// of another tenant is an unknown client).
type ClientCredentialsRequest struct {
	TenantID string
	ClientID string
	Secret   string
	Scope    string
	// Issuer maps the tenant's issuer to the tokens' (the OAuth surface
	// announces its own in discovery); nil: the tenant's as is.
	Issuer func(tenantIssuer string) string
	// DPoPJKT binds the token to a DPoP key (RFC 9449: cnf.jkt); "" for a
	// bearer token.
	DPoPJKT string
}

// ClientCredentials runs the grant. Refusals are *GrantError; other errors
// are the server's.
func (s *Service) ClientCredentials(ctx context.Context, req ClientCredentialsRequest) (*ClientToken, error) {
	tenantID, clientID, secret, scope := req.TenantID, req.ClientID, req.Secret, req.Scope
	targets, scopeErr := parseScope(scope)
	sn := s.tenancy.Configs.Current() // before rd reads anything
	var claims *ClientClaims
	var signer *keys.Signer
	var ttl int64
	err := s.store.ReadTx(ctx, func(rd *store.Tx) error {
		client, typeData, err := s.authenticateClient(ctx, rd, clientID, secret)
		if err != nil {
			return err
		}
		if tenantID != "" && client.TenantID != tenantID {
			return errInvalidClient
		}
		if scopeErr != nil { // only an authenticated client learns what is wrong with its scope
			return scopeErr
		}
		perms, granted, err := grantedScope(ctx, rd, client, targets)
		if err != nil {
			return err
		}
		var issuer string
		if signer, ttl, issuer, err = s.tokenSettings(ctx, rd, sn, client, typeData); err != nil {
			return err
		}
		if req.Issuer != nil {
			issuer = req.Issuer(issuer)
		}
		now := s.clock.Now().Unix()
		claims = &ClientClaims{Exp: now + ttl, Iat: now, Iss: issuer, Sub: client.ID, Jti: uuid.NewString(),
			Permissions: perms, Scope: granted, Tid: client.TenantID}
		if req.DPoPJKT != "" {
			claims.Cnf = &Confirmation{JKT: req.DPoPJKT}
		}
		switch len(targets) {
		case 0:
		case 1:
			claims.Aud = targets[0].id
		default:
			ids := make([]string, len(targets))
			for i, t := range targets {
				ids[i] = t.id
			}
			claims.Aud = ids
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Signed after the read: an RSA signature should not hold SQLite's read lock.
	payload, err := json.Marshal(claims)
	if err != nil {
		return nil, err
	}
	token, err := signer.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("sign client_credentials token: %w", err)
	}
	tokenType := "Bearer"
	if req.DPoPJKT != "" {
		tokenType = "DPoP"
	}
	return &ClientToken{AccessToken: token, ExpiresIn: ttl, Scope: claims.Scope, TokenType: tokenType}, nil
}

// grantedScope checks the targets against the client's grants (one read)
// and returns the permissions claim and the scope granted.
func grantedScope(ctx context.Context, rd *store.Tx, client *store.EntityRow, targets []targetRequest) (map[string][]string, string, error) {
	perms := map[string][]string{}
	if len(targets) == 0 {
		return perms, "", nil
	}
	ids := make([]string, len(targets))
	for i, t := range targets {
		ids[i] = t.id
	}
	held, err := rd.GrantedPermissions(ctx, client.ID, client.TenantID, ids)
	if err != nil {
		return nil, "", err
	}
	items := make([]string, 0, len(targets))
	for _, t := range targets {
		hold, granted := held[t.id]
		if !granted {
			// One answer for a target that does not exist, is of another
			// tenant or grants nothing: the client learns no more.
			return nil, "", invalidScope("invalid_target_entity_scope", "The client holds no grant on the entity [%s].", t.id)
		}
		var list []string
		if t.perms == nil {
			list = slices.Clone(hold)
		} else {
			for _, p := range t.perms {
				idx := slices.IndexFunc(hold, func(h string) bool { return strings.EqualFold(h, p) })
				if idx < 0 {
					return nil, "", invalidScope("invalid_target_entity_scope", "The permission [%s] on the entity [%s] is not granted to the client.", p, t.id)
				}
				if !slices.Contains(list, hold[idx]) {
					list = append(list, hold[idx])
				}
			}
		}
		slices.Sort(list)
		if list == nil {
			list = []string{}
		}
		perms[t.id] = list
		item := targetEntityScope + t.id
		if len(list) > 0 {
			item += ":" + strings.Join(list, ",")
		}
		items = append(items, item)
	}
	return perms, strings.Join(items, " "), nil
}

// tokenSettings picks the key, lifetime and issuer of a client's tokens: its
// entity type's jwtConfiguration when enabled, else its tenant's.
func (s *Service) tokenSettings(ctx context.Context, rd *store.Tx, sn *tenancy.ConfigSnapshot, client *store.EntityRow, typeData string) (*keys.Signer, int64, string, error) {
	tenant, err := s.tenancy.LoginTenantConfigIn(ctx, rd, sn, client.TenantID)
	if err != nil {
		return nil, 0, "", fmt.Errorf("tenant of entity %s: %w", client.ID, err)
	}
	var cfg struct {
		JWT JWTConfig `json:"jwtConfiguration"`
	}
	if err := kit.DecodeStored(typeData, typeFields, &cfg); err != nil {
		return nil, 0, "", fmt.Errorf("entity type %s: %w", client.TypeID, err)
	}
	if cfg.JWT.Enabled && cfg.JWT.AccessTokenKeyID != "" {
		signer, err := s.signingKeys.Current().Signer(cfg.JWT.AccessTokenKeyID)
		if err != nil {
			return nil, 0, "", fmt.Errorf("signing key of entity type %s: %w", client.TypeID, err)
		}
		return signer, int64(cfg.JWT.TimeToLiveInSeconds), tenant.Issuer, nil
	}
	ts := s.tokens.SettingsIn(ctx, rd, sn, tenant, nil)
	signer, err := s.tokens.SignerFor(ts)
	if err != nil {
		return nil, 0, "", err
	}
	return signer, ts.TTLSeconds, tenant.Issuer, nil
}

// IntrospectClientToken answers introspection of a client_credentials
// token: its claims (the token's payload, a JSON object) when it verifies,
// has not expired, and its subject is an entity that still exists in the
// token's tenant (tenantID, when not empty); ok is false otherwise (and for
// tokens that are not client_credentials tokens).
func (s *Service) IntrospectClientToken(ctx context.Context, token, tenantID string) (claims json.RawMessage, ok bool, err error) {
	vt, verr := s.verified.verify(s.signingKeys.Current(), token)
	if verr != nil || !vt.client {
		return nil, false, nil
	}
	c := &vt.claims
	if s.clock.Now().Unix() >= c.Exp || (tenantID != "" && c.Tid != tenantID) {
		return nil, false, nil
	}
	tid, lerr := s.store.Read().EntityTenant(ctx, c.Sub)
	if errors.Is(lerr, store.ErrNoRows) {
		return nil, false, nil
	}
	if lerr != nil {
		return nil, false, lerr
	}
	if tid != c.Tid {
		return nil, false, nil
	}
	return vt.payload, true, nil
}
