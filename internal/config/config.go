// Package config is the only code that reads flags and the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
)

// Config is what every subcommand that opens the database needs.
type Config struct {
	Listen        string
	DataDir       string
	DatabaseURL   string
	MasterKeyFile string
	MasterKey     secrets.Secret // LATCH_MASTER_KEY; never a flag, so it stays out of ps
	LogLevel      slog.Level
	LogFormat     string
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// ForbiddenStatus is the status for "authenticated but not permitted": 401 as
	// FusionAuth, or 403 when the operator prefers to tell the two apart.
	ForbiddenStatus int
	// PublicURL is the address printed in links such as the setup wizard's.
	PublicURL string
	// KickstartFile is the kickstart file `latch serve` runs at start on a
	// fresh instance (LATCH_KICKSTART_FILE, or FusionAuth's
	// FUSIONAUTH_APP_KICKSTART_FILE); empty means none.
	KickstartFile string
	// TLSCertFile and TLSKeyFile, both or neither, make serve speak HTTPS
	// itself (with HSTS), for the single-binary deployment.
	TLSCertFile string
	TLSKeyFile  string
	// Hashing bounds password hashing: the factor limits tenants and imports
	// must stay within, and the worker pool every hash runs in.
	Hashing password.PoolConfig
	// RateLimits bound anonymous authentication requests per client address
	// and per tenant.
	RateLimits RateLimits
	// SetupTokenTTL is how long the setup wizard link serve prints stays valid.
	SetupTokenTTL time.Duration

	logLevelText string
	proxiesText  string
	forbidText   string
	intTexts     []intText
	setupTTLText string
}

// intText is an integer flag as given, parsed by Validate.
type intText struct {
	name, env, text string
	dst             *int
}

// RateLimits are the fixed-window limits on anonymous authentication
// endpoints (login, two-factor login, forgot and change password, setup,
// OAuth), counted in the database so that they hold across nodes.
type RateLimits struct {
	PerAddress    int // requests per client address per window; 0 none
	PerTenant     int // requests per tenant per window; 0 none
	WindowSeconds int
}

// DefaultRateLimits are generous enough for a busy office behind one NAT
// address and tight enough to stop a spray from one address.
func DefaultRateLimits() RateLimits {
	return RateLimits{PerAddress: 300, PerTenant: 30000, WindowSeconds: 60}
}

// Setup token lifetime: the default and the accepted range.
const (
	DefaultSetupTokenTTL = 24 * time.Hour
	MinSetupTokenTTL     = time.Minute
	MaxSetupTokenTTL     = 30 * 24 * time.Hour
)

// Env names, in one place so docs and tests can refer to them.
const (
	EnvListen          = "LATCH_LISTEN"
	EnvDataDir         = "LATCH_DATA_DIR"
	EnvDatabaseURL     = "LATCH_DATABASE_URL"
	EnvMasterKeyFile   = "LATCH_MASTER_KEY_FILE"
	EnvMasterKey       = "LATCH_MASTER_KEY"
	EnvLogLevel        = "LATCH_LOG_LEVEL"
	EnvLogFormat       = "LATCH_LOG_FORMAT"
	EnvTrustedProxies  = "LATCH_TRUSTED_PROXIES"
	EnvForbiddenStatus = "LATCH_FORBIDDEN_STATUS"
	EnvPublicURL       = "LATCH_PUBLIC_URL"
	EnvKickstartFile   = "LATCH_KICKSTART_FILE"
	EnvTLSCertFile     = "LATCH_TLS_CERT_FILE"
	EnvTLSKeyFile      = "LATCH_TLS_KEY_FILE"
	EnvMaxBcryptCost   = "LATCH_MAX_BCRYPT_COST"
	EnvMaxHashIter     = "LATCH_MAX_HASH_ITERATIONS"
	EnvHashWorkers     = "LATCH_HASH_WORKERS"
	EnvHashQueue       = "LATCH_HASH_QUEUE"
	EnvHashQueueTenant = "LATCH_HASH_QUEUE_PER_TENANT"
	EnvRateAddress     = "LATCH_AUTH_RATE_PER_ADDRESS"
	EnvRateTenant      = "LATCH_AUTH_RATE_PER_TENANT"
	EnvRateWindow      = "LATCH_AUTH_RATE_WINDOW"
	EnvSetupTokenTTL   = "LATCH_SETUP_TOKEN_TTL"
	// EnvFusionAuthKickstartFile is read too, so deployments made for
	// FusionAuth work unchanged; LATCH_KICKSTART_FILE wins when both are set.
	EnvFusionAuthKickstartFile = "FUSIONAUTH_APP_KICKSTART_FILE"
)

