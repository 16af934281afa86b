package testutil

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Mailpit is a real SMTP catcher (github.com/axllent/mailpit) on loopback,
// read through its HTTP API.
type Mailpit struct {
	SMTPHost string
	SMTPPort int
	API      string // http://127.0.0.1:PORT
}

// MailpitMessage is a caught message as Mailpit's API describes it.
type MailpitMessage struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	From    struct {
		Name    string `json:"Name"`
		Address string `json:"Address"`
	} `json:"From"`
	To []struct {
		Name    string `json:"Name"`
		Address string `json:"Address"`
	} `json:"To"`
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

// MailpitOption changes how Mailpit starts.
type MailpitOption func(*mailpitOptions)

type mailpitOptions struct{ user, password string }

// MailpitAuth makes Mailpit accept only this SMTP user and password.
func MailpitAuth(user, password string) MailpitOption {
	return func(o *mailpitOptions) { o.user, o.password = user, password }
}

// Headers returns a caught message's headers.
func (m *Mailpit) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	m.get(t, "/api/v1/message/"+id+"/headers", &h)
	return h
}

func mustFreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// StartMailpit starts Mailpit on loopback for one test: the binary named by
// LATCH_TEST_MAILPIT, else mailpit on PATH. Without one the test is skipped,
// unless LATCH_TEST_REQUIRE_MAILPIT is set (scripts/test sets it).
func StartMailpit(t testing.TB, opts ...MailpitOption) *Mailpit {
	t.Helper()
	bin := os.Getenv("LATCH_TEST_MAILPIT")
	if bin == "" {
		if p, err := exec.LookPath("mailpit"); err == nil {
			bin = p
		}
	}
	if bin == "" {
		if os.Getenv("LATCH_TEST_REQUIRE_MAILPIT") != "" {
			t.Fatal("Mailpit is required: set LATCH_TEST_MAILPIT or put mailpit on PATH")
		}
		t.Skip("no Mailpit (LATCH_TEST_MAILPIT)")
	}
	smtpPort, httpPort := mustFreePort(t), mustFreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	o := mailpitOptions{}
	for _, f := range opts {
		f(&o)
	}
	auth := []string{"--smtp-auth-accept-any"}
	if o.user != "" {
		if err := os.WriteFile(dir+"/smtp-auth", []byte(o.user+":"+o.password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = []string{"--smtp-auth-file", dir + "/smtp-auth"}
	}
	args := append([]string{"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort), "--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
		"--database", dir + "/mailpit.db", "--smtp-auth-allow-insecure", "--disable-version-check"}, auth...)
	cmd := exec.CommandContext(ctx, bin, args...)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start mailpit: %v", err)
	}
	// Wait in a goroutine, so that a Mailpit that exits (a port taken
	// meanwhile) fails the test instead of leaving it polling for ever.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cancel(); <-exited })
	m := &Mailpit{SMTPHost: "127.0.0.1", SMTPPort: smtpPort, API: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(m.API + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", smtpPort)); err == nil {
				c.Close()
				return m
			}
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("mailpit exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not start within a minute")
		}
	}
}

// Messages returns every caught message, newest first, with its text and HTML.
func (m *Mailpit) Messages(t testing.TB) []MailpitMessage {
	t.Helper()
	var list struct {
		Messages []MailpitMessage `json:"messages"`
	}
	m.get(t, "/api/v1/messages", &list)
	for i := range list.Messages {
		var full MailpitMessage
		m.get(t, "/api/v1/message/"+list.Messages[i].ID, &full)
		list.Messages[i].Text, list.Messages[i].HTML = full.Text, full.HTML
	}
	return list.Messages
}

// WaitMessages waits until at least n messages were caught.
func (m *Mailpit) WaitMessages(t testing.TB, n int) []MailpitMessage {
	t.Helper()
	for {
		if got := m.Messages(t); len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}
