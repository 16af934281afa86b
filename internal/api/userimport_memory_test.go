package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// A large import is read as a stream: the heap grows with the users kept
// for the transaction, not with the decoded request (which once took ~60
// times the body). Heap use is sampled in-process while the request runs;
// the bound is generous, and a missed sample can only make it look smaller.
func TestImportMemoryBounded(t *testing.T) {
	// Not parallel: it measures the heap of the whole process.
	if testing.Short() {
		t.Skip("builds and imports a 24 MB request")
	}
	e := uiStart(t, testutil.Backend{Name: "sqlite"})
	tenant := e.defaultTenant()
	var body bytes.Buffer
	body.WriteString(`{"validateDbConstraints":false,"users":[`)
	n := 0
	for body.Len() < 24<<20 {
		if n > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"email":"mem%d@import.example.com","username":"mem%d","tenantId":%q,"active":true,"verified":true,`+
			`"firstName":"First%d","lastName":"Last%d","encryptionScheme":"salted-md5","factor":20000,`+
			`"salt":"jVqbuA9k2Mlo37OWXBMKLw==","password":"ee1mq4b+7KtiZt1uOOgy7A==",`+
			`"data":{"department":"Engineering %d","costCenter":"CC-%06d","tags":["a","b","c"],"note":"%s"}}`,
			n, n, tenant, n, n, n%97, n, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
		n++
	}
	body.WriteString(`]}`)
	size := body.Len()

	// A low GC target keeps garbage out of the samples, so that they show
	// what the import holds rather than when the collector last ran.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	req, err := http.NewRequest("POST", e.s.URL+"/api/user/import", bytes.NewReader(body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", e.root)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("import of %d users: %d", n, resp.StatusCode)
	}
	if got := e.userCount(); got < n {
		t.Fatalf("%d users stored, want at least %d", got, n)
	}
	growth := float64(peak.Load()) - float64(base)
	ratio := growth / float64(size)
	t.Logf("%d users, body %.1f MB, peak heap growth %.1f MB (%.1f× the body)", n, float64(size)/1e6, growth/1e6, ratio)
	if ratio > 5 {
		t.Errorf("peak heap grew %.1f× the body size, want at most 5×", ratio)
	}
}

// One imported user may be as large as a user the User API creates (its
// 1 MiB body), no larger; the import is then refused whole.
func TestImportUserSizeLimit(t *testing.T) {
	t.Parallel()
	e := uiStart(t, testutil.Backend{Name: "sqlite"})
	big := strings.Repeat("x", 1<<20)
	user := func(email, note string) map[string]any {
		return map[string]any{"email": email, "tenantId": e.defaultTenant(), "data": map[string]any{"note": note}}
	}
	r := e.importUsers(map[string]any{"users": []any{user("small@example.com", "ok"), user("big@example.com", big)}}, "")
	want400(t, "a user over 1 MiB", r, "[tooLarge]users[1]")
	if e.row(e.defaultTenant(), "small@example.com") != nil {
		t.Error("a refused import stored a user")
	}
	if r := e.do("POST", "/api/user", e.root, map[string]any{"user": user("big@example.com", big)}); r.Status != 400 {
		t.Errorf("the same user through the User API: %d", r.Status)
	}
	e.mustImport("a user just under the limit", map[string]any{"users": []any{user("under@example.com", big[:1<<20-200])}}, "")
}
