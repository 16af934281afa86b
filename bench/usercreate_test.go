package bench

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/internal/password"
)

// BenchmarkUserCreate compares POST /api/user throughput (a new user with a
// password, hashed with the Default tenant's scheme and factor:
// salted-pbkdf2-hmac-sha256 at 24,000) with the raw rate of hashing a new
// password the same way, measured in the same run over loopback HTTP with
// an API key. "create/hash" is the ratio of the two rates; "cpu-create/hash"
// the same in CPU time of this process (server and clients).
func BenchmarkUserCreate(b *testing.B) {
	f := newLoginFixture(b, "")
	headers := map[string]string{"Authorization": f.root}
	var seq atomic.Int64
	b.SetParallelism(4)
	b.StopTimer()
	before := b.N / 2
	hashTime, hashCPU := parallelHashes(b, before)
	b.StartTimer()
	start, startCPU := time.Now(), cpuTimeUsed()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := map[string]any{"skipVerification": true, "user": map[string]any{
				"email": fmt.Sprintf("create-%d@example.com", seq.Add(1)), "password": benchPassword}}
			if status, err := f.post("/api/user", body, headers, nil); err != nil || status != 200 {
				b.Errorf("create user: %d %v", status, err)
				return
			}
		}
	})
	createTime, createCPU := time.Since(start), cpuTimeUsed()-startCPU
	b.StopTimer()
	t, c := parallelHashes(b, b.N-before)
	hashTime, hashCPU = hashTime+t, hashCPU+c
	b.ReportMetric(hashTime.Seconds()/createTime.Seconds(), "create/hash")
	b.ReportMetric(hashCPU.Seconds()/createCPU.Seconds(), "cpu-create/hash")
}

// parallelHashes hashes n new passwords (a fresh salt each, as a create
// does) on every core and returns the wall and CPU time it took.
func parallelHashes(b *testing.B, n int) (time.Duration, time.Duration) {
	return inParallel(n, func() {
		if _, err := password.NewWith(password.SchemePBKDF2SHA256, 24000, benchPassword); err != nil {
			b.Error(err)
		}
	})
}
