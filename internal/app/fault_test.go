package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// Fault tests: the process killed hard in the middle of writes, PostgreSQL
// stopped under load, several nodes starting at once on an empty database.
// Each runs in well under 30 seconds; deadlines below only bound waiting for
// something that should happen at once, never a figure under test.

// latchProc is a `latch serve` process the test may kill.
type latchProc struct {
	*testutil.Server
	cmd    *exec.Cmd
	exited chan error
	logs   *logWatcher
	done   atomic.Bool
}

// startLatch starts `latch serve` with vars on dataDir; the process is
// stopped (SIGTERM) at the end of the test unless it was killed before.
func startLatch(t *testing.T, bin, dataDir string, vars map[string]string) *latchProc {
	t.Helper()
	p, err := spawnLatch(bin, dataDir, vars)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	if err := p.waitListening(); err != nil {
		t.Fatal(err)
	}
	return p
}

func spawnLatch(bin, dataDir string, vars map[string]string) (*latchProc, error) {
	env := map[string]string{"LATCH_LISTEN": "127.0.0.1:0", "LATCH_LOG_FORMAT": "json", "LATCH_LOG_LEVEL": "info",
		"LATCH_DATA_DIR": dataDir}
	for k, v := range vars {
		env[k] = v
	}
	p := &latchProc{logs: &logWatcher{addr: make(chan string, 1)}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = processEnv(env)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.exited <- p.cmd.Wait() }()
	return p, nil
}

func (p *latchProc) waitListening() error {
	select {
	case addr := <-p.logs.addr:
		p.Server = &testutil.Server{URL: "http://" + addr, Addr: addr}
		return nil
	case err := <-p.exited:
		p.done.Store(true)
		return fmt.Errorf("latch serve exited before listening (%v):\n%s", err, p.logs)
	case <-time.After(60 * time.Second):
		return fmt.Errorf("latch serve did not listen within 60s:\n%s", p.logs)
	}
}

// kill9 kills the process with SIGKILL and waits for it.
func (p *latchProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	p.done.Store(true)
}

func (p *latchProc) stop(t *testing.T) {
	if p.done.Swap(true) {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("latch serve ignored SIGTERM for 20s; killed. Log:\n%s", p.logs)
	}
}

// faultClient makes requests that may fail (the server may be dead).
var faultClient = &http.Client{Timeout: 20 * time.Second}

// call sends method path with key and a JSON body; err is a transport error
// (no answer: not acknowledged).
func call(base, method, path, key string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := faultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err // the answer was cut: not acknowledged
	}
	return resp.StatusCode, b, nil
}

