// Package app is the composition root: configuration, database, migrations,
// services and the HTTP server, and the subcommands of the latch binary.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/throttle"
	"github.com/latchid/latch/internal/version"
)

// Options are the seams tests use; the zero value is production.
type Options struct {
	Clock kit.Clock
	// Ready, when set, is called with the listening address once serving.
	Ready func(addr string)
	// HashObserver, when set, sees every password hash before it runs, in
	// its worker slot (counting hashes, or holding a worker).
	HashObserver func(ctx context.Context, j password.Job)
	// SharedDataDir skips serve's data-dir lock, for tests that run several
	// in-process nodes on one SQLite file. Not reachable from flags or env.
	SharedDataDir bool
}

// Env bundles what a command reads and writes, so tests can run commands in-process.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	Opts   Options
}

// Main runs the latch command line and returns the process exit code:
// 0 success, 1 failure, 2 invalid usage or configuration.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return Run(ctx, Env{Args: args, Getenv: getenv, Stdout: stdout, Stderr: stderr})
}

// usageError is invalid usage or configuration: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (the default)", runServe},
		{"setup", "first-run setup without the browser: the admin user and the initial API key", runSetup},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"recover", "break-glass: mint an API key or reset an admin with database access only", runRecover},
		{"backup", "write a consistent copy of the SQLite database to FILE, while serving or not", runBackup},
		{"kickstart", "run (or --dry-run) a FusionAuth kickstart file on a fresh instance; resumes a stopped one", runKickstart},
		{"version", "print the version", runVersion},
	}
}

// Run is Main with test seams.
func Run(ctx context.Context, env Env) int {
	if env.Opts.Clock == nil {
		env.Opts.Clock = kit.SystemClock{}
	}
	args := env.Args[1:]
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if len(env.Args) == 2 && (name == "help" || env.Args[1] == "-h" || env.Args[1] == "--help" || env.Args[1] == "-help") {
		printUsage(env.Stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, env, args)
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintln(env.Stderr, "latch "+name+": "+ue.msg)
			return 2
		default:
			fmt.Fprintln(env.Stderr, "latch "+name+": "+err.Error())
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "latch: unknown command %q (see latch --help)\n", name)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Latch, an identity and access server that speaks FusionAuth's API.")
	fmt.Fprintln(w, "\nUsage: latch [command] [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	// The flags every database command shares, so that --help names them all.
	fs := flag.NewFlagSet("latch", flag.ContinueOnError)
	config.Register(fs, func(string) string { return "" })
	fmt.Fprintln(w, "\nFlags of serve, setup and migrate:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nRun 'latch COMMAND --help' for a command's own flags. Every flag can also be set by its LATCH_* environment variable.")
}

// parseFlags parses args into fs. Errors come back as one usage error (the
// caller prints one line), and --help prints the flags on stdout.
func parseFlags(env Env, fs *flag.FlagSet, usage string, args []string) error {
	fs.SetOutput(io.Discard) // the flag package would print each error and the usage to stderr
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.Stdout, usage)
			fs.SetOutput(env.Stdout)
			fs.PrintDefaults()
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// parse parses a subcommand's flags: the common ones plus extra. Invalid
// flags and configuration become usage errors (exit 2).
// parseWithArgs parses flags that may come before or after positional
// arguments (latch kickstart FILE --dry-run), and returns the positional ones.
func parseWithArgs(env Env, fs *flag.FlagSet, usage string, args []string) ([]string, error) {
	var positional []string
	for {
		if err := parseFlags(env, fs, usage, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func parse(env Env, name string, args []string, extra func(fs *flag.FlagSet)) (*config.Config, error) {
	fs := flag.NewFlagSet("latch "+name, flag.ContinueOnError)
	cfg := config.Register(fs, env.Getenv)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(env, fs, "Usage: latch "+name+" [flags]\n\nFlags:", args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if err := cfg.Validate(); err != nil {
		return nil, usageError{err.Error()}
	}
	return cfg, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(httpx.ContextHandler{Handler: h})
}

// masterKey loads the master key: the variable, the file, or (SQLite only) a
// key generated into the data dir on first start.
func masterKey(cfg *config.Config) (*secrets.MasterKey, error) {
	if cfg.MasterKey != "" {
		k, err := secrets.ParseMasterKey(cfg.MasterKey.Reveal())
		if err != nil {
			return nil, usageError{config.EnvMasterKey + ": " + err.Error()}
		}
		return k, nil
	}
	if cfg.MasterKeyFile != "" {
		k, err := secrets.LoadOrCreateMasterKeyFile(cfg.MasterKeyFile, false)
		if err != nil {
			return nil, usageError{"master key file: " + err.Error()}
		}
		return k, nil
	}
	k, err := secrets.LoadOrCreateMasterKeyFile(cfg.DefaultMasterKeyFile(), true)
	if err != nil {
		return nil, fmt.Errorf("master key in the data dir: %w", err)
	}
	return k, nil
}

// openCore opens and migrates the database, bootstraps it and wires the domain services.
func openCore(ctx context.Context, cfg *config.Config, env Env, log *slog.Logger) (*services.Set, func(), error) {
	mk, err := masterKey(cfg)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath())
	if err != nil {
		return nil, nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	hashing := cfg.Hashing
	hashing.Observe = env.Opts.HashObserver
	svc := services.New(st, env.Opts.Clock, mk, log, services.Options{Hasher: password.NewHasher(hashing),
		RateLimits: throttle.Limits(cfg.RateLimits)})
	if err := svc.Tenancy.Bootstrap(ctx); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := svc.Signing.EnsureDefault(ctx); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("default signing key: %w", err)
	}
	if err := svc.Email.Bootstrap(ctx); err != nil {
		st.Close()
		return nil, nil, err
	}
	return svc, func() { st.Close() }, nil
}

func runVersion(_ context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("latch version", flag.ContinueOnError)
	if err := parseFlags(env, fs, "Usage: latch version\n\nPrints the version. It takes no flags.", args); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "latch "+version.Version)
	return nil
}

func runMigrate(ctx context.Context, env Env, args []string) error {
	cfg, err := parse(env, "migrate", args, nil)
	if err != nil {
		return err
	}
	if _, err := masterKey(cfg); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.SQLitePath())
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "migrations applied: %d\n", len(applied))
	return nil
}
