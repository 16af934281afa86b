package password

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// ErrBusy: every hashing worker is busy and the queue (or the tenant's share
// of it) is full. The caller should answer "try again later" rather than wait.
var ErrBusy = errors.New("password hashing is busy")

// PoolConfig sizes a Hasher's worker pool.
type PoolConfig struct {
	// Workers is how many hashes run at once (default: the number of CPUs).
	Workers int
	// Queue is how many hashes may wait for a worker, over all tenants; 0
	// refuses whatever cannot start at once.
	Queue int
	// QueuePerTenant is how many of those one tenant may hold, so that a
	// tenant flooding the queue leaves room for the others.
	QueuePerTenant int
	// Limits bound every factor.
	Limits Limits
	// Observe, when set, is called in the worker slot before each hash with
	// what is about to run (a test seam: counting, or holding a worker).
	Observe func(ctx context.Context, j Job)
}

// Default pool sizes.
const (
	DefaultQueue          = 256
	DefaultQueuePerTenant = 64
)

// DefaultPoolConfig is the pool an operator gets without flags.
func DefaultPoolConfig() PoolConfig {
	return PoolConfig{Workers: runtime.GOMAXPROCS(0), Queue: DefaultQueue, QueuePerTenant: DefaultQueuePerTenant, Limits: DefaultLimits()}
}

// Job is one hash as Observe sees it.
type Job struct {
	Tenant string // "" for work outside any tenant (setup, recovery)
	Op     string // JobHash, JobCheck or JobDummy
	Scheme string
	Factor int
}

// Job operations.
const (
	JobHash  = "hash"  // a new password hashed
	JobCheck = "check" // a password checked against a stored hash
	JobDummy = "dummy" // a hash whose result is dropped, so a failure costs what a check would
)

