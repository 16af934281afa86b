package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
)

// runRecover is the break-glass command. It opens the database directly, so it
// works with the server stopped or running, on SQLite or PostgreSQL; no HTTP
// route does what it does.
func runRecover(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usageError{"a subcommand is required: 'latch recover api-key' or 'latch recover admin' (see latch recover --help)"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printRecoverUsage(env.Stdout)
		return flag.ErrHelp
	case "api-key":
		return runRecoverAPIKey(ctx, env, args[1:])
	case "admin":
		return runRecoverAdmin(ctx, env, args[1:])
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q: use 'api-key' or 'admin' (see latch recover --help)", args[0])}
	}
}

func printRecoverUsage(w io.Writer) {
	fmt.Fprintf(w, `Break-glass recovery with shell and database access only. Works with the server
stopped or running; uses the same database flags and LATCH_* variables as 'latch serve'.

Usage:
  latch recover api-key [--expires-in 1h] [--name NAME] [--key-out FILE]
      Mint a key-manager API key with access to every endpoint and tenant. It
      expires (default %s, at most %s), is shown once and is never retrievable.
  latch recover admin --email EMAIL
      Create the admin user, or reset an existing user's password and give it the
      admin role. Prints a temporary password that must be changed at first sign-in.

Both write a critical audit entry naming the OS user and host. 'api-key' also
works on an instance that was never set up (the setup wizard stays open);
'admin' needs setup to have been done, as 'latch setup' creates the first admin.
The database must exist: recover never creates one.
Run 'latch recover api-key --help' or 'latch recover admin --help' for every flag.
`, formatDuration(access.DefaultRecoveryKeyTTL), formatDuration(access.MaxRecoveryKeyTTL))
}

func formatDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

func runRecoverAPIKey(ctx context.Context, env Env, args []string) error {
	var (
		in     access.RecoveryKeyInput
		keyOut string
	)
	cfg, err := parse(env, "recover api-key", args, func(fs *flag.FlagSet) {
		fs.DurationVar(&in.ExpiresIn, "expires-in", access.DefaultRecoveryKeyTTL,
			fmt.Sprintf("how long the key works, e.g. 30m or 4h; at most %s", formatDuration(access.MaxRecoveryKeyTTL)))
		fs.StringVar(&in.Name, "name", "", `the key's name (default "`+access.RecoveryKeyNamePrefix+`<UTC time>")`)
		fs.StringVar(&keyOut, "key-out", "", "write only the key to this file (mode 0600) instead of printing it")
	})
	if err != nil {
		return err
	}
	if in.ExpiresIn < access.MinRecoveryKeyTTL || in.ExpiresIn > access.MaxRecoveryKeyTTL {
		return usageError{fmt.Sprintf("--expires-in must be between %s and %s, got %s: a recovery key always expires",
			access.MinRecoveryKeyTTL, formatDuration(access.MaxRecoveryKeyTTL), in.ExpiresIn)}
	}
	var verrs *model.Errors
	if err := access.ValidateRecoveryKey(in); errors.As(err, &verrs) {
		return usageError{describeErrors(verrs)}
	}
	if keyOut != "" {
		// Fail before minting: a key nobody can read is of no use.
		if st, err := os.Stat(filepath.Dir(keyOut)); err != nil || !st.IsDir() {
			return usageError{"--key-out: the directory of " + keyOut + " does not exist"}
		}
	}
	svc, closeDB, err := openExisting(ctx, cfg, env)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := svc.Access.RecoverAPIKey(ctx, cliActor(), in)
	if errors.As(err, &verrs) {
		return usageError{describeErrors(verrs)}
	}
	if err != nil {
		return err
	}
	if done, err := svc.Access.SetupDone(ctx); err == nil && !done {
		fmt.Fprintln(env.Stderr, "Note: setup has not been done on this database; the setup wizard stays open until it is.")
	}
	expires := time.UnixMilli(*res.Key.ExpirationInstant).UTC().Format(time.RFC3339)
	header := fmt.Sprintf("Recovery key %q (id %s) minted: key manager, every endpoint and tenant, expires at %s. "+
		"It is in the audit log; delete it when you are done (DELETE /api/api-key/%s).", res.Key.Name, res.Key.ID, expires, res.Key.ID)
	return emitKey(env, keyOut, res.Value, header)
}

func runRecoverAdmin(ctx context.Context, env Env, args []string) error {
	var email string
	cfg, err := parse(env, "recover admin", args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the admin's email (required): created when absent in the admin application's tenant, else its password is reset")
	})
	if err != nil {
		return err
	}
	if email == "" {
		return usageError{"--email is required"}
	}
	svc, closeDB, err := openExisting(ctx, cfg, env)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := svc.Access.RecoverAdmin(ctx, cliActor(), email)
	var verrs *model.Errors
	switch {
	case errors.Is(err, access.ErrNotSetUp):
		return errors.New("setup has not been done on this database, so there is no admin to recover: use 'latch setup' (or the setup wizard link 'latch serve' prints) to create the first admin")
	case errors.As(err, &verrs):
		return usageError{describeErrors(verrs)}
	case err != nil:
		return err
	}
	what := "Reset the password of " + res.Email + " and ensured its admin role."
	if res.Created {
		what = "Created the admin user " + res.Email + "."
	}
	fmt.Fprintln(env.Stderr, what+" This temporary password is shown once and must be changed at first sign-in:")
	fmt.Fprintln(env.Stdout, res.Password.Reveal())
	return nil
}

// openExisting is openCore for a database that must already exist: recovering
// a fresh, empty database (a mistyped --data-dir or URL) would only mint a
// credential for the wrong instance.
func openExisting(ctx context.Context, cfg *config.Config, env Env) (*services.Set, func(), error) {
	if cfg.DatabaseURL == "" {
		if err := requireSQLiteFile(cfg); err != nil {
			return nil, nil, err
		}
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath())
	if err != nil {
		return nil, nil, err
	}
	var n int
	err = st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n)
	st.Close()
	if err != nil || n == 0 {
		return nil, nil, usageError{"the database holds no Latch instance (no migrations applied): point --data-dir (" +
			config.EnvDataDir + ") or --database-url (" + config.EnvDatabaseURL + ") at the instance to recover"}
	}
	return openCore(ctx, cfg, env, newLogger(cfg, env.Stderr))
}

// requireSQLiteFile refuses a data dir without a database: a mistyped
// --data-dir must not create an empty instance.
func requireSQLiteFile(cfg *config.Config) error {
	if _, err := os.Stat(cfg.SQLitePath()); errors.Is(err, os.ErrNotExist) {
		return usageError{"no Latch database at " + cfg.SQLitePath() +
			": point --data-dir (" + config.EnvDataDir + ") or --database-url (" + config.EnvDatabaseURL + ") at the instance"}
	}
	return nil
}
