package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Login storage: refresh tokens, failed-login counters, login records and the
// few user and registration columns a login writes.

// RefreshTokenRow is a stored refresh token. The token itself is never
// stored: TokenHash is its SHA-256.
type RefreshTokenRow struct {
	ID                  string
	TokenHash           string
	FamilyID            string
	UserID              string
	ApplicationID       string
	TenantID            string
	AuthInstant         int64 // the login the family started with (auth_time)
	StartInstant        int64
	ExpiresInstant      int64
	Revoked             bool
	RotatedInstant      *int64
	LastAccessedInstant *int64
	LastAccessedAddress string
	Data                string // metaData, a JSON object
	InsertInstant       int64
	SuccessorID         string // on a rotated token: the token its rotation issued
	// SealedValue is, on a token a rotation issued under a grace period and
	// not used yet, its own value sealed under the master key (core's), for
	// a retry of that rotation; empty otherwise.
	SealedValue string
}

const refreshTokenColumns = `id, token_hash, family_id, user_id, application_id, tenant_id, auth_instant, start_instant,
	expires_instant, revoked, rotated_instant, last_accessed_instant, last_accessed_address, data, insert_instant,
	successor_id, sealed_value`

func scanRefreshToken(row scanner) (*RefreshTokenRow, error) {
	var r RefreshTokenRow
	var rotated, accessed sql.NullInt64
	var successor, sealed sql.NullString
	if err := row.Scan(&r.ID, &r.TokenHash, &r.FamilyID, &r.UserID, &r.ApplicationID, &r.TenantID, &r.AuthInstant,
		&r.StartInstant, &r.ExpiresInstant, &r.Revoked, &rotated, &accessed, &r.LastAccessedAddress, &r.Data,
		&r.InsertInstant, &successor, &sealed); err != nil {
		return nil, err
	}
	r.SuccessorID, r.SealedValue = successor.String, sealed.String
	if rotated.Valid {
		r.RotatedInstant = &rotated.Int64
	}
	if accessed.Valid {
		r.LastAccessedInstant = &accessed.Int64
	}
	return &r, nil
}

// InsertRefreshToken stores a new refresh token.
func (tx *Tx) InsertRefreshToken(ctx context.Context, r *RefreshTokenRow) error {
	data := r.Data
	if data == "" {
		data = "{}"
	}
	_, err := tx.q.ExecContext(ctx, "INSERT INTO refresh_tokens ("+refreshTokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		r.ID, r.TokenHash, r.FamilyID, r.UserID, r.ApplicationID, r.TenantID, r.AuthInstant, r.StartInstant,
		r.ExpiresInstant, r.Revoked, nullInt(r.RotatedInstant), nullInt(r.LastAccessedInstant), r.LastAccessedAddress,
		data, r.InsertInstant, nullString(r.SuccessorID), nullString(r.SealedValue))
	return err
}

// RefreshTokenByHash finds a token by its hash, in any state; ErrNoRows when unknown.
func (tx *Tx) RefreshTokenByHash(ctx context.Context, hash string) (*RefreshTokenRow, error) {
	return scanRefreshToken(tx.q.QueryRowContext(ctx, "SELECT "+refreshTokenColumns+" FROM refresh_tokens WHERE token_hash = $1", hash))
}

// RefreshTokenByID finds a token by id, in any state; ErrNoRows when unknown.
func (tx *Tx) RefreshTokenByID(ctx context.Context, id string) (*RefreshTokenRow, error) {
	return scanRefreshToken(tx.q.QueryRowContext(ctx, "SELECT "+refreshTokenColumns+" FROM refresh_tokens WHERE id = $1", id))
}

// usableToken is the condition of a token that may be used at now ($2).
const usableToken = "revoked = FALSE AND rotated_instant IS NULL AND expires_instant > $2"

// UseRefreshToken records a use of a reusable token and moves its window
// (start and expiry; pass the current ones for a fixed window), in one
// statement that succeeds only while the token is usable: a token revoked,
// rotated or expired on any node fails here. ErrNoRows when it is not usable.
func (tx *Tx) UseRefreshToken(ctx context.Context, hash string, now, start, expires int64, address string) (*RefreshTokenRow, error) {
	return scanRefreshToken(tx.q.QueryRowContext(ctx, `UPDATE refresh_tokens SET start_instant = $3, expires_instant = $4,
		last_accessed_instant = $2, last_accessed_address = $5, sealed_value = NULL WHERE token_hash = $1 AND `+usableToken+
		" RETURNING "+refreshTokenColumns, hash, now, start, expires, address))
}

