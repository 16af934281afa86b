package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// wantLastKeyGuard fails unless r is the last-key guard's refusal.
func wantLastKeyGuard(t *testing.T, what string, r *testutil.Response) {
	t.Helper()
	want400(t, what, r, "[LastKeyManagerKey]")
	if r.Status == 400 && !strings.Contains(string(r.Body), "latch recover api-key") {
		t.Errorf("%s: the message does not name the recovery command: %s", what, r.Body)
	}
}

// criticalAudits lists the critical audit entries about target.
func (e *akEnv) criticalAudits(target string) []*model.AuditLog {
	var out []*model.AuditLog
	for _, a := range e.audits(target) {
		if a.Severity == "critical" {
			out = append(out, a)
		}
	}
	return out
}

func TestLastKeyGuard(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		root := "/api/api-key/" + e.rootID
		acl := e.acl("guard acl")
		in := func(d time.Duration) int64 { return e.now() + millis(d) }

		// The initial key is the only full key manager: every way of losing it is refused.
		refused := []struct {
			name, method, body string
		}{
			{"delete", "DELETE", ""},
			{"demote", "PATCH", `{"apiKey":{"keyManager":false}}`},
			{"demote by PUT", "PUT", `{"apiKey":{"name":"Initial API key"}}`},
			{"expire", "PATCH", fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(time.Hour))},
			{"expire now", "PATCH", fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(0))},
			{"restrict endpoints", "PATCH", `{"apiKey":{"permissions":{"endpoints":{"/api/user":["GET"]}}}}`},
			{"restrict by ACL", "PATCH", fmt.Sprintf(`{"apiKey":{"ipAccessControlListId":%q}}`, acl)},
		}
		for _, c := range refused {
			var body any
			if c.body != "" {
				body = c.body
			}
			wantLastKeyGuard(t, c.name, e.do(c.method, root, e.root, body))
		}
		// Harmless changes pass.
		if r := e.do("PATCH", root, e.root, `{"apiKey":{"name":"Root","keyManager":true}}`); r.Status != 200 {
			t.Errorf("rename the last manager: %d %s", r.Status, r.Body)
		}
		got := e.get(e.rootID)
		if got.Name != "Root" || !got.KeyManager || !got.AllEndpoints() || got.ExpirationInstant != nil || got.IPAccessControlListID != "" {
			t.Fatalf("the guarded key changed: %+v", got)
		}

		// With a second full manager the first may go; then the second is the last.
		second, secondID := e.insertKey(model.APIKey{Name: "second", KeyManager: true})
		if r := e.do("PATCH", root, e.root, fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(time.Hour))); r.Status != 200 {
			t.Errorf("expire a manager that is not the last: %d %s", r.Status, r.Body)
		}
		wantEmpty(t, "second deletes the root key", e.do("DELETE", root, second, nil), 200)
		wantLastKeyGuard(t, "the last deletes itself", e.do("DELETE", "/api/api-key/"+secondID, second, nil))

		// An expiring manager does not stand in for the last durable one; once
		// forced past, an expiring last manager may be extended, never shortened.
		third, thirdID := e.insertKey(model.APIKey{Name: "third", KeyManager: true, ExpirationInstant: ptr(in(time.Hour))})
		wantLastKeyGuard(t, "delete second while only the expiring third remains", e.do("DELETE", "/api/api-key/"+secondID, third, nil))
		wantEmpty(t, "forced delete of second", e.do("DELETE", "/api/api-key/"+secondID+"?force=true", third, nil), 200)
		if r := e.do("PATCH", "/api/api-key/"+thirdID, third, fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(2*time.Hour))); r.Status != 200 {
			t.Errorf("extend the last manager: %d %s", r.Status, r.Body)
		}
		wantLastKeyGuard(t, "shorten the last manager", e.do("PATCH", "/api/api-key/"+thirdID, third, fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(time.Minute))))

		// ?force=true goes ahead and leaves a critical audit entry.
		want400(t, "bad force", e.do("DELETE", "/api/api-key/"+thirdID+"?force=maybe", third, nil), "[invalid]force")
		wantEmpty(t, "forced self-delete", e.do("DELETE", "/api/api-key/"+thirdID+"?force=true", third, nil), 200)
		crit := e.criticalAudits(thirdID)
		if len(crit) != 1 || crit[0].ActorID != thirdID || crit[0].Method != "DELETE" || !strings.Contains(crit[0].Message, "last-key guard") {
			t.Errorf("critical audit entries for the forced delete: %+v", crit)
		}
		wantEmpty(t, "deleted last key", e.do("GET", "/api/api-key", third, nil), 401)
		if len(e.criticalAudits(e.rootID)) != 0 {
			t.Errorf("unforced changes were audited as critical")
		}
	})
}

