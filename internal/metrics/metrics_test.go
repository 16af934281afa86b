package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/latchid/latch/internal/metrics"
)

func family(t *testing.T, m *metrics.Metrics, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// Each Metrics has its own registry: two in one process (as tests and
// in-process nodes make) do not collide, count apart, and touch nothing of
// the default registry. A nil Metrics records nothing and does not panic.
func TestOwnRegistryPerInstance(t *testing.T) {
	before, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	a, b := metrics.New(), metrics.New()
	a.Request("GET /api/user/{id}", 200, time.Millisecond)
	a.Login("success")
	b.Login("failed")
	a.GaugeFunc("latch_test_gauge", "test", func() float64 { return 7 })
	b.GaugeFunc("latch_test_gauge", "test", func() float64 { return 9 })

	for _, c := range []struct {
		m    *metrics.Metrics
		want string
	}{{a, "success"}, {b, "failed"}} {
		fam := family(t, c.m, "latch_logins_total")
		if fam == nil || len(fam.Metric) != 1 || fam.Metric[0].Label[0].GetValue() != c.want {
			t.Errorf("latch_logins_total: %v, want one series %q", fam, c.want)
		}
	}
	if fam := family(t, b, "latch_http_requests_total"); fam != nil && len(fam.Metric) != 0 {
		t.Errorf("a request recorded in one registry shows in the other")
	}
	if g := family(t, b, "latch_test_gauge"); g == nil || g.Metric[0].GetGauge().GetValue() != 9 {
		t.Errorf("latch_test_gauge of b: %v, want 9", g)
	}
	after, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("the default registry changed: %d families before, %d after", len(before), len(after))
	}

	var none *metrics.Metrics
	none.Request("x", 200, 0)
	none.Login("success")
	none.TokenIssued("access")
	none.RefreshReuse()
	none.KeyAuthFailure()
	none.Denied("x")
	none.Lockout()
	none.GaugeFunc("x", "x", func() float64 { return 0 })
}
