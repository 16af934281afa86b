package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/testutil"
)

// A page that hashes (the setup wizard) answers a full hash pool with a 503
// page and Retry-After, not with an endless wait or a 500.
func TestSetupWizardBusyHashPool(t *testing.T) {
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	first := true
	observe := func(_ context.Context, _ password.Job) {
		if first { // only the held request's hash gets here: the pool has one worker
			first = false
			entered <- struct{}{}
			<-gate
		}
	}
	s := testutil.StartServer(t, testutil.WithHashObserver(observe), testutil.WithEnv("LATCH_HASH_WORKERS", "1", "LATCH_HASH_QUEUE", "0"))
	token := setupToken(t, s)

	held := make(chan int, 1)
	go func() {
		resp, err := http.PostForm(s.URL+"/setup-wizard", validForm(token))
		if err != nil {
			t.Error(err)
			held <- 0
			return
		}
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	<-entered

	p := fetch(t, "POST", s.URL+"/setup-wizard", validForm(token))
	if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "busy") {
		t.Errorf("setup with the pool full: %d, Retry-After %q: %s", p.status, p.header.Get("Retry-After"), p.body)
	}
	close(gate)
	if st := <-held; st != http.StatusOK {
		t.Errorf("held setup: %d", st)
	}
}

// The setup wizard's form is rate limited per client address: beyond the
// limit a 429 page with Retry-After, whatever the token.
func TestSetupWizardRateLimited(t *testing.T) {
	s := testutil.StartServer(t, testutil.WithEnv("LATCH_AUTH_RATE_PER_ADDRESS", "2"))
	token := setupToken(t, s)
	bad := validForm(token)
	bad.Set("passwordConfirm", "something else")
	for i := range 2 {
		if p := fetch(t, "POST", s.URL+"/setup-wizard", bad); p.status != http.StatusBadRequest {
			t.Fatalf("attempt %d: %d", i, p.status)
		}
	}
	p := fetch(t, "POST", s.URL+"/setup-wizard", validForm(token))
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many") {
		t.Errorf("beyond the limit: %d, Retry-After %q: %s", p.status, p.header.Get("Retry-After"), p.body)
	}
}
