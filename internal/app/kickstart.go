package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/api"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kickstart"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
)

const kickstartUsage = `Usage: latch kickstart [--dry-run] [flags] FILE

Runs a FusionAuth kickstart file on a fresh instance: its API keys, then its
requests, each through the API as the first key. A kickstart stopped by a
failing request resumes at that request when run again (here or at the next
'latch serve' with LATCH_KICKSTART_FILE). FILE defaults to LATCH_KICKSTART_FILE.

--dry-run checks the file without writing anything: it parses it, resolves its
variables and includes, and replays every request against a throwaway copy of
this instance (a fresh one when this instance would not run the kickstart),
then prints the plan with each request's answer.

Flags:`

// runKickstart is `latch kickstart [--dry-run] FILE`.
func runKickstart(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("latch kickstart", flag.ContinueOnError)
	cfg := config.Register(fs, env.Getenv)
	dryRun := fs.Bool("dry-run", false, "check the file against a throwaway copy of the instance; write nothing")
	files, err := parseWithArgs(env, fs, kickstartUsage, args)
	if err != nil {
		return err
	}
	file := cfg.KickstartFile
	switch len(files) {
	case 0:
		if file == "" {
			return usageError{"name the kickstart file: latch kickstart FILE (or set " + config.EnvKickstartFile + ")"}
		}
	case 1:
		file = files[0]
	default:
		return usageError{fmt.Sprintf("one kickstart file at a time; got %d", len(files))}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if st, err := os.Stat(file); err != nil || st.IsDir() {
		return usageError{"cannot read the kickstart file " + file}
	}
	log := newLogger(cfg, env.Stderr)
	svc, closeDB, err := openCore(ctx, cfg, env, log)
	if err != nil {
		return err
	}
	defer closeDB()
	svc.Keys.Refresh(ctx)
	svc.SigningKeys.Refresh(ctx)
	if *dryRun {
		return dryRunKickstart(ctx, env, cfg, svc, log, file)
	}
	runner := newKickstartRunner(env, cfg, svc, log)
	out, err := runner.Run(ctx, file, kickstart.Options{})
	svc.Keys.FlushUsage(context.WithoutCancel(ctx))
	if out != nil {
		fmt.Fprintf(env.Stdout, "Kickstart %s\n", file)
		out.Print(env.Stdout)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Kickstart complete.\n")
	return nil
}

// newKickstartRunner replays requests through the same chain as the server:
// the middleware and the api.Server with its guard, validation and audit.
func newKickstartRunner(env Env, cfg *config.Config, svc *services.Set, log *slog.Logger) *kickstart.Runner {
	return &kickstart.Runner{Svc: svc, Handler: httpx.Middleware(log, nil, api.New(svc, cfg, log, nil)), Getenv: env.Getenv, Log: log}
}

// kickstartAtStart runs the configured kickstart file before the server takes
// requests, so that a client starting with the server finds its keys. Whatever
// happens, the server then starts: a refusal or failure is logged.
func kickstartAtStart(ctx context.Context, env Env, cfg *config.Config, svc *services.Set, log *slog.Logger, apiServer *api.Server) {
	if cfg.KickstartFile == "" {
		return
	}
	runner := &kickstart.Runner{Svc: svc, Handler: httpx.Middleware(log, nil, apiServer), Getenv: env.Getenv, Log: log}
	_, err := runner.Run(ctx, cfg.KickstartFile, kickstart.Options{})
	var refused *access.KickstartRefused
	switch {
	case err == nil:
	case errors.As(err, &refused):
		log.InfoContext(ctx, "kickstart did not run: "+refused.Reason, "file", cfg.KickstartFile)
	default:
		log.ErrorContext(ctx, err.Error(), "file", cfg.KickstartFile)
	}
}

// dryRunKickstart replays the file against a throwaway twin of the instance
// and prints the plan. The twin is a temporary SQLite database holding a copy
// of this instance's rows (except the audit log), whichever database the
// instance uses: the handlers and SQL are the same on both, so every
// validation the API does runs; what cannot show is a difference between the
// databases themselves. When this instance would not run the kickstart, the
// twin is a fresh instance instead and the plan says so.
func dryRunKickstart(ctx context.Context, env Env, cfg *config.Config, svc *services.Set, log *slog.Logger, file string) error {
	st, err := svc.Access.KickstartState(ctx)
	if err != nil {
		return err
	}
	note := ""
	switch {
	case st.Run != nil && st.Run.Status == store.KickstartCompleted:
		note = "this instance was already kickstarted (by " + st.Run.File + ") and would not run it; checked against a fresh instance instead"
	case st.Run == nil && st.NotFresh != "":
		note = st.NotFresh + ", so it would not run the kickstart; checked against a fresh instance instead"
	}
	quiet := newLogger(&config.Config{LogLevel: slog.LevelWarn, LogFormat: cfg.LogFormat}, env.Stderr)
	twin, cleanup, err := kickstartTwin(ctx, env, cfg, svc, quiet, note == "")
	if err != nil {
		return fmt.Errorf("dry run: prepare a throwaway copy of the instance: %w", err)
	}
	defer cleanup()
	runner := newKickstartRunner(env, cfg, twin, quiet)
	out, err := runner.Run(ctx, file, kickstart.Options{DryRun: true})
	fmt.Fprintf(env.Stdout, "Dry run of kickstart %s: nothing was written to this instance.\n", file)
	if note != "" {
		fmt.Fprintf(env.Stdout, "Note: %s.\n", note)
	}
	if err != nil {
		return err
	}
	out.Print(env.Stdout)
	if out.Plan.Fresh > 0 {
		fmt.Fprintf(env.Stdout, "Note: %d #{UUID()} value(s) were made up for this dry run; the real run makes its own.\n", out.Plan.Fresh)
	}
	if out.Failed > 0 {
		return fmt.Errorf("dry run: %d of %d request(s) would fail (a failure can also follow from an earlier one)", out.Failed, len(out.Steps))
	}
	if out.KeysError != "" {
		return fmt.Errorf("dry run: the API keys made after the requests would fail: %s", out.KeysError)
	}
	fmt.Fprintln(env.Stdout, "Every request would succeed.")
	return nil
}

// kickstartTwin makes the throwaway instance of a dry run: a temporary SQLite
// database, migrated, holding a copy of real's rows (or bootstrapped fresh),
// wired to the same master key so sealed secrets open.
func kickstartTwin(ctx context.Context, env Env, cfg *config.Config, real *services.Set, log *slog.Logger, copyRows bool) (*services.Set, func(), error) {
	dir, err := os.MkdirTemp("", "latch-kickstart-dry-run-")
	if err != nil {
		return nil, nil, err
	}
	var st *store.Store
	cleanup := func() {
		if st != nil {
			st.Close()
		}
		os.RemoveAll(dir)
	}
	fail := func(err error) (*services.Set, func(), error) { cleanup(); return nil, nil, err }
	mk, err := masterKey(cfg)
	if err != nil {
		return fail(err)
	}
	if st, err = store.Open(ctx, "", filepath.Join(dir, "latch.db")); err != nil {
		return fail(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		return fail(err)
	}
	// The twin replays a kickstart file: its requests are the operator's, not
	// throttled.
	twin := services.New(st, env.Opts.Clock, mk, log, services.Options{Hasher: real.Hasher})
	if copyRows {
		if err := real.Store().CopyInto(ctx, st); err != nil {
			return fail(err)
		}
	} else {
		if err := twin.Tenancy.Bootstrap(ctx); err != nil {
			return fail(err)
		}
		if err := twin.Signing.EnsureDefault(ctx); err != nil {
			return fail(err)
		}
		if err := twin.Email.Bootstrap(ctx); err != nil {
			return fail(err)
		}
	}
	twin.Keys.Refresh(ctx)
	twin.SigningKeys.Refresh(ctx)
	return twin, cleanup, nil
}
