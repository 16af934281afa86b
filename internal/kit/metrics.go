package kit

// Metrics is what rules packages count for operators. internal/metrics
// implements it; rules packages cannot import that package (Prometheus' client
// knows net/http), so they hold this interface, set once at wiring.
type Metrics interface {
	RefreshReuse() // a rotated refresh token used again
	Lockout()      // a login id locked after too many failures
}

// NoMetrics counts nothing (tools and tests that do not serve).
type NoMetrics struct{}

// RefreshReuse does nothing.
func (NoMetrics) RefreshReuse() {}

// Lockout does nothing.
func (NoMetrics) Lockout() {}