// mustCall wants status want.
func mustCall(t *testing.T, base, method, path, key string, body any, want int) map[string]any {
	t.Helper()
	st, b, err := call(base, method, path, key, body)
	if err != nil || st != want {
		t.Fatalf("%s %s: %d %v %s, want %d", method, path, st, err, b, want)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return m
}

func str(v any) string { s, _ := v.(string); return s }

// setupProcess runs `latch setup` as its own process against vars' database
// (and dataDir for SQLite) and returns the initial key.
func setupProcess(t *testing.T, bin, dataDir string, vars map[string]string) string {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := map[string]string{"LATCH_DATA_DIR": dataDir, "LATCH_LOG_LEVEL": "error"}
	for k, v := range vars {
		cli[k] = v
	}
	key := strings.TrimSpace(runProcess(t, bin, cli, "setup", "--admin-email", "admin@example.com", "--admin-password-file", pw))
	if key == "" {
		t.Fatal("setup printed no key")
	}
	return key
}

// faultWrites is what the writers of TestKillNineMidWrite sent, and which of
// it was acknowledged (a 200 answer read to the end).
type faultWrites struct {
	mu           sync.Mutex
	users        map[string]string   // user id → email, acknowledged
	usersTried   map[string]string   // every attempted create
	imports      map[string][]string // batch → user ids, acknowledged
	importsTried map[string][]string
	keys         map[string]string // key id → value, acknowledged
	keysTried    map[string]string
	// chains: the last acknowledged refresh token of each session, and
	// whether an exchange of it was unanswered when the process died.
	chains []*refreshChain
}

type refreshChain struct {
	token, tokenID string
	inFlight       bool
}

// Killing the process with SIGKILL while users are created and imported,
// keys created and refresh tokens exchanged loses no acknowledged write and
// leaves no half-written one: after a restart on the same database every
// acknowledged user, import and key is there and whole, an unacknowledged
// import is all there or absent, an unacknowledged key present works, and
// the last acknowledged refresh token of a session still exchanges unless
// its own exchange was cut off.
func TestKillNineMidWrite(t *testing.T) {
	bin := latchBinary(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		vars := map[string]string{"LATCH_MASTER_KEY": testutil.TestMasterKey}
		if b.DatabaseURL != "" {
			vars["LATCH_DATABASE_URL"] = b.DatabaseURL
		}
		dataDir := t.TempDir()
		p := startLatch(t, bin, dataDir, vars)
		key := setupProcess(t, bin, dataDir, vars) // SQLite: the server's data dir
		app := mustCall(t, p.URL, "POST", "/api/application", key, map[string]any{"application": map[string]any{
			"name": "fault", "loginConfiguration": map[string]any{"requireAuthentication": false, "generateRefreshTokens": true, "allowTokenRefresh": true},
			"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 600, "refreshTokenTimeToLiveInMinutes": 600,
				"refreshTokenUsagePolicy": "OneTimeUse"}}}, 200)
		appID := str(app["application"].(map[string]any)["id"])
		const pw = "fault tolerant password"

		for round := range 2 {
			w := &faultWrites{users: map[string]string{}, usersTried: map[string]string{}, imports: map[string][]string{},
				importsTried: map[string][]string{}, keys: map[string]string{}, keysTried: map[string]string{}}
			// Sessions to exchange, made before the load.
			for i := range 3 {
				email := fmt.Sprintf("chain-%d-%d-%s@example.com", round, i, uuid.NewString()[:8])
				mustCall(t, p.URL, "POST", "/api/user/registration", key, map[string]any{"skipVerification": true,
					"user": map[string]any{"email": email, "password": pw}, "registration": map[string]any{"applicationId": appID}}, 200)
				m := mustCall(t, p.URL, "POST", "/api/login", "", map[string]any{"loginId": email, "password": pw, "applicationId": appID}, 200)
				w.chains = append(w.chains, &refreshChain{token: str(m["refreshToken"]), tokenID: str(m["refreshTokenId"])})
			}
			finish := runWriters(t, p.URL, key, w, 300+rand.IntN(600))
			p.kill9(t)
			finish()
			p = startLatch(t, bin, dataDir, vars)
			checkWrites(t, p.URL, key, w)
			t.Logf("round %d: %d users, %d imports, %d keys acknowledged before SIGKILL; %d, %d, %d attempted",
				round, len(w.users), len(w.imports), len(w.keys), len(w.usersTried), len(w.importsTried), len(w.keysTried))
		}
		if b.DatabaseURL == "" {
			p.stop(t)
			st, err := store.Open(context.Background(), "", filepath.Join(dataDir, "latch.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var res string
			if err := st.DB().QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
				t.Errorf("integrity_check after SIGKILLs: %q %v", res, err)
			}
		}
	})
}

// runWriters writes until about after acknowledged writes, then returns with
// writes still in flight (the caller kills the process at once, then calls
// finish to stop the writers).
func runWriters(t *testing.T, base, key string, w *faultWrites, after int) (finish func()) {
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	writer := func(fn func() bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if fn() {
					acked.Add(1)
				}
			}
		}()
	}
	for range 2 {
		writer(func() bool { // user create
			id, email := uuid.NewString(), "u-"+uuid.NewString()[:12]+"@example.com"
			w.mu.Lock()
			w.usersTried[id] = email
			w.mu.Unlock()
			st, _, err := call(base, "POST", "/api/user/"+id, key, map[string]any{"user": map[string]any{"email": email,
				"password": "fault tolerant password", "data": map[string]any{"n": email}}, "skipVerification": true})
			if err == nil && st == 200 {
				w.mu.Lock()
				w.users[id] = email
				w.mu.Unlock()
				return true
			}
			return false
		})
	}
	writer(func() bool { // import of a batch of 20
		batch := uuid.NewString()
		var ids []string
		var users []any
		for range 20 {
			id := uuid.NewString()
			ids = append(ids, id)
			users = append(users, map[string]any{"id": id, "email": "i-" + id[:13] + "@example.com", "data": map[string]any{"batch": batch}})
		}
		w.mu.Lock()
		w.importsTried[batch] = ids
		w.mu.Unlock()
		st, _, err := call(base, "POST", "/api/user/import", key, map[string]any{"users": users})
		if err == nil && st == 200 {
			w.mu.Lock()
			w.imports[batch] = ids
			w.mu.Unlock()
			return true
		}
		return false
	})
	writer(func() bool { // key create, with a value we choose
		id, value := uuid.NewString(), "fault-key-"+strings.ReplaceAll(uuid.NewString(), "-", "")
		w.mu.Lock()
		w.keysTried[id] = value
		w.mu.Unlock()
		st, _, err := call(base, "POST", "/api/api-key/"+id, key, map[string]any{"apiKey": map[string]any{"key": value,
			"permissions": map[string]any{"endpoints": map[string]any{"/api/system/version": []string{"GET"}}}}})
		if err == nil && st == 200 {
			w.mu.Lock()
			w.keys[id] = value
			w.mu.Unlock()
			return true
		}
		return false
	})
	for _, c := range w.chains {
		writer(func() bool { // refresh exchanges, one session per writer
			c.inFlight = true
			st, b, err := call(base, "POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": c.token})
			if err != nil {
				return false // in flight when the process died (or cut off)
			}
			var m map[string]any
			if st != 200 || json.Unmarshal(b, &m) != nil || str(m["refreshToken"]) == "" {
				c.inFlight = false
				t.Errorf("refresh exchange before the kill: %d %s", st, b)
				<-stop
				return false
			}
			c.token, c.tokenID, c.inFlight = str(m["refreshToken"]), str(m["refreshTokenId"]), false
			return true
		})
	}
	for acked.Load() < int64(after) && !t.Failed() {
		time.Sleep(5 * time.Millisecond)
	}
	// Return while the writers are mid-request: the caller kills now.
	return func() { close(stop); wg.Wait() }
}

