package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// Refresh tokens, FusionAuth's /api/jwt/refresh, /api/logout and
// /api/jwt/issue.
//
// A refresh token is 48 random bytes (base64url); only its SHA-256 is
// stored, so a token cannot be shown again after it is issued (FusionAuth's
// retrieve API returns "token"; Latch's leaves it out). Every use checks the
// database in one conditional statement, so a token revoked through any node
// fails on every node at once. The application's (or tenant's) JWT
// configuration decides:
//   - refreshTokenUsagePolicy Reusable: a token serves until it expires or is
//     revoked. OneTimeUse: each exchange rotates it into a new token of the
//     same family (the login's session: the JWT's sid). Of concurrent
//     exchanges of one token, on any number of nodes, exactly one rotates it
//     (one conditional UPDATE; clocks play no part). A rotated token used
//     again revokes its whole family, since one of the two users is a thief,
//     whatever refreshTokenRevocationPolicy.onOneTimeTokenReuse says, the
//     application's or the tenant's (FusionAuth's default leaves the family
//     alive; the policy in force is not read here). The one exception
//     is a retry within refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds
//     while the successor is still unused: it is answered with the successor
//     the first exchange issued (and a new access token), never with a
//     successor of its own, so a retry cannot start a second branch of the
//     session. For that, a successor issued under a grace period keeps its
//     value sealed under the master key until it is used or revoked (only
//     hashes otherwise). Whoever retries within the period holds the same
//     token as the first exchange; if that was a thief, the next exchange of
//     either of them is a reuse and ends the session.
//   - refreshTokenExpirationPolicy Fixed (the login's window), SlidingWindow
//     (each use starts a new window), SlidingWindowWithMaximumLifetime (each
//     use, up to maximumTimeToLiveInMinutes after the login).

// maxRefreshTokenLength bounds a refresh token read from a request; longer
// ones cannot be Latch's and are refused unhashed.
const maxRefreshTokenLength = 1024

func NewRefreshTokenValue() string { return secrets.Token(48) }

// RefreshToken is FusionAuth's RefreshToken, without the token itself.
type RefreshToken struct {
	ID            string     `json:"id"`
	ApplicationID string     `json:"applicationId,omitempty"` // none for an SSO session
	TenantID      string     `json:"tenantId"`
	UserID        string     `json:"userId"`
	InsertInstant int64      `json:"insertInstant"`
	StartInstant  int64      `json:"startInstant"`
	MetaData      kit.Object `json:"metaData"`
}

func refreshTokenView(r *store.RefreshTokenRow) *RefreshToken {
	md, err := kit.ParseObject(r.Data)
	if err != nil || md == nil {
		md = kit.Object{}
	}
	if r.LastAccessedInstant != nil || r.LastAccessedAddress != "" {
		device, _ := md["device"].(kit.Object)
		if device == nil {
			device = kit.Object{}
		}
		if r.LastAccessedInstant != nil {
			device["lastAccessedInstant"] = *r.LastAccessedInstant
		}
		if r.LastAccessedAddress != "" {
			device["lastAccessedAddress"] = r.LastAccessedAddress
		}
		md["device"] = device
	}
	return &RefreshToken{ID: r.ID, ApplicationID: r.ApplicationID, TenantID: r.TenantID, UserID: r.UserID,
		InsertInstant: r.InsertInstant, StartInstant: r.StartInstant, MetaData: md}
}

// RefreshRequest is FusionAuth's RefreshRequest.
type RefreshRequest struct {
	RefreshToken        string `json:"refreshToken"`
	Token               string `json:"token"` // the expired access token; not needed, ignored
	TimeToLiveInSeconds int    `json:"timeToLiveInSeconds"`
}

// RefreshResult is FusionAuth's JWTRefreshResponse, with the TTLs (seconds)
// of its tokens for the cookies the API sets.
type RefreshResult struct {
	Token          string `json:"token"`
	RefreshToken   string `json:"refreshToken,omitempty"`
	RefreshTokenID string `json:"refreshTokenId,omitempty"`
	TokenTTL       int64  `json:"-"`
	RefreshTTL     int64  `json:"-"`
	Scope          string `json:"-"` // the access token's scope (OAuth exchanges)
}

