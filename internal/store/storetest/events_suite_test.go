package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/store"
)

// Events is the contract of events.Storage: webhooks (each write bumps their
// cache version), the event outbox with its leases and per-user order,
// attempts, the webhook event log and the event log with its retention.
func Events(t *testing.T, st *store.Store) {
	type S = events.Storage
	ctx := context.Background()
	version := func() int64 {
		t.Helper()
		v, err := read[S](st).CacheVersion(ctx, store.CacheWebhooks)
		ok(t, "webhooks version", err)
		return v
	}

	// Webhooks: read back, listed, searched; every write bumps the version.
	hook := func(url, desc string, at int64) *store.WebhookRow {
		return &store.WebhookRow{ID: uuid.NewString(), URL: url, Description: desc, Body: `{"events":{}}`, InsertInstant: at, LastUpdateInstant: at}
	}
	h1, h2 := hook("https://a.example/hook", "Billing", 10), hook("https://b.example/in", "audit_log 100%", 20)
	h1.SealedPassword = "sealed"
	v0 := version()
	mustWrite(t, st, func(s S) error { return errors.Join(s.InsertWebhook(ctx, h1), s.InsertWebhook(ctx, h2)) })
	if v := version(); v != v0+1 {
		t.Errorf("inserting webhooks: version %d → %d, want one bump", v0, v)
	}
	if got, err := read[S](st).WebhookByID(ctx, h1.ID); err != nil || !reflect.DeepEqual(got, h1) {
		t.Errorf("webhook: %+v %v", got, err)
	}
	_, err := read[S](st).WebhookByID(ctx, "nope")
	noRows(t, "unknown webhook", err)
	if err := write(st, func(s S) error { h := hook("x", "", 1); h.ID = h1.ID; return s.InsertWebhook(ctx, h) }); !store.IsUnique(err) {
		t.Errorf("a webhook id twice: %v", err)
	}
	hookIDs := func(rows []*store.WebhookRow) []string {
		var out []string
		for _, h := range rows {
			out = append(out, h.ID)
		}
		return out
	}
	if all, err := read[S](st).Webhooks(ctx); err != nil || !slices.Equal(hookIDs(all), []string{h1.ID, h2.ID}) {
		t.Errorf("webhooks: %v %v", hookIDs(all), err)
	}
	for _, c := range []struct {
		desc, url string
		want      []string
	}{
		{"", "", []string{h2.ID, h1.ID}}, // by description: "Billing" < "audit…" in byte order
		{"BILL", "", []string{h1.ID}},
		{"", "B.EXAMPLE", []string{h2.ID}},
		{"%", "", []string{h2.ID}},
		{"_", "", []string{h2.ID}},
		{"bill", "b.example", nil},
	} {
		got, err := read[S](st).SearchWebhooks(ctx, c.desc, c.url)
		ok(t, "search webhooks", err)
		if c.desc == "" && c.url == "" {
			// Collations differ in how they order cases; only the set is
			// the contract here.
			slices.Sort(c.want)
			ids := hookIDs(got)
			slices.Sort(ids)
			if !slices.Equal(ids, c.want) {
				t.Errorf("search webhooks: %v", ids)
			}
			continue
		}
		if !slices.Equal(hookIDs(got), c.want) {
			t.Errorf("search webhooks %q %q: %v, want %v", c.desc, c.url, hookIDs(got), c.want)
		}
	}
	upd := *h2
	upd.URL, upd.Description, upd.Body, upd.SealedPassword, upd.LastUpdateInstant, upd.InsertInstant = "https://c.example", "Audit", `{}`, "p", 30, 1
	v1 := version()
	mustWrite(t, st, func(s S) error { return s.UpdateWebhook(ctx, &upd) })
	upd.InsertInstant = h2.InsertInstant
	if got, err := read[S](st).WebhookByID(ctx, h2.ID); err != nil || !reflect.DeepEqual(got, &upd) || version() != v1+1 {
		t.Errorf("after update: %+v %v (version %d → %d)", got, err, v1, version())
	}
	for name, change := range map[string]func(s S) error{
		"update": func(s S) error { h := upd; h.ID = "nope"; return s.UpdateWebhook(ctx, &h) },
		"delete": func(s S) error { return s.DeleteWebhook(ctx, "nope") },
	} {
		v := version()
		if err := write(st, change); !errors.Is(err, store.ErrNotOne) || version() != v {
			t.Errorf("%s of an unknown webhook: %v (version %d → %d)", name, err, v, version())
		}
	}

	// The outbox: an event with a row per webhook; one user's events leave
	// in order per webhook; leases keep a row to one node.
	const now = int64(1_000)
	event := func(typ, user string, at int64, hooks ...string) *store.WebhookEventRow {
		e := &store.WebhookEventRow{ID: uuid.NewString(), EventType: typ, TenantID: "t", LinkedObjectID: user, Body: `{"event":{}}`, InsertInstant: at}
		mustWrite(t, st, func(s S) error { return s.InsertWebhookEvent(ctx, e, hooks, user) })
		return e
	}
	e1 := event("user.create", "u1", now, h1.ID, h2.ID)
	e2 := event("user.update", "u1", now+1, h1.ID)
	e3 := event("user.create", "u2", now+2, h1.ID)
	sent := event("jwt.refresh", "u3", now+3)
	if e1.Seq == 0 || !(e1.Seq < e2.Seq && e2.Seq < e3.Seq) {
		t.Errorf("event sequence: %d %d %d", e1.Seq, e2.Seq, e3.Seq)
	}
	if got, err := read[S](st).WebhookEventByID(ctx, e1.ID); err != nil || got.Seq != e1.Seq || got.EventResult != "Running" ||
		got.LastUpdateInstant != now || got.EventType != "user.create" || got.Body != e1.Body {
		t.Errorf("event: %+v %v", got, err)
	}
	if got, _ := read[S](st).WebhookEventByID(ctx, sent.ID); got == nil || got.EventResult != "Running" {
		t.Errorf("an event for no webhook: %+v", got)
	}
	_, err = read[S](st).WebhookEventByID(ctx, "nope")
	noRows(t, "unknown event", err)
	if err := write(st, func(s S) error {
		return s.InsertWebhookEvent(ctx, &store.WebhookEventRow{ID: e1.ID, EventType: "x", Body: "{}", InsertInstant: 1}, nil, "")
	}); !store.IsUnique(err) {
		t.Errorf("an event id twice: %v", err)
	}
	due := func(at int64) int {
		t.Helper()
		n, err := read[S](st).DueDeliveries(ctx, at)
		ok(t, "due", err)
		return n
	}
	if due(now-1) != 0 || due(now) != 1 {
		t.Errorf("due before and at the first event: %d, %d", due(now-1), due(now))
	}
	claim := func(owner string, at int64, limit int) []*store.Delivery {
		t.Helper()
		var got []*store.Delivery
		mustWrite(t, st, func(s S) (err error) { got, err = s.ClaimDeliveries(ctx, owner, at, at+100, limit); return err })
		slices.SortFunc(got, func(a, b *store.Delivery) int { return int(a.Seq - b.Seq) })
		return got
	}
	describe := func(ds []*store.Delivery) string {
		var out []string
		for _, d := range ds {
			name := map[string]string{e1.ID: "e1", e2.ID: "e2", e3.ID: "e3"}[d.EventID]
			out = append(out, fmt.Sprintf("%s>%s#%d", name, map[string]string{h1.ID: "h1", h2.ID: "h2"}[d.WebhookID], d.Attempts))
		}
		return strings.Join(out, ",")
	}
	// e2 waits behind e1 on h1 (same user); e3 (another user) does not.
	first := claim("node-a", now+5, 10)
	if describe(first) != "e1>h1#1,e1>h2#1,e3>h1#1" || first[0].Body != e1.Body || first[0].EventSeq != e1.Seq {
		t.Errorf("first claim: %s", describe(first))
	}
	if got := claim("node-b", now+6, 10); len(got) != 0 {
		t.Errorf("claimed under live leases: %s", describe(got))
	}
	// A retried row is due again later, and still holds e2 back.
	mustWrite(t, st, func(s S) error { return s.RetryDelivery(ctx, first[0], "node-a", now+50) })
	if got := claim("node-b", now+10, 10); len(got) != 0 {
		t.Errorf("claimed before the retry is due: %s", describe(got))
	}
	// A node that lost its lease cannot finish the row.
	if got := claim("node-b", now+200, 10); describe(got) != "e1>h1#2,e1>h2#2,e3>h1#2" {
		t.Errorf("claim after the leases ran out: %s", describe(got))
	}
	var held bool
	mustWrite(t, st, func(s S) (err error) {
		held, err = s.FinishDelivery(ctx, first[1], "node-a", false, now+201)
		return err
	})
	if held {
		t.Error("a node finished a row it no longer holds")
	}
	// Settled once every webhook's row is done: Succeeded, or Failed at once.
	mustWrite(t, st, func(s S) (err error) {
		held, err = s.FinishDelivery(ctx, first[0], "node-b", false, now+202)
		return err
	})
	if got, _ := read[S](st).WebhookEventByID(ctx, e1.ID); !held || got.EventResult != "Running" {
		t.Errorf("one of two deliveries done: held %v, %s", held, got.EventResult)
	}
	mustWrite(t, st, func(s S) (err error) {
		held, err = s.FinishDelivery(ctx, first[1], "node-b", false, now+203)
		return err
	})
	if got, _ := read[S](st).WebhookEventByID(ctx, e1.ID); !held || got.EventResult != "Succeeded" || got.LastUpdateInstant != now+203 {
		t.Errorf("both deliveries done: held %v, %+v", held, got)
	}
	mustWrite(t, st, func(s S) (err error) {
		held, err = s.FinishDelivery(ctx, first[2], "node-b", true, now+204)
		return err
	})
	if got, _ := read[S](st).WebhookEventByID(ctx, e3.ID); !held || got.EventResult != "Failed" {
		t.Errorf("an abandoned delivery: held %v, %+v", held, got)
	}
	// e1 gone from h1, e2 is next; deleting h1 drops its rows.
	if got := claim("node-c", now+300, 10); describe(got) != "e2>h1#1" {
		t.Errorf("claim after e1: %s", describe(got))
	}
	mustWrite(t, st, func(s S) error { return s.DeleteWebhook(ctx, h1.ID) })
	if due(now+10_000) != 0 {
		t.Error("a deleted webhook's rows stayed due")
	}

	// Nodes claiming at once: each row goes to one of them (a node that
	// waited on another's rows may get none; a later claim takes the rest).
	var many []*store.WebhookEventRow
	for i := range 6 {
		many = append(many, event("user.create", fmt.Sprintf("r%d", i), now+400, h2.ID))
	}
	owners := []string{"p", "q", "r"}
	got := make([][]*store.Delivery, len(owners))
	for _, err := range race(st, len(owners), func(i int, g *gate, s S) error {
		g.wait()
		var err error
		got[i], err = s.ClaimDeliveries(ctx, owners[i], now+500, now+600, 4)
		return err
	}) {
		ok(t, "racing claims", err)
	}
	seen := map[int64]string{}
	for i, ds := range got {
		for _, d := range ds {
			if prev, dup := seen[d.Seq]; dup {
				t.Errorf("row %d claimed by %s and %s", d.Seq, prev, owners[i])
			}
			seen[d.Seq] = owners[i]
		}
	}
	for _, d := range claim("s", now+500, 10) {
		if prev, dup := seen[d.Seq]; dup {
			t.Errorf("row %d claimed by %s and again", d.Seq, prev)
		}
		seen[d.Seq] = "s"
	}
	if len(seen) != len(many) {
		t.Errorf("%d of %d rows claimed", len(seen), len(many))
	}
	// Of nodes finishing one row, the holder does, once.
	var oneRow *store.Delivery
	var holder string
	for i, ds := range got {
		if len(ds) > 0 {
			oneRow, holder = ds[0], owners[i]
		}
	}
	oneWinner(t, "finish one row", race(st, 3, func(i int, g *gate, s S) error {
		g.wait()
		held, err := s.FinishDelivery(ctx, oneRow, holder, false, now+550)
		if err == nil && !held {
			return errLost
		}
		return err
	}))

	// Followers: the rows right behind a held head, in order, as far as the
	// limit or the first row not due or leased; a row given back is as if
	// never claimed.
	var chain []*store.WebhookEventRow
	for i := range 5 {
		chain = append(chain, event("user.update", "f1", now+700+int64(i), h2.ID))
	}
	var head *store.Delivery
	for _, d := range claim("n", now+800, 20) {
		if d.OrderKey == "f1" {
			head = d
		}
	}
	if head == nil || head.EventID != chain[0].ID {
		t.Fatalf("head of the chain: %+v", head)
	}
	follow := func(owner string, limit int) []*store.Delivery {
		t.Helper()
		var got []*store.Delivery
		mustWrite(t, st, func(s S) (err error) {
			got, err = s.ClaimFollowers(ctx, owner, head, now+801, now+900, limit)
			return err
		})
		return got
	}
	events := func(ds []*store.Delivery) string {
		var out []string
		for _, d := range ds {
			i := slices.IndexFunc(chain, func(e *store.WebhookEventRow) bool { return e.ID == d.EventID })
			out = append(out, fmt.Sprintf("c%d#%d", i, d.Attempts))
		}
		return strings.Join(out, ",")
	}
	two := follow("n", 2)
	if events(two) != "c1#1,c2#1" || two[0].Body != chain[1].Body || two[0].OrderKey != "f1" || two[0].WebhookID != h2.ID {
		t.Errorf("two followers: %s", events(two))
	}
	if got := follow("n", 10); len(got) != 0 {
		t.Errorf("followers past a leased row: %s", events(got))
	}
	mustWrite(t, st, func(s S) error { return s.ReleaseDelivery(ctx, two[0], "someone-else") })
	if got := follow("n", 10); len(got) != 0 {
		t.Errorf("a row given back by a node not holding it: %s", events(got))
	}
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.ReleaseDelivery(ctx, two[0], "n"), s.ReleaseDelivery(ctx, two[1], "n"))
	})
	if got := follow("n", 10); events(got) != "c1#1,c2#1,c3#1,c4#1" {
		t.Errorf("followers after giving two back: %s", events(got))
	}

	// Accepted rows settled together: each attempt logged and counted on its
	// event (twice for an event sent to two webhooks), the rows still held
	// removed, an event Succeeded once none of its rows is left; a row whose
	// lease went to another node stays, and so its event runs on.
	h3 := hook("https://c.example/x", "third", 30)
	mustWrite(t, st, func(s S) error { return s.InsertWebhook(ctx, h3) })
	both := event("user.create", "g1", now+1000, h2.ID, h3.ID)
	lost := event("user.create", "g2", now+1000, h2.ID)
	var settled []*store.Delivery
	for _, d := range claim("z", now+1001, 20) {
		if d.EventID == both.ID || d.EventID == lost.ID {
			settled = append(settled, d)
		}
	}
	if len(settled) != 3 {
		t.Fatalf("claimed %d of the 3 rows", len(settled))
	}
	var accepted []*store.AttemptRow
	for i, d := range settled {
		accepted = append(accepted, &store.AttemptRow{ID: uuid.NewString(), EventSeq: d.EventSeq, WebhookID: d.WebhookID,
			StartInstant: now + 1002, EndInstant: now + 1003 + int64(i), AttemptResult: "Success", StatusCode: 200, Data: `{"url":"u"}`})
		if d.EventID == lost.ID {
			sqlExec(t, st, "UPDATE webhook_deliveries SET lease_owner = 'y' WHERE seq = $1", d.Seq)
		}
	}
	mustWrite(t, st, func(s S) error { return s.FinishDelivered(ctx, "z", settled, accepted) })
	for _, c := range []struct {
		e      *store.WebhookEventRow
		result string
		n      int
	}{{both, "Succeeded", 2}, {lost, "Running", 1}} {
		got, err := read[S](st).WebhookEventByID(ctx, c.e.ID)
		var latest int64
		for i, d := range settled {
			if d.EventSeq == c.e.Seq {
				latest = max(latest, accepted[i].EndInstant)
			}
		}
		if err != nil || got.EventResult != c.result || got.SuccessfulAttempts != c.n || got.FailedAttempts != 0 ||
			got.LastAttemptInstant != latest || got.LastUpdateInstant != latest {
			t.Errorf("settled event: %+v %v, want %s after %d attempts, the last at %d", got, err, c.result, c.n, latest)
		}
		if as, err := read[S](st).AttemptsOfEvent(ctx, c.e.Seq); err != nil || len(as) != c.n || as[0].AttemptResult != "Success" {
			t.Errorf("settled event's attempts: %+v %v", as, err)
		}
	}
	var again []string
	for _, d := range claim("w", now+2000, 20) {
		if d.EventID == both.ID || d.EventID == lost.ID {
			again = append(again, d.EventID)
		}
	}
	if !slices.Equal(again, []string{lost.ID}) {
		t.Errorf("rows left after settling: %v, want only the one whose lease was lost", again)
	}
	mustWrite(t, st, func(s S) error { return s.FinishDelivered(ctx, "z", nil, nil) })
	if err := write(st, func(s S) error { return s.FinishDelivered(ctx, "z", settled, accepted[:1]) }); err == nil {
		t.Error("deliveries without their attempts were settled")
	}

	// Events of something that writes nothing else, appended in a
	// transaction of their own: one row per webhook, in order behind the
	// same user's; all or nothing.
	appendEvent := func(id string) store.NewWebhookEvent {
		row := &store.WebhookEventRow{ID: id, EventType: "user.login.success", TenantID: "t", LinkedObjectID: "a1",
			Body: `{"event":{}}`, InsertInstant: now + 3000}
		return store.NewWebhookEvent{Row: row, WebhookIDs: []string{h2.ID, h3.ID}, OrderKey: "a1"}
	}
	appended := []store.NewWebhookEvent{appendEvent(uuid.NewString()), appendEvent(uuid.NewString())}
	ok(t, "append events", st.AppendWebhookEvents(ctx, appended))
	var heads []string
	for _, d := range claim("v", now+3001, 50) {
		if d.OrderKey == "a1" {
			heads = append(heads, d.EventID+">"+d.WebhookID)
		}
	}
	slices.Sort(heads)
	if want := []string{appended[0].Row.ID + ">" + h2.ID, appended[0].Row.ID + ">" + h3.ID}; !slices.Equal(heads, slices.Sorted(slices.Values(want))) {
		t.Errorf("appended events claimed: %v, want the first one's two rows", heads)
	}
	if got, err := read[S](st).WebhookEventByID(ctx, appended[1].Row.ID); err != nil || got.EventResult != "Running" || got.InsertInstant != now+3000 {
		t.Errorf("appended event: %+v %v", got, err)
	}
	half := []store.NewWebhookEvent{appendEvent(uuid.NewString()), appendEvent(appended[0].Row.ID)}
	if err := st.AppendWebhookEvents(ctx, half); !store.IsUnique(err) {
		t.Errorf("appending an event id twice: %v", err)
	}
	_, err = read[S](st).WebhookEventByID(ctx, half[0].Row.ID)
	noRows(t, "the event appended with a refused one", err)

	// Attempts count on their event.
	attempt := func(result string, start int64) *store.AttemptRow {
		return &store.AttemptRow{ID: uuid.NewString(), EventSeq: e3.Seq, WebhookID: h1.ID, StartInstant: start, EndInstant: start + 5,
			AttemptResult: result, StatusCode: 500, Data: `{"url":"x"}`}
	}
	a1, a2 := attempt("Failure", 10), attempt("Success", 5)
	a2.Data = ""
	mustWrite(t, st, func(s S) error { return errors.Join(s.RecordAttempt(ctx, a1), s.RecordAttempt(ctx, a2)) })
	if err := write(st, func(s S) error { a := attempt("Failure", 1); a.EventSeq = -1; return s.RecordAttempt(ctx, a) }); !store.IsForeignKey(err) {
		t.Errorf("an attempt of an unknown event: %v", err)
	}
	if got, err := read[S](st).AttemptsOfEvent(ctx, e3.Seq); err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], a2) || !reflect.DeepEqual(got[1], a1) {
		t.Errorf("attempts: %+v %v", got, err)
	}
	if got, eventID, err := read[S](st).AttemptByID(ctx, a1.ID); err != nil || eventID != e3.ID || !reflect.DeepEqual(got, a1) {
		t.Errorf("attempt: %+v %s %v", got, eventID, err)
	}
	_, _, err = read[S](st).AttemptByID(ctx, "nope")
	noRows(t, "unknown attempt", err)
	if e, _ := read[S](st).WebhookEventByID(ctx, e3.ID); e.FailedAttempts != 1 || e.SuccessfulAttempts != 1 || e.LastAttemptInstant != 10 {
		t.Errorf("counts of attempts: %+v", e)
	}

	// The webhook event log.
	for _, c := range []struct {
		f             store.WebhookEventFilter
		offset, limit int
		want          []string
		total         int
	}{
		{store.WebhookEventFilter{EventType: "user.create", End: now + 2}, 0, 10, []string{e1.ID, e3.ID}, 2},
		{store.WebhookEventFilter{EventResult: "Failed"}, 0, 10, []string{e3.ID}, 1},
		{store.WebhookEventFilter{Start: now + 1, End: now + 3, Descending: true}, 1, 2, []string{e3.ID, e2.ID}, 3},
	} {
		rows, total, err := read[S](st).SearchWebhookEvents(ctx, c.f, c.offset, c.limit)
		ok(t, "search events", err)
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, c.want) || total != c.total {
			t.Errorf("search events %+v: %v (total %d), want %v (total %d)", c.f, ids, total, c.want, c.total)
		}
	}

	// The event log, and retention of it and of settled events.
	logs := []*store.EventLogRow{{InsertInstant: 100, Type: "Error", Message: "Webhook 100% down"}, {InsertInstant: 200, Type: "Information", Message: "sent"},
		{InsertInstant: 5000, Type: "Error", Message: "SMTP down"}}
	// Entries are written by audit (audit.Log.WriteEventLog), read here.
	mustWrite(t, st, func(s audit.Storage) error {
		return errors.Join(s.InsertEventLog(ctx, logs[0]), s.InsertEventLog(ctx, logs[1]), s.InsertEventLog(ctx, logs[2]))
	})
	if logs[0].ID == 0 || logs[1].ID <= logs[0].ID {
		t.Errorf("event log ids: %d %d", logs[0].ID, logs[1].ID)
	}
	if got, err := read[S](st).EventLogByID(ctx, logs[1].ID); err != nil || !reflect.DeepEqual(got, logs[1]) {
		t.Errorf("event log: %+v %v", got, err)
	}
	_, err = read[S](st).EventLogByID(ctx, -1)
	noRows(t, "unknown event log", err)
	for _, c := range []struct {
		f     store.EventLogFilter
		want  []int64
		total int
	}{
		{store.EventLogFilter{Message: "DOWN"}, []int64{logs[0].ID, logs[2].ID}, 2},
		{store.EventLogFilter{Message: "0%"}, []int64{logs[0].ID}, 1},
		{store.EventLogFilter{Message: "_"}, nil, 0},
		{store.EventLogFilter{Type: "Error", Descending: true}, []int64{logs[2].ID, logs[0].ID}, 2},
		{store.EventLogFilter{Start: 150, End: 5000}, []int64{logs[1].ID, logs[2].ID}, 2},
	} {
		rows, total, err := read[S](st).SearchEventLogs(ctx, c.f, 0, 10)
		ok(t, "search event logs", err)
		var ids []int64
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, c.want) || total != c.total {
			t.Errorf("search event logs %+v: %v (total %d), want %v (total %d)", c.f, ids, total, c.want, c.total)
		}
	}
	// Before now+1000: two logs; e3's two attempts; e1, e2 (its webhook's
	// rows went with it), e3, the event for no webhook and the finished
	// racing event. The other racing events are still in the outbox.
	var deleted int64
	mustWrite(t, st, func(s S) (err error) { deleted, err = s.DeleteEventLogsBefore(ctx, now+1000); return err })
	if deleted != 2+2+5 {
		t.Errorf("retention deleted %d rows, want 9", deleted)
	}
	for id, want := range map[string]bool{e1.ID: false, e3.ID: false, e2.ID: false, sent.ID: false, many[5].ID: oneRow.EventID != many[5].ID} {
		_, err := read[S](st).WebhookEventByID(ctx, id)
		if kept := err == nil; kept != want {
			t.Errorf("event %s kept %v, want %v (%v)", id, kept, want, err)
		}
	}
	if _, total, _ := read[S](st).SearchEventLogs(ctx, store.EventLogFilter{}, 0, 10); total != 1 {
		t.Errorf("event logs after retention: %d, want 1", total)
	}
}
