package password

import (
	"fmt"
	"strings"
)

// Limits are the operator's bounds on hashing cost. A tenant, an application
// or an imported row may ask for any factor inside them, never beyond: one
// hash at bcrypt cost 31 or a billion PBKDF2 iterations keeps a core busy for
// minutes, and an anonymous login for an unknown user pays the tenant's cost.
type Limits struct {
	// MaxBcryptCost bounds bcrypt's cost (log2 of its rounds).
	MaxBcryptCost int
	// MaxIterations bounds the iteration count of every iterated scheme
	// (salted-md5, salted-sha256, the PBKDF2 schemes, phpass).
	MaxIterations int
}

// Default limits, and the range an operator may set them to: the lower ends
// keep every scheme's default factor (bcrypt 12, PBKDF2 24,000, phpass-sha512
// 32,768) usable; the upper ends are the schemes' own.
const (
	DefaultMaxBcryptCost = 14
	DefaultMaxIterations = 1_000_000
	MinMaxBcryptCost     = 12
	MinMaxIterations     = 1 << 15
	MaxMaxIterations     = maxIterations
)

// DefaultLimits are the limits when the operator sets none.
func DefaultLimits() Limits {
	return Limits{MaxBcryptCost: DefaultMaxBcryptCost, MaxIterations: DefaultMaxIterations}
}

// Check reports limits an operator may not set.
func (l Limits) Check() error {
	if l.MaxBcryptCost < MinMaxBcryptCost || l.MaxBcryptCost > bcryptMaxFactor {
		return fmt.Errorf("the maximum bcrypt cost must be between %d and %d, not %d", MinMaxBcryptCost, bcryptMaxFactor, l.MaxBcryptCost)
	}
	if l.MaxIterations < MinMaxIterations || l.MaxIterations > MaxMaxIterations {
		return fmt.Errorf("the maximum hash iterations must be between %d and %d, not %d", MinMaxIterations, MaxMaxIterations, l.MaxIterations)
	}
	return nil
}

// FactorRange is the range of factors accepted for scheme under these
// limits; ok false for a scheme that takes no factor (or an unknown one).
func (l Limits) FactorRange(scheme string) (lo, hi int, ok bool) {
	lo, hi, ok = FactorRange(scheme)
	if !ok {
		return 0, 0, false
	}
	name, _ := Canonical(scheme)
	limit := l.MaxIterations
	if name == SchemeBcrypt {
		limit = l.MaxBcryptCost
	}
	if limit > 0 && hi > limit {
		hi = limit
	}
	return lo, hi, true
}

// Validate is the package's Validate, with factors bounded by these limits.
func (l Limits) Validate(h Hash) error {
	if err := Validate(h); err != nil {
		return err
	}
	if lo, hi, ok := l.FactorRange(h.Scheme); ok && (h.Factor < lo || h.Factor > hi) {
		return invalid("factor", "must be between %d and %d for %s", lo, hi, strings.ToLower(h.Scheme))
	}
	return nil
}

// Choose is the scheme and factor a tenant configured with scheme and
// factor hashes with: an unknown scheme falls back to the default scheme,
// and a factor the scheme cannot take, or one beyond the limits, to the
// scheme's default (capped by the limits).
func (l Limits) Choose(scheme string, factor int) (string, int) {
	if name, ok := Canonical(scheme); ok {
		scheme = name
	} else {
		scheme = DefaultScheme
	}
	if lo, hi, ok := l.FactorRange(scheme); ok && (factor < lo || factor > hi) {
		factor = min(DefaultFactor(scheme), hi)
	}
	return scheme, factor
}
