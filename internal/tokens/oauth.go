package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// Tokens for the OAuth provider (internal/oauth, through the adapter in
// internal/app): the access token of a grant with FusionAuth's claims and
// the granted scope, a refresh token under the application's policies, and
// the exchange of one by its own client.

// OAuthGrant is what a token request was granted.
type OAuthGrant struct {
	UserID        string
	ApplicationID string
	AuthType      string // FusionAuth's authenticationType
	AuthInstant   int64  // epoch ms of the sign-in
	Scope         string // space-separated, as granted
	SessionID     string // the SSO session (kept with the refresh token for ID tokens)
	Issuer        string // the provider's issuer for the tenant (its discovery's)
	Refresh       bool   // issue a refresh token too
	IP            string
	DPoPJKT       string // binds the access token to a DPoP key (cnf.jkt)
	BindRefresh   bool   // binds the refresh token to DPoPJKT too (public clients)
	// CodeHash is the authorization code exchanged, if any: it is used
	// (once, on any node) in the refresh token's transaction, its row
	// naming the token so that a replay of the code can revoke it.
	CodeHash string
}

// OAuthTokens is what a grant issued.
type OAuthTokens struct {
	AccessToken    string
	ExpiresIn      int64 // seconds
	RefreshToken   string
	RefreshTokenID string
	UserID         string
	TenantID       string
	Scope          string
	AuthInstant    int64 // epoch ms
	SessionID      string
	DPoPJKT        string // the DPoP key the access token is bound to
}

// ErrOAuthGrantRefused: the user may not (or no longer) get tokens for the
// application: inactive, expired or gone, or the application is inactive.
var ErrOAuthGrantRefused = errors.New("grant refused")

// ErrOAuthCodeReplayed: the grant's code was used meanwhile (a concurrent
// exchange of the same code won); nothing was issued.
var ErrOAuthCodeReplayed = errors.New("authorization code replayed")

// IssueOAuthTokens signs an access token for a grant and, when asked,
// stores a refresh token whose data keeps the scopes (as FusionAuth's
// refresh token metaData.scopes) for later exchanges.
func (s *Service) IssueOAuthTokens(ctx context.Context, g OAuthGrant) (*OAuthTokens, error) {
	now := s.now()
	app, err := s.tenancy.LoginApplicationConfig(ctx, g.ApplicationID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, ErrOAuthGrantRefused
	}
	if err != nil {
		return nil, err
	}
	if !app.Active {
		return nil, ErrOAuthGrantRefused
	}
	tenant, err := s.tenancy.LoginTenantConfig(ctx, app.TenantID)
	if err != nil {
		return nil, err
	}
	ts := s.SettingsFor(ctx, tenant, app)
	if g.Issuer != "" {
		ts.issuer = g.Issuer
	}
	row, err := s.store.Read().UserRowByID(ctx, g.UserID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, ErrOAuthGrantRefused
	}
	if err != nil {
		return nil, err
	}
	if exp := kit.UserExpiry(row); !row.Active || row.TenantID != app.TenantID || (exp != 0 && exp <= now) {
		return nil, ErrOAuthGrantRefused
	}
	// A sign-in from before the user's sessions for the application were
	// ended (deactivation, a deleted registration, a password change) grants
	// nothing: a code or device grant it left is refused, as its refresh
	// token would be.
	cutoff, err := s.store.Read().TokenCutoff(ctx, row.ID, app.ID)
	if err != nil {
		return nil, err
	}
	if endedBefore(g.AuthInstant, cutoff, false) {
		return nil, ErrOAuthGrantRefused
	}
	roles, registered, err := kit.EffectiveRoles(ctx, s.store.Read(), row.ID, app.ID)
	if err != nil {
		return nil, err
	}
	out := &OAuthTokens{UserID: row.ID, TenantID: row.TenantID, Scope: g.Scope, AuthInstant: g.AuthInstant,
		SessionID: g.SessionID, ExpiresIn: ts.TTLSeconds, DPoPJKT: g.DPoPJKT}
	sid := "" // the refresh token's session: none without a refresh token
	if g.Refresh && registered {
		value := NewRefreshTokenValue()
		start, expires := ts.RefreshWindow(now, g.AuthInstant, 0, 0)
		d := map[string]any{"scopes": strings.Fields(g.Scope), "sid": g.SessionID}
		if g.BindRefresh && g.DPoPJKT != "" {
			d["dpopJkt"] = g.DPoPJKT
		}
		data, _ := json.Marshal(d)
		refresh := &store.RefreshTokenRow{ID: uuid.NewString(), TokenHash: secrets.HashToken(value), UserID: row.ID,
			ApplicationID: app.ID, TenantID: row.TenantID, AuthInstant: g.AuthInstant, StartInstant: start,
			ExpiresInstant: expires, LastAccessedAddress: g.IP, Data: string(data), InsertInstant: now}
		refresh.FamilyID = refresh.ID
		if err := s.store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.DeleteExpiredRefreshTokens(ctx, row.ID, now); err != nil {
				return err
			}
			if err := tx.InsertRefreshToken(ctx, refresh); err != nil {
				return err
			}
			return useCode(ctx, tx, g.CodeHash, refresh.ID, now)
		}); errors.Is(err, ErrOAuthCodeReplayed) {
			return nil, err
		} else if err != nil {
			return nil, fmt.Errorf("store refresh token: %w", err)
		}
		out.RefreshToken, out.RefreshTokenID = value, refresh.ID
		sid = refresh.FamilyID
	} else if err := useCode(ctx, s.store.Read(), g.CodeHash, "", now); err != nil {
		return nil, err
	}
	c := UserClaims(row, ts, app.ID, registered, roles, g.AuthType, g.AuthInstant, now, sid)
	c.Scope, c.Cnf = g.Scope, confirmation(g.DPoPJKT)
	if g.CodeHash != "" {
		c.Jti = codeTokenID(g.CodeHash) // a replay of the code revokes it by this id
	}
	if out.AccessToken, err = s.SignClaims(ts, c); err != nil {
		return nil, err
	}
	return out, nil
}

