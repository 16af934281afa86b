package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Events: the transactional outbox and the dispatcher, on one node (SQLite,
// or PostgreSQL with LATCH_BENCH_POSTGRES=1), delivering to a receiver on
// loopback that answers 200 at once.

// hookSink is a webhook receiver that counts events and records how long
// each took from its createInstant (written in the change's transaction,
// just before commit) to its arrival.
type hookSink struct {
	*httptest.Server
	n       atomic.Int64
	mu      sync.Mutex
	latency []time.Duration
}

func newHookSink(b *testing.B) *hookSink {
	h := &hookSink{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			Event struct {
				CreateInstant int64 `json:"createInstant"`
			} `json:"event"`
		}
		_ = json.Unmarshal(body, &ev)
		d := time.Since(time.UnixMilli(ev.Event.CreateInstant))
		h.mu.Lock()
		h.latency = append(h.latency, d)
		h.mu.Unlock()
		h.n.Add(1)
	}))
	b.Cleanup(h.Close)
	return h
}

// waitFor waits until n events arrived.
func (h *hookSink) waitFor(b *testing.B, n int64) {
	deadline := time.Now().Add(2 * time.Minute)
	for h.n.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events delivered", h.n.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// percentile of the latencies recorded so far, in milliseconds.
func (h *hookSink) percentile(p float64) float64 {
	h.mu.Lock()
	l := slices.Clone(h.latency)
	h.mu.Unlock()
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000
}

// hook creates a webhook to the sink enabling events (all off when nil)
// and returns its id.
func (f *loginFixture) hook(b *testing.B, url string, events map[string]bool) string {
	b.Helper()
	r := f.srv.Do(b, "POST", "/api/webhook", f.root, map[string]any{"webhook": map[string]any{"url": url, "global": true,
		"allowPrivateNetworks": true, "eventsEnabled": events}})
	if r.Status != 200 {
		b.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	var w struct{ Webhook struct{ ID string } }
	r.JSON(b, &w)
	return w.Webhook.ID
}

// BenchmarkOutboxDelivery is events per second from commit to delivery:
// PATCH /api/user (a cheap change: no password hash) of 64 users in turn
// from 4 clients per core, each writing user.update to the outbox, until
// the receiver has them all. Events of one user go out in order, one at a
// time, so 64 users let the dispatcher send many at once. Reports
// events/s (requests and delivery, end to end), drain-ms (from the last
// answer to the last delivery: how far delivery lagged) and the p50 and p95
// of commit-to-delivery latency in milliseconds.
func BenchmarkOutboxDelivery(b *testing.B) {
	f := newLoginFixture(b, "")
	sink := newHookSink(b)
	f.hook(b, sink.URL, map[string]bool{"user.update": true})
	users := importUsers(b, f, 64)
	var seq atomic.Int64
	headers := map[string]string{"Authorization": f.root}
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			path := "/api/user/" + users[int(i)%len(users)]
			if status, err := f.patch(path, map[string]any{"user": map[string]any{"data": map[string]any{"n": i}}}, headers); err != nil || status != 200 {
				b.Errorf("patch user: %d %v", status, err)
				return
			}
		}
	})
	committed := time.Now()
	sink.waitFor(b, int64(b.N))
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(time.Since(committed).Microseconds())/1000, "drain-ms")
	b.ReportMetric(sink.percentile(0.5), "p50-ms")
	b.ReportMetric(sink.percentile(0.95), "p95-ms")
}

