// Package throttle limits the rate of anonymous authentication requests
// (logins, two-factor logins, forgot and change password, setup, the OAuth
// endpoints) per client address and per tenant, in fixed windows counted in
// the database, so that the limits hold across nodes. A refused request is
// a *model.RetryLater (ErrTooManyRequests) with the seconds to the window's
// end; the HTTP surfaces answer it with 429 and Retry-After.
package throttle

import (
	"context"
	"net/netip"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Limits are the operator's: requests per address and per tenant per window.
type Limits struct {
	PerAddress    int // 0: none
	PerTenant     int // 0: none
	WindowSeconds int
}

// Limiter counts and refuses.
type Limiter struct {
	store  *store.Store
	clock  kit.Clock
	limits Limits
}

// New builds a Limiter; zero limits allow everything.
func New(st *store.Store, clock kit.Clock, limits Limits) *Limiter {
	if limits.WindowSeconds < 1 {
		limits.WindowSeconds = 60
	}
	return &Limiter{store: st, clock: clock, limits: limits}
}

// Request is what one request is counted by.
type Request struct {
	// Address is the client address as the trusted-proxy setting computes
	// it (httpx.ClientIP); empty or unparsable: not counted per address.
	Address string
	// Tenant is the tenant the request is for; empty: not counted per tenant.
	Tenant string
	// Authenticated: the caller sent a valid API key. Its address is an
	// application's server speaking for many users, so it is not limited
	// per address; it still counts toward its tenant.
	Authenticated bool
}

// ForActor is how a request of actor for tenant counts: by its address,
// and per address only when no API key made it.
func ForActor(actor kit.Actor, tenant string) Request {
	return Request{Address: actor.IP, Tenant: tenant, Authenticated: actor.Type == kit.ActorAPIKey}
}

// Allow counts r and returns a *model.RetryLater when r's address or tenant
// is over its limit for the current window. A nil Limiter allows all.
func (l *Limiter) Allow(ctx context.Context, r Request) error {
	if l == nil {
		return nil
	}
	type bucket struct {
		name  string
		limit int
	}
	var buckets []bucket
	if a := addressBucket(r.Address); a != "" && !r.Authenticated && l.limits.PerAddress > 0 {
		buckets = append(buckets, bucket{"address:" + a, l.limits.PerAddress})
	}
	if r.Tenant != "" && l.limits.PerTenant > 0 {
		buckets = append(buckets, bucket{"tenant:" + r.Tenant, l.limits.PerTenant})
	}
	if len(buckets) == 0 {
		return nil
	}
	now := l.clock.Now().UnixMilli()
	window := int64(l.limits.WindowSeconds) * 1000
	windowEnd := (now/window + 1) * window
	var over int64 // latest end of a window that is over its limit
	err := l.store.InTx(ctx, func(tx *store.Tx) error {
		for _, b := range buckets {
			hits, end, err := tx.HitRateLimit(ctx, b.name, now, windowEnd)
			if err != nil {
				return err
			}
			if hits > int64(b.limit) && end > over {
				over = end
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if over != 0 {
		return &model.RetryLater{Err: model.ErrTooManyRequests, Seconds: int((over - now + 999) / 1000)}
	}
	return nil
}

// addressBucket is the part of an address that is counted: a whole IPv4
// address, or an IPv6 address's /64 (one subscriber's usual allocation, so
// that rotating through it does not escape the limit).
func addressBucket(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ""
	}
	return p.String()
}
