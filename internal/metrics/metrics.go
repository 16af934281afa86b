// Package metrics owns the Prometheus collectors of one Latch process: its own
// registry (never the default one), created by the app's wiring and handed
// explicitly to what records into it (the HTTP middleware, the API guard and
// handlers, and, through kit.Metrics, the token and lockout rules). A nil
// *Metrics records nothing, for tests and tools that do not serve.
//
// Labels are bounded: routes are ServeMux patterns, never raw paths.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the collectors and their registry.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	requests    *prometheus.CounterVec   // route, code
	latency     *prometheus.HistogramVec // route
	logins      *prometheus.CounterVec   // outcome
	tokens      *prometheus.CounterVec   // kind
	reuse       prometheus.Counter
	keyFailures prometheus.Counter
	denials     *prometheus.CounterVec // route
	lockouts    prometheus.Counter
}

// New makes a registry with the process and Go runtime collectors and
// Latch's own.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latch_http_requests_total", Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "latch_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latch_logins_total", Help: "Login API and two-factor login attempts by outcome.",
	}, []string{"outcome"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latch_tokens_issued_total", Help: "Tokens issued by kind (access, refresh).",
	}, []string{"kind"})
	m.reuse = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "latch_refresh_token_reuse_total", Help: "Rotated refresh tokens used again (their session was revoked).",
	})
	m.keyFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "latch_api_key_auth_failures_total", Help: "Requests refused with 401: no key, an unknown or expired key, or an address outside the key's IP ACL.",
	})
	m.denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latch_api_key_denials_total", Help: "Authenticated keys refused a route they lack permission for, by route pattern.",
	}, []string{"route"})
	m.lockouts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "latch_lockouts_total", Help: "Login ids locked after too many failed authentications.",
	})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.logins, m.tokens, m.reuse, m.keyFailures, m.denials, m.lockouts,
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// Registry is the registry, for tests that read values directly.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return m.handler
}

// WatchDB exports the connection pool figures of db (sql.DBStats).
func (m *Metrics) WatchDB(db *sql.DB) {
	if m != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, "latch"))
	}
}

// GaugeFunc exports a figure read at scrape time (cache sizes and the like).
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	if m != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
}

// Request records one HTTP request: route is the matched pattern.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// Login records a login attempt's outcome (a fixed set of names).
func (m *Metrics) Login(outcome string) {
	if m != nil {
		m.logins.WithLabelValues(outcome).Inc()
	}
}

// TokenIssued records an issued token of kind "access" or "refresh".
func (m *Metrics) TokenIssued(kind string) {
	if m != nil {
		m.tokens.WithLabelValues(kind).Inc()
	}
}

// RefreshReuse records a detected refresh token reuse.
func (m *Metrics) RefreshReuse() {
	if m != nil {
		m.reuse.Inc()
	}
}

// KeyAuthFailure records a request refused for want of a valid key.
func (m *Metrics) KeyAuthFailure() {
	if m != nil {
		m.keyFailures.Inc()
	}
}

// Denied records a valid key refused a route.
func (m *Metrics) Denied(route string) {
	if m != nil {
		m.denials.WithLabelValues(route).Inc()
	}
}

// Lockout records a login id locked.
func (m *Metrics) Lockout() {
	if m != nil {
		m.lockouts.Inc()
	}
}