// BenchmarkOutboxOverhead compares a login (POST /api/login) and a user
// create (POST /api/user, with a password) with webhooks off and with a
// webhook taking user.login.success and user.create, side by side: the two
// modes alternate in rounds of 64 requests, so that a change in the
// machine's load weighs on both alike; from one client per core (a request
// waiting on the database leaves its core idle) and from 4 per core (as
// BenchmarkLogin: the waits overlap with other requests). In the "on" rounds the
// dispatcher delivers meanwhile, on the same cores; the round waits for
// the last delivery untimed, so that none spills into an "off" round.
// "on/off" is the ratio of wall time per request (goal ≤ 1.1).
func BenchmarkOutboxOverhead(b *testing.B) {
	f := newLoginFixture(b, "")
	sink := newHookSink(b)
	hook := f.hook(b, sink.URL, map[string]bool{"user.login.success": false, "user.create": false})
	var seq atomic.Int64
	ops := map[string]func() (int, error){
		"login": func() (int, error) {
			return f.post("/api/login", map[string]any{"loginId": f.email, "password": benchPassword, "applicationId": f.app, "noJWT": true}, nil, nil)
		},
		"create": func() (int, error) {
			return f.post("/api/user", map[string]any{"skipVerification": true, "user": map[string]any{
				"email": fmt.Sprintf("overhead-%d@example.com", seq.Add(1)), "password": benchPassword}}, map[string]string{"Authorization": f.root}, nil)
		},
	}
	for _, c := range []struct {
		name    string
		perCore int
	}{{"login", 1}, {"create", 1}, {"login", 4}, {"create", 4}} {
		op, name := ops[c.name], c.name
		event := map[string]string{"login": "user.login.success", "create": "user.create"}[name]
		clients := c.perCore * runtime.GOMAXPROCS(0)
		b.Run(fmt.Sprintf("%s/clients-per-core=%d", name, c.perCore), func(b *testing.B) {
			b.StopTimer()
			const round = 64
			var off, on time.Duration
			for done := 0; done < b.N; done += round {
				for _, enabled := range []bool{false, true} {
					f.enable(b, hook, event, enabled)
					before := sink.n.Load()
					b.StartTimer()
					t, _ := inParallelBy(clients, round, func() {
						if status, err := op(); err != nil || status != 200 {
							b.Errorf("%s: %d %v", name, status, err)
						}
					})
					b.StopTimer()
					if enabled {
						on += t
						sink.waitFor(b, before+round)
					} else {
						off += t
					}
				}
			}
			b.ReportMetric(on.Seconds()/off.Seconds(), "on/off")
			rounds := float64((b.N + round - 1) / round * round)
			b.ReportMetric(float64(off.Microseconds())/1000/rounds, "off-ms/op")
			b.ReportMetric(float64(on.Microseconds())/1000/rounds, "on-ms/op")
		})
	}
}

// enable turns one event of a webhook on or off (the node's webhook cache
// follows at once).
func (f *loginFixture) enable(b *testing.B, hook, event string, on bool) {
	b.Helper()
	r := f.srv.Do(b, "PATCH", "/api/webhook/"+hook, f.root, map[string]any{"webhook": map[string]any{"eventsEnabled": map[string]bool{event: on}}})
	if r.Status != 200 {
		b.Fatalf("patch webhook: %d %s", r.Status, r.Body)
	}
}

// patch sends a PATCH with a JSON body and discards the answer.
func (f *loginFixture) patch(path string, body any, headers map[string]string) (int, error) {
	enc, _ := json.Marshal(body)
	req, _ := http.NewRequest("PATCH", f.srv.URL+path, bytes.NewReader(enc))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// importUsers imports n users without passwords (no hashing) and returns
// their ids.
func importUsers(b *testing.B, f *loginFixture, n int) []string {
	b.Helper()
	var users []map[string]any
	for i := range n {
		users = append(users, map[string]any{"email": fmt.Sprintf("outbox-%d@example.com", i)})
	}
	if r := f.srv.Do(b, "POST", "/api/user/import", f.root, map[string]any{"users": users}); r.Status != 200 {
		b.Fatalf("import: %d %s", r.Status, r.Body)
	}
	ids := make([]string, 0, n)
	for i := range n {
		r := f.srv.Do(b, "GET", fmt.Sprintf("/api/user?email=outbox-%d@example.com", i), f.root, nil)
		var u struct{ User struct{ ID string } }
		r.JSON(b, &u)
		if r.Status != 200 || u.User.ID == "" {
			b.Fatalf("user %d: %d", i, r.Status)
		}
		ids = append(ids, u.User.ID)
	}
	return ids
}