func ptr[T any](v T) *T { return &v }

// A key that is not a full manager may delete itself only while a full manager
// remains: otherwise nobody could manage keys any more.
func TestLastKeyGuardSelfDelete(t *testing.T) {
	t.Parallel()
	e := akStart(t, testutil.Backend{Name: "sqlite"})
	restricted, restrictedID := e.insertKey(model.APIKey{Name: "restricted manager", KeyManager: true,
		Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET"}}}})
	other, otherID := e.insertKey(model.APIKey{Name: "other restricted manager", KeyManager: true,
		Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET"}}}})
	wantEmpty(t, "self-delete while a full manager remains", e.do("DELETE", "/api/api-key/"+otherID, other, nil), 200)

	// Force the full manager away: now no full manager remains.
	r := e.do("PATCH", "/api/api-key/"+e.rootID+"?force=true", e.root, `{"apiKey":{"permissions":{"endpoints":{"/api/user":["GET"]}},"keyManager":true}}`)
	if r.Status != 200 {
		t.Fatalf("forced restriction: %d %s", r.Status, r.Body)
	}
	if crit := e.criticalAudits(e.rootID); len(crit) != 1 || crit[0].Method != "PATCH" {
		t.Errorf("critical audit for the forced restriction: %+v", crit)
	}
	wantLastKeyGuard(t, "self-delete with no full manager left", e.do("DELETE", "/api/api-key/"+restrictedID, restricted, nil))
	// Deleting another restricted key is no loss and needs no force.
	wantEmpty(t, "delete another restricted manager", e.do("DELETE", "/api/api-key/"+e.rootID, restricted, nil), 200)
	wantEmpty(t, "forced self-delete", e.do("DELETE", "/api/api-key/"+restrictedID+"?force=true", restricted, nil), 200)
}

// Two requests deleting the last two durable managers at once, on one node or
// (PostgreSQL) two: the guard runs in the transaction that deletes, under a
// lock, so exactly one succeeds. The deleting key is a full manager that
// expires, as `latch recover api-key` makes: it does not count.
func TestLastKeyGuardConcurrentDeletes(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		nodes := []string{e.s.URL, e.s.URL}
		if b.DatabaseURL != "" {
			nodes[1] = testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(e.s.Clock)).URL
		}
		deleter, _ := e.insertKey(model.APIKey{Name: "deleter", KeyManager: true, ExpirationInstant: ptr(e.now() + millis(time.Hour))})
		// Force the initial key out of the way so the two below are the last.
		wantEmpty(t, "forced delete of the initial key", e.do("DELETE", "/api/api-key/"+e.rootID+"?force=true", deleter, nil), 200)
		for round := range 20 {
			_, a := e.insertKey(model.APIKey{Name: fmt.Sprintf("A%d", round), KeyManager: true})
			_, c := e.insertKey(model.APIKey{Name: fmt.Sprintf("B%d", round), KeyManager: true})
			statuses := make([]int, 2)
			bodies := make([]string, 2)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, id := range []string{a, c} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					statuses[i], bodies[i] = akRawDo(nodes[i], "DELETE", "/api/api-key/"+id, deleter)
				}()
			}
			close(start)
			wg.Wait()
			ok, guarded := 0, 0
			for i, st := range statuses {
				switch {
				case st == 200:
					ok++
				case st == 400 && strings.Contains(bodies[i], "[LastKeyManagerKey]"):
					guarded++
				default:
					t.Errorf("round %d: unexpected %d %s", round, st, bodies[i])
				}
			}
			if ok != 1 || guarded != 1 {
				t.Fatalf("round %d: %d deletes succeeded and %d were refused; want exactly one of each", round, ok, guarded)
			}
			durable := e.durableManagers()
			if len(durable) != 1 {
				t.Fatalf("round %d: %d durable managers remain, want 1", round, len(durable))
			}
			wantEmpty(t, "clear survivor", e.do("DELETE", "/api/api-key/"+durable[0]+"?force=true", deleter, nil), 200)
		}
	})
}