// Register adds the common flags to fs, with defaults taken from the environment.
// Call Validate after fs.Parse.
func Register(fs *flag.FlagSet, getenv func(string) string) *Config {
	c := &Config{MasterKey: secrets.Secret(getenv(EnvMasterKey))}
	def := func(env, fallback string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return fallback
	}
	fs.StringVar(&c.Listen, "listen", def(EnvListen, ":9011"), "address to listen on (env "+EnvListen+")")
	fs.StringVar(&c.DataDir, "data-dir", def(EnvDataDir, "./latch-data"), "directory for the SQLite database and generated master key (env "+EnvDataDir+")")
	fs.StringVar(&c.DatabaseURL, "database-url", def(EnvDatabaseURL, ""), "postgres://… selects PostgreSQL; empty means SQLite in the data dir (env "+EnvDatabaseURL+")")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", def(EnvMasterKeyFile, ""), "file holding the 256-bit master key as hex or base64 (env "+EnvMasterKeyFile+"; or the key itself in "+EnvMasterKey+")")
	fs.StringVar(&c.logLevelText, "log-level", def(EnvLogLevel, "info"), "debug, info, warn or error (env "+EnvLogLevel+")")
	fs.StringVar(&c.LogFormat, "log-format", def(EnvLogFormat, "text"), "text or json (env "+EnvLogFormat+")")
	fs.StringVar(&c.proxiesText, "trusted-proxies", def(EnvTrustedProxies, ""), "comma-separated addresses or CIDRs whose X-Forwarded-For is trusted (env "+EnvTrustedProxies+")")
	fs.StringVar(&c.forbidText, "forbidden-status", def(EnvForbiddenStatus, "401"), "status for a valid key that lacks permission: 401 (as FusionAuth) or 403 (env "+EnvForbiddenStatus+")")
	fs.StringVar(&c.PublicURL, "public-url", def(EnvPublicURL, ""), "base URL printed in links, default http://localhost:PORT (env "+EnvPublicURL+")")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", def(EnvTLSCertFile, ""), "PEM certificate chain: serve HTTPS (with HSTS) instead of HTTP; needs --tls-key-file (env "+EnvTLSCertFile+")")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", def(EnvTLSKeyFile, ""), "PEM private key of --tls-cert-file (env "+EnvTLSKeyFile+")")
	intVar := func(p *int, name, env string, fallback int, usage string) {
		c.intTexts = append(c.intTexts, intText{name: name, env: env, dst: p, text: def(env, strconv.Itoa(fallback))})
		fs.Func(name, usage+" (env "+env+")", func(v string) error {
			for i := range c.intTexts {
				if c.intTexts[i].name == name {
					c.intTexts[i].text = v
				}
			}
			return nil
		})
	}
	pd := password.DefaultPoolConfig()
	intVar(&c.Hashing.Limits.MaxBcryptCost, "max-bcrypt-cost", EnvMaxBcryptCost, pd.Limits.MaxBcryptCost,
		fmt.Sprintf("highest bcrypt cost a tenant or an imported user may use, %d-31", password.MinMaxBcryptCost))
	intVar(&c.Hashing.Limits.MaxIterations, "max-hash-iterations", EnvMaxHashIter, pd.Limits.MaxIterations,
		fmt.Sprintf("highest iteration count (PBKDF2, salted-md5/sha256, phpass) a tenant or an imported user may use, %d-%d", password.MinMaxIterations, password.MaxMaxIterations))
	intVar(&c.Hashing.Workers, "hash-workers", EnvHashWorkers, pd.Workers, "password hashes run at once (default: the number of CPUs)")
	intVar(&c.Hashing.Queue, "hash-queue", EnvHashQueue, pd.Queue, "password hashes that may wait for a worker; beyond, requests get 503 with Retry-After")
	intVar(&c.Hashing.QueuePerTenant, "hash-queue-per-tenant", EnvHashQueueTenant, pd.QueuePerTenant, "share of the hash queue one tenant may hold")
	intVar(&c.RateLimits.PerAddress, "auth-rate-per-address", EnvRateAddress, DefaultRateLimits().PerAddress,
		"anonymous authentication requests one client address may make per window (0: no limit)")
	intVar(&c.RateLimits.PerTenant, "auth-rate-per-tenant", EnvRateTenant, DefaultRateLimits().PerTenant,
		"anonymous authentication requests one tenant may receive per window (0: no limit)")
	intVar(&c.RateLimits.WindowSeconds, "auth-rate-window", EnvRateWindow, DefaultRateLimits().WindowSeconds,
		"length of the rate-limit window in seconds")
	fs.StringVar(&c.setupTTLText, "setup-token-ttl", def(EnvSetupTokenTTL, DefaultSetupTokenTTL.String()), "lifetime of the setup wizard link, 1m to 720h (env "+EnvSetupTokenTTL+")")
	c.KickstartFile = strings.TrimSpace(def(EnvKickstartFile, getenv(EnvFusionAuthKickstartFile)))
	return c
}

