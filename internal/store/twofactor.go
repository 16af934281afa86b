package store

import "context"

// Two-factor storage: markers of used TOTP codes and the forgetting of a
// lockout. Recovery codes and twoFactorIds are ordinary one-time codes.

// ClaimOneTimeCode stores a code unless one with its hash exists, in one
// statement, and reports whether it stored it: of concurrent claims of one
// hash, on any nodes, exactly one succeeds. (A used TOTP code is claimed so
// that it cannot be used again within its window.)
func (tx *Tx) ClaimOneTimeCode(ctx context.Context, c *OneTimeCode) (bool, error) {
	data := c.Data
	if data == "" {
		data = "{}"
	}
	res, err := tx.q.ExecContext(ctx, "INSERT INTO one_time_codes ("+oneTimeCodeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (code_hash) DO NOTHING`, c.Hash, c.Kind, c.UserID, c.TenantID, data, c.ExpiresInstant, c.InsertInstant)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteExpiredUserCodes removes a user's codes of one kind that expired
// before now.
func (tx *Tx) DeleteExpiredUserCodes(ctx context.Context, userID, kind string, now int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM one_time_codes WHERE user_id = $1 AND kind = $2 AND expires_instant <= $3",
		userID, kind, now)
	return err
}

// CountUserCodes counts a user's unexpired codes of one kind.
func (tx *Tx) CountUserCodes(ctx context.Context, userID, kind string, now int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM one_time_codes WHERE user_id = $1 AND kind = $2 AND expires_instant > $3",
		userID, kind, now).Scan(&n)
	return n, err
}

// ForgetLoginFailures removes a subject's failure count and any lockout
// (a password reset that lifts a lockout); it reports whether there was one
// in force at now.
func (tx *Tx) ForgetLoginFailures(ctx context.Context, subject string, now int64) (bool, error) {
	until, err := tx.LockedUntil(ctx, subject, now)
	if err != nil {
		return false, err
	}
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM failed_logins WHERE subject = $1", subject); err != nil {
		return false, err
	}
	return until != 0, nil
}

// UpdateUserTwoFactor replaces a user's data and sealed secrets (its
// two-factor methods) only if both are still the ones read (oldData,
// oldSealed), and reports whether it did: a concurrent change of the user
// wins and the caller retries.
func (tx *Tx) UpdateUserTwoFactor(ctx context.Context, id, oldData, oldSealed, data, sealed string, now int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET data = $4, secrets_sealed = $5, last_update_instant = $6
		WHERE id = $1 AND data = $2 AND COALESCE(secrets_sealed, '') = $3`, id, oldData, oldSealed, data, nullString(sealed), now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
