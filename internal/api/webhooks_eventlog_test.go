package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// eventLogEntries lists the event log, oldest first.
func eventLogEntries(t *testing.T, s *testutil.Server, key string) []model.EventLog {
	t.Helper()
	var logs struct{ EventLogs []model.EventLog }
	mustDo(t, s, "POST", "/api/system/event-log/search", key, `{"search":{"numberOfResults":100}}`).JSON(t, &logs)
	return logs.EventLogs
}

// advanceUntil moves the fake clock on (past every backoff) until cond
// holds; the test's deadline bounds the wait.
func advanceUntil(t *testing.T, clock *testutil.FakeClock, cond func() bool) {
	t.Helper()
	for !cond() {
		clock.Advance(15 * time.Minute)
		time.Sleep(20 * time.Millisecond)
	}
}

func number(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func eventLogEventsOf(rs []received) []received {
	var out []received
	for _, r := range rs {
		if r.Event["type"] == "event-log.create" {
			out = append(out, r)
		}
	}
	return out
}

// checkEventLogEvent checks an event-log.create against the entry it
// reports: FusionAuth's eventLog, an instance event (no tenantId).
func checkEventLogEvent(t *testing.T, got received, want model.EventLog) {
	t.Helper()
	ev := got.Event
	l := member(ev, "eventLog")
	if ev["tenantId"] != nil || ev["id"] == nil || ev["createInstant"] == nil ||
		number(l["id"]) != want.ID || l["message"] != want.Message || l["type"] != want.Type ||
		number(l["insertInstant"]) != want.InsertInstant {
		t.Fatalf("event-log.create %s\nwant entry %+v", got.Body, want)
	}
}

// A delivery given up writes an event log entry and, in the same
// transaction, event-log.create. The rule against loops: an entry about an
// event-log.create given up emits none, so a webhook that refuses
// everything gets one entry per event, not an endless chain.
func TestWebhookEventLogCreateOnDeliveryGivenUp(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		clock := testutil.NewFakeClock()
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clock))
		key := s.Setup(t)
		rc := newSignedReceiver(t, s, key, "event-log.create")
		// Without allowPrivateNetworks a loopback receiver is refused: every
		// delivery to this webhook fails, its event-log.create ones too.
		refused := newReceiver(t)
		createWebhook(t, s, key, map[string]any{"url": refused.URL, "global": true,
			"eventsEnabled": map[string]bool{"user.create": true, "event-log.create": true}})
		createTestUser(t, s, key, "given-up@example.com")

		advanceUntil(t, clock, func() bool { return len(eventLogEntries(t, s, key)) >= 2 })
		// Long enough for any further give-up to happen: none does.
		for range 20 {
			clock.Advance(15 * time.Minute)
			time.Sleep(20 * time.Millisecond)
		}
		entries := eventLogEntries(t, s, key)
		if len(entries) != 2 || !strings.Contains(entries[0].Message, "[user.create]") || !strings.Contains(entries[1].Message, "[event-log.create]") {
			t.Fatalf("event log: %+v", entries)
		}
		got := rc.waitVerified(t, 1)
		if evs := eventLogEventsOf(got); len(got) != 1 || len(evs) != 1 {
			t.Fatalf("events %v, want one event-log.create", eventTypes(got))
		}
		checkEventLogEvent(t, got[0], entries[0])
		var logs struct{ Total int }
		mustDo(t, s, "POST", "/api/system/webhook-event-log/search", key, `{"search":{"eventType":"event-log.create"}}`).JSON(t, &logs)
		if logs.Total != 1 {
			t.Fatalf("%d event-log.create events written, want 1", logs.Total)
		}
		if n := len(refused.all()); n != 0 {
			t.Fatalf("a refused address got %d requests", n)
		}
	})
}

// An email given up writes an event log entry and event-log.create; with
// no webhook taking event-log.create the entry is written alone.
func TestWebhookEventLogCreateOnEmailGivenUp(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		clock := testutil.NewFakeClock()
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clock))
		key := s.Setup(t)
		var tpl struct{ EmailTemplate struct{ ID string } }
		mustDo(t, s, "POST", "/api/email/template", key, map[string]any{"emailTemplate": map[string]any{
			"name": "Notice", "defaultSubject": "Notice", "defaultTextTemplate": "Hello {{.user.email}}"}}).JSON(t, &tpl)
		send := func(to string) {
			// The Default tenant has no SMTP host: every attempt fails.
			mustDo(t, s, "POST", "/api/email/send/"+tpl.EmailTemplate.ID, key, map[string]any{"userIds": []string{createTestUser(t, s, key, to)}})
		}
		send("unwatched@example.com")
		advanceUntil(t, clock, func() bool { return len(eventLogEntries(t, s, key)) >= 1 })
		var logs struct{ Total int }
		mustDo(t, s, "POST", "/api/system/webhook-event-log/search", key, `{"search":{}}`).JSON(t, &logs)
		if logs.Total != 0 {
			t.Fatalf("%d events written with no webhook taking them", logs.Total)
		}

		rc := newSignedReceiver(t, s, key, "event-log.create")
		send("watched@example.com")
		advanceUntil(t, clock, func() bool { return len(eventLogEntries(t, s, key)) >= 2 })
		entries := eventLogEntries(t, s, key)
		if len(entries) != 2 || !strings.Contains(entries[1].Message, "watched@example.com") {
			t.Fatalf("event log: %+v", entries)
		}
		got := rc.waitVerified(t, 1)
		checkEventLogEvent(t, got[0], entries[1])
	})
}