// durableManagers lists the ids of the full managers without an expiry.
func (e *akEnv) durableManagers() []string {
	e.t.Helper()
	rows, err := e.st.Read().AllAPIKeys(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		if access.IsDurableManager(&r.APIKey, e.now()) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// The guard counts only full managers without an expiry: one that expires
// merely postpones the lockout. These are the cases of issue 15 (defect 8).
func TestLastKeyGuardCountsOnlyDurableManagers(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		root := "/api/api-key/" + e.rootID
		in := func(d time.Duration) int64 { return e.now() + millis(d) }
		acl := e.acl("guard acl")

		// A recovery key with a 4 s expiry beside the permanent initial key.
		out, errOut, code := e.s.CLI(t, "recover", "api-key", "--expires-in", "4s")
		if code != 0 {
			t.Fatalf("latch recover api-key exited %d: %s", code, errOut)
		}
		recovery := strings.TrimSpace(out)
		recoveryRow, err := e.st.Read().APIKeyByHash(context.Background(), secrets.HashToken(recovery))
		if err != nil {
			t.Fatal(err)
		}
		// lastAt is the expiry the message must name: the recovery key's, or
		// the one the change gives the permanent key when that is later.
		refused := []struct {
			name, method, body string
			lastAt             int64
		}{
			{"delete", "DELETE", "", 0},
			{"demote", "PATCH", `{"apiKey":{"keyManager":false}}`, 0},
			{"demote by PUT", "PUT", `{"apiKey":{"name":"Initial API key"}}`, 0},
			{"give an expiry", "PATCH", fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(time.Hour)), in(time.Hour)},
			{"give an expiry by PUT", "PUT", fmt.Sprintf(`{"apiKey":{"name":"Initial API key","keyManager":true,"expirationInstant":%d}}`, in(time.Hour)), in(time.Hour)},
			{"give an expiry before the recovery key's", "PATCH", fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(time.Second)), 0},
			{"expire now", "PATCH", fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(0)), 0},
			{"restrict endpoints", "PATCH", `{"apiKey":{"permissions":{"endpoints":{"/api/user":["GET"]}}}}`, 0},
			{"restrict by ACL", "PATCH", fmt.Sprintf(`{"apiKey":{"ipAccessControlListId":%q}}`, acl), 0},
		}
		for _, c := range refused {
			lastAt := *recoveryRow.ExpirationInstant
			if c.lastAt != 0 {
				lastAt = c.lastAt
			}
			says := "only key-manager keys with access to every endpoint and tenant that expire, the last at " +
				time.UnixMilli(lastAt).UTC().Format(time.RFC3339)
			for _, caller := range []struct{ name, key string }{{"the recovery key", recovery}, {"itself", e.root}} {
				var body any
				if c.body != "" {
					body = c.body
				}
				what := c.name + " by " + caller.name
				r := e.do(c.method, root, caller.key, body)
				wantLastKeyGuard(t, what, r)
				if r.Status == 400 && !strings.Contains(string(r.Body), says) {
					t.Errorf("%s: the message does not say only expiring managers would remain (%q): %s", what, says, r.Body)
				}
			}
		}
		if got := e.get(e.rootID); !access.IsDurableManager(&got, e.now()) {
			t.Fatalf("the permanent key changed: %+v", got)
		}
		// Seconds later the recovery key is gone and the permanent key still manages keys.
		e.s.Clock.Advance(5 * time.Second)
		wantEmpty(t, "the expired recovery key", e.do("GET", "/api/api-key", recovery, nil), 401)
		if r := e.do("GET", "/api/api-key", e.root, nil); r.Status != 200 {
			t.Fatalf("the permanent key after the recovery key expired: %d", r.Status)
		}

		// Two managers expired in turn: the first expiry is fine, the second is not.
		second, secondID := e.insertKey(model.APIKey{Name: "second", KeyManager: true})
		if r := e.do("PATCH", "/api/api-key/"+secondID, e.root, fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(time.Hour))); r.Status != 200 {
			t.Fatalf("give second an expiry while root remains: %d %s", r.Status, r.Body)
		}
		wantLastKeyGuard(t, "second gives root an expiry", e.do("PATCH", root, second, fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(2*time.Hour))))
		wantLastKeyGuard(t, "second deletes root", e.do("DELETE", root, second, nil))

		// ?force=true goes ahead, with a critical audit entry naming the guard.
		wantEmpty(t, "second deletes root with force", e.do("DELETE", root+"?force=true", second, nil), 200)
		crit := e.criticalAudits(e.rootID)
		if len(crit) != 1 || crit[0].ActorID != secondID || crit[0].Method != "DELETE" ||
			!strings.Contains(crit[0].Message, "last-key guard") || !strings.Contains(crit[0].Message, "that expire") {
			t.Errorf("critical audit entries for the forced delete: %+v", crit)
		}

		// No durable manager is left. What does not shorten key management
		// still works: creating keys, a longer-lived recovery key replacing
		// second, and making that key permanent, the way back.
		e.create(second, map[string]any{"name": "plain", "permissions": keyPerms("/api/user", "GET")})
		out, errOut, code = e.s.CLI(t, "recover", "api-key", "--expires-in", "2h", "--name", "longer")
		if code != 0 {
			t.Fatalf("latch recover api-key exited %d: %s", code, errOut)
		}
		longer := strings.TrimSpace(out)
		longerRow, err := e.st.Read().APIKeyByHash(context.Background(), secrets.HashToken(longer))
		if err != nil {
			t.Fatal(err)
		}
		wantLastKeyGuard(t, "shorten the last-expiring manager", e.do("PATCH", "/api/api-key/"+longerRow.ID, longer,
			fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(30*time.Minute))))
		wantEmpty(t, "delete the manager that expires first", e.do("DELETE", "/api/api-key/"+secondID, longer, nil), 200)
		r := e.do("PATCH", "/api/api-key/"+longerRow.ID, longer, `{"apiKey":{"expirationInstant":null}}`, "Content-Type", "application/merge-patch+json")
		if r.Status != 200 {
			t.Fatalf("make the recovery key permanent: %d %s", r.Status, r.Body)
		}
		if ids := e.durableManagers(); len(ids) != 1 || ids[0] != longerRow.ID {
			t.Fatalf("durable managers %v, want the former recovery key", ids)
		}
		wantLastKeyGuard(t, "the new permanent key deletes itself", e.do("DELETE", "/api/api-key/"+longerRow.ID, longer, nil))
	})
}

