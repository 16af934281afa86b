package store

import "context"

// MigrateTo applies the migrations up to version, leaving the database as
// the Latch of that schema left it (for the upgrade test).
func (s *Store) MigrateTo(ctx context.Context, version int64) ([]int64, error) {
	return s.migrate(ctx, version)
}