// tokenNotUsable is the answer to a refresh token that is unknown, expired,
// revoked or used (or whose user or application may no longer use it): a
// 400, as FusionAuth answers (its issue #729 settled on 400 over 401).
func tokenNotUsable() error {
	return model.FieldError("refreshToken", "invalid", "The refresh token is expired, unknown or revoked.")
}

// refreshContext is a usable refresh token with what an exchange needs.
type refreshContext struct {
	cur   *store.RefreshTokenRow
	app   *model.ApplicationConfig
	ts    Settings
	user  *store.UserRow
	roles []string
}

// refreshUse is who exchanges a refresh token: the JWT refresh API (zero),
// or an OAuth client (refresh_token grant), which may only use its own
// tokens and needs the grant enabled rather than allowTokenRefresh.
type refreshUse struct {
	clientID string
	issuer   string // the provider's issuer for the tenant (OAuth only)
	dpopJKT  string // the key the request proved with DPoP (OAuth only)
	scope    string // the scope asked for, "" for all the token holds (OAuth only)
}

// loadRefresh reads a refresh token and checks that it, its application and
// its user may still be used by use. A rotated token seen here is a reuse:
// its family is revoked.
func (s *Service) loadRefresh(ctx context.Context, value string, now int64, use refreshUse) (*refreshContext, error) {
	if value == "" || len(value) > maxRefreshTokenLength {
		return nil, tokenNotUsable()
	}
	rd := s.store.Read()
	cur, err := rd.RefreshTokenByHash(ctx, secrets.HashToken(value))
	if errors.Is(err, store.ErrNoRows) {
		return nil, tokenNotUsable()
	}
	if err != nil {
		return nil, err
	}
	if cur.Revoked || cur.ExpiresInstant <= now || (use.clientID != "" && cur.ApplicationID != use.clientID) {
		return nil, tokenNotUsable()
	}
	// A token bound to a DPoP key is usable only with a proof of that key
	// (never through /api/jwt/refresh, which takes no proof).
	if k := refreshDPoPKey(cur.Data); k != "" && k != use.dpopJKT {
		return nil, tokenNotUsable()
	}
	app, err := s.tenancy.LoginApplicationConfig(ctx, cur.ApplicationID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, tokenNotUsable()
	}
	if err != nil {
		return nil, err
	}
	tenant, err := s.tenancy.LoginTenantConfig(ctx, cur.TenantID)
	if err != nil {
		return nil, err
	}
	rc := &refreshContext{cur: cur, app: app, ts: s.SettingsFor(ctx, tenant, app)}
	if cur.RotatedInstant != nil && !rc.ts.withinGrace(*cur.RotatedInstant, now) {
		return nil, s.reuseDetected(ctx, cur)
	}
	allowed := app.LoginConfiguration.AllowTokenRefresh
	if use.clientID != "" {
		allowed = slices.Contains(app.OAuthConfiguration.EnabledGrants, model.GrantRefreshToken)
	}
	if !app.Active || !allowed {
		return nil, tokenNotUsable()
	}
	user, err := rd.UserRowByID(ctx, cur.UserID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, tokenNotUsable()
	}
	if err != nil {
		return nil, err
	}
	if exp := kit.UserExpiry(user); !user.Active || (exp != 0 && exp <= now) {
		return nil, tokenNotUsable()
	}
	roles, registered, err := kit.EffectiveRoles(ctx, s.store.Read(), user.ID, app.ID)
	if err != nil {
		return nil, err
	}
	if !registered {
		return nil, tokenNotUsable()
	}
	// The family's login, not this row: a rotated successor is as old as it.
	cutoff, err := rd.TokenCutoff(ctx, user.ID, app.ID)
	if err != nil {
		return nil, err
	}
	if endedBefore(cur.AuthInstant, cutoff, false) {
		return nil, tokenNotUsable()
	}
	rc.user, rc.roles = user, roles
	return rc, nil
}

