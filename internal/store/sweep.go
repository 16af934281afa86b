package store

import "context"

// SweepExpired deletes at most limit rows of each table that can never be
// used again as of now: refresh tokens past their expiry (rotated and revoked
// ones too: past expiry a reuse fails anyway) and one-time codes past
// theirs, the OAuth provider's SSO sessions, authorization codes and
// device codes past theirs, DPoP proofs past their window, rate-limit
// counters whose window ended, admin UI sessions past their inactivity
// expiry, and access token revocations past the tokens' expiry.
// Small batches keep each write transaction short. It returns how many
// rows went.
func (tx *Tx) SweepExpired(ctx context.Context, now int64, limit int) (int64, error) {
	var total int64
	for _, table := range []string{"refresh_tokens", "one_time_codes", "oauth_sessions", "oauth_codes", "oauth_device_codes",
		"rate_limits", "admin_sessions", "dpop_proofs", "token_revocations"} {
		key := "id"
		switch table {
		case "one_time_codes", "oauth_codes":
			key = "code_hash"
		case "oauth_device_codes":
			key = "device_code_hash"
		case "rate_limits":
			key = "bucket"
		}
		res, err := tx.q.ExecContext(ctx, "DELETE FROM "+table+" WHERE "+key+" IN (SELECT "+key+" FROM "+table+
			" WHERE expires_instant <= $1 ORDER BY expires_instant LIMIT $2)", now, limit)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
