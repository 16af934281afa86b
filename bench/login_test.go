package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/testutil"
)

// Login, JWT and refresh token throughput: a real `latch serve` over loopback
// HTTP with keep-alive, on SQLite (or, with LATCH_BENCH_POSTGRES=1, on a fresh
// database of LATCH_TEST_POSTGRES_URL's server).

const benchPassword = "correct horse battery staple"

// loginFixture is a server with an application that needs no key, a
// registered user, and optionally refresh tokens under a usage policy.
type loginFixture struct {
	srv    *testutil.Server
	client *http.Client
	app    string
	email  string
	root   string
}

func newLoginFixture(b *testing.B, usagePolicy string) *loginFixture {
	b.Helper()
	return newLoginFixtureWith(b, usagePolicy, nil)
}

// newLoginFixtureWith is newLoginFixture with settings merged into the
// Default tenant before the user is made (e.g. its password scheme).
func newLoginFixtureWith(b *testing.B, usagePolicy string, tenant map[string]any) *loginFixture {
	b.Helper()
	var opts []testutil.Option
	if os.Getenv("LATCH_BENCH_POSTGRES") != "" { // a fresh database on LATCH_TEST_POSTGRES_URL's server
		opts = append(opts, testutil.WithBackend(testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(b)}))
	}
	srv := testutil.StartServer(b, opts...)
	root := srv.Setup(b)
	f := &loginFixture{srv: srv, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		email: "bench-" + uuid.NewString()[:8] + "@example.com", root: root}
	app := map[string]any{"name": "bench", "roles": []any{map[string]any{"name": "user"}},
		"loginConfiguration": map[string]any{"requireAuthentication": false, "generateRefreshTokens": usagePolicy != "",
			"allowTokenRefresh": usagePolicy != ""}}
	if usagePolicy != "" {
		app["jwtConfiguration"] = map[string]any{"enabled": true, "timeToLiveInSeconds": 3600, "refreshTokenTimeToLiveInMinutes": 600,
			"refreshTokenExpirationPolicy": "Fixed", "refreshTokenUsagePolicy": usagePolicy}
	}
	if tenant != nil {
		r := srv.Do(b, "GET", "/api/tenant", root, nil)
		var ts struct{ Tenants []struct{ ID string } }
		r.JSON(b, &ts)
		if r = srv.Do(b, "PATCH", "/api/tenant/"+ts.Tenants[0].ID, root, map[string]any{"tenant": tenant}); r.Status != 200 {
			b.Fatalf("patch tenant: %d %s", r.Status, r.Body)
		}
	}
	r := srv.Do(b, "POST", "/api/application", root, map[string]any{"application": app})
	if r.Status != 200 {
		b.Fatalf("create application: %d %s", r.Status, r.Body)
	}
	var a struct{ Application struct{ ID string } }
	r.JSON(b, &a)
	f.app = a.Application.ID
	r = srv.Do(b, "POST", "/api/user/registration", root, map[string]any{"skipVerification": true,
		"user": map[string]any{"email": f.email, "password": benchPassword}, "registration": map[string]any{"applicationId": f.app, "roles": []string{"user"}}})
	if r.Status != 200 {
		b.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	return f
}

// useKey makes the Default tenant sign access tokens with a new key of alg.
func (f *loginFixture) useKey(b *testing.B, alg string) {
	b.Helper()
	key := map[string]any{"algorithm": alg, "name": "bench " + alg}
	if alg[:2] == "RS" {
		key["length"] = 2048
	}
	r := f.srv.Do(b, "POST", "/api/key/generate", f.root, map[string]any{"key": key})
	if r.Status != 200 {
		b.Fatalf("generate key: %d %s", r.Status, r.Body)
	}
	var k struct{ Key struct{ ID string } }
	r.JSON(b, &k)
	r = f.srv.Do(b, "GET", "/api/tenant", f.root, nil)
	var ts struct{ Tenants []struct{ ID string } }
	r.JSON(b, &ts)
	r = f.srv.Do(b, "PATCH", "/api/tenant/"+ts.Tenants[0].ID, f.root, map[string]any{"tenant": map[string]any{
		"jwtConfiguration": map[string]any{"accessTokenKeyId": k.Key.ID}}})
	if r.Status != 200 {
		b.Fatalf("use key: %d %s", r.Status, r.Body)
	}
	time.Sleep(time.Second) // the signing key cache polls every 250ms
}