// checkWrites checks, after the restart, what runWriters wrote.
func checkWrites(t *testing.T, base, key string, w *faultWrites) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	userStatus := func(id string) (int, map[string]any) {
		st, b, err := call(base, "GET", "/api/user/"+id, key, nil)
		if err != nil {
			t.Fatalf("get user after restart: %v", err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		u, _ := m["user"].(map[string]any)
		return st, u
	}
	for id, email := range w.usersTried {
		st, u := userStatus(id)
		_, ackd := w.users[id]
		switch {
		case st == 200:
			data, _ := u["data"].(map[string]any)
			if str(u["email"]) != email || data == nil || str(data["n"]) != email {
				t.Errorf("user %s is not whole after the kill: %v", id, u)
			}
		case st == 404 && !ackd:
		default:
			t.Errorf("user %s (acknowledged %v): status %d after the restart", id, ackd, st)
		}
	}
	for batch, ids := range w.importsTried {
		_, ackd := w.imports[batch]
		present := 0
		for _, id := range ids {
			if st, u := userStatus(id); st == 200 {
				present++
				if data, _ := u["data"].(map[string]any); data == nil || str(data["batch"]) != batch {
					t.Errorf("imported user %s is not whole: %v", id, u)
				}
			}
		}
		if present != 0 && present != len(ids) || ackd && present != len(ids) {
			t.Errorf("import batch (acknowledged %v): %d of %d users present after the restart", ackd, present, len(ids))
		}
	}
	for id, value := range w.keysTried {
		_, ackd := w.keys[id]
		st, _, err := call(base, "GET", "/api/api-key/"+id, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		works, _, err := call(base, "GET", "/api/system/version", value, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case st == 200 && works == 200:
		case st == 404 && works == 401 && !ackd:
		default:
			t.Errorf("key %s (acknowledged %v): GET %d, key answers %d after the restart", id, ackd, st, works)
		}
	}
	for i, c := range w.chains {
		st, b, err := call(base, "POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": c.token})
		if err != nil {
			t.Fatal(err)
		}
		// Cut off mid-exchange, the rotation may have committed: then the
		// token is spent (and using it again is a reuse), which is not a loss.
		if st != 200 && !c.inFlight {
			t.Errorf("session %d: the last acknowledged refresh token answers %d %s after the restart", i, st, b)
		}
	}
}

// PostgreSQL stopped under load: requests fail closed (5xx, never a 200 for
// a write that did not happen, never a 4xx such as a wrong-password or
// invalid-token answer), and once PostgreSQL is back the same process serves
// again without a restart. (JWT validation reads the user's revocation
// state, so it needs the database too.)
func TestPostgresStoppedUnderLoad(t *testing.T) {
	cluster := testutil.StartPGCluster(t)
	url := createDatabase(t, cluster.URL(), "latch")
	// One client address sends every login here: no rate limits (0).
	s := testutil.StartServer(t, testutil.WithBackend(testutil.Backend{Name: "postgres", DatabaseURL: url}),
		testutil.WithEnv("LATCH_AUTH_RATE_PER_ADDRESS", "0", "LATCH_AUTH_RATE_PER_TENANT", "0"))
	key := s.Setup(t)
	app := mustCall(t, s.URL, "POST", "/api/application", key, map[string]any{"application": map[string]any{
		"name": "outage", "loginConfiguration": map[string]any{"requireAuthentication": false, "generateRefreshTokens": true, "allowTokenRefresh": true}}}, 200)
	appID := str(app["application"].(map[string]any)["id"])
	const email, pw = "outage@example.com", "fault tolerant password"
	mustCall(t, s.URL, "POST", "/api/user/registration", key, map[string]any{"skipVerification": true,
		"user": map[string]any{"email": email, "password": pw}, "registration": map[string]any{"applicationId": appID}}, 200)
	login := map[string]any{"loginId": email, "password": pw, "applicationId": appID}
	jwt := str(mustCall(t, s.URL, "POST", "/api/login", "", login, 200)["token"])

	var mu sync.Mutex
	created := map[string]bool{} // user ids answered 200
	var statuses sync.Map        // "what status" → count
	note := func(what string, st int) {
		n, _ := statuses.LoadOrStore(fmt.Sprintf("%s %d", what, st), new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}
	var failedOpen atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	load := func(what string, fn func() int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				st := fn()
				note(what, st)
				// Fail closed: a success, or a server-side refusal. A 4xx
				// would tell the client something false (a wrong password,
				// an unknown key).
				if st != 200 && st < 500 {
					failedOpen.Add(1)
					t.Errorf("%s answered %d", what, st)
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	load("create user", func() int {
		id := uuid.NewString()
		st, _, err := call(s.URL, "POST", "/api/user/"+id, key, map[string]any{"user": map[string]any{
			"email": "o-" + id[:13] + "@example.com", "password": pw}, "skipVerification": true})
		if err != nil {
			t.Errorf("create user: %v", err)
			return 0
		}
		if st == 200 {
			mu.Lock()
			created[id] = true
			mu.Unlock()
		}
		return st
	})
	load("login", func() int {
		st, _, err := call(s.URL, "POST", "/api/login", "", login)
		if err != nil {
			t.Errorf("login: %v", err)
		}
		return st
	})
	load("key-authenticated read", func() int {
		st, _, err := call(s.URL, "GET", "/api/user?email="+email, key, nil)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		return st
	})
	load("validate JWT", func() int {
		req, _ := http.NewRequest("GET", s.URL+"/api/jwt/validate", nil)
		req.Header.Set("Authorization", "Bearer "+jwt)
		resp, err := faultClient.Do(req)
		if err != nil {
			t.Errorf("validate: %v", err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	})

	time.Sleep(500 * time.Millisecond)
	cluster.Stop(t)
	time.Sleep(2 * time.Second)
	cluster.Start(t)
	// Recovery in the same process: a write succeeds again.
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, _, err := call(s.URL, "POST", "/api/user", key, map[string]any{"user": map[string]any{
			"email": "back-" + uuid.NewString()[:8] + "@example.com", "password": pw}, "skipVerification": true})
		if err == nil && st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful write 60s after PostgreSQL came back: %d %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	var counts []string
	statuses.Range(func(k, v any) bool {
		counts = append(counts, fmt.Sprintf("%s: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("answers during the run: %s", strings.Join(counts, ", "))
	saw5xx := false
	statuses.Range(func(k, _ any) bool {
		if st := k.(string); strings.HasSuffix(st, " 500") || strings.HasSuffix(st, " 503") || strings.HasSuffix(st, " 452") {
			saw5xx = true
		}
		return true
	})
	if !saw5xx {
		t.Log("no request saw the outage (the machine was too slow to send one in 2s)")
	}
	// Every acknowledged write is there.
	mu.Lock()
	defer mu.Unlock()
	for id := range created {
		if st, b, err := call(s.URL, "GET", "/api/user/"+id, key, nil); err != nil || st != 200 {
			t.Errorf("user %s was answered 200 but is %d %v %s", id, st, err, b)
		}
	}
}

// createDatabase creates database name in the cluster at adminURL and returns its URL.
func createDatabase(t *testing.T, adminURL, name string) string {
	t.Helper()
	st, err := store.Open(context.Background(), adminURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DB().Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(adminURL, "/postgres?", "/"+name+"?", 1)
}

// Three nodes started together on an empty PostgreSQL database: the
// migrations run once (under the migration lock), every node serves, and a
// key made through one works on all.
func TestThreeNodesStartTogetherOnEmptyPostgres(t *testing.T) {
	bin := latchBinary(t)
	url := testutil.PostgresURL(t)
	vars := map[string]string{"LATCH_DATABASE_URL": url, "LATCH_MASTER_KEY": testutil.TestMasterKey}
	var procs []*latchProc
	for range 3 {
		p, err := spawnLatch(bin, t.TempDir(), vars)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.stop(t) })
		procs = append(procs, p)
	}
	for i, p := range procs {
		if err := p.waitListening(); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	key := setupProcess(t, bin, t.TempDir(), vars)
	for i, p := range procs {
		if st, b, err := call(p.URL, "GET", "/api/status", "", nil); err != nil || st != 200 {
			t.Errorf("node %d status: %d %v %s", i, st, err, b)
		}
		if st := versionStatus(t, p.Server, key); st != 200 {
			t.Errorf("node %d with the setup key: %d", i, st)
		}
		if strings.Contains(p.logs.String(), `"level":"ERROR"`) {
			t.Errorf("node %d logged an error:\n%s", i, p.logs)
		}
	}
	st, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var tenants int
	if err := st.DB().QueryRow("SELECT count(*) FROM tenants").Scan(&tenants); err != nil || tenants != 1 {
		t.Errorf("tenants after three bootstraps: %d %v, want 1", tenants, err)
	}
	applied, err := st.Migrate(context.Background())
	if err != nil || len(applied) != 0 {
		t.Errorf("migrations left to apply after three nodes started: %v %v", applied, err)
	}
}

// SQLite on a full disk: writes fail with a 5xx (never a 200 for a write
// that was not stored, never a hang), reads go on, and once space is freed
// the same process writes again; the database is intact afterwards. It
// needs a small tmpfs, so it runs only where mount(8) is allowed (root with
// CAP_SYS_ADMIN); elsewhere it is skipped.
func TestSQLiteOnAFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir, err := os.MkdirTemp("", "latch-full-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
		os.Remove(dir)
	})
	s := testutil.StartServer(t, testutil.WithDataDir(dir))
	key := s.Setup(t)
	mustCall(t, s.URL, "GET", "/api/system/version", key, nil, 200)

	// Leave about 256 KiB free.
	filler := filepath.Join(dir, "filler")
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if err := os.WriteFile(filler, make([]byte, free-256<<10), 0o600); err != nil {
		t.Fatal(err)
	}

	created := map[string]bool{}
	statuses := map[int]int{}
	blob := strings.Repeat("x", 8<<10)
	full := 0
	for i := 0; i < 400 && full < 20; i++ {
		id := uuid.NewString()
		st, b, err := call(s.URL, "POST", "/api/user/"+id, key, map[string]any{"user": map[string]any{
			"email": "full-" + id[:13] + "@example.com", "data": map[string]any{"blob": blob}}, "skipVerification": true})
		if err != nil {
			t.Fatalf("create user on a full disk: %v", err)
		}
		statuses[st]++
		switch {
		case st == 200:
			created[id] = true
		case st >= 500:
			full++
		default:
			t.Errorf("create user on a full disk: %d %s, want 200 or 5xx", st, b)
		}
	}
	t.Logf("answers while filling the disk: %v", statuses)
	if full == 0 {
		t.Fatalf("the disk never filled: %v", statuses)
	}
	// The operator's log says what is wrong.
	if log := s.Stderr.String(); !strings.Contains(log, "disk is full") && !strings.Contains(log, "no space left") {
		t.Errorf("the log does not say the disk is full:\n%s", log)
	}
	// Reads still answer.
	if st, _, err := call(s.URL, "GET", "/api/system/version", key, nil); err != nil || st != 200 {
		t.Errorf("read on a full disk: %d %v", st, err)
	}

	// Free the space: the same process writes again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		id := uuid.NewString()
		st, _, err := call(s.URL, "POST", "/api/user/"+id, key, map[string]any{"user": map[string]any{
			"email": "after-" + id[:13] + "@example.com"}, "skipVerification": true})
		if err == nil && st == 200 {
			created[id] = true
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write 30s after space was freed: %d %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for id := range created {
		if st, _, err := call(s.URL, "GET", "/api/user/"+id, key, nil); err != nil || st != 200 {
			t.Errorf("user %s was answered 200 but is %d %v", id, st, err)
		}
	}
	if code := s.Stop(t); code != 0 {
		t.Errorf("latch serve exited %d after the disk was full", code)
	}
	st, err := store.Open(context.Background(), "", filepath.Join(dir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var res string
	if err := st.DB().QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("integrity_check after a full disk: %q %v", res, err)
	}
}
