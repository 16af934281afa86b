package app

import (
	"context"
	"flag"
	"fmt"

	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/store"
)

const backupUsage = `Usage: latch backup [flags] FILE

Writes a consistent copy of the SQLite database to FILE (which must not exist),
while the server is serving or not. The copy holds API-key hashes and secrets
sealed under the master key, never the master key itself: keep a copy of the
master key too, stored apart. Restore: stop latch, replace latch.db in the data
dir with the copy (and remove latch.db-wal and latch.db-shm), start latch.
PostgreSQL: use pg_dump. See docs/runbook.md.

Flags:`

func runBackup(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("latch backup", flag.ContinueOnError)
	cfg := config.Register(fs, env.Getenv)
	files, err := parseWithArgs(env, fs, backupUsage, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageError{"name one file for the copy: latch backup FILE"}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if cfg.Postgres() {
		return usageError{store.ErrBackupPostgres.Error()}
	}
	if err := requireSQLiteFile(cfg); err != nil {
		return err
	}
	st, err := store.Open(ctx, "", cfg.SQLitePath())
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.BackupTo(ctx, files[0]); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backup written to %s\n", files[0])
	return nil
}