// post sends a JSON body and decodes the answer into out (when not nil).
func (f *loginFixture) post(path string, body any, headers map[string]string, out any) (int, error) {
	enc, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+path, bytes.NewReader(enc))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
}

type loginAnswer struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refreshToken"`
}

func (f *loginFixture) login(b *testing.B) loginAnswer {
	var a loginAnswer
	status, err := f.post("/api/login", map[string]any{"loginId": f.email, "password": benchPassword, "applicationId": f.app}, nil, &a)
	if err != nil || status != 200 {
		b.Fatalf("login: %d %v", status, err)
	}
	return a
}

// BenchmarkLogin compares POST /api/login throughput with the raw rate of the
// password check it makes (PBKDF2-SHA256, 24,000 iterations: the Default
// tenant's scheme and factor), measured in the same run. "login/hash" is
// the ratio of the two rates (goal ≥ 0.9). Clients: 4 per core, so that a
// request waiting on the database or the network leaves the core to another
// one's hash, as under real load. A login also signs its JWT: with the
// default ES256 key, without a JWT (noJWT), and with an RS256 key (≈1.5 ms
// of RSA per token here, for comparison).
func BenchmarkLogin(b *testing.B) {
	h, err := password.NewWith(password.SchemePBKDF2SHA256, 24000, benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hash", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if ok, _ := password.Check(h, benchPassword); !ok {
					b.Error("check failed")
					return
				}
			}
		})
	})
	f := newLoginFixture(b, "")
	for _, alg := range []string{"ES256", "noJWT", "RS256"} {
		if alg == "RS256" {
			f.useKey(b, "RS256")
		}
		b.Run("server/"+alg, func(b *testing.B) {
			body := map[string]any{"loginId": f.email, "password": benchPassword, "applicationId": f.app, "noJWT": alg == "noJWT"}
			b.SetParallelism(4)
			// The same number of checks on every core, half right before
			// and half right after the logins, so that a change in the
			// machine's load during the run weighs on both rates alike.
			b.StopTimer()
			before := b.N / 2
			hashTime, hashCPU := parallelChecks(h, before)
			b.StartTimer()
			start, startCPU := time.Now(), cpuTimeUsed()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if status, err := f.post("/api/login", body, nil, nil); err != nil || status != 200 {
						b.Errorf("login: %d %v", status, err)
						return
					}
				}
			})
			loginTime, loginCPU := time.Since(start), cpuTimeUsed()-startCPU
			b.StopTimer()
			t, c := parallelChecks(h, b.N-before)
			hashTime, hashCPU = hashTime+t, hashCPU+c
			b.ReportMetric(hashTime.Seconds()/loginTime.Seconds(), "login/hash")
			// The same ratio in CPU time of this process (server and
			// clients): what a login costs beyond its hash, less
			// sensitive to other processes on the machine.
			b.ReportMetric(hashCPU.Seconds()/loginCPU.Seconds(), "cpu-login/hash")
		})
	}
}

