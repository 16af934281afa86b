package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Access tokens (JWTs): the claims Latch signs, FusionAuth's names and types,
// and the checks a token passes before Latch accepts it. Signing and
// signature checks belong to the keys package (through s.SigningKeys); this
// file decides what goes in a token and whether a verified one is still good.

// Authentication types, FusionAuth's authenticationType claim.
const (
	AuthTypePassword        = "PASSWORD"
	AuthTypeOneTimePassword = "ONE_TIME_PASSWORD"
	AuthTypeRefreshToken    = "REFRESH_TOKEN"
	AuthTypeJWTSSO          = "JWT_SSO"
	AuthTypePing            = "PING"
)

// AccessClaims are the claims of an access token, in FusionAuth's names.
// Instants are epoch seconds (RFC 7519), not the milliseconds of the API.
type AccessClaims struct {
	Aud                string `json:"aud,omitempty"`
	Exp                int64  `json:"exp"`
	Iat                int64  `json:"iat"`
	Iss                string `json:"iss"`
	Sub                string `json:"sub"`
	Jti                string `json:"jti"`
	AuthenticationType string `json:"authenticationType"`
	Email              string `json:"email,omitempty"`
	EmailVerified      *bool  `json:"email_verified,omitempty"`
	PreferredUsername  string `json:"preferred_username,omitempty"`
	ApplicationID      string `json:"applicationId,omitempty"`
	// Roles is present (possibly empty) when the user is registered for the
	// application, absent otherwise, as in FusionAuth.
	Roles    *[]string `json:"roles,omitempty"`
	AuthTime int64     `json:"auth_time,omitempty"`
	Sid      string    `json:"sid,omitempty"`
	Tid      string    `json:"tid"`
	// Scope: the granted OAuth scopes (OAuth grants only).
	Scope string `json:"scope,omitempty"`
	// Cnf binds the token to a DPoP key (RFC 9449 6.1).
	Cnf *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the cnf claim: the SHA-256 thumbprint of a DPoP key.
type Confirmation struct {
	JKT string `json:"jkt"`
}

// confirmation is the cnf claim for a DPoP key (nil for none).
func confirmation(jkt string) *Confirmation {
	if jkt == "" {
		return nil
	}
	return &Confirmation{JKT: jkt}
}

// Settings are the token lifetimes, policies and key that apply to one
// application (its own JWT configuration when enabled, else its tenant's),
// or to a tenant when a login names no application.
type Settings struct {
	tenantID, issuer, keyID string
	TTLSeconds              int64
	refreshTTLMinutes       int64
	expirationPolicy        string // Fixed, SlidingWindow, SlidingWindowWithMaximumLifetime
	usagePolicy             string // Reusable, OneTimeUse
	maxLifetimeMinutes      int64
	graceSeconds            int64
}

// Refresh token policies, FusionAuth's names.
const (
	refreshFixed            = "Fixed"
	refreshSliding          = "SlidingWindow"
	refreshSlidingMax       = "SlidingWindowWithMaximumLifetime"
	refreshOneTimeUse       = "OneTimeUse"
	defaultAccessTTLSeconds = 3600
)

func settingsOf(tenant *model.TenantConfig, app *model.ApplicationConfig) Settings {
	j := tenant.JWTConfiguration
	keyID := j.AccessTokenKeyID
	if app != nil && app.JWTConfiguration.Enabled {
		j = app.JWTConfiguration
		if j.AccessTokenKeyID != "" {
			keyID = j.AccessTokenKeyID
		}
	}
	ts := Settings{
		tenantID: tenant.ID, issuer: tenant.Issuer, keyID: keyID,
		TTLSeconds:         int64(j.TimeToLiveInSeconds),
		refreshTTLMinutes:  int64(j.RefreshTokenTimeToLiveInMinutes),
		expirationPolicy:   j.RefreshTokenExpirationPolicy,
		usagePolicy:        j.RefreshTokenUsagePolicy,
		maxLifetimeMinutes: int64(j.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes),
		graceSeconds:       int64(j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds),
	}
	if ts.TTLSeconds <= 0 {
		ts.TTLSeconds = defaultAccessTTLSeconds
	}
	return ts
}

// SettingsFor is settingsOf with a fallback: a tenant (and
// application) naming no access token key signs with the Default tenant's,
// the default signing key unless changed, rather than not at all.
func (s *Service) SettingsFor(ctx context.Context, tenant *model.TenantConfig, app *model.ApplicationConfig) Settings {
	return s.SettingsIn(ctx, s.store.Read(), s.tenancy.Configs.Current(), tenant, app)
}

// SettingsIn is SettingsFor reading through rd (inside a read
// group, a second connection from the pool could wait for ever) into the
// settings cache's snapshot sn.
func (s *Service) SettingsIn(ctx context.Context, rd *store.Tx, sn *tenancy.ConfigSnapshot, tenant *model.TenantConfig, app *model.ApplicationConfig) Settings {
	ts := settingsOf(tenant, app)
	if ts.keyID == "" {
		ts.keyID = s.tenancy.DefaultAccessTokenKeyIn(ctx, rd, sn)
	}
	return ts
}

// RefreshWindow is the start and expiry of a refresh token used (or issued)
// at now, under the settings' expiration policy. start and expires are the
// token's current ones (both 0 for a new token); authInstant is when its
// family's login happened.
func (ts Settings) RefreshWindow(now, authInstant, start, expires int64) (int64, int64) {
	ttl := ts.refreshTTLMinutes * 60_000
	switch ts.expirationPolicy {
	case refreshSliding:
		return now, now + ttl
	case refreshSlidingMax:
		limit := authInstant + ts.maxLifetimeMinutes*60_000
		if ts.maxLifetimeMinutes <= 0 {
			limit = math.MaxInt64
		}
		return now, min(now+ttl, limit)
	default: // Fixed: the family's first window, whatever the uses
		if expires == 0 {
			return now, now + ttl
		}
		return start, expires
	}
}

// UserClaims builds the claims of an access token for a user.
func UserClaims(row *store.UserRow, ts Settings, appID string, registered bool, roles []string,
	authType string, authTime, now int64, sid string) *AccessClaims {
	c := &AccessClaims{
		Aud: appID, Iat: now / 1000, Exp: now/1000 + ts.TTLSeconds, Iss: ts.issuer, Sub: row.ID,
		Jti: uuid.NewString(), AuthenticationType: authType, Email: row.Email, PreferredUsername: row.Username,
		AuthTime: authTime / 1000, Sid: sid, Tid: row.TenantID,
	}
	if row.Email != "" {
		v := row.Verified
		c.EmailVerified = &v
	}
	if registered {
		if roles == nil {
			roles = []string{}
		}
		c.ApplicationID, c.Roles = appID, &roles
	}
	return c
}

// errNoSigningKey: the tenant or application names no key Latch can sign with.
var errNoSigningKey = errors.New("no signing key for access tokens")

// SignClaims signs claims with the settings' key.
func (s *Service) SignClaims(ts Settings, c *AccessClaims) (string, error) {
	sg, err := s.SignerFor(ts)
	if err != nil {
		return "", err
	}
	return SignClaimsWith(sg, c)
}

// SignerFor is the signer of the settings' key (looked up before a login
// writes anything, so that a key Latch cannot sign with fails it early).
func (s *Service) SignerFor(ts Settings) (*keys.Signer, error) {
	if ts.keyID == "" {
		return nil, fmt.Errorf("%w in tenant %s", errNoSigningKey, ts.tenantID)
	}
	sg, err := s.signingKeys.Current().Signer(ts.keyID)
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: %w", errNoSigningKey, ts.keyID, err)
	}
	return sg, nil
}

