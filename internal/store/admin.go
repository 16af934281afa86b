package store

import "context"

// Storage of the admin UI's sessions (migration 0060). Cookie values are
// stored as SHA-256 hashes only.

// AdminSession is an admin UI session row.
type AdminSession struct {
	ID             string
	TokenHash      string
	UserID         string
	AuthInstant    int64
	ExpiresInstant int64
	InsertInstant  int64
}

const adminSessionColumns = "id, token_hash, user_id, auth_instant, expires_instant, insert_instant"

// InsertAdminSession stores a new admin session.
func (tx *Tx) InsertAdminSession(ctx context.Context, s *AdminSession) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO admin_sessions ("+adminSessionColumns+") VALUES ($1, $2, $3, $4, $5, $6)",
		s.ID, s.TokenHash, s.UserID, s.AuthInstant, s.ExpiresInstant, s.InsertInstant)
	return err
}

// AdminSessionByHash reads an unexpired admin session by its cookie's hash.
func (tx *Tx) AdminSessionByHash(ctx context.Context, hash string, now int64) (*AdminSession, error) {
	var s AdminSession
	err := tx.q.QueryRowContext(ctx, "SELECT "+adminSessionColumns+" FROM admin_sessions WHERE token_hash = $1 AND expires_instant > $2",
		hash, now).Scan(&s.ID, &s.TokenHash, &s.UserID, &s.AuthInstant, &s.ExpiresInstant, &s.InsertInstant)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// ExtendAdminSession moves a session's expiry forward (sliding inactivity window).
func (tx *Tx) ExtendAdminSession(ctx context.Context, id string, expires int64) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE admin_sessions SET expires_instant = $2 WHERE id = $1 AND expires_instant < $2", id, expires)
	return err
}

// DeleteAdminSession ends one admin session; expired ones go with it.
func (tx *Tx) DeleteAdminSession(ctx context.Context, id string, now int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM admin_sessions WHERE id = $1 OR expires_instant <= $2", id, now)
	return err
}

// CountApplications counts applications in every tenant, the admin
// application included.
func (tx *Tx) CountApplications(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM applications").Scan(&n)
	return n, err
}

// CountLoginsSince counts the successful logins recorded from since (epoch ms) on.
func (tx *Tx) CountLoginsSince(ctx context.Context, since int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM login_records WHERE instant >= $1", since).Scan(&n)
	return n, err
}
