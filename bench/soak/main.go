// Command soak runs a built latch binary under mixed traffic for a while and
// reports 5xx answers, latency percentiles per operation and the server's
// resident memory. It is a load run, not a test: nothing fails on a figure.
//
//	go build -o /tmp/latch ./cmd/latch
//	go run ./bench/soak -bin /tmp/latch -duration 15m -rate 100
//
// bench/soak.sh does both. The traffic: logins, refresh token exchanges
// (one-time tokens, rotating), JWT validations, user writes (creates and
// PATCHes) and key-authenticated reads, in fixed proportions, at a fixed
// rate of requests per second (the achieved rate is reported: a server
// that falls behind shows it there and in the latencies).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	bin := flag.String("bin", "", "the latch binary (required)")
	duration := flag.Duration("duration", 15*time.Minute, "how long to run the traffic")
	rate := flag.Int("rate", 100, "requests per second, all operations together")
	workers := flag.Int("workers", 16, "concurrent clients")
	users := flag.Int("users", 200, "users created before the run, to log in and read")
	dbURL := flag.String("database-url", "", "PostgreSQL URL (default: SQLite in a temporary data dir)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "soak: -bin is required")
		os.Exit(2)
	}
	if err := run(*bin, *duration, *rate, *workers, *users, *dbURL); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

const password = "soak test password 1"

type op struct {
	name   string
	weight int
}

// The mix, in percent.
var mix = []op{{"login", 20}, {"refresh", 15}, {"validate", 30}, {"user write", 10}, {"key read", 25}}

type stats struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration
	statuses  map[string]map[int]int
	errors    map[string]int // transport errors
}

func (s *stats) add(name string, st int, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errors[name]++
		return
	}
	s.latencies[name] = append(s.latencies[name], d)
	if s.statuses[name] == nil {
		s.statuses[name] = map[int]int{}
	}
	s.statuses[name][st]++
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func call(base, method, path, auth string, body any) (int, []byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, b, time.Since(t0), err
}

func must(base, method, path, auth string, body any) (map[string]any, error) {
	st, b, _, err := call(base, method, path, auth, body)
	if err != nil {
		return nil, err
	}
	if st != 200 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, st, b)
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func str(v any) string { s, _ := v.(string); return s }

func run(bin string, duration time.Duration, rate, workers, nUsers int, dbURL string) error {
	dir, err := os.MkdirTemp("", "latch-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Every client is on one address: no login rate limits (0).
	env := append(os.Environ(), "LATCH_DATA_DIR="+dir, "LATCH_LISTEN=127.0.0.1:0", "LATCH_LOG_FORMAT=json", "LATCH_LOG_LEVEL=info",
		"LATCH_AUTH_RATE_PER_ADDRESS=0", "LATCH_AUTH_RATE_PER_TENANT=0")
	if dbURL != "" {
		env = append(env, "LATCH_DATABASE_URL="+dbURL)
	}
	srv := exec.Command(bin, "serve")
	srv.Env = env
	logs, err := srv.StderrPipe()
	if err != nil {
		return err
	}
	srv.Stdout = io.Discard
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "latch listening" {
				addr <- rec.Addr
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(60 * time.Second):
		return fmt.Errorf("latch serve did not listen within 60s")
	}

	pwFile := filepath.Join(dir, "admin-password")
	if err := os.WriteFile(pwFile, []byte("soak admin password\n"), 0o600); err != nil {
		return err
	}
	setup := exec.Command(bin, "setup", "--admin-email", "admin@example.com", "--admin-password-file", pwFile)
	setup.Env = append(env, "LATCH_LOG_LEVEL=error")
	out, err := setup.Output()
	if err != nil {
		return fmt.Errorf("latch setup: %v", err)
	}
	key := strings.TrimSpace(string(out))

	app, err := must(base, "POST", "/api/application", key, map[string]any{"application": map[string]any{
		"name": "soak", "loginConfiguration": map[string]any{"requireAuthentication": false, "generateRefreshTokens": true, "allowTokenRefresh": true},
		"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 3600, "refreshTokenTimeToLiveInMinutes": 1440,
			"refreshTokenUsagePolicy": "OneTimeUse"}}})
	if err != nil {
		return err
	}
	appID := str(app["application"].(map[string]any)["id"])
	ids := make([]string, nUsers)
	emails := make([]string, nUsers)
	for i := range nUsers {
		emails[i] = fmt.Sprintf("soak-%d@example.com", i)
		m, err := must(base, "POST", "/api/user/registration", key, map[string]any{"skipVerification": true,
			"user": map[string]any{"email": emails[i], "password": password}, "registration": map[string]any{"applicationId": appID}})
		if err != nil {
			return err
		}
		ids[i] = str(m["user"].(map[string]any)["id"])
	}
	rssStart := rssKB(srv.Process.Pid)

	// Each worker holds one session: its access token and refresh token.
	st := &stats{latencies: map[string][]time.Duration{}, statuses: map[string]map[int]int{}, errors: map[string]int{}}
	tickets := make(chan struct{}, workers)
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := w % nUsers
			login := map[string]any{"loginId": emails[i], "password": password, "applicationId": appID}
			m, err := must(base, "POST", "/api/login", "", login)
			if err != nil {
				fmt.Fprintln(os.Stderr, "soak: worker login:", err)
				return
			}
			jwt, refresh := str(m["token"]), str(m["refreshToken"])
			for {
				select {
				case <-stop:
					return
				case <-tickets:
				}
				sent.Add(1)
				name := pick()
				var code int
				var body []byte
				var d time.Duration
				var err error
				switch name {
				case "login":
					u := rand.IntN(nUsers)
					code, _, d, err = call(base, "POST", "/api/login", "", map[string]any{"loginId": emails[u], "password": password,
						"applicationId": appID, "noJWT": true})
				case "refresh":
					code, body, d, err = call(base, "POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": refresh})
					var r map[string]any
					if err == nil && code == 200 && json.Unmarshal(body, &r) == nil {
						jwt, refresh = str(r["token"]), str(r["refreshToken"])
					}
				case "validate":
					code, _, d, err = call(base, "GET", "/api/jwt/validate", "Bearer "+jwt, nil)
				case "user write":
					if rand.IntN(2) == 0 {
						code, _, d, err = call(base, "POST", "/api/user", key, map[string]any{"skipVerification": true,
							"user": map[string]any{"email": fmt.Sprintf("w-%d-%d@example.com", w, rand.Int64()), "password": password}})
					} else {
						code, _, d, err = call(base, "PATCH", "/api/user/"+ids[rand.IntN(nUsers)], key,
							map[string]any{"user": map[string]any{"data": map[string]any{"n": rand.Int64()}}})
					}
				case "key read":
					code, _, d, err = call(base, "GET", "/api/user/"+ids[rand.IntN(nUsers)], key, nil)
				}
				st.add(name, code, d, err)
			}
		}()
	}

	// The pacer hands out one ticket per request at the set rate; tickets a
	// busy server could not take are dropped (the achieved rate shows it).
	started := time.Now()
	var rssMax atomic.Int64
	rssMax.Store(rssStart)
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if r := rssKB(srv.Process.Pid); r > rssMax.Load() {
					rssMax.Store(r)
				}
			}
		}
	}()
	interval := time.Second / time.Duration(rate)
	tick := time.NewTicker(interval)
	end := time.After(duration)