// reuseDetected revokes the family of a rotated token that was used again,
// and audits it; of concurrent reuses, the one that revoked the family.
func (s *Service) reuseDetected(ctx context.Context, cur *store.RefreshTokenRow) error {
	n := 0
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		revoked, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{FamilyID: cur.FamilyID})
		if n = len(revoked); err != nil || n == 0 {
			return err
		}
		return s.audit.Write(ctx, tx, kit.Actor{Type: kit.ActorSystem, Name: "refresh token reuse detection"}, audit.Change{
			Message:  fmt.Sprintf("Revoked %d refresh tokens of session %s: rotated refresh token %s was used again", n, cur.FamilyID, cur.ID),
			TargetID: cur.UserID, Data: map[string]any{"familyId": cur.FamilyID, "applicationId": cur.ApplicationID, "tokenId": cur.ID},
		})
	})
	if err != nil {
		return err
	}
	if n > 0 {
		s.metrics.RefreshReuse()
		s.log.WarnContext(ctx, "refresh token reuse: session revoked", "user", cur.UserID, "session", cur.FamilyID)
	}
	return tokenNotUsable()
}

// ExchangeRefreshToken is FusionAuth's POST /api/jwt/refresh: a new access
// token for a refresh token, and under OneTimeUse a new refresh token in
// place of the one used. Of concurrent exchanges of one one-time token, on
// any nodes, exactly one rotates it; the others are a reuse, or under a
// grace period a retry answered with the same new token. A token that
// cannot be used is a 400 ([invalid]refreshToken), whatever the reason.
func (s *Service) ExchangeRefreshToken(ctx context.Context, req RefreshRequest, ip string) (*RefreshResult, error) {
	res, row, err := s.exchangeRefresh(ctx, req, ip, refreshUse{})
	if err == nil && row != nil && s.audit.Wants(model.EventJWTRefresh, row.TenantID) {
		// jwt.refresh, in a transaction of its own as login events: it cannot
		// veto the refresh. Token values are left out of it (FusionAuth sends
		// them): a webhook receiver has no use for credentials.
		ev := model.Event{Type: model.EventJWTRefresh, TenantID: row.TenantID, UserID: row.UserID,
			Body: map[string]any{"userId": row.UserID, "applicationId": row.ApplicationID}}
		if eerr := s.audit.Emit(ctx, kit.Actor{IP: ip}, ev); eerr != nil {
			s.log.WarnContext(ctx, "jwt.refresh event not written", "err", eerr)
		}
	}
	return res, err
}

// revokeEvents are the jwt.refresh-token.revoke events of revoked tokens:
// one per user (FusionAuth's JWTRefreshTokenRevokeEvent), with the
// application when the revocation named one.
func revokeEvents(revoked []*store.RefreshTokenRow, applicationID string) []model.Event {
	var evs []model.Event
	seen := map[string]bool{}
	for _, r := range revoked {
		if seen[r.UserID] {
			continue
		}
		seen[r.UserID] = true
		body := map[string]any{"userId": r.UserID}
		if applicationID != "" {
			body["applicationId"] = applicationID
		}
		evs = append(evs, model.Event{Type: model.EventJWTRefreshTokenRevoke, TenantID: r.TenantID, UserID: r.UserID, Body: body})
	}
	return evs
}

