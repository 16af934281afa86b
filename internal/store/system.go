package store

import (
	"context"
	"database/sql"
	"errors"
)

// Setting names in system_settings.
const (
	SettingSetupCompleted = "setup_completed_instant"
	SettingBootstrapped   = "bootstrapped_instant"
)

// InsertSetting stores a setting that must be written once; a second insert
// fails with a unique violation.
func (tx *Tx) InsertSetting(ctx context.Context, name, value string) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO system_settings (name, value) VALUES ($1, $2)", name, value)
	return err
}

// Setting reads a setting; ok is false when absent.
func (tx *Tx) Setting(ctx context.Context, name string) (value string, ok bool, err error) {
	err = tx.q.QueryRowContext(ctx, "SELECT value FROM system_settings WHERE name = $1", name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// InsertSetupToken records the hash of a setup-wizard token.
func (tx *Tx) InsertSetupToken(ctx context.Context, hash string, now int64) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO setup_tokens (token_hash, insert_instant) VALUES ($1, $2)", hash, now)
	return err
}

// SetupTokenExists reports whether a token hash is on record.
func (tx *Tx) SetupTokenExists(ctx context.Context, hash string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1", hash).Scan(&n)
	return n > 0, err
}

// DeleteSetupTokens removes every setup token; setup is over.
func (tx *Tx) DeleteSetupTokens(ctx context.Context) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM setup_tokens")
	return err
}

// Cache names in cache_versions.
const CacheAPIKeys = "api_keys"

// BumpCacheVersion tells every node that cached data of that name changed.
func (tx *Tx) BumpCacheVersion(ctx context.Context, name string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE cache_versions SET version = version + 1 WHERE name = $1", name)
	return err
}

// CacheVersion reads the current version of a cache.
func (tx *Tx) CacheVersion(ctx context.Context, name string) (int64, error) {
	var v int64
	err := tx.q.QueryRowContext(ctx, "SELECT version FROM cache_versions WHERE name = $1", name).Scan(&v)
	return v, err
}
