package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrBackupPostgres: PostgreSQL is backed up with its own tools (pg_dump).
var ErrBackupPostgres = errors.New("online backup is for SQLite; back up PostgreSQL with pg_dump (see docs/runbook.md)")

// BackupTo writes a consistent copy of the SQLite database to path, while the
// server may be serving: VACUUM INTO reads one snapshot (WAL keeps writers
// going) and writes a compact, self-contained file with no WAL beside it.
// path must not exist; the copy gets mode 0600 like the database itself.
func (s *Store) BackupTo(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return ErrBackupPostgres
	}
	// Create it first so the mode is ours, not the umask's; SQLite writes
	// into an empty file as into a new one.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	f.Close()
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO $1", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