// exchangeRefresh is ExchangeRefreshToken for a caller (use); it also
// returns the token's row as read (its user, family and data).
func (s *Service) exchangeRefresh(ctx context.Context, req RefreshRequest, ip string, use refreshUse) (*RefreshResult, *store.RefreshTokenRow, error) {
	if req.RefreshToken == "" {
		return nil, nil, model.FieldError("refreshToken", "blank", "A refresh token is required.")
	}
	now := s.now()
	rc, err := s.loadRefresh(ctx, req.RefreshToken, now, use)
	if err != nil {
		return nil, nil, err
	}
	cur, ts := rc.cur, rc.ts
	if use.issuer != "" {
		ts.issuer = use.issuer
	}
	claims := UserClaims(rc.user, ts, rc.app.ID, true, rc.roles, AuthTypeRefreshToken, cur.AuthInstant, now, cur.FamilyID)
	if use.clientID != "" {
		// Checked before anything is written: a refused request neither
		// rotates nor touches the token.
		scope, ok := narrowScope(refreshScope(cur.Data), use.scope)
		if !ok {
			return nil, nil, ErrOAuthScopeWidened
		}
		claims.Scope, claims.Cnf = scope, confirmation(use.dpopJKT)
	}
	ttl := ts.TTLSeconds
	if t := int64(req.TimeToLiveInSeconds); t > 0 && t < ttl {
		ttl = t
		claims.Exp = now/1000 + t
	}
	token, err := s.SignClaims(ts, claims)
	if err != nil {
		return nil, nil, err
	}
	res := &RefreshResult{Token: token, TokenTTL: ttl, Scope: claims.Scope}
	start, expires := ts.RefreshWindow(now, cur.AuthInstant, cur.StartInstant, cur.ExpiresInstant)
	hash := secrets.HashToken(req.RefreshToken)

	if ts.usagePolicy != refreshOneTimeUse {
		used, err := s.store.Read().UseRefreshToken(ctx, hash, now, start, expires, ip)
		if errors.Is(err, store.ErrNoRows) {
			return nil, nil, tokenNotUsable()
		}
		if err != nil {
			return nil, nil, err
		}
		res.RefreshToken, res.RefreshTokenID, res.RefreshTTL = req.RefreshToken, used.ID, (used.ExpiresInstant-now)/1000
		return res, cur, nil
	}

	if cur.RotatedInstant == nil {
		value := NewRefreshTokenValue()
		next := &store.RefreshTokenRow{ID: uuid.NewString(), TokenHash: secrets.HashToken(value), FamilyID: cur.FamilyID,
			UserID: cur.UserID, ApplicationID: cur.ApplicationID, TenantID: cur.TenantID, AuthInstant: cur.AuthInstant,
			StartInstant: start, ExpiresInstant: expires, LastAccessedInstant: &now, LastAccessedAddress: ip, Data: cur.Data,
			InsertInstant: now}
		if ts.graceSeconds > 0 {
			next.SealedValue = s.master.Seal(value, refreshTokenAD(next.ID))
		}
		won := false
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.RotateRefreshToken(ctx, hash, now, ip, next.ID)
			if errors.Is(err, store.ErrNoRows) {
				return nil // another exchange won, or the token was revoked meanwhile
			}
			if err != nil {
				return err
			}
			won = true
			return tx.InsertRefreshToken(ctx, next)
		})
		if err != nil {
			return nil, nil, err
		}
		if won {
			res.RefreshToken, res.RefreshTokenID, res.RefreshTTL = value, next.ID, (expires-now)/1000
			return res, cur, nil
		}
	}
	value, next, err := s.retryRotation(ctx, hash, ts, now)
	if err != nil {
		return nil, nil, err
	}
	res.RefreshToken, res.RefreshTokenID, res.RefreshTTL = value, next.ID, (next.ExpiresInstant-now)/1000
	return res, cur, nil
}

// refreshTokenAD binds a sealed refresh token value to its row.
func refreshTokenAD(id string) string { return "refresh_token:" + id }

// withinGrace reports whether a token rotated at rotated may still be
// retried at now. Without a grace period it may not, whatever the clocks
// of the nodes involved say.
func (ts Settings) withinGrace(rotated, now int64) bool {
	return ts.graceSeconds > 0 && rotated > now-ts.graceSeconds*1000
}

// retryRotation answers an exchange of a one-time token that another
// exchange (on any node) already rotated. Within the grace period, while the
// successor that exchange issued is unused, it is the successor's value and
// row: the retry gets what the first exchange got, and no second branch
// starts. Anything else is a reuse, which revokes the family.
func (s *Service) retryRotation(ctx context.Context, hash string, ts Settings, now int64) (string, *store.RefreshTokenRow, error) {
	rd := s.store.Read()
	cur, err := rd.RefreshTokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNoRows) {
		return "", nil, tokenNotUsable()
	}
	if err != nil {
		return "", nil, err
	}
	if cur.Revoked || cur.RotatedInstant == nil || cur.ExpiresInstant <= now {
		return "", nil, tokenNotUsable() // revoked or expired meanwhile
	}
	if !ts.withinGrace(*cur.RotatedInstant, now) || cur.SuccessorID == "" {
		return "", nil, s.reuseDetected(ctx, cur)
	}
	next, err := rd.RefreshTokenByID(ctx, cur.SuccessorID)
	if errors.Is(err, store.ErrNoRows) {
		return "", nil, s.reuseDetected(ctx, cur)
	}
	if err != nil {
		return "", nil, err
	}
	if next.Revoked || next.RotatedInstant != nil || next.ExpiresInstant <= now || next.SealedValue == "" || next.FamilyID != cur.FamilyID {
		return "", nil, s.reuseDetected(ctx, cur) // the successor is in use: this is no retry
	}
	value, err := s.master.Open(next.SealedValue, refreshTokenAD(next.ID))
	if err != nil {
		return "", nil, fmt.Errorf("refresh token %s: %w", next.ID, err)
	}
	return value, next, nil
}