// RotateRefreshToken marks a one-time-use token used at now, replaced by
// the token successorID, and returns it: one statement that succeeds only on
// a token never rotated, so of concurrent rotations on any nodes exactly one
// gets the row, whatever their clocks say; the others get ErrNoRows, as does
// a token revoked, already rotated or expired. Its sealed value goes: it is
// used, and a retry of the rotation that issued it is a reuse from now on.
func (tx *Tx) RotateRefreshToken(ctx context.Context, hash string, now int64, address, successorID string) (*RefreshTokenRow, error) {
	return scanRefreshToken(tx.q.QueryRowContext(ctx, `UPDATE refresh_tokens SET rotated_instant = $2,
		last_accessed_instant = $2, last_accessed_address = $3, successor_id = $4, sealed_value = NULL
		WHERE token_hash = $1 AND revoked = FALSE AND rotated_instant IS NULL AND expires_instant > $2
		RETURNING `+refreshTokenColumns, hash, now, address, successorID))
}

// RefreshTokenFilter selects tokens to list or revoke. Empty fields do not
// filter; TenantIDs nil means every tenant, ApplicationIDs nil every
// application (empty: none); ExcludeApplicationIDs leaves those
// applications' tokens out.
type RefreshTokenFilter struct {
	ID                    string
	TokenHash             string
	FamilyID              string
	UserID                string
	ApplicationID         string
	TenantIDs             []string
	ApplicationIDs        []string
	ExcludeApplicationIDs []string
}

func (f RefreshTokenFilter) where(b *sqlBuilder) string {
	var conds []string
	for _, c := range []struct{ col, v string }{{"id", f.ID}, {"token_hash", f.TokenHash}, {"family_id", f.FamilyID},
		{"user_id", f.UserID}, {"application_id", f.ApplicationID}} {
		if c.v != "" {
			conds = append(conds, c.col+" = "+b.arg(c.v))
		}
	}
	switch {
	case f.TenantIDs == nil:
	case len(f.TenantIDs) == 0:
		conds = append(conds, "FALSE") // no tenant visible
	default:
		conds = append(conds, b.in("tenant_id", f.TenantIDs))
	}
	switch {
	case f.ApplicationIDs == nil:
	case len(f.ApplicationIDs) == 0:
		conds = append(conds, "FALSE")
	default:
		conds = append(conds, b.in("application_id", f.ApplicationIDs))
	}
	if len(f.ExcludeApplicationIDs) > 0 {
		conds = append(conds, "NOT "+b.in("application_id", f.ExcludeApplicationIDs))
	}
	if len(conds) == 0 {
		return "TRUE"
	}
	return strings.Join(conds, " AND ")
}

