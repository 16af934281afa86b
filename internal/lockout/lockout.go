// Package lockout counts failed authentications toward a login id's lockout
// (FusionAuth's failedAuthenticationConfiguration) and locks it: wrong
// passwords and wrong second factors at the Login API, and wrong current
// passwords at change password, all add up to one count per user. A lockout
// revokes the user's refresh tokens where the policy in force (an
// application's or the tenant's) says so. Both authentication and identity
// count here.
package lockout

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// Counter counts failures and locks.
type Counter struct {
	store   *store.Store
	clock   kit.Clock
	tokens  *tokens.Service
	metrics kit.Metrics
}

// New wires a Counter.
func New(st *store.Store, clock kit.Clock, tokens *tokens.Service) *Counter {
	return &Counter{store: st, clock: clock, tokens: tokens, metrics: kit.NoMetrics{}}
}

// SetMetrics names where lockouts are counted; call it at wiring, before
// the counter is used.
func (c *Counter) SetMetrics(m kit.Metrics) { c.metrics = m }

const (
	// SubjectPrefix marks the subjects of unknown login ids (failures are
	// counted for them too, so that a lockout does not tell them apart).
	SubjectPrefix = "login:"
	// ReasonCode is a lockout's reasonCode in 409 answers.
	ReasonCode = "failed_authentication_lockout"
	// statusLoginPrevented is FusionAuth's status of a lockout (409) for the
	// APIs that answer it as Errors.
	statusLoginPrevented = 409
)

// Failure counts older than staleFailureHorizon (or the tenant's window, if
// longer) are swept by about one failed login in staleFailureSweepEvery.
const (
	staleFailureHorizon    = 24 * time.Hour
	staleFailureSweepEvery = 64
)

// CountFailure counts a failed authentication of subject (a user id, or
// SubjectPrefix and a hash for unknown login ids). It answers the lockout's
// end when the subject is locked (meanwhile, by a concurrent failure), else
// model.ErrNotFound: the caller's 404 (the check that reaches
// tooManyAttempts still answers 404; the next one finds the lockout). A
// lockout revokes the user's refresh tokens where the policy says so.
func (c *Counter) CountFailure(ctx context.Context, tenant *model.TenantConfig, subject string) (lockedUntil int64, err error) {
	fa := tenant.FailedAuthenticationConfiguration
	locked := false
	err = c.store.InTx(ctx, func(tx *store.Tx) error {
		locked = false // a retried transaction starts over
		now := c.clock.Now().UnixMilli()
		n, err := tx.CountLoginFailure(ctx, subject, now, now-int64(fa.ResetCountInSeconds)*1000)
		if err != nil {
			return fmt.Errorf("count a failed login: %w", err)
		}
		if n == 0 { // locked meanwhile by a concurrent failure
			lockedUntil, err = tx.LockedUntil(ctx, subject, now)
			return err
		}
		if fa.TooManyAttempts > 0 && n >= fa.TooManyAttempts {
			if err := tx.LockSubject(ctx, subject, now+Duration(fa).Milliseconds()); err != nil {
				return err
			}
			locked = true
			return c.revokeOnLockout(ctx, tx, tenant, subject)
		}
		// Now and then, forget counts long past any window.
		if rand.IntN(staleFailureSweepEvery) == 0 {
			horizon := max(int64(fa.ResetCountInSeconds)*1000, staleFailureHorizon.Milliseconds())
			if _, err := tx.DeleteStaleLoginFailures(ctx, now-horizon, now); err != nil {
				return fmt.Errorf("forget stale login failures: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if locked {
		c.metrics.Lockout()
	}
	if lockedUntil != 0 {
		return lockedUntil, nil
	}
	return 0, model.NotFoundf("unknown user or wrong password")
}

// Duration is failedAuthenticationConfiguration's actionDuration.
func Duration(fa model.FailedAuthenticationConfiguration) time.Duration {
	unit := map[string]time.Duration{
		"MINUTES": time.Minute, "HOURS": time.Hour, "DAYS": 24 * time.Hour, "WEEKS": 7 * 24 * time.Hour,
		"MONTHS": 30 * 24 * time.Hour, "YEARS": 365 * 24 * time.Hour,
	}[fa.ActionDurationUnit]
	if unit == 0 {
		unit = time.Minute
	}
	return time.Duration(fa.ActionDuration) * unit
}

// Error is a lockout as APIs other than the Login API answer it
// (their errors are FusionAuth's Errors): 409, [LoginPrevented], with the
// lockout's end.
func Error(until int64) error {
	e := new(model.Errors).General("LoginPrevented", "The user is locked after too many failed authentication attempts; try again later.")
	e.GeneralErrors[0].Data = map[string]any{"expiry": until, "reasonCode": ReasonCode}
	return &model.StatusError{Status: statusLoginPrevented, Body: e}
}

// revokeOnLockout revokes the refresh tokens of a user a failed-login
// lockout just locked, of each application whose onLoginPrevented in force
// (the application's or the tenant's) says so. Subjects of unknown login
// ids hold no tokens.
func (c *Counter) revokeOnLockout(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, subject string) error {
	if strings.HasPrefix(subject, SubjectPrefix) {
		return nil
	}
	_, err := c.tokens.RevokeByPolicy(ctx, tx, cfg, kit.Actor{Type: kit.ActorSystem, Name: "failed login lockout"}, subject, subject, tokens.RevokedLockout)
	return err
}
