// Package kit holds what every rules package shares: the clock, the actor of a
// change, the tenant scope of a request, paging, ids, JSON object helpers and
// a few validators. It imports only model, store and secrets; every rules
// package may import it.
package kit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/mail"
	"strings"
	"time"

	"github.com/latchid/latch/internal/model"
)

// Clock tells the time; tests inject a fake one for anything that expires.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// SleepUntil waits until c reads t or later. A clock that can wait itself
// (a test's fake clock moves on instead) does.
func SleepUntil(c Clock, t time.Time) {
	if w, ok := c.(interface{ SleepUntil(time.Time) }); ok {
		w.SleepUntil(t)
		return
	}
	if d := t.Sub(c.Now()); d > 0 {
		time.Sleep(d)
	}
}

// Every runs fn every interval until ctx ends (the background loops: cache
// polls, flushes, the sweeper).
func Every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// WaitUntil returns at t (wall time) or when ctx ends: the floor under the
// answer time of anonymous calls whose work depends on whether an account
// exists.
func WaitUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// Actor is who made a change, and through which request. Every change is
// attributed to one.
type Actor struct {
	Type   string // ActorAPIKey, ActorUser, ActorCLI, ActorKickstart, ActorSetup, ActorSystem
	ID     string // key id, user id, OS user…
	Name   string // key name, email, "user@host"…
	IP     string
	Method string
	Path   string
}

// Actor types recorded in the audit log.
const (
	ActorAPIKey    = "apiKey"
	ActorUser      = "user"
	ActorCLI       = "cli"
	ActorKickstart = "kickstart"
	ActorSetup     = "setup"
	ActorSystem    = "system"
)

// Label is what FusionAuth calls insertUser: a readable name for the actor.
func (a Actor) Label() string {
	switch {
	case a.Type == ActorAPIKey && a.Name != "":
		return fmt.Sprintf("API key %s (%s)", a.Name, a.ID)
	case a.Type == ActorAPIKey:
		return "API key " + a.ID
	case a.Name != "":
		return a.Name
	case a.ID != "":
		return a.Type + " " + a.ID
	default:
		return a.Type
	}
}

// IsEmail reports whether s is a plain email address with a dotted domain.
func IsEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

// GenerateCode makes a one-time code as a tenant's SecureGenerator says.
func GenerateCode(g model.SecureGenerator) string {
	n := g.Length
	if n <= 0 {
		n = 32
	}
	n = min(n, 256)
	var alphabet string
	switch g.Type {
	case "randomAlpha":
		alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	case "randomAlphaNumeric":
		alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	case "randomDigits":
		alphabet = "0123456789"
	default: // randomBytes
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	out := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out)
}