// Logout is FusionAuth's POST /api/logout: it revokes the refresh token's
// session (the token and its family), and with global every refresh token
// of its user. A JWT's subject (jwtUser) names the user of a global logout
// made without a refresh token. Unknown tokens are no error: a logout always
// succeeds.
func (s *Service) Logout(ctx context.Context, refreshToken string, global bool, jwtUser string) error {
	var f store.RefreshTokenFilter
	if refreshToken != "" && len(refreshToken) <= maxRefreshTokenLength {
		cur, err := s.store.Read().RefreshTokenByHash(ctx, secrets.HashToken(refreshToken))
		switch {
		case errors.Is(err, store.ErrNoRows):
		case err != nil:
			return err
		case global:
			f.UserID = cur.UserID
		default:
			f.FamilyID = cur.FamilyID
		}
	}
	if f.UserID == "" && f.FamilyID == "" && global && jwtUser != "" {
		f.UserID = jwtUser
	}
	if f.UserID == "" && f.FamilyID == "" {
		return nil
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.RevokeRefreshTokens(ctx, f)
		return err
	})
}

// RevokeUserRefreshTokens revokes every refresh token of a user, in the
// caller's transaction (for password changes, deactivation…). It returns
// how many it revoked.
func (s *Service) RevokeUserRefreshTokens(ctx context.Context, tx *store.Tx, userID string) (int, error) {
	revoked, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{UserID: userID})
	return len(revoked), err
}

// RefreshTokensOfUser lists a user's usable refresh tokens (GET
// /api/jwt/refresh?userId=); ErrNotFound for a user outside the scope.
func (s *Service) RefreshTokensOfUser(ctx context.Context, scope kit.TenantScope, userID string) ([]*RefreshToken, error) {
	rd := s.store.Read()
	row, err := kit.LoadUser(ctx, rd, scope, userID)
	if err != nil {
		return nil, err
	}
	rows, err := rd.ActiveRefreshTokens(ctx, store.RefreshTokenFilter{UserID: row.ID, TenantIDs: scope.Tenants}, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]*RefreshToken, 0, len(rows))
	for _, r := range rows {
		out = append(out, refreshTokenView(r))
	}
	sso, err := s.ssoSessionsOfUser(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	return append(out, sso...), nil
}

// RefreshTokenByID is one usable refresh token (GET /api/jwt/refresh/{id});
// ErrNotFound when it is unknown, not usable or outside the scope.
func (s *Service) RefreshTokenByID(ctx context.Context, scope kit.TenantScope, id string) (*RefreshToken, error) {
	cid, ok := kit.CanonicalID(id)
	if !ok {
		return nil, model.NotFoundf("refresh token %q", id)
	}
	rows, err := s.store.Read().ActiveRefreshTokens(ctx, store.RefreshTokenFilter{ID: cid, TenantIDs: scope.Tenants}, s.now())
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		sso, err := s.ssoSessionByID(ctx, scope, cid)
		if err != nil {
			return nil, err
		}
		if sso == nil {
			return nil, model.NotFoundf("refresh token %s", cid)
		}
		return ssoSessionView(sso), nil
	}
	return refreshTokenView(rows[0]), nil
}

// RevokeRefreshTokensRequest is FusionAuth's RefreshTokenRevokeRequest, with
// the token id of DELETE /api/jwt/refresh/{tokenId}.
type RevokeRefreshTokensRequest struct {
	TokenID       string `json:"-"`
	Token         string `json:"token"`
	UserID        string `json:"userId"`
	ApplicationID string `json:"applicationId"`
}