// Validate checks and completes the configuration after parsing.
func (c *Config) Validate() error {
	if err := c.LogLevel.UnmarshalText([]byte(c.logLevelText)); err != nil {
		return fmt.Errorf("invalid log level %q: use debug, info, warn or error", c.logLevelText)
	}
	c.LogFormat = strings.ToLower(c.LogFormat)
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("invalid log format %q: use text or json", c.LogFormat)
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("invalid listen address %q: use host:port or :port", c.Listen)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("invalid listen port %q", port)
	}
	if c.DataDir == "" {
		return errors.New("the data dir must not be empty")
	}
	if c.DatabaseURL != "" && !c.Postgres() {
		return fmt.Errorf("invalid database URL: only postgres:// or postgresql:// URLs are supported (leave it empty for SQLite)")
	}
	if c.Postgres() && c.MasterKey == "" && c.MasterKeyFile == "" {
		return errors.New("PostgreSQL needs a master key shared by every node: set " + EnvMasterKeyFile + " or " + EnvMasterKey)
	}
	c.TrustedProxies = nil
	for _, p := range strings.Split(c.proxiesText, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("invalid trusted proxy %q: use an address or CIDR", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	switch c.forbidText {
	case "401":
		c.ForbiddenStatus = 401
	case "403":
		c.ForbiddenStatus = 403
	default:
		return fmt.Errorf("invalid forbidden status %q: use 401 or 403", c.forbidText)
	}
	for _, it := range c.intTexts {
		n, err := strconv.Atoi(strings.TrimSpace(it.text))
		if err != nil || n < 0 {
			return fmt.Errorf("invalid --%s (%s) %q: use a whole number", it.name, it.env, it.text)
		}
		*it.dst = n
	}
	if err := c.Hashing.Limits.Check(); err != nil {
		return fmt.Errorf("%s (--max-bcrypt-cost, --max-hash-iterations)", err)
	}
	if c.Hashing.Workers < 1 {
		return errors.New("--hash-workers must be at least 1")
	}
	if c.Hashing.QueuePerTenant > c.Hashing.Queue {
		c.Hashing.QueuePerTenant = c.Hashing.Queue
	}
	if c.RateLimits.WindowSeconds < 1 {
		return errors.New("--auth-rate-window must be at least 1 second")
	}
	ttl, err := time.ParseDuration(strings.TrimSpace(c.setupTTLText))
	if err != nil || ttl < MinSetupTokenTTL || ttl > MaxSetupTokenTTL {
		return fmt.Errorf("invalid setup token TTL %q: use a duration from 1m to 720h, such as 24h", c.setupTTLText)
	}
	c.SetupTokenTTL = ttl
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("TLS needs both --tls-cert-file and --tls-key-file, or neither")
	}
	if c.PublicURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		scheme := "http://"
		if c.TLS() {
			scheme = "https://"
		}
		c.PublicURL = scheme + net.JoinHostPort(host, port)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return nil
}

// TLS reports whether serve terminates TLS itself.
func (c *Config) TLS() bool { return c.TLSCertFile != "" }

// SecureCookies reports whether cookies must carry Secure: whenever browsers
// reach Latch over https, directly or through a proxy.
func (c *Config) SecureCookies() bool {
	return c.TLS() || strings.HasPrefix(strings.ToLower(c.PublicURL), "https://")
}

// Postgres reports whether the database is PostgreSQL.
func (c *Config) Postgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// SQLitePath is the SQLite database file inside the data dir.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "latch.db") }

// DefaultMasterKeyFile is where SQLite installs keep a generated master key.
func (c *Config) DefaultMasterKeyFile() string { return filepath.Join(c.DataDir, "master.key") }
