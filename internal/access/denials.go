package access

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
)

// DenialWindow is how often one key's denials on one route reach the audit
// log: the first at once, repeats within the window are counted into the
// next entry.
const DenialWindow = time.Minute

// maxDenialSlots bounds the memory of the rate limiter; when full, slots
// older than the window are dropped (and, failing that, all of them).
const maxDenialSlots = 10000

// Denial is one refused call of a valid API key.
type Denial struct {
	KeyID, KeyName string
	Route          string // "METHOD /path"
	Address        string
	Reason         string // "lacks permission", "address not allowed", …
}

// Denials records refused calls of valid API keys in the audit log,
// rate-limited per key and route, and counts every one of them. Total is
// the hook for a metric: a monotonic count of denials on this node.
type Denials struct {
	store *store.Store
	clock kit.Clock
	log   *slog.Logger
	audit *audit.Log

	total atomic.Int64

	mu    sync.Mutex
	slots map[string]*denialSlot // key id + route
}

type denialSlot struct {
	written    int64 // when the last entry was written, epoch ms
	suppressed int   // denials since then not written
}

func newDenials(st *store.Store, clock kit.Clock, log *slog.Logger, audit *audit.Log) *Denials {
	return &Denials{store: st, clock: clock, log: log, audit: audit, slots: map[string]*denialSlot{}}
}

// Total is the number of denials recorded on this node since it started.
func (d *Denials) Total() int64 { return d.total.Load() }

// Record counts a denial and, unless the same key was denied the same route
// within DenialWindow, writes an audit entry. It never fails the request:
// an audit write error is logged.
func (d *Denials) Record(ctx context.Context, actor kit.Actor, den Denial) {
	d.total.Add(1)
	now := d.clock.Now().UnixMilli()
	suppressed, write := d.take(den.KeyID+" "+den.Route, now)
	d.log.WarnContext(ctx, "API key denied", "keyId", den.KeyID, "route", den.Route, "ip", den.Address, "reason", den.Reason)
	if !write {
		return
	}
	msg := fmt.Sprintf("Denied API key [%s] (%s) %s from %s: %s", den.KeyName, den.KeyID, den.Route, den.Address, den.Reason)
	if suppressed > 0 {
		msg += fmt.Sprintf(" (and %d more in the last %s)", suppressed, DenialWindow)
	}
	err := d.store.InTx(ctx, func(tx *store.Tx) error {
		return d.audit.Write(ctx, tx, actor, audit.Change{Message: msg, TargetID: den.KeyID, Reason: "denied",
			Data: map[string]any{"keyId": den.KeyID, "route": den.Route, "address": den.Address, "reason": den.Reason, "suppressed": suppressed}})
	})
	if err != nil {
		d.log.ErrorContext(ctx, "audit a denied API call", "keyId", den.KeyID, "route", den.Route, "err", err)
	}
}

// unknownKeySlot is the one rate-limit slot of calls with unknown or expired
// keys: one slot for all addresses, so that a spray from many addresses
// still writes at most one entry a window.
const unknownKeySlot = "unknown key"

// RecordUnknownKey records a call that presented an API key that is unknown
// or expired: counted, logged, and in the audit log at most once per
// DenialWindow (the entry counts the calls it stands for), so that keys
// being tried, or an old leaked key, show where operators look.
func (d *Denials) RecordUnknownKey(ctx context.Context, actor kit.Actor, route, address string) {
	now := d.clock.Now().UnixMilli()
	suppressed, write := d.take(unknownKeySlot, now)
	d.log.WarnContext(ctx, "unknown or expired API key", "route", route, "ip", address)
	if !write {
		return
	}
	msg := fmt.Sprintf("Rejected an unknown or expired API key on %s from %s", route, address)
	if suppressed > 0 {
		msg += fmt.Sprintf(" (and %d more such calls in the last %s)", suppressed, DenialWindow)
	}
	err := d.store.InTx(ctx, func(tx *store.Tx) error {
		return d.audit.Write(ctx, tx, actor, audit.Change{Message: msg, Reason: "unknown key",
			Data: map[string]any{"route": route, "address": address, "suppressed": suppressed}})
	})
	if err != nil {
		d.log.ErrorContext(ctx, "audit a call with an unknown API key", "route", route, "err", err)
	}
}

// take decides whether to write now, and how many denials the entry stands for besides this one.
func (d *Denials) take(slot string, now int64) (suppressed int, write bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.slots[slot]
	if s != nil && now-s.written < DenialWindow.Milliseconds() {
		s.suppressed++
		return 0, false
	}
	if s == nil {
		if len(d.slots) >= maxDenialSlots {
			for k, v := range d.slots {
				if now-v.written >= DenialWindow.Milliseconds() {
					delete(d.slots, k)
				}
			}
			if len(d.slots) >= maxDenialSlots {
				clear(d.slots)
			}
		}
		s = &denialSlot{}
		d.slots[slot] = s
	}
	suppressed, s.suppressed, s.written = s.suppressed, 0, now
	return suppressed, true
}
