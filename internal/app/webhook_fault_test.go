package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/testutil"
)

// hookCatcher is a webhook receiver that can hold requests (to be in flight
// when the sender dies) and records, per user, the event ids it accepted.
type hookCatcher struct {
	mu       sync.Mutex
	hold     bool
	held     int
	release  chan struct{}
	accepted map[string][]string // user id → event ids answered 200
}

func (c *hookCatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		Event struct {
			ID   string `json:"id"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"event"`
	}
	_ = json.Unmarshal(body, &ev)
	c.mu.Lock()
	hold := c.hold
	if hold {
		c.held++
	}
	c.mu.Unlock()
	if hold {
		<-c.release // the sender is killed meanwhile; this answer goes nowhere
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	c.mu.Lock()
	c.accepted[ev.Event.User.ID] = append(c.accepted[ev.Event.User.ID], ev.Event.ID)
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (c *hookCatcher) heldNow() int { c.mu.Lock(); defer c.mu.Unlock(); return c.held }

// A node killed with SIGKILL while it delivers webhook events loses none:
// the events of every user create it acknowledged, those in flight and
// those not yet claimed, reach the receiver after a restart on the same
// database, each user's with one event id however often it is sent.
func TestWebhookEventsSurviveKillNine(t *testing.T) {
	bin := latchBinary(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		vars := map[string]string{"LATCH_MASTER_KEY": testutil.TestMasterKey}
		if b.DatabaseURL != "" {
			vars["LATCH_DATABASE_URL"] = b.DatabaseURL
		}
		catcher := &hookCatcher{hold: true, release: make(chan struct{}), accepted: map[string][]string{}}
		rc := httptest.NewServer(catcher)
		defer rc.Close()
		defer func() {
			select {
			case <-catcher.release:
			default:
				close(catcher.release)
			}
		}()
		dataDir := t.TempDir()
		p := startLatch(t, bin, dataDir, vars)
		key := setupProcess(t, bin, dataDir, vars)
		mustCall(t, p.URL, "POST", "/api/webhook", key, map[string]any{"webhook": map[string]any{"url": rc.URL, "global": true,
			"allowPrivateNetworks": true, "connectTimeout": 500, "readTimeout": 5000, "eventsEnabled": map[string]bool{"user.create": true}}}, 200)

		var acked []string
		for i := range 20 {
			email := fmt.Sprintf("kill9-%d-%s@example.com", i, uuid.NewString()[:8])
			m := mustCall(t, p.URL, "POST", "/api/user", key, map[string]any{"user": map[string]any{"email": email, "password": "kill nine password"}}, 200)
			acked = append(acked, str(m["user"].(map[string]any)["id"]))
		}
		for catcher.heldNow() == 0 { // deliveries are in flight
			time.Sleep(20 * time.Millisecond)
		}
		p.kill9(t)
		catcher.mu.Lock()
		catcher.hold = false
		catcher.mu.Unlock()
		close(catcher.release)

		startLatch(t, bin, dataDir, vars)
		for {
			catcher.mu.Lock()
			missing := 0
			for _, id := range acked {
				if len(catcher.accepted[id]) == 0 {
					missing++
				}
			}
			catcher.mu.Unlock()
			if missing == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		catcher.mu.Lock()
		defer catcher.mu.Unlock()
		for _, id := range acked {
			for _, ev := range catcher.accepted[id] {
				if ev != catcher.accepted[id][0] {
					t.Errorf("user %s: events %v, want one id", id, catcher.accepted[id])
				}
			}
		}
	})
}
