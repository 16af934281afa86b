package store

import "context"

// HitRateLimit counts one request in bucket's fixed window ending at
// windowEnd, in one statement: a count whose window ended by now starts
// again at 1. It returns the count and the end of the window it is in.
func (tx *Tx) HitRateLimit(ctx context.Context, bucket string, now, windowEnd int64) (hits, end int64, err error) {
	err = tx.q.QueryRowContext(ctx, `INSERT INTO rate_limits (bucket, hits, expires_instant) VALUES ($1, 1, $2)
		ON CONFLICT (bucket) DO UPDATE SET
			hits = CASE WHEN rate_limits.expires_instant <= $3 THEN 1 ELSE rate_limits.hits + 1 END,
			expires_instant = CASE WHEN rate_limits.expires_instant <= $3 THEN excluded.expires_instant ELSE rate_limits.expires_instant END
		RETURNING hits, expires_instant`, bucket, windowEnd, now).Scan(&hits, &end)
	return hits, end, err
}
