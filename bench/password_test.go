package bench

import (
	"testing"

	"github.com/latchid/latch/internal/password"
)

// BenchmarkPasswordCheck measures one password check (what a login costs) for
// every FusionAuth scheme at Latch's default factor for it.
func BenchmarkPasswordCheck(b *testing.B) {
	for _, scheme := range password.Schemes() {
		b.Run(scheme, func(b *testing.B) {
			h, err := password.NewWith(scheme, password.DefaultFactor(scheme), "correct horse battery staple")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(h.Factor), "factor")
			b.ResetTimer()
			for b.Loop() {
				if ok, err := password.Check(h, "correct horse battery staple"); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkPasswordHash measures hashing a new password (what a user create
// or password change costs), fresh salt included.
func BenchmarkPasswordHash(b *testing.B) {
	for _, scheme := range password.Schemes() {
		b.Run(scheme, func(b *testing.B) {
			f := password.DefaultFactor(scheme)
			b.ReportMetric(float64(f), "factor")
			for b.Loop() {
				if _, err := password.NewWith(scheme, f, "correct horse battery staple"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
