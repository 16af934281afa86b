package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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

// InsertSetupToken records the hash of a setup-wizard token and when it expires.
func (tx *Tx) InsertSetupToken(ctx context.Context, hash string, now, expires int64) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO setup_tokens (token_hash, insert_instant, expires_instant) VALUES ($1, $2, $3)", hash, now, expires)
	return err
}

// SetupTokenExists reports whether a token hash is on record and unexpired at now.
func (tx *Tx) SetupTokenExists(ctx context.Context, hash string, now int64) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1 AND expires_instant > $2", hash, now).Scan(&n)
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
// Only InTx transactions may call it. The row is updated when the
// transaction is about to commit (writeBumps), not here.
func (tx *Tx) BumpCacheVersion(ctx context.Context, name string) error {
	if !tx.inTx {
		return fmt.Errorf("bump cache version %q outside a write transaction", name)
	}
	if !slices.Contains(tx.bumped, name) {
		tx.bumped = append(tx.bumped, name)
	}
	return nil
}

// writeBumps updates the bumped cache_versions rows just before commit, in
// name order: every writer then takes those hot row locks last and in the
// same order, so two transactions bumping two caches cannot deadlock.
func (tx *Tx) writeBumps(ctx context.Context) error {
	slices.Sort(tx.bumped)
	for _, name := range tx.bumped {
		if _, err := tx.q.ExecContext(ctx, "UPDATE cache_versions SET version = version + 1 WHERE name = $1", name); err != nil {
			return fmt.Errorf("bump cache version %q: %w", name, err)
		}
	}
	return nil
}

// CacheVersion reads the current version of a cache.
func (tx *Tx) CacheVersion(ctx context.Context, name string) (int64, error) {
	var v int64
	err := tx.q.QueryRowContext(ctx, "SELECT version FROM cache_versions WHERE name = $1", name).Scan(&v)
	return v, err
}

// SettingSystemConfiguration holds the system configuration's JSON document.
const SettingSystemConfiguration = "system_configuration"

// CacheSystemConfiguration is the cache_versions row of the system configuration.
const CacheSystemConfiguration = "system_configuration"

// PutSetting stores a setting, replacing its value.
func (tx *Tx) PutSetting(ctx context.Context, name, value string) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO system_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value)
	return err
}
