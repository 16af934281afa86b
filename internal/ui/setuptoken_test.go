package ui_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// TestSetupTokenExpiresAndIsReplacedAtRestart: one wizard token at a time; it
// expires after the configured lifetime (24 h by default), and a restart
// replaces it with a new one printed again.
func TestSetupTokenExpiresAndIsReplacedAtRestart(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		cases := []struct {
			name string
			env  []string
			ttl  time.Duration
		}{
			{"default 24h", nil, 24 * time.Hour},
			{"LATCH_SETUP_TOKEN_TTL", []string{"LATCH_SETUP_TOKEN_TTL", "30m"}, 30 * time.Minute},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				backend := b
				if b.DatabaseURL != "" {
					backend.DatabaseURL = testutil.PostgresURL(t)
				}
				clock := testutil.NewFakeClock()
				dir := t.TempDir()
				opts := []testutil.Option{testutil.WithBackend(backend), testutil.WithClock(clock), testutil.WithDataDir(dir), testutil.WithEnv(c.env...)}
				s := testutil.StartServer(t, opts...)
				first := setupToken(t, s)
				status := func(s *testutil.Server, token string) int {
					return fetch(t, "GET", s.URL+"/setup-wizard?token="+token, nil).status
				}
				if got := status(s, first); got != http.StatusOK {
					t.Fatalf("fresh token: %d", got)
				}
				clock.Advance(c.ttl - time.Second)
				if got := status(s, first); got != http.StatusOK {
					t.Fatalf("token a second before expiry: %d", got)
				}

				// A restart invalidates the previous token and prints a new one.
				s.Stop(t)
				s2 := testutil.StartServer(t, opts...)
				second := setupToken(t, s2)
				if second == first {
					t.Fatal("restart printed the same token")
				}
				if got := status(s2, first); got != http.StatusForbidden {
					t.Errorf("previous token after restart: %d, want 403", got)
				}
				if got := status(s2, second); got != http.StatusOK {
					t.Fatalf("new token: %d", got)
				}
				clock.Advance(c.ttl)
				if got := status(s2, second); got != http.StatusForbidden {
					t.Errorf("token after its lifetime: %d, want 403", got)
				}
				form := validForm(second)
				if p := fetch(t, "POST", s2.URL+"/setup-wizard", form); p.status != http.StatusForbidden {
					t.Errorf("setup with an expired token: %d, want 403", p.status)
				}
			})
		}
	})
}

func TestSetupTokenTTLFlagValidated(t *testing.T) {
	cases := []struct {
		value string
		want  int
	}{{"0s", 2}, {"-1h", 2}, {"abc", 2}, {"1000h", 2}, {"10m", 0}, {"720h", 0}}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			// migrate parses the common flags and exits.
			_, stderr, code := testutil.RunCLI(t, map[string]string{"LATCH_DATA_DIR": t.TempDir(), "LATCH_SETUP_TOKEN_TTL": c.value}, nil, "migrate")
			if code != c.want {
				t.Errorf("LATCH_SETUP_TOKEN_TTL=%s: exit %d, want %d: %s", c.value, code, c.want, stderr)
			}
		})
	}
}