// SignClaimsWith signs claims with a signer.
func SignClaimsWith(sg *keys.Signer, c *AccessClaims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	return sg.Sign(payload)
}

// JWT is an access token that passed every check.
type JWT struct {
	Claims             json.RawMessage // the payload as signed
	Subject            string
	TenantID           string
	ApplicationID      string
	SessionID          string
	AuthenticationType string
	Expires            float64 // epoch seconds
	AuthTime           float64 // epoch seconds, 0 when absent
}

// tokenClaims are the claims validation reads; each is checked for its type.
type tokenClaims struct {
	Exp, Nbf, Iat, AuthTime                           json.RawMessage
	Sub, Tid, ApplicationID, Sid, Jti, Authentication json.RawMessage
}

// ValidateJWT checks an access token: its signature (by the keys package:
// kid and algorithm of a key Latch holds, no key carried or named in the
// header), its claims' types, exp (a token is expired at exp exactly) and
// nbf against the clock, and that its subject is a user who still exists and
// is active. Every failure is model.ErrUnauthorized; the reason is logged at
// debug level only.
func (s *Service) ValidateJWT(ctx context.Context, token string) (*JWT, error) {
	j, err := s.checkJWT(ctx, token)
	var unavailable storeError
	if errors.As(err, &unavailable) {
		// The token may well be good: a 401 would tell a resource server to
		// drop a valid session because the database is away.
		return nil, err
	}
	if err != nil {
		s.log.DebugContext(ctx, "JWT refused", "reason", err.Error())
		return nil, model.ErrUnauthorized
	}
	return j, nil
}