// useCode uses the grant's authorization code, if any, recording the
// refresh token it issued; ErrOAuthCodeReplayed when another use won.
func useCode(ctx context.Context, tx *store.Tx, codeHash, refreshTokenID string, now int64) error {
	if codeHash == "" {
		return nil
	}
	ok, err := tx.UseOAuthCode(ctx, codeHash, refreshTokenID, now)
	if err == nil && !ok {
		err = ErrOAuthCodeReplayed
	}
	return err
}

// ErrOAuthScopeWidened: a refresh asked for a scope its refresh token was
// not granted; nothing was changed.
var ErrOAuthScopeWidened = errors.New("scope wider than granted")

// ExchangeOAuthRefreshToken is the refresh_token grant: the refresh token
// must be the client's own, the application must enable the grant, and the
// application's rotation and reuse rules apply as on /api/jwt/refresh. A
// token that cannot be used is model.Errors (invalid_grant to the client).
// jkt is the key of the request's DPoP proof ("" without one): it binds
// the new access token, and must be the key a bound refresh token names.
// scope ("" for all the token holds) narrows the new access token's scope
// (RFC 6749 6), never the refresh token's; ErrOAuthScopeWidened when it
// asks for more.
func (s *Service) ExchangeOAuthRefreshToken(ctx context.Context, value, clientID, issuer, ip, jkt, scope string) (*OAuthTokens, error) {
	if clientID == "" {
		return nil, tokenNotUsable()
	}
	use := refreshUse{clientID: clientID, issuer: issuer, dpopJKT: jkt, scope: scope}
	res, cur, err := s.exchangeRefresh(ctx, RefreshRequest{RefreshToken: value}, ip, use)
	if err != nil {
		return nil, err
	}
	return &OAuthTokens{AccessToken: res.Token, ExpiresIn: res.TokenTTL, RefreshToken: res.RefreshToken,
		RefreshTokenID: res.RefreshTokenID, UserID: cur.UserID, TenantID: cur.TenantID, Scope: res.Scope,
		AuthInstant: cur.AuthInstant, SessionID: refreshSession(cur.Data), DPoPJKT: jkt}, nil
}

// narrowScope is the scope a refresh asks for within the one granted (all
// of it when it asks for none); ok is false when it asks for one not granted.
func narrowScope(granted, asked string) (string, bool) {
	if strings.TrimSpace(asked) == "" {
		return granted, true
	}
	have := strings.Fields(granted)
	var out []string
	for _, sc := range strings.Fields(asked) {
		if !slices.Contains(have, sc) {
			return "", false
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, " "), true
}

// RevokeOAuthRefreshToken revokes a refresh token (and its family) if it is
// the client's own; it reports whether one was revoked. Unknown tokens are
// no error (RFC 7009).
func (s *Service) RevokeOAuthRefreshToken(ctx context.Context, value, clientID string) (bool, error) {
	if value == "" || len(value) > maxRefreshTokenLength {
		return false, nil
	}
	cur, err := s.store.Read().RefreshTokenByHash(ctx, secrets.HashToken(value))
	if errors.Is(err, store.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if cur.ApplicationID != clientID {
		return false, nil
	}
	_, err = s.store.Read().RevokeRefreshTokens(ctx, store.RefreshTokenFilter{FamilyID: cur.FamilyID})
	return true, err
}

// refreshScope is the scope kept in a refresh token's data.
func refreshScope(data string) string {
	var v struct {
		Scopes []string `json:"scopes"`
	}
	if json.Unmarshal([]byte(data), &v) != nil {
		return ""
	}
	return strings.Join(slices.Compact(v.Scopes), " ")
}

// refreshDPoPKey is the DPoP key a refresh token is bound to ("" for none).
func refreshDPoPKey(data string) string {
	var v struct {
		JKT string `json:"dpopJkt"`
	}
	_ = json.Unmarshal([]byte(data), &v)
	return v.JKT
}

// refreshSession is the SSO session a refresh token's grant came from ("" for
// grants without one), so that refreshed ID tokens keep their sid.
func refreshSession(data string) string {
	var v struct {
		Sid string `json:"sid"`
	}
	_ = json.Unmarshal([]byte(data), &v)
	return v.Sid
}
