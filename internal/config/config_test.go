package config_test

import (
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/config"
)

// load registers the flags with env as the environment, parses args and validates.
func load(env map[string]string, args ...string) (*config.Config, error) {
	fs := flag.NewFlagSet("latch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := config.Register(fs, func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

func TestValidateAccepts(t *testing.T) {
	const pg = "postgres://latch@db.internal:5432/latch"
	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c *config.Config)
	}{
		{"defaults", nil, nil, func(t *testing.T, c *config.Config) {
			if c.Listen != ":9011" || c.DataDir != "./latch-data" || c.DatabaseURL != "" || c.Postgres() {
				t.Errorf("listen %q, data dir %q, database %q", c.Listen, c.DataDir, c.DatabaseURL)
			}
			if c.LogLevel != slog.LevelInfo || c.LogFormat != "text" || c.ForbiddenStatus != 401 || c.TrustedProxies != nil {
				t.Errorf("level %v, format %q, forbidden %d, proxies %v", c.LogLevel, c.LogFormat, c.ForbiddenStatus, c.TrustedProxies)
			}
			if c.PublicURL != "http://localhost:9011" {
				t.Errorf("public URL %q", c.PublicURL)
			}
			if c.SQLitePath() != filepath.Join("latch-data", "latch.db") || c.DefaultMasterKeyFile() != filepath.Join("latch-data", "master.key") {
				t.Errorf("paths %q %q", c.SQLitePath(), c.DefaultMasterKeyFile())
			}
		}},
		{"environment", map[string]string{
			"LATCH_LISTEN": "127.0.0.1:8080", "LATCH_DATA_DIR": "/var/lib/latch", "LATCH_LOG_LEVEL": "DEBUG",
			"LATCH_LOG_FORMAT": "JSON", "LATCH_FORBIDDEN_STATUS": "403", "LATCH_MASTER_KEY_FILE": "/etc/latch/key",
		}, nil, func(t *testing.T, c *config.Config) {
			if c.Listen != "127.0.0.1:8080" || c.DataDir != "/var/lib/latch" || c.MasterKeyFile != "/etc/latch/key" {
				t.Errorf("listen %q, data dir %q, key file %q", c.Listen, c.DataDir, c.MasterKeyFile)
			}
			if c.LogLevel != slog.LevelDebug || c.LogFormat != "json" || c.ForbiddenStatus != 403 {
				t.Errorf("level %v, format %q, forbidden %d", c.LogLevel, c.LogFormat, c.ForbiddenStatus)
			}
			if c.PublicURL != "http://127.0.0.1:8080" {
				t.Errorf("public URL %q", c.PublicURL)
			}
		}},
		{"flags beat the environment", map[string]string{"LATCH_LISTEN": ":1", "LATCH_LOG_LEVEL": "error"},
			[]string{"--listen", ":2", "--log-level", "warn"}, func(t *testing.T, c *config.Config) {
				if c.Listen != ":2" || c.LogLevel != slog.LevelWarn {
					t.Errorf("listen %q, level %v", c.Listen, c.LogLevel)
				}
			}},
		{"any-address IPv6 listen shows localhost", nil, []string{"--listen", "[::]:9011"}, func(t *testing.T, c *config.Config) {
			if c.PublicURL != "http://localhost:9011" {
				t.Errorf("public URL %q", c.PublicURL)
			}
		}},
		{"public URL trimmed", map[string]string{"LATCH_PUBLIC_URL": "https://id.example.com/"}, nil, func(t *testing.T, c *config.Config) {
			if c.PublicURL != "https://id.example.com" {
				t.Errorf("public URL %q", c.PublicURL)
			}
		}},
		{"PostgreSQL with master key", map[string]string{"LATCH_DATABASE_URL": pg, "LATCH_MASTER_KEY": "x"}, nil, func(t *testing.T, c *config.Config) {
			if !c.Postgres() || c.MasterKey.Reveal() != "x" {
				t.Errorf("postgres %v", c.Postgres())
			}
		}},
		{"postgresql scheme with master key file", nil, []string{"--database-url", "postgresql://h/db", "--master-key-file", "/k"}, func(t *testing.T, c *config.Config) {
			if !c.Postgres() {
				t.Error("postgresql:// is not PostgreSQL")
			}
		}},
		{"trusted proxies", map[string]string{"LATCH_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,::1,, 172.16.5.4/12"}, nil, func(t *testing.T, c *config.Config) {
			want := []netip.Prefix{
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
				netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("172.16.0.0/12"),
			}
			if len(c.TrustedProxies) != len(want) {
				t.Fatalf("proxies %v", c.TrustedProxies)
			}
			for i := range want {
				if c.TrustedProxies[i] != want[i] {
					t.Errorf("proxy %d = %v, want %v", i, c.TrustedProxies[i], want[i])
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := load(c.env, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"log level", map[string]string{"LATCH_LOG_LEVEL": "loud"}, nil, "log level"},
		{"log format", map[string]string{"LATCH_LOG_FORMAT": "xml"}, nil, "log format"},
		{"listen without port", nil, []string{"--listen", "localhost"}, "listen"},
		{"listen port not a number", nil, []string{"--listen", ":http"}, "port"},
		{"listen port too big", nil, []string{"--listen", ":65536"}, "port"},
		{"listen port negative", nil, []string{"--listen", ":-1"}, "port"},
		{"empty data dir", nil, []string{"--data-dir", ""}, "data dir"},
		{"mysql", map[string]string{"LATCH_DATABASE_URL": "mysql://h/db"}, nil, "database URL"},
		{"sqlite URL", map[string]string{"LATCH_DATABASE_URL": "sqlite:///tmp/x.db"}, nil, "database URL"},
		{"PostgreSQL without master key", map[string]string{"LATCH_DATABASE_URL": "postgres://h/db"}, nil, "LATCH_MASTER_KEY"},
		{"trusted proxy host name", map[string]string{"LATCH_TRUSTED_PROXIES": "proxy.example"}, nil, "trusted proxy"},
		{"trusted proxy bad CIDR", map[string]string{"LATCH_TRUSTED_PROXIES": "10.0.0.0/33"}, nil, "trusted proxy"},
		{"forbidden status", map[string]string{"LATCH_FORBIDDEN_STATUS": "418"}, nil, "forbidden status"},
		{"forbidden status empty", nil, []string{"--forbidden-status", ""}, "forbidden status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(c.env, c.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(c.want)) {
				t.Errorf("error %q does not mention %q", msg, c.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}

// The master key is never a flag, so it stays out of ps, and it never prints.
func TestMasterKeyStaysSecret(t *testing.T) {
	fs := flag.NewFlagSet("latch", flag.ContinueOnError)
	c := config.Register(fs, func(k string) string {
		if k == config.EnvMasterKey {
			return "the-master-key"
		}
		return ""
	})
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "master-key" {
			t.Error("the master key is a flag")
		}
	})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	slog.New(slog.NewTextHandler(&out, nil)).Info("config", "cfg", c)
	if strings.Contains(out.String(), "the-master-key") {
		t.Errorf("logging the config prints the master key: %s", out.String())
	}
}

// The hashing limits and pool come from flags or the environment (a flag
// wins); limits outside what keeps the schemes' defaults usable are refused.
func TestHashingSettings(t *testing.T) {
	c, err := load(map[string]string{config.EnvMaxBcryptCost: "13", config.EnvHashQueue: "10"}, "--max-hash-iterations", "50000", "--hash-workers", "3")
	if err != nil {
		t.Fatal(err)
	}
	h := c.Hashing
	if h.Limits.MaxBcryptCost != 13 || h.Limits.MaxIterations != 50000 || h.Workers != 3 || h.Queue != 10 || h.QueuePerTenant != 10 {
		t.Errorf("hashing %+v", h)
	}
	for _, args := range [][]string{
		{"--max-bcrypt-cost", "11"}, {"--max-bcrypt-cost", "32"}, {"--max-hash-iterations", "1000"},
		{"--max-hash-iterations", "99999999"}, {"--hash-workers", "0"}, {"--hash-queue", "-1"}, {"--hash-queue", "many"},
	} {
		if _, err := load(nil, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// The authentication rate limits default on, can be turned off with 0, and
// need a window of at least a second.
func TestRateLimitSettings(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimits != config.DefaultRateLimits() || c.RateLimits.PerAddress == 0 {
		t.Errorf("defaults %+v", c.RateLimits)
	}
	c, err = load(map[string]string{config.EnvRateAddress: "0"}, "--auth-rate-per-tenant", "10", "--auth-rate-window", "5")
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimits != (config.RateLimits{PerAddress: 0, PerTenant: 10, WindowSeconds: 5}) {
		t.Errorf("set %+v", c.RateLimits)
	}
	for _, args := range [][]string{{"--auth-rate-window", "0"}, {"--auth-rate-per-address", "-1"}} {
		if _, err := load(nil, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