// storeError is a failure to read the database while checking a token: not a
// verdict on the token.
type storeError struct{ error }

func (e storeError) Unwrap() error { return e.error }

func (s *Service) checkJWT(ctx context.Context, token string) (*JWT, error) {
	v, err := s.signingKeys.Current().Verify(token)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v.Payload, &m); err != nil || m == nil {
		return nil, errors.New("the payload is not a JSON object")
	}
	c := tokenClaims{Exp: m["exp"], Nbf: m["nbf"], Iat: m["iat"], AuthTime: m["auth_time"], Sub: m["sub"], Tid: m["tid"],
		ApplicationID: m["applicationId"], Sid: m["sid"], Jti: m["jti"], Authentication: m["authenticationType"]}
	j := &JWT{Claims: json.RawMessage(v.Payload)}
	exp, ok := numberClaim(c.Exp)
	if !ok || c.Exp == nil {
		return nil, errors.New("exp missing or not a number")
	}
	nbf, okNbf := numberClaim(c.Nbf)
	_, okIat := numberClaim(c.Iat)
	authTime, okAuth := numberClaim(c.AuthTime)
	if !okNbf || !okIat || !okAuth {
		return nil, errors.New("nbf, iat or auth_time not a number")
	}
	for _, sc := range []struct {
		raw json.RawMessage
		to  *string
	}{{c.Sub, &j.Subject}, {c.Tid, &j.TenantID}, {c.ApplicationID, &j.ApplicationID}, {c.Sid, &j.SessionID},
		{c.Authentication, &j.AuthenticationType}} {
		if !stringClaim(sc.raw, sc.to) {
			return nil, errors.New("a string claim is not a string")
		}
	}
	now := float64(s.now())
	if now >= exp*1000 {
		return nil, errors.New("expired")
	}
	if c.Nbf != nil && now < nbf*1000 {
		return nil, errors.New("not valid yet")
	}
	if s.accessRevoked(j.SessionID, c.Jti) {
		return nil, errors.New("revoked (a replayed authorization code)")
	}
	j.Expires, j.AuthTime = exp, authTime
	if c.Sub != nil {
		rd := s.store.Read()
		exists, active, err := rd.UserActiveByID(ctx, j.Subject)
		if err != nil {
			return nil, storeError{fmt.Errorf("look up the subject: %w", err)}
		}
		if !exists || !active {
			return nil, errors.New("the subject is not an active user")
		}
		cutoff, err := rd.TokenCutoff(ctx, j.Subject, j.ApplicationID)
		if err != nil {
			return nil, storeError{fmt.Errorf("look up the subject's sessions: %w", err)}
		}
		iat, _ := numberClaim(c.Iat)
		if endedBefore(int64(iat)*1000, cutoff, true) {
			return nil, errors.New("issued before the subject's sessions were ended")
		}
	}
	return j, nil
}

// numberClaim reads a claim that must be a JSON number when present; ok is
// false when it is present and something else. Absent reads as 0.
func numberClaim(raw json.RawMessage) (float64, bool) {
	if raw == nil {
		return 0, true
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false
	}
	f, ok := v.(float64) // a string holding digits is not a number here
	if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// stringClaim reads a claim that must be a JSON string when present.
func stringClaim(raw json.RawMessage, to *string) bool {
	if raw == nil {
		return true
	}
	return json.Unmarshal(raw, to) == nil
}