// RevokeRefreshTokens revokes the tokens the filter selects that are not
// revoked yet and returns them. A filter without an id, hash, family, user or
// application is refused: it would revoke every token of its tenants.
func (tx *Tx) RevokeRefreshTokens(ctx context.Context, f RefreshTokenFilter) ([]*RefreshTokenRow, error) {
	if f.ID == "" && f.TokenHash == "" && f.FamilyID == "" && f.UserID == "" && f.ApplicationID == "" {
		return nil, errors.New("revoke refresh tokens: no selector")
	}
	b := &sqlBuilder{}
	text := "UPDATE refresh_tokens SET revoked = TRUE, sealed_value = NULL WHERE " + f.where(b) +
		" AND revoked = FALSE RETURNING " + refreshTokenColumns
	// A statement that waited for a token a concurrent rotation held does
	// not see the successor that rotation inserted (PostgreSQL, read
	// committed): again until nothing is left, so that no successor
	// outlives its session. A revoked token cannot be rotated, so only
	// tokens issued meanwhile (new logins) could keep this going: bounded.
	var out []*RefreshTokenRow
	for range 16 {
		rows, err := scanAll(scanRefreshToken)(tx.q.QueryContext(ctx, text, b.args...))
		if err != nil || len(rows) == 0 {
			return out, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// RefreshTokenApplications lists the applications of a user's refresh
// tokens not revoked yet (rotated and expired ones included: a revocation
// takes them too), once each, in id order.
func (tx *Tx) RefreshTokenApplications(ctx context.Context, userID string) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT DISTINCT application_id FROM refresh_tokens
		WHERE user_id = $1 AND revoked = FALSE ORDER BY application_id`, userID)
	return scanAll(scanString)(rows, err)
}

// ActiveRefreshTokens lists the usable tokens the filter selects at now,
// oldest first.
func (tx *Tx) ActiveRefreshTokens(ctx context.Context, f RefreshTokenFilter, now int64) ([]*RefreshTokenRow, error) {
	b := &sqlBuilder{}
	where := f.where(b)
	text := "SELECT " + refreshTokenColumns + " FROM refresh_tokens WHERE " + where +
		" AND revoked = FALSE AND rotated_instant IS NULL AND expires_instant > " + b.arg(now) + " ORDER BY insert_instant, id"
	return scanAll(scanRefreshToken)(tx.q.QueryContext(ctx, text, b.args...))
}

// DeleteExpiredRefreshTokens removes a user's tokens that expired before now
// (rotated and revoked ones included: past their expiry a reuse fails anyway).
func (tx *Tx) DeleteExpiredRefreshTokens(ctx context.Context, userID string, now int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_instant <= $2", userID, now)
	return err
}

// Failed logins.

// LockedUntil is the end of a lockout of a failure subject (a user id, or an
// unknown login id's key), 0 when it is not locked at now.
func (tx *Tx) LockedUntil(ctx context.Context, subject string, now int64) (int64, error) {
	var until sql.NullInt64
	err := tx.q.QueryRowContext(ctx, "SELECT locked_until FROM failed_logins WHERE subject = $1", subject).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!until.Valid || until.Int64 <= now)) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return until.Int64, nil
}

// CountLoginFailure counts one failed password check of a subject at now, in
// one statement: a count older than windowStart starts again at 1, as does
// one whose lockout has ended. It returns the count, or 0 when the subject is
// locked (a check that failed during a lockout does not count).
func (tx *Tx) CountLoginFailure(ctx context.Context, subject string, now, windowStart int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `INSERT INTO failed_logins (subject, failures, first_instant, locked_until)
		VALUES ($1, 1, $2, NULL)
		ON CONFLICT (subject) DO UPDATE SET
			failures = CASE WHEN failed_logins.first_instant <= $3 OR failed_logins.locked_until IS NOT NULL
				THEN 1 ELSE failed_logins.failures + 1 END,
			first_instant = CASE WHEN failed_logins.first_instant <= $3 OR failed_logins.locked_until IS NOT NULL
				THEN excluded.first_instant ELSE failed_logins.first_instant END,
			locked_until = NULL
		WHERE failed_logins.locked_until IS NULL OR failed_logins.locked_until <= excluded.first_instant
		RETURNING failures`, subject, now, windowStart).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// LockSubject starts a lockout until the given instant.
func (tx *Tx) LockSubject(ctx context.Context, subject string, until int64) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE failed_logins SET locked_until = $2 WHERE subject = $1", subject, until)
	return err
}

// ClearLoginFailures forgets a subject's failures (after a successful login or
// a password reset), unless it is locked at now; it reports whether it
// did (false: locked).
func (tx *Tx) ClearLoginFailures(ctx context.Context, subject string, now int64) (bool, error) {
	// One conditional statement: a read then a delete would let a failure
	// that locks the subject in between be deleted with its lockout.
	res, err := tx.q.ExecContext(ctx, `DELETE FROM failed_logins WHERE subject = $1
		AND (locked_until IS NULL OR locked_until <= $2)`, subject, now)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err == nil, err
	}
	var until sql.NullInt64
	err = tx.q.QueryRowContext(ctx, "SELECT locked_until FROM failed_logins WHERE subject = $1", subject).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil // the usual case: nothing to forget
	}
	return false, err // a row left is a lockout in force
}

// DeleteStaleLoginFailures removes counts that began before `before` and
// hold no lockout at now: past their window they would start again at 1
// anyway. (Failures of unknown login ids would otherwise pile up.)
func (tx *Tx) DeleteStaleLoginFailures(ctx context.Context, before, now int64) (int64, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM failed_logins WHERE first_instant < $1
		AND (locked_until IS NULL OR locked_until <= $2)`, before, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Login records and instants.

// LoginRecord is one successful login.
type LoginRecord struct {
	UserID        string
	ApplicationID string
	IPAddress     string
	LoginID       string
	Instant       int64
}

// InsertLoginRecord stores a login record.
func (tx *Tx) InsertLoginRecord(ctx context.Context, r *LoginRecord) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO login_records (user_id, application_id, ip_address, login_id, instant)
		VALUES ($1, $2, $3, $4, $5)`, r.UserID, nullString(r.ApplicationID), r.IPAddress, r.LoginID, r.Instant)
	return err
}

// LoginRecords returns a user's login records, newest first (at most limit).
func (tx *Tx) LoginRecords(ctx context.Context, userID string, limit int) ([]*LoginRecord, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT user_id, COALESCE(application_id, ''), ip_address, login_id, instant
		FROM login_records WHERE user_id = $1 ORDER BY instant DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*LoginRecord
	for rows.Next() {
		var r LoginRecord
		if err := rows.Scan(&r.UserID, &r.ApplicationID, &r.IPAddress, &r.LoginID, &r.Instant); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// SetLastLogin records a login's instant on the user and, when applicationID
// is not empty, on the user's registration for it (if any).
func (tx *Tx) SetLastLogin(ctx context.Context, userID, applicationID string, now int64) error {
	// Only forward: a buffered login (the authentication package's login buffer) flushed before
	// this write may be newer; CASE keeps the row matched (expectOne).
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET last_login_instant = CASE
		WHEN last_login_instant IS NULL OR last_login_instant < $2 THEN $2 ELSE last_login_instant END WHERE id = $1`, userID, now)
	if err != nil {
		return err
	}
	if err := expectOne(res); err != nil {
		return err
	}
	if applicationID == "" {
		return nil
	}
	_, err = tx.q.ExecContext(ctx, `UPDATE registrations SET last_login_instant = $3 WHERE user_id = $1 AND application_id = $2
		AND (last_login_instant IS NULL OR last_login_instant < $3)`, userID, applicationID, now)
	return err
}

// RehashUserPassword replaces a user's password hash with the same password
// hashed another way, only if the stored hash is still old (a concurrent
// password change wins). It reports whether it replaced it.
func (tx *Tx) RehashUserPassword(ctx context.Context, userID, old, new string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2", userID, old, new)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UserActiveByID reports whether a user exists and is active (the one lookup
// JWT validation makes).
func (tx *Tx) UserActiveByID(ctx context.Context, id string) (exists, active bool, err error) {
	err = tx.q.QueryRowContext(ctx, "SELECT active FROM users WHERE id = $1", id).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	return err == nil, active, err
}

// SetTokenCutoff ends the user's tokens issued before at: for one
// application, or for all when applicationID is "". A cut-off only moves
// forward.
func (tx *Tx) SetTokenCutoff(ctx context.Context, userID, applicationID string, at int64) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO token_cutoffs (user_id, application_id, not_before) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, application_id) DO UPDATE SET not_before = excluded.not_before
		WHERE token_cutoffs.not_before < excluded.not_before`, userID, applicationID, at)
	return err
}

// NoApplication is the application id of the cut-off of a user's tokens
// issued without an application (a login that named none); "" is the
// cut-off of all of them.
const NoApplication = "-"

// TokenCutoff is the instant before which the user's tokens for the
// application ("" for none) are ended (0 when none).
func (tx *Tx) TokenCutoff(ctx context.Context, userID, applicationID string) (int64, error) {
	if applicationID == "" {
		applicationID = NoApplication
	}
	var at int64
	err := tx.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(not_before), 0) FROM token_cutoffs
		WHERE user_id = $1 AND application_id IN ('', $2)`, userID, applicationID).Scan(&at)
	return at, err
}

// CacheTokenRevocations is the cache_versions row of token_revocations.
const CacheTokenRevocations = "token_revocations"

// RevokeAccessTokens records that the access tokens whose sid or jti is one
// of ids are revoked until expires; when a row is new it bumps the
// token_revocations cache version, so that every node reloads them.
func (tx *Tx) RevokeAccessTokens(ctx context.Context, ids []string, expires int64) error {
	var added int64
	for _, id := range ids {
		res, err := tx.q.ExecContext(ctx, "INSERT INTO token_revocations (id, expires_instant) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", id, expires)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		added += n
	}
	if added == 0 {
		return nil
	}
	return tx.BumpCacheVersion(ctx, CacheTokenRevocations)
}

// TokenRevocations are the ids of revoked access tokens (RevokeAccessTokens)
// that have not expired by now, with their expiry.
func (tx *Tx) TokenRevocations(ctx context.Context, now int64) (map[string]int64, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT id, expires_instant FROM token_revocations WHERE expires_instant > $1", now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var expires int64
		if err := rows.Scan(&id, &expires); err != nil {
			return nil, err
		}
		out[id] = expires
	}
	return out, rows.Err()
}