pace:
	for {
		select {
		case <-end:
			break pace
		case <-tick.C:
			select {
			case tickets <- struct{}{}:
			default:
			}
		}
	}
	tick.Stop()
	close(stop)
	wg.Wait()
	elapsed := time.Since(started)
	rssEnd := rssKB(srv.Process.Pid)
	if rssEnd > rssMax.Load() {
		rssMax.Store(rssEnd)
	}

	report(st, elapsed, sent.Load(), rate, workers, nUsers, dbURL != "", rssStart, rssMax.Load(), rssEnd)
	return nil
}

func pick() string {
	n := rand.IntN(100)
	for _, o := range mix {
		if n < o.weight {
			return o.name
		}
		n -= o.weight
	}
	return mix[len(mix)-1].name
}

// rssKB is VmRSS of pid in kB (Linux), 0 when unknown.
func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

func report(st *stats, elapsed time.Duration, sent int64, rate, workers, users int, pg bool, rssStart, rssMax, rssEnd int64) {
	db := "SQLite"
	if pg {
		db = "PostgreSQL"
	}
	fmt.Printf("Soak run: %s of mixed traffic on %s, target %d requests/s, %d clients, %d users; %d requests sent (%.1f/s achieved).\n\n",
		elapsed.Round(time.Second), db, rate, workers, users, sent, float64(sent)/elapsed.Seconds())
	fmt.Println("| Operation | Requests | Statuses | 5xx | Transport errors | p50 ms | p99 ms | max ms |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	var all []time.Duration
	total5xx, totalErr := 0, 0
	for _, o := range mix {
		ds := slices.Clone(st.latencies[o.name])
		slices.Sort(ds)
		all = append(all, ds...)
		var codes []string
		n5xx := 0
		for _, c := range slices.Sorted(maps.Keys(st.statuses[o.name])) {
			codes = append(codes, fmt.Sprintf("%d×%d", c, st.statuses[o.name][c]))
			if c >= 500 {
				n5xx += st.statuses[o.name][c]
			}
		}
		total5xx += n5xx
		totalErr += st.errors[o.name]
		maxD := time.Duration(0)
		if len(ds) > 0 {
			maxD = ds[len(ds)-1]
		}
		fmt.Printf("| %s | %d | %s | %d | %d | %s | %s | %s |\n", o.name, len(ds), strings.Join(codes, " "), n5xx, st.errors[o.name],
			ms(pct(ds, .5)), ms(pct(ds, .99)), ms(maxD))
	}
	slices.Sort(all)
	fmt.Printf("| **all** | %d | | **%d** | %d | %s | %s | %s |\n\n", len(all), total5xx, totalErr, ms(pct(all, .5)), ms(pct(all, .99)), ms(all[len(all)-1]))
	fmt.Printf("Server RSS (VmRSS): %d MB after setup and %d users, %d MB peak (sampled every 5 s), %d MB at the end.\n",
		rssStart/1024, users, rssMax/1024, rssEnd/1024)
}