// RevokeRefreshTokens is FusionAuth's DELETE /api/jwt/refresh: by token id,
// by token, or every token of a user, of an application, or of a user for
// an application. Unknown (or invisible) tokens, users and applications are
// ErrNotFound. The revocation is audited with its count. An SSO session is
// revoked by its id, and with every token of a user (not by application,
// which it does not belong to).
func (s *Service) RevokeRefreshTokens(ctx context.Context, actor kit.Actor, scope kit.TenantScope, req RevokeRefreshTokensRequest) error {
	rd := s.store.Read()
	f := store.RefreshTokenFilter{TenantIDs: scope.Tenants}
	var what, target string
	var ssoUser string // whose SSO sessions end too (every token of a user)
	switch {
	case req.TokenID != "" || strings.TrimSpace(req.Token) != "":
		var row *store.RefreshTokenRow
		var err error
		if req.TokenID != "" {
			cid, ok := kit.CanonicalID(req.TokenID)
			if !ok {
				return model.NotFoundf("refresh token %q", req.TokenID)
			}
			row, err = rd.RefreshTokenByID(ctx, cid)
			if errors.Is(err, store.ErrNoRows) {
				sso, err := s.ssoSessionByID(ctx, scope, cid)
				if err != nil {
					return err
				}
				if sso != nil {
					return s.endSSOSessions(ctx, actor, sso.ID, "", sso.UserID)
				}
			}
		} else if len(req.Token) <= maxRefreshTokenLength {
			row, err = rd.RefreshTokenByHash(ctx, secrets.HashToken(req.Token))
		} else {
			err = store.ErrNoRows
		}
		if errors.Is(err, store.ErrNoRows) || (err == nil && !scope.CanSee(row.TenantID)) {
			return model.NotFoundf("refresh token")
		}
		if err != nil {
			return err
		}
		f.ID, what, target = row.ID, "refresh token "+row.ID+" of user "+row.UserID, row.UserID
	case req.UserID != "" || req.ApplicationID != "":
		if req.UserID != "" {
			row, err := kit.LoadUser(ctx, rd, scope, req.UserID)
			if err != nil {
				return err
			}
			f.UserID, what, target = row.ID, "user "+kit.UserLabel(row), row.ID
			ssoUser = row.ID
		}
		if req.ApplicationID != "" {
			cid, ok := kit.CanonicalID(req.ApplicationID)
			if !ok {
				return model.NotFoundf("application %q", req.ApplicationID)
			}
			tenantID, err := rd.ApplicationTenantID(ctx, cid)
			if errors.Is(err, store.ErrNoRows) || (err == nil && !scope.CanSee(tenantID)) {
				return model.NotFoundf("application %s", cid)
			}
			if err != nil {
				return err
			}
			f.ApplicationID, ssoUser = cid, ""
			if what == "" {
				what, target = "application "+cid, cid
			} else {
				what += " for application " + cid
			}
		}
	default:
		return model.GeneralError("invalid", "Name the refresh tokens to revoke: a tokenId, a token, a userId and/or an applicationId.")
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		revoked, err := tx.RevokeRefreshTokens(ctx, f)
		if err != nil || len(revoked) == 0 {
			return err
		}
		ids := make([]string, 0, min(len(revoked), 100))
		for _, r := range revoked[:min(len(revoked), 100)] {
			ids = append(ids, r.ID)
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Revoked %d refresh tokens: %s", len(revoked), what),
			TargetID: target, Data: map[string]any{"count": len(revoked), "tokenIds": ids}, Events: revokeEvents(revoked, f.ApplicationID)})
	})
	if err != nil || ssoUser == "" {
		return err
	}
	return s.endSSOSessions(ctx, actor, "", ssoUser, ssoUser)
}

// endSSOSessions ends one SSO session (id) or every one of a user (userID),
// audited in the same transaction when any ended.
func (s *Service) endSSOSessions(ctx context.Context, actor kit.Actor, id, userID, target string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		var n int64
		var err error
		if id != "" {
			var owner string
			if owner, err = tx.DeleteOAuthSession(ctx, id); owner != "" {
				n = 1
			}
		} else {
			n, err = tx.DeleteUserOAuthSessions(ctx, userID)
		}
		if err != nil || n == 0 {
			return err
		}
		msg := fmt.Sprintf("Ended %d SSO sessions of user %s", n, target)
		if id != "" {
			msg = fmt.Sprintf("Ended SSO session %s of user %s", id, target)
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: msg, TargetID: target, Data: map[string]any{"count": n}})
	})
}

