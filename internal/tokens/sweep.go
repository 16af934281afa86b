package tokens

import (
	"context"
	"time"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
)

// sweepBatch bounds the rows one sweep transaction deletes per table.
const sweepBatch = 1000

// SweepExpired deletes refresh tokens, one-time codes, and the OAuth
// provider's SSO sessions, authorization codes and device codes that
// expired, batch by batch until none is left. Expired rows are already refused everywhere
// (each use checks the expiry); this only keeps the tables from growing
// forever. Nothing a user sees changes, so nothing is audited. Every node may
// sweep: the deletes are idempotent.
func (s *Service) SweepExpired(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = tx.SweepExpired(ctx, s.now(), sweepBatch)
			return err
		})
		total += n
		if err != nil || n == 0 || ctx.Err() != nil {
			return total, err
		}
	}
}

// RunSweeper sweeps every interval until ctx ends.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	kit.Every(ctx, interval, func() {
		n, err := s.SweepExpired(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.WarnContext(ctx, "sweeping expired refresh tokens and codes failed", "err", err)
		case n > 0:
			s.log.DebugContext(ctx, "swept expired refresh tokens and codes", "rows", n)
		}
	})
}
