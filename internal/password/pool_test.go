package password_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/password"
)

// holdingPool is a Hasher whose jobs each stop in Observe until the test
// lets them go, so that the pool's state is set by the test, not by timing.
type holdingPool struct {
	*password.Hasher
	entered chan string // tenant of each job that took a worker
	mu      sync.Mutex
	gates   []chan struct{}
	order   []string
}

func newHoldingPool(t *testing.T, workers, queue, perTenant int) *holdingPool {
	hp := &holdingPool{entered: make(chan string, 64)}
	hp.Hasher = password.NewHasher(password.PoolConfig{Workers: workers, Queue: queue, QueuePerTenant: perTenant,
		Observe: func(ctx context.Context, j password.Job) {
			gate := make(chan struct{})
			hp.mu.Lock()
			hp.gates = append(hp.gates, gate)
			hp.order = append(hp.order, j.Tenant)
			hp.mu.Unlock()
			hp.entered <- j.Tenant
			<-gate
		}})
	t.Cleanup(func() {
		hp.mu.Lock()
		defer hp.mu.Unlock()
		for _, g := range hp.gates {
			select {
			case <-g:
			default:
				close(g)
			}
		}
	})
	return hp
}

// releaseOldest lets the oldest held job finish.
func (hp *holdingPool) releaseOldest() {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	for _, g := range hp.gates {
		select {
		case <-g:
			continue
		default:
			close(g)
			return
		}
	}
}

// waitQueued waits until n jobs wait for a worker.
func (hp *holdingPool) waitQueued(t *testing.T, n int) {
	t.Helper()
	for {
		if _, q := hp.Stats(); q == n {
			return
		}
		select {
		case <-t.Context().Done():
			t.Fatal("test ended")
		default:
		}
		runtimeGosched()
	}
}

func fastHash(ctx context.Context, hp *holdingPool, tenant string) error {
	_, err := hp.Hash(ctx, tenant, password.SchemeSaltedSHA256, 1, "pw")
	return err
}

// One worker, held: jobs queue up to the tenant's share and the total, are
// refused with ErrBusy beyond, and are then served one tenant at a time, so
// a tenant that queued first and most cannot take another tenant's turn.
func TestHasherFairShareAndRefusal(t *testing.T) {
	ctx := context.Background()
	hp := newHoldingPool(t, 1, 3, 2)
	errs := make(chan error, 16)
	submit := func(tenant string) { go func() { errs <- fastHash(ctx, hp, tenant) }() }

	submit("A") // takes the worker and is held
	if got := <-hp.entered; got != "A" {
		t.Fatalf("first job from %s", got)
	}
	submit("A")
	submit("A")
	hp.waitQueued(t, 2)
	if err := fastHash(ctx, hp, "A"); !errors.Is(err, password.ErrBusy) {
		t.Fatalf("A beyond its share: %v, want ErrBusy", err)
	}
	submit("B") // A's flood left B its room
	hp.waitQueued(t, 3)
	if err := fastHash(ctx, hp, "C"); !errors.Is(err, password.ErrBusy) {
		t.Fatalf("queue full: %v, want ErrBusy", err)
	}

	// Served in turns: A's held job, then A (first in the ring), B, A.
	for i := 0; i < 3; i++ {
		hp.releaseOldest()
		<-hp.entered
	}
	hp.releaseOldest()
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	hp.mu.Lock()
	order := append([]string(nil), hp.order...)
	hp.mu.Unlock()
	if want := []string{"A", "A", "B", "A"}; !equalStrings(order, want) {
		t.Errorf("service order %v, want %v", order, want)
	}
	if r, q := hp.Stats(); r != 0 || q != 0 {
		t.Errorf("after all: running %d, queued %d", r, q)
	}
}

// B's job queued behind two of A's is served before A's second.
func TestHasherRoundRobin(t *testing.T) {
	ctx := context.Background()
	hp := newHoldingPool(t, 1, 8, 8)
	errs := make(chan error, 16)
	submit := func(tenant string) { go func() { errs <- fastHash(ctx, hp, tenant) }() }
	submit("X")
	<-hp.entered
	submit("A")
	hp.waitQueued(t, 1)
	submit("A")
	hp.waitQueued(t, 2)
	submit("A")
	hp.waitQueued(t, 3)
	submit("B")
	hp.waitQueued(t, 4)
	for i := 0; i < 4; i++ {
		hp.releaseOldest()
		<-hp.entered
	}
	hp.releaseOldest()
	for i := 0; i < 5; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	hp.mu.Lock()
	defer hp.mu.Unlock()
	if want := []string{"X", "A", "B", "A", "A"}; !equalStrings(hp.order, want) {
		t.Errorf("service order %v, want %v", hp.order, want)
	}
}

// A caller that gives up while queued leaves the queue; no slot is lost.
func TestHasherCancelledWaiter(t *testing.T) {
	hp := newHoldingPool(t, 1, 1, 1)
	errs := make(chan error, 4)
	go func() { errs <- fastHash(context.Background(), hp, "A") }()
	<-hp.entered
	ctx, cancel := context.WithCancel(context.Background())
	go func() { errs <- fastHash(ctx, hp, "B") }()
	hp.waitQueued(t, 1)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	hp.waitQueued(t, 0)
	hp.releaseOldest()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if r, q := hp.Stats(); r != 0 || q != 0 {
		t.Errorf("after all: running %d, queued %d", r, q)
	}
}

// Factors beyond the operator's limits are refused before anything runs.
func TestHasherLimits(t *testing.T) {
	h := password.NewHasher(password.PoolConfig{Workers: 1, Limits: password.Limits{MaxBcryptCost: 12, MaxIterations: 1 << 15}})
	ctx := context.Background()
	for _, c := range []struct {
		scheme string
		factor int
		ok     bool
	}{
		{password.SchemeBcrypt, 13, false},
		{password.SchemeBcrypt, 31, false},
		{password.SchemePBKDF2SHA256, 1<<15 + 1, false},
		{password.SchemeSaltedMD5, 1 << 20, false},
		{password.SchemePhpassSHA512, 1 << 16, false},
		{password.SchemeBcrypt, 4, true},
		{password.SchemePBKDF2SHA256, 1000, true},
	} {
		_, err := h.Hash(ctx, "t", c.scheme, c.factor, "pw")
		var ie *password.InvalidError
		if c.ok != (err == nil) || (!c.ok && (!errors.As(err, &ie) || ie.Field != "factor")) {
			t.Errorf("%s/%d: %v", c.scheme, c.factor, err)
		}
		stored, err := password.NewWith(c.scheme, password.DefaultFactor(c.scheme)/1000+4, "pw")
		if err != nil {
			t.Fatal(err)
		}
		stored.Factor = c.factor // as if stored before the limits were lowered
		ok, err := h.Check(ctx, "t", stored, "pw")
		if !c.ok && (ok || !errors.As(err, &ie) || ie.Field != "factor") {
			t.Errorf("check %s/%d: %v %v", c.scheme, c.factor, ok, err)
		}
	}
	for _, l := range []password.Limits{{MaxBcryptCost: 11, MaxIterations: 1 << 20}, {MaxBcryptCost: 32, MaxIterations: 1 << 20},
		{MaxBcryptCost: 12, MaxIterations: 1000}, {MaxBcryptCost: 12, MaxIterations: 1 << 25}} {
		if l.Check() == nil {
			t.Errorf("limits %+v accepted", l)
		}
	}
	if err := password.DefaultLimits().Check(); err != nil {
		t.Error(err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func runtimeGosched() { runtime.Gosched() }
