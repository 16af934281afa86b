package store

import (
	"context"
	"database/sql"
	"errors"
)

// Storage of the OAuth provider: SSO sessions and authorization codes
// (migration 0020). Values are stored as SHA-256 hashes only.

// OAuthSession is an SSO session row.
type OAuthSession struct {
	ID             string
	TokenHash      string
	UserID         string
	TenantID       string
	AuthInstant    int64
	AuthType       string
	KeepSignedIn   bool
	ExpiresInstant int64
	InsertInstant  int64
}

const oauthSessionColumns = "id, token_hash, user_id, tenant_id, auth_instant, auth_type, keep_signed_in, expires_instant, insert_instant"

// InsertOAuthSession stores a new SSO session.
func (tx *Tx) InsertOAuthSession(ctx context.Context, s *OAuthSession) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO oauth_sessions ("+oauthSessionColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		s.ID, s.TokenHash, s.UserID, s.TenantID, s.AuthInstant, s.AuthType, s.KeepSignedIn, s.ExpiresInstant, s.InsertInstant)
	return err
}

// OAuthSessionByHash reads an unexpired SSO session by its cookie's hash.
func (tx *Tx) OAuthSessionByHash(ctx context.Context, hash string, now int64) (*OAuthSession, error) {
	var s OAuthSession
	err := tx.q.QueryRowContext(ctx, "SELECT "+oauthSessionColumns+" FROM oauth_sessions WHERE token_hash = $1 AND expires_instant > $2",
		hash, now).Scan(&s.ID, &s.TokenHash, &s.UserID, &s.TenantID, &s.AuthInstant, &s.AuthType, &s.KeepSignedIn, &s.ExpiresInstant, &s.InsertInstant)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// OAuthSessionsOfUser lists a user's unexpired SSO sessions, oldest first.
func (tx *Tx) OAuthSessionsOfUser(ctx context.Context, userID string, now int64) ([]*OAuthSession, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+oauthSessionColumns+" FROM oauth_sessions WHERE user_id = $1 AND expires_instant > $2 ORDER BY insert_instant, id",
		userID, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OAuthSession
	for rows.Next() {
		var s OAuthSession
		if err := rows.Scan(&s.ID, &s.TokenHash, &s.UserID, &s.TenantID, &s.AuthInstant, &s.AuthType, &s.KeepSignedIn, &s.ExpiresInstant, &s.InsertInstant); err != nil {
			return nil, err
		}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// OAuthSessionByID reads an unexpired SSO session by id; ErrNoRows when none.
func (tx *Tx) OAuthSessionByID(ctx context.Context, id string, now int64) (*OAuthSession, error) {
	var s OAuthSession
	err := tx.q.QueryRowContext(ctx, "SELECT "+oauthSessionColumns+" FROM oauth_sessions WHERE id = $1 AND expires_instant > $2",
		id, now).Scan(&s.ID, &s.TokenHash, &s.UserID, &s.TenantID, &s.AuthInstant, &s.AuthType, &s.KeepSignedIn, &s.ExpiresInstant, &s.InsertInstant)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// ExtendOAuthSession moves a session's expiry (sliding inactivity window).
func (tx *Tx) ExtendOAuthSession(ctx context.Context, id string, expires int64) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE oauth_sessions SET expires_instant = $2 WHERE id = $1 AND expires_instant < $2", id, expires)
	return err
}

// DeleteOAuthSession ends one SSO session by id; it returns the user it
// belonged to ("" when there was none).
func (tx *Tx) DeleteOAuthSession(ctx context.Context, id string) (string, error) {
	var user string
	err := tx.q.QueryRowContext(ctx, "DELETE FROM oauth_sessions WHERE id = $1 RETURNING user_id", id).Scan(&user)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return user, err
}

// DeleteUserOAuthSessions ends every SSO session of a user.
func (tx *Tx) DeleteUserOAuthSessions(ctx context.Context, userID string) (int64, error) {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM oauth_sessions WHERE user_id = $1", userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// OAuthCode is an authorization code row.
type OAuthCode struct {
	CodeHash       string
	ClientID       string
	TenantID       string
	UserID         string
	SessionID      string
	RedirectURI    string
	Scope          string
	Nonce          string
	CodeChallenge  string
	DPoPJKT        string // the key a DPoP-bound code's exchange must prove
	AuthInstant    int64
	AuthType       string
	ExpiresInstant int64
	InsertInstant  int64
	// Read back only:
	RefreshTokenID string
}

const oauthCodeColumns = "code_hash, client_id, tenant_id, user_id, session_id, redirect_uri, scope, nonce, code_challenge, " +
	"auth_instant, auth_type, expires_instant, insert_instant, refresh_token_id, dpop_jkt"

func scanOAuthCode(row *sql.Row) (*OAuthCode, error) {
	var c OAuthCode
	if err := row.Scan(&c.CodeHash, &c.ClientID, &c.TenantID, &c.UserID, &c.SessionID, &c.RedirectURI, &c.Scope, &c.Nonce,
		&c.CodeChallenge, &c.AuthInstant, &c.AuthType, &c.ExpiresInstant, &c.InsertInstant, &c.RefreshTokenID, &c.DPoPJKT); err != nil {
		return nil, err
	}
	return &c, nil
}

// InsertOAuthCode stores a new authorization code.
func (tx *Tx) InsertOAuthCode(ctx context.Context, c *OAuthCode) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_codes (code_hash, client_id, tenant_id, user_id, session_id, redirect_uri,
		scope, nonce, code_challenge, auth_instant, auth_type, expires_instant, insert_instant, dpop_jkt)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.CodeHash, c.ClientID, c.TenantID, c.UserID, c.SessionID, c.RedirectURI, c.Scope, c.Nonce, c.CodeChallenge,
		c.AuthInstant, c.AuthType, c.ExpiresInstant, c.InsertInstant, c.DPoPJKT)
	return err
}

// ConsumeOAuthCode marks an unused, unexpired code used and returns it, in
// one statement: of concurrent exchanges of one code, on any nodes, exactly
// one gets it. ErrNoRows for an unknown, expired or used code.
func (tx *Tx) ConsumeOAuthCode(ctx context.Context, hash string, now int64) (*OAuthCode, error) {
	return scanOAuthCode(tx.q.QueryRowContext(ctx, `UPDATE oauth_codes SET used_instant = $2
		WHERE code_hash = $1 AND used_instant IS NULL AND expires_instant > $2 RETURNING `+oauthCodeColumns, hash, now))
}

// OAuthCodeByHash reads an unused, unexpired code without using it (the
// exchange checks it first, then uses it with UseOAuthCode). ErrNoRows
// otherwise.
func (tx *Tx) OAuthCodeByHash(ctx context.Context, hash string, now int64) (*OAuthCode, error) {
	return scanOAuthCode(tx.q.QueryRowContext(ctx, `SELECT `+oauthCodeColumns+` FROM oauth_codes
		WHERE code_hash = $1 AND used_instant IS NULL AND expires_instant > $2`, hash, now))
}

// UseOAuthCode marks an unused, unexpired code used and records the
// refresh token its exchange issued ("" for none), in one statement: of
// concurrent uses, on any nodes, exactly one gets true.
func (tx *Tx) UseOAuthCode(ctx context.Context, hash, refreshTokenID string, now int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE oauth_codes SET used_instant = $2, refresh_token_id = $3
		WHERE code_hash = $1 AND used_instant IS NULL AND expires_instant > $2`, hash, now, refreshTokenID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MarkOAuthCodeReplayed flags a used code presented again and returns what
// its first exchange issued (UseOAuthCode records it with the use, so a
// used code always names its refresh token, if it had one).
// ErrNoRows when the code is unknown or was never used.
func (tx *Tx) MarkOAuthCodeReplayed(ctx context.Context, hash string) (*OAuthCode, error) {
	return scanOAuthCode(tx.q.QueryRowContext(ctx, `UPDATE oauth_codes SET replayed = TRUE
		WHERE code_hash = $1 AND used_instant IS NOT NULL RETURNING `+oauthCodeColumns, hash))
}

// OAuthDeviceCode is a device authorization grant row.
type OAuthDeviceCode struct {
	DeviceCodeHash  string
	UserCode        string
	ClientID        string
	TenantID        string
	Scope           string
	IntervalSeconds int
	ExpiresInstant  int64
	UserID          string // "" until approved
	SessionID       string
	AuthInstant     int64
	AuthType        string
	InsertInstant   int64
}

const oauthDeviceColumns = "device_code_hash, user_code, client_id, tenant_id, scope, interval_seconds, expires_instant, " +
	"COALESCE(user_id, ''), session_id, auth_instant, auth_type, insert_instant"

func scanDeviceCode(row *sql.Row) (*OAuthDeviceCode, error) {
	var d OAuthDeviceCode
	if err := row.Scan(&d.DeviceCodeHash, &d.UserCode, &d.ClientID, &d.TenantID, &d.Scope, &d.IntervalSeconds, &d.ExpiresInstant,
		&d.UserID, &d.SessionID, &d.AuthInstant, &d.AuthType, &d.InsertInstant); err != nil {
		return nil, err
	}
	return &d, nil
}

// InsertOAuthDeviceCode stores a new device grant (a taken user code is a
// unique violation: the caller draws another).
func (tx *Tx) InsertOAuthDeviceCode(ctx context.Context, d *OAuthDeviceCode) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_device_codes (device_code_hash, user_code, client_id, tenant_id, scope,
		interval_seconds, expires_instant, insert_instant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.DeviceCodeHash, d.UserCode, d.ClientID, d.TenantID, d.Scope, d.IntervalSeconds, d.ExpiresInstant, d.InsertInstant)
	return err
}

// PendingOAuthDeviceCode reads an unexpired, unapproved grant by user code.
func (tx *Tx) PendingOAuthDeviceCode(ctx context.Context, userCode string, now int64) (*OAuthDeviceCode, error) {
	return scanDeviceCode(tx.q.QueryRowContext(ctx, "SELECT "+oauthDeviceColumns+
		" FROM oauth_device_codes WHERE user_code = $1 AND user_id IS NULL AND expires_instant > $2", userCode, now))
}

// ApproveOAuthDeviceCode approves a pending grant for a user, once; it
// reports whether it did.
func (tx *Tx) ApproveOAuthDeviceCode(ctx context.Context, userCode, userID, sessionID, authType string, authInstant, now int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE oauth_device_codes SET user_id = $2, session_id = $3, auth_type = $4, auth_instant = $5
		WHERE user_code = $1 AND user_id IS NULL AND expires_instant > $6`, userCode, userID, sessionID, authType, authInstant, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// TakeApprovedOAuthDeviceCode removes and returns an approved, unexpired
// grant in one statement: of concurrent polls, exactly one gets it.
func (tx *Tx) TakeApprovedOAuthDeviceCode(ctx context.Context, hash string, now int64) (*OAuthDeviceCode, error) {
	return scanDeviceCode(tx.q.QueryRowContext(ctx, `DELETE FROM oauth_device_codes
		WHERE device_code_hash = $1 AND user_id IS NOT NULL AND expires_instant > $2 RETURNING `+oauthDeviceColumns, hash, now))
}

// PollOAuthDeviceCode records a poll of a pending grant that came at least
// its interval after the previous one, and returns the grant; ErrNoRows
// when the grant is unknown, expired, or polled too fast (the caller tells
// these apart with OAuthDeviceCodeByHash).
func (tx *Tx) PollOAuthDeviceCode(ctx context.Context, hash string, now int64) (*OAuthDeviceCode, error) {
	return scanDeviceCode(tx.q.QueryRowContext(ctx, `UPDATE oauth_device_codes SET last_poll_instant = $2
		WHERE device_code_hash = $1 AND expires_instant > $2 AND (last_poll_instant = 0 OR last_poll_instant <= $2 - interval_seconds * 1000)
		RETURNING `+oauthDeviceColumns, hash, now))
}

// OAuthDeviceCodeByHash reads a grant, expired or not.
func (tx *Tx) OAuthDeviceCodeByHash(ctx context.Context, hash string) (*OAuthDeviceCode, error) {
	return scanDeviceCode(tx.q.QueryRowContext(ctx, "SELECT "+oauthDeviceColumns+" FROM oauth_device_codes WHERE device_code_hash = $1", hash))
}

// OAuthConsent reads the scopes a user allowed an application ("" when none).
func (tx *Tx) OAuthConsent(ctx context.Context, userID, applicationID string) (string, error) {
	var scope string
	err := tx.q.QueryRowContext(ctx, "SELECT scope FROM oauth_consents WHERE user_id = $1 AND application_id = $2", userID, applicationID).Scan(&scope)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return scope, err
}

// PutOAuthConsent records the scopes a user allowed an application.
func (tx *Tx) PutOAuthConsent(ctx context.Context, userID, applicationID, scope string, now int64) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_consents (user_id, application_id, scope, insert_instant, last_update_instant)
VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (user_id, application_id) DO UPDATE SET scope = excluded.scope, last_update_instant = excluded.last_update_instant`,
		userID, applicationID, scope, now)
	return err
}

// RecordDPoPProof remembers a DPoP proof (by the hash of its key and jti)
// until expires; false when it was seen before, on any node (one INSERT, so
// of concurrent uses of one proof exactly one passes).
func (tx *Tx) RecordDPoPProof(ctx context.Context, id string, expires int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "INSERT INTO dpop_proofs (id, expires_instant) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", id, expires)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