// IssueResult is FusionAuth's IssueResponse.
type IssueResult struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refreshToken,omitempty"`
	TokenTTL     int64  `json:"-"`
	RefreshTTL   int64  `json:"-"`
}

// IssueJWT is FusionAuth's GET /api/jwt/issue: from a valid access token, a
// token for another application of the same tenant the user is registered
// for, expiring when the given one does. With a usable refresh token of the
// same user, and when the application generates refresh tokens, a refresh
// token for it too (a new session with the original login's auth_time).
func (s *Service) IssueJWT(ctx context.Context, token, rawAppID, refreshToken, ip string) (*IssueResult, error) {
	src, err := s.ValidateJWT(ctx, token)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(rawAppID) == "" {
		return nil, model.FieldError("applicationId", "blank", "An applicationId is required.")
	}
	appID, ok := kit.CanonicalID(rawAppID)
	if !ok {
		return nil, model.FieldError("applicationId", "invalid", "[applicationId] must be a UUID.")
	}
	rd := s.store.Read()
	user, err := rd.UserRowByID(ctx, src.Subject)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	app, err := s.tenancy.LoginApplicationConfig(ctx, appID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && (!app.Active || app.TenantID != user.TenantID)) {
		return nil, model.FieldError("applicationId", "invalid", "The application does not exist or is not active.")
	}
	if err != nil {
		return nil, err
	}
	roles, registered, err := kit.EffectiveRoles(ctx, s.store.Read(), user.ID, app.ID)
	if err != nil {
		return nil, err
	}
	if !registered {
		return nil, model.GeneralError("UserNotRegistered", "The user is not registered for the application.")
	}
	tenant, err := s.tenancy.LoginTenantConfig(ctx, user.TenantID)
	if err != nil {
		return nil, err
	}
	ts := s.SettingsFor(ctx, tenant, app)
	now := s.now()
	authTime := int64(src.AuthTime * 1000)
	if authTime == 0 {
		authTime = now
	}
	res := &IssueResult{}
	var next *store.RefreshTokenRow
	if refreshToken != "" && app.LoginConfiguration.GenerateRefreshTokens && len(refreshToken) <= maxRefreshTokenLength {
		cur, err := rd.RefreshTokenByHash(ctx, secrets.HashToken(refreshToken))
		if err == nil && cur.UserID == user.ID && !cur.Revoked && cur.RotatedInstant == nil && cur.ExpiresInstant > now {
			value := NewRefreshTokenValue()
			start, expires := ts.RefreshWindow(now, cur.AuthInstant, 0, 0)
			next = &store.RefreshTokenRow{ID: uuid.NewString(), TokenHash: secrets.HashToken(value), UserID: user.ID,
				ApplicationID: app.ID, TenantID: user.TenantID, AuthInstant: cur.AuthInstant, StartInstant: start,
				ExpiresInstant: expires, LastAccessedAddress: ip, Data: cur.Data, InsertInstant: now}
			next.FamilyID = next.ID
			res.RefreshToken, res.RefreshTTL = value, (expires-now)/1000
		} else if err != nil && !errors.Is(err, store.ErrNoRows) {
			return nil, err
		}
	}
	sid := src.SessionID
	if next != nil {
		sid = next.FamilyID
	}
	c := UserClaims(user, ts, app.ID, true, roles, AuthTypeJWTSSO, authTime, now, sid)
	c.Exp = int64(src.Expires)
	if res.Token, err = s.SignClaims(ts, c); err != nil {
		return nil, err
	}
	res.TokenTTL = max(c.Exp-now/1000, 0)
	if next != nil {
		if err := s.store.InTx(ctx, func(tx *store.Tx) error { return tx.InsertRefreshToken(ctx, next) }); err != nil {
			return nil, fmt.Errorf("store refresh token: %w", err)
		}
	}
	return res, nil
}

// MetaDataJSON encodes a refresh token's metaData for storage.
func MetaDataJSON(md map[string]any) string {
	if md == nil {
		return ""
	}
	b, err := json.Marshal(md)
	if err != nil {
		return ""
	}
	return string(b)
}