// akRawDo sends a request from any goroutine (testutil.Server.Do may fail the
// test, which only the test goroutine may do).
func akRawDo(base, method, path, key string) (int, string) {
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		return -1, err.Error()
	}
	req.Header.Set("Authorization", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// A change to the calling key that this node has not seen yet (made on another
// node a moment ago) still binds it: key changes re-read the caller's
// authority in their own transaction.
func TestAPIKeyCallerAuthorityIsFresh(t *testing.T) {
	t.Parallel()
	e := akStart(t, testutil.Backend{Name: "sqlite"})
	manager, managerID := e.insertKey(model.APIKey{Name: "manager", KeyManager: true})
	broad := e.create(e.root, map[string]any{"name": "broad"})
	if st := e.do("GET", "/api/api-key/"+broad.ID, manager, nil).Status; st != 200 {
		t.Fatalf("manager reads broad: %d", st)
	}
	// Narrow the manager in the database without telling the caches.
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.APIKeyByID(ctx, managerID)
		if err != nil {
			return err
		}
		row.Permissions.Endpoints = map[string][]string{"/api/user": {"GET"}}
		return tx.UpdateAPIKey(ctx, row)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantEmpty(t, "stale manager deletes broad", e.do("DELETE", "/api/api-key/"+broad.ID, manager, nil), 401)
	wantEmpty(t, "stale manager renames broad", e.do("PATCH", "/api/api-key/"+broad.ID, manager, `{"apiKey":{"name":"x"}}`), 401)
	e.get(broad.ID)
}
