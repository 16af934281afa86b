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
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// akWantGuard fails unless r is the last-key guard's refusal.
func akWantGuard(t *testing.T, what string, r *testutil.Response) {
	t.Helper()
	akWant400(t, what, r, "[LastKeyManagerKey]")
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
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		root := "/api/api-key/" + e.rootID
		acl := e.acl("guard acl")
		in := func(d time.Duration) int64 { return e.now() + akMillis(d) }

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
			akWantGuard(t, c.name, e.do(c.method, root, e.root, body))
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
		akEmpty(t, "second deletes the root key", e.do("DELETE", root, second, nil), 200)
		akWantGuard(t, "the last deletes itself", e.do("DELETE", "/api/api-key/"+secondID, second, nil))

		// An expiring last manager may be extended, never shortened.
		third, thirdID := e.insertKey(model.APIKey{Name: "third", KeyManager: true, ExpirationInstant: ptr(in(time.Hour))})
		akEmpty(t, "delete second while third remains", e.do("DELETE", "/api/api-key/"+secondID, third, nil), 200)
		if r := e.do("PATCH", "/api/api-key/"+thirdID, third, fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(2*time.Hour))); r.Status != 200 {
			t.Errorf("extend the last manager: %d %s", r.Status, r.Body)
		}
		akWantGuard(t, "shorten the last manager", e.do("PATCH", "/api/api-key/"+thirdID, third, fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, in(time.Minute))))

		// ?force=true goes ahead and leaves a critical audit entry.
		akWant400(t, "bad force", e.do("DELETE", "/api/api-key/"+thirdID+"?force=maybe", third, nil), "[invalid]force")
		akEmpty(t, "forced self-delete", e.do("DELETE", "/api/api-key/"+thirdID+"?force=true", third, nil), 200)
		crit := e.criticalAudits(thirdID)
		if len(crit) != 1 || crit[0].ActorID != thirdID || crit[0].Method != "DELETE" || !strings.Contains(crit[0].Message, "last-key guard") {
			t.Errorf("critical audit entries for the forced delete: %+v", crit)
		}
		akEmpty(t, "deleted last key", e.do("GET", "/api/api-key", third, nil), 401)
		if len(e.criticalAudits(e.rootID)) != 0 {
			t.Errorf("unforced changes were audited as critical")
		}
	})
}

func ptr[T any](v T) *T { return &v }

// A key that is not a full manager may delete itself only while a full manager
// remains: otherwise nobody could manage keys any more.
func TestLastKeyGuardSelfDelete(t *testing.T) {
	e := akStart(t, testutil.Backend{Name: "sqlite"})
	restricted, restrictedID := e.insertKey(model.APIKey{Name: "restricted manager", KeyManager: true,
		Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET"}}}})
	other, otherID := e.insertKey(model.APIKey{Name: "other restricted manager", KeyManager: true,
		Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET"}}}})
	akEmpty(t, "self-delete while a full manager remains", e.do("DELETE", "/api/api-key/"+otherID, other, nil), 200)

	// Force the full manager away: now no full manager remains.
	r := e.do("PATCH", "/api/api-key/"+e.rootID+"?force=true", e.root, `{"apiKey":{"permissions":{"endpoints":{"/api/user":["GET"]}},"keyManager":true}}`)
	if r.Status != 200 {
		t.Fatalf("forced restriction: %d %s", r.Status, r.Body)
	}
	if crit := e.criticalAudits(e.rootID); len(crit) != 1 || crit[0].Method != "PATCH" {
		t.Errorf("critical audit for the forced restriction: %+v", crit)
	}
	akWantGuard(t, "self-delete with no full manager left", e.do("DELETE", "/api/api-key/"+restrictedID, restricted, nil))
	// Deleting another restricted key is no loss and needs no force.
	akEmpty(t, "delete another restricted manager", e.do("DELETE", "/api/api-key/"+e.rootID, restricted, nil), 200)
	akEmpty(t, "forced self-delete", e.do("DELETE", "/api/api-key/"+restrictedID+"?force=true", restricted, nil), 200)
}

// Two requests deleting the last two full managers at once: the guard runs in
// the transaction that deletes, under a lock, so exactly one succeeds.
func TestLastKeyGuardConcurrentDeletes(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		// The deleting key covers every key but is no full manager itself (its
		// IP ACL allows every address yet makes it "restricted").
		deleter, _ := e.insertKey(model.APIKey{Name: "deleter", KeyManager: true, IPAccessControlListID: e.acl("everyone")})
		// Force the initial key out of the way so the two below are the last.
		akEmpty(t, "forced delete of the initial key", e.do("DELETE", "/api/api-key/"+e.rootID+"?force=true", deleter, nil), 200)
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
					statuses[i], bodies[i] = akRawDo(e.s.URL, "DELETE", "/api/api-key/"+id, deleter)
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
			full := 0
			rows, err := e.st.Read().AllAPIKeys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if access.IsFullManager(&r.APIKey, e.now()) {
					full++
				}
			}
			if full != 1 {
				t.Fatalf("round %d: %d full managers remain, want 1", round, full)
			}
			// Clear the survivor for the next round.
			for _, r := range rows {
				if access.IsFullManager(&r.APIKey, e.now()) {
					akEmpty(t, "clear survivor", e.do("DELETE", "/api/api-key/"+r.ID+"?force=true", deleter, nil), 200)
				}
			}
		}
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
	e := akStart(t, testutil.Backend{Name: "sqlite"})
	acl := e.acl("everyone")
	manager, managerID := e.insertKey(model.APIKey{Name: "manager", KeyManager: true, IPAccessControlListID: acl})
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
	akEmpty(t, "stale manager deletes broad", e.do("DELETE", "/api/api-key/"+broad.ID, manager, nil), 401)
	akEmpty(t, "stale manager renames broad", e.do("PATCH", "/api/api-key/"+broad.ID, manager, `{"apiKey":{"name":"x"}}`), 401)
	e.get(broad.ID)
}