// cpuTimeUsed is the CPU time (user and system) this process has used.
func cpuTimeUsed() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoginOverhead is the cost of a login beyond its password hash:
// the same POST /api/login as BenchmarkLogin, for a user whose password is
// stored with a scheme that costs next to nothing (salted-sha256), from one
// client at a time ("serial": latency) and from 4 clients per core
// ("parallel": throughput), in wall time and in CPU time of this process
// (server and client) per login. What BenchmarkLogin's ratio lacks of 1 is
// this cost against the hash's.
func BenchmarkLoginOverhead(b *testing.B) {
	f := newLoginFixtureWith(b, "", map[string]any{"passwordEncryptionConfiguration": map[string]any{
		"encryptionScheme": "salted-sha256", "encryptionSchemeFactor": 1}})
	for _, alg := range []string{"ES256", "noJWT"} {
		body := map[string]any{"loginId": f.email, "password": benchPassword, "applicationId": f.app, "noJWT": alg == "noJWT"}
		b.Run("serial/"+alg, func(b *testing.B) {
			cpu := cpuTimeUsed()
			for b.Loop() {
				if status, err := f.post("/api/login", body, nil, nil); err != nil || status != 200 {
					b.Fatalf("login: %d %v", status, err)
				}
			}
			b.ReportMetric(float64((cpuTimeUsed()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
		b.Run("parallel/"+alg, func(b *testing.B) {
			b.SetParallelism(4)
			cpu := cpuTimeUsed()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if status, err := f.post("/api/login", body, nil, nil); err != nil || status != 200 {
						b.Errorf("login: %d %v", status, err)
						return
					}
				}
			})
			b.ReportMetric(float64((cpuTimeUsed()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// parallelChecks runs n password checks on GOMAXPROCS goroutines and returns
// the wall time and the CPU time this process used meanwhile.
func parallelChecks(h password.Hash, n int) (time.Duration, time.Duration) {
	return inParallel(n, func() { _, _ = password.Check(h, benchPassword) })
}

// inParallel runs op n times on GOMAXPROCS goroutines and returns the wall
// time and the CPU time this process used meanwhile.
func inParallel(n int, op func()) (time.Duration, time.Duration) {
	return inParallelBy(runtime.GOMAXPROCS(0), n, op)
}

// inParallelBy is inParallel from the given number of clients.
func inParallelBy(workers, n int, op func()) (time.Duration, time.Duration) {
	var next atomic.Int64
	var wg sync.WaitGroup
	start, startCPU := time.Now(), cpuTimeUsed()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				op()
			}
		}()
	}
	wg.Wait()
	return time.Since(start), cpuTimeUsed() - startCPU
}

// BenchmarkValidate is GET /api/jwt/validate of one RS256 token (signature,
// claims, one indexed user lookup). BenchmarkSign has the signature check
// alone, per algorithm.
func BenchmarkValidate(b *testing.B) {
	f := newLoginFixture(b, "")
	token := f.login(b).Token
	b.Run("server", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", f.srv.URL+"/api/jwt/validate", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := f.client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	})
}

// BenchmarkRefresh is POST /api/jwt/refresh: Reusable (the token stays; one
// conditional UPDATE and a signature per call) and OneTimeUse (rotation: an
// UPDATE and an INSERT in one transaction, a new token each call).
func BenchmarkRefresh(b *testing.B) {
	for _, policy := range []string{"Reusable", "OneTimeUse"} {
		b.Run(policy, func(b *testing.B) {
			f := newLoginFixture(b, policy)
			// One session per client goroutine, logged in before timing.
			sessions := make(chan string, 64)
			for range 64 {
				sessions <- f.login(b).RefreshToken
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rt := <-sessions
				for pb.Next() {
					var a loginAnswer
					status, err := f.post("/api/jwt/refresh", map[string]any{"refreshToken": rt}, nil, &a)
					if err != nil || status != 200 {
						b.Errorf("refresh: %d %v", status, err)
						return
					}
					rt = a.RefreshToken
				}
			})
		})
	}
}

// BenchmarkSign is the cost of signing one access token's claims with each
// algorithm Latch supports (the issue rate of one core), and of verifying it.
func BenchmarkSign(b *testing.B) {
	svc, _ := newService(b, 1)
	ctx := context.Background()
	ids := map[string]string{}
	for _, alg := range []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "Ed25519"} {
		in := &signing.KeyInput{Algorithm: alg, Name: "bench " + alg}
		if alg[:2] == "RS" {
			in.Length = 2048
		}
		k, err := svc.Signing.Generate(ctx, kit.Actor{Type: kit.ActorSystem}, "", in)
		if err != nil {
			b.Fatal(err)
		}
		ids[alg] = k.ID
	}
	svc.SigningKeys.Refresh(ctx)
	set := svc.SigningKeys.Current()
	payload := []byte(`{"aud":"85a03867-dccf-4882-adde-1a79aeec50df","exp":1700003600,"iat":1700000000,"iss":"acme.com",` +
		`"sub":"2b6b7b5a-4e0c-4a59-9a3f-6f1e9d6c1b2a","jti":"9f1c2e2e-8d6a-4b4b-9a58-0e6b6f0f4a11","authenticationType":"PASSWORD",` +
		`"email":"richard@example.com","email_verified":true,"applicationId":"85a03867-dccf-4882-adde-1a79aeec50df",` +
		`"roles":["user"],"auth_time":1700000000,"tid":"d7d09513-a3f5-401c-9685-34ab6c552453"}`)
	for _, alg := range []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "Ed25519"} {
		sg, err := set.Signer(ids[alg])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("sign/%s", alg), func(b *testing.B) {
			for b.Loop() {
				if _, err := sg.Sign(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
		token, _ := sg.Sign(payload)
		b.Run(fmt.Sprintf("verify/%s", alg), func(b *testing.B) {
			for b.Loop() {
				if _, err := set.Verify(token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
