package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/latchid/latch/internal/admin"
	"github.com/latchid/latch/internal/api"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/metrics"
	"github.com/latchid/latch/internal/oauth"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/ui"
)

// Cache timings: how often a node checks for key changes made elsewhere, and
// how often it writes batched key usage.
const (
	keyPollEvery  = 250 * time.Millisecond
	keyFlushEvery = 2 * time.Second
	// loginFlushEvery: how often buffered login records are written (at
	// most this much of them is lost if the process is killed hard).
	loginFlushEvery = time.Second
	// sweepEvery: how often expired refresh tokens and one-time codes are
	// deleted (they are refused from their expiry on; this only bounds
	// the tables).
	sweepEvery = 10 * time.Minute
	// dispatchEvery: how often each node looks for due events (an idle
	// look is one indexed read).
	dispatchEvery = 200 * time.Millisecond
)

func runServe(ctx context.Context, env Env, args []string) error {
	cfg, err := parse(env, "serve", args, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.Stderr)
	// Listen before anything slow so a taken port fails fast with one line.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.Listen, err)
	}
	defer ln.Close()
	if cfg.TLS() {
		tlsConf, err := serverTLS(cfg)
		if err != nil {
			return err
		}
		ln = tls.NewListener(ln, tlsConf)
	}

	if !cfg.Postgres() && !env.Opts.SharedDataDir {
		unlock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return err
		}
		defer unlock()
	}

	svc, closeDB, err := openCore(ctx, cfg, env, log)
	if err != nil {
		return err
	}
	defer closeDB()
	svc.Keys.Refresh(ctx)
	svc.SigningKeys.Refresh(ctx)
	svc.Configs.Refresh(ctx)
	svc.Events.Refresh(ctx)
	svc.System.Refresh(ctx)
	svc.Tokens.RefreshRevocations(ctx)

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	cacheDone := make(chan struct{})
	go func() { svc.Keys.Run(bg, keyPollEvery, keyFlushEvery); close(cacheDone) }()
	signingDone := make(chan struct{})
	go func() { svc.SigningKeys.Run(bg, keyPollEvery); close(signingDone) }()
	configDone := make(chan struct{})
	go func() { svc.Configs.Run(bg, keyPollEvery); close(configDone) }()
	loginsDone := make(chan struct{})
	go func() { svc.Logins.Run(bg, loginFlushEvery); close(loginsDone) }()
	systemDone := make(chan struct{})
	go func() { svc.System.Run(bg, keyPollEvery); close(systemDone) }()
	hooksDone := make(chan struct{})
	go func() { svc.Events.Run(bg, keyPollEvery); close(hooksDone) }()
	revocationsDone := make(chan struct{})
	go func() { svc.Tokens.RunRevocations(bg, keyPollEvery); close(revocationsDone) }()
	// The outbox dispatcher: in-flight deliveries finish before the
	// database closes; what is left is delivered by any node later.
	dispatchDone := make(chan struct{})
	go func() { svc.Events.NewDispatcher().Run(bg, dispatchEvery); close(dispatchDone) }()
	mailDone := make(chan struct{})
	go func() { svc.Email.NewMailer().Run(bg, dispatchEvery); close(mailDone) }()
	eventSweepDone := make(chan struct{})
	go func() {
		kit.Every(bg, sweepEvery, func() {
			if _, err := svc.Events.Sweep(bg); err != nil && bg.Err() == nil {
				log.Warn("event log retention sweep failed", "err", err)
			}
		})
		close(eventSweepDone)
	}()
	sweepDone := make(chan struct{})
	go func() { svc.Tokens.RunSweeper(bg, sweepEvery); close(sweepDone) }()
	// Final key usage and login record flushes before the database closes.
	defer func() {
		stopBG()
		<-cacheDone
		<-signingDone
		<-configDone
		<-loginsDone
		<-sweepDone
		<-hooksDone
		<-systemDone
		<-revocationsDone
		<-dispatchDone
		<-eventSweepDone
		<-mailDone
	}()

	m := newMetrics(svc)
	apiServer := api.New(svc, cfg, log, m)
	// Before serving and before the setup check: a kickstarted instance has
	// its keys when the first client connects, and no setup wizard.
	kickstartAtStart(ctx, env, cfg, svc, log, apiServer)
	base := cfg.PublicURL
	if strings.HasSuffix(base, ":0") { // --listen …:0 picked a port: links name the real one
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		base = strings.TrimSuffix(base, "0") + port
	}
	svc.Email.SetBaseURL(base)
	pages := ui.New(svc, cfg, log)
	provider := newOAuthProvider(svc, cfg, log, pages, base)
	adminUI := admin.New(admin.Deps{Svc: svc, Log: log, UI: pages, Token: providerRoute(provider, "POST /oauth2/token"),
		PublicURL: base, SecureCookies: cfg.SecureCookies(),
		ClientIP: func(r *http.Request) string { return httpx.ClientIP(r, cfg.TrustedProxies).String() }})
	root := newRootHandler(apiServer, pages, httpx.JWKSHandler(svc.SigningKeys.Current), provider, adminUI)
	srv := &http.Server{
		Handler:           httpx.Middleware(log, m, withHSTS(cfg.TLS(), root)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	if done, err := svc.Access.SetupDone(ctx); err != nil {
		return err
	} else if !done {
		token, err := svc.Access.NewSetupToken(ctx, cfg.SetupTokenTTL)
		if err != nil {
			return err
		}
		url := base + "/setup-wizard?token=" + token.Reveal()
		expires := svc.Clock().Now().Add(cfg.SetupTokenTTL).UTC().Format(time.RFC3339)
		fmt.Fprintf(env.Stdout, "Latch is not set up yet. Open this one-time link to create the first admin (valid until %s, or until the next restart):\n  %s\n", expires, url)
		log.Info("setup required: open the setup wizard", "url", url, "expires", expires)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("latch listening", "addr", ln.Addr().String(), "database", string(svc.Store().Dialect()))
	if env.Opts.Ready != nil {
		env.Opts.Ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newMetrics makes this process's metrics registry and has the services,
// the database pool and the caches report into it.
func newMetrics(svc *services.Set) *metrics.Metrics {
	m := metrics.New()
	svc.SetMetrics(m)
	m.WatchDB(svc.Store().DB())
	m.GaugeFunc("latch_api_key_cache_keys", "API keys held in the key cache.",
		func() float64 { return float64(svc.Keys.Size()) })
	m.GaugeFunc("latch_config_cache_entries", "Tenant and application settings held in the settings cache.",
		func() float64 { return float64(svc.Configs.Size()) })
	m.GaugeFunc("latch_login_records_pending", "Successful logins buffered, not yet written.",
		func() float64 { return float64(svc.Logins.Pending()) })
	m.GaugeFunc("latch_password_hashes_running", "Password hashes and checks running in the hash pool.",
		func() float64 { running, _ := svc.Hasher.Stats(); return float64(running) })
	m.GaugeFunc("latch_password_hashes_queued", "Password hashes and checks waiting for a worker of the hash pool.",
		func() float64 { _, queued := svc.Hasher.Stats(); return float64(queued) })
	return m
}

// newRootHandler sends every spelling of /api/* (any case, "//", "..") straight
// to the API's guard, which authenticates before it refuses a non-canonical
// path; a ServeMux in front would clean or redirect them first.
func newRootHandler(apiHandler http.Handler, pages *ui.UI, jwks http.Handler, provider *oauth.Provider, adminUI *admin.Admin) http.Handler {
	mux := http.NewServeMux()
	pages.Mount(mux)
	adminUI.Mount(mux)                             // /admin/*, each route with the action its roles must allow
	mux.Handle("GET /.well-known/jwks.json", jwks) // anonymous, served from memory
	provider.Mount(mux)                            // /oauth2/*, /app/* and discovery, each route with its access rule
	cors := provider.WithCORS(mux)                 // the system configuration's CORS policy on /oauth2/*, /app/*, /.well-known/*
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) {
			apiHandler.ServeHTTP(w, r)
			return
		}
		cors.ServeHTTP(w, r)
	})
}

// providerRoute is one route's handler of the provider (the admin UI calls
// the token endpoint in-process).
func providerRoute(p *oauth.Provider, pattern string) http.Handler {
	for _, rt := range p.Routes() {
		if rt.Pattern == pattern {
			return rt.Handler
		}
	}
	panic("oauth: no route " + pattern)
}

// isAPIPath reports whether a path, as sent or once cleaned, names /api.
func isAPIPath(p string) bool {
	for _, form := range []string{p, path.Clean("/" + p)} {
		form = strings.ToLower(form)
		if form == "/api" || strings.HasPrefix(form, "/api/") {
			return true
		}
	}
	return false
}

// serverTLS loads the certificate and key once at start; a bad pair is a
// configuration error (exit 2), not a runtime one.
func serverTLS(cfg *config.Config) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, usageError{"TLS certificate and key: " + err.Error()}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// withHSTS tells browsers to use https only, for a year, once Latch itself
// serves TLS. (Behind a TLS-terminating proxy, the proxy sets it.)
func withHSTS(on bool, next http.Handler) http.Handler {
	if !on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}