// Hasher runs every password hash of the process in a bounded pool: at most
// Workers at once, waiting jobs served round-robin by tenant (one job of each
// waiting tenant in turn), at most Queue waiting and QueuePerTenant of one
// tenant; beyond that ErrBusy. It also holds the operator's factor Limits.
type Hasher struct {
	cfg PoolConfig

	mu      sync.Mutex
	running int
	queued  int
	waiting map[string][]*waiter
	ring    []string // tenants with waiting jobs, next to serve first
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// NewHasher builds a Hasher; zero sizes take the defaults (Queue 0 is
// honoured only when Workers is set too).
func NewHasher(cfg PoolConfig) *Hasher {
	def := DefaultPoolConfig()
	if cfg.Workers <= 0 {
		cfg.Workers, cfg.Queue = def.Workers, def.Queue
	}
	if cfg.Queue < 0 {
		cfg.Queue = 0
	}
	if cfg.QueuePerTenant <= 0 || cfg.QueuePerTenant > cfg.Queue {
		cfg.QueuePerTenant = cfg.Queue
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = def.Limits
	}
	return &Hasher{cfg: cfg, waiting: map[string][]*waiter{}}
}

// Limits are the operator's factor bounds.
func (p *Hasher) Limits() Limits { return p.cfg.Limits }

// Stats reports the hashes running and waiting.
func (p *Hasher) Stats() (running, queued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running, p.queued
}

// Hash hashes pw with scheme and factor in tenant's share of the pool. A
// factor beyond the limits is an *InvalidError (factor), never run.
func (p *Hasher) Hash(ctx context.Context, tenant, scheme string, factor int, pw string) (Hash, error) {
	if lo, hi, ok := p.cfg.Limits.FactorRange(scheme); ok && (factor < lo || factor > hi) {
		return Hash{}, invalid("factor", "must be between %d and %d", lo, hi)
	}
	var h Hash
	err := p.run(ctx, Job{Tenant: tenant, Op: JobHash, Scheme: scheme, Factor: factor}, func() error {
		var err error
		h, err = NewWith(scheme, factor, pw)
		return err
	})
	return h, err
}

// Dummy hashes pw and drops the result: what a failure pays so that it costs
// at least the tenant's scheme.
func (p *Hasher) Dummy(ctx context.Context, tenant, scheme string, factor int, pw string) error {
	if lo, hi, ok := p.cfg.Limits.FactorRange(scheme); ok && (factor < lo || factor > hi) {
		return invalid("factor", "must be between %d and %d", lo, hi)
	}
	return p.run(ctx, Job{Tenant: tenant, Op: JobDummy, Scheme: scheme, Factor: factor}, func() error {
		_, err := NewWith(scheme, factor, pw)
		return err
	})
}

// Check checks pw against h in tenant's share of the pool. A hash beyond
// the limits (stored before they were lowered) is an error, never run.
func (p *Hasher) Check(ctx context.Context, tenant string, h Hash, pw string) (bool, error) {
	if err := p.cfg.Limits.Validate(h); err != nil {
		return false, err
	}
	ok := false
	err := p.run(ctx, Job{Tenant: tenant, Op: JobCheck, Scheme: h.Scheme, Factor: h.Factor}, func() error {
		var err error
		ok, err = Check(h, pw)
		return err
	})
	return ok, err
}

// Verify checks pw against a user's stored hash h (usable false when the
// user has none Latch can read) in tenant's share of the pool. Whatever the
// stored scheme, a failure costs at least one hash with the tenant's scheme
// and factor: without a usable hash, or when the stored one is of another
// scheme or factor (an imported salted-md5, say), the tenant's scheme runs
// over pw as well, so that timing does not tell such users apart. Only
// ErrBusy (and a context error) is returned as an error; a malformed hash or
// one beyond the limits is a mismatch.
func (p *Hasher) Verify(ctx context.Context, tenant string, h Hash, usable bool, pw, scheme string, factor int) (bool, error) {
	if usable {
		ok, err := p.Check(ctx, tenant, h, pw)
		switch {
		case errors.Is(err, ErrBusy) || ctx.Err() != nil:
			return false, err
		case err == nil && ok:
			return true, nil
		case err == nil && !NeedsRehash(h, scheme, factor):
			return false, nil // the check cost the tenant's scheme already
		}
	}
	if err := p.Dummy(ctx, tenant, scheme, factor, pw); errors.Is(err, ErrBusy) || ctx.Err() != nil {
		return false, err
	}
	return false, nil
}

func (p *Hasher) run(ctx context.Context, j Job, fn func() error) error {
	if err := p.acquire(ctx, j.Tenant); err != nil {
		return err
	}
	defer p.release()
	if p.cfg.Observe != nil {
		p.cfg.Observe(ctx, j)
	}
	return fn()
}

// acquire takes a worker slot, waiting in tenant's queue when none is free.
func (p *Hasher) acquire(ctx context.Context, tenant string) error {
	p.mu.Lock()
	if p.running < p.cfg.Workers && p.queued == 0 {
		p.running++
		p.mu.Unlock()
		return nil
	}
	if p.queued >= p.cfg.Queue || len(p.waiting[tenant]) >= p.cfg.QueuePerTenant {
		p.mu.Unlock()
		return ErrBusy
	}
	w := &waiter{ready: make(chan struct{})}
	if len(p.waiting[tenant]) == 0 {
		p.ring = append(p.ring, tenant)
	}
	p.waiting[tenant] = append(p.waiting[tenant], w)
	p.queued++
	p.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		if w.granted {
			p.mu.Unlock()
			p.release() // handed a slot as the caller gave up: pass it on
			return ctx.Err()
		}
		p.remove(tenant, w)
		p.mu.Unlock()
		return ctx.Err()
	}
}

// release hands the slot to the next tenant in the ring, or frees it.
func (p *Hasher) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ring) == 0 {
		p.running--
		return
	}
	tenant := p.ring[0]
	p.ring = p.ring[1:]
	q := p.waiting[tenant]
	w := q[0]
	if len(q) == 1 {
		delete(p.waiting, tenant)
	} else {
		p.waiting[tenant] = q[1:]
		p.ring = append(p.ring, tenant) // its next job waits for the others' turn
	}
	p.queued--
	w.granted = true
	close(w.ready)
}

// remove drops a waiter that gave up; p.mu is held.
func (p *Hasher) remove(tenant string, w *waiter) {
	q := p.waiting[tenant]
	for i, x := range q {
		if x == w {
			q = append(q[:i:i], q[i+1:]...)
			p.queued--
			break
		}
	}
	if len(q) > 0 {
		p.waiting[tenant] = q
		return
	}
	delete(p.waiting, tenant)
	for i, t := range p.ring {
		if t == tenant {
			p.ring = append(p.ring[:i:i], p.ring[i+1:]...)
			break
		}
	}
}
