package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Webhooks, the event outbox and its logs (migration 0030).

// CacheWebhooks is the cache_versions row of webhooks: nodes keep them in
// memory to decide, on every audited change, whether an event is wanted.
const CacheWebhooks = "webhooks"

// WebhookRow is a stored webhook: its JSON object without the HTTP Basic
// password, which is sealed apart.
type WebhookRow struct {
	ID                string
	URL               string
	Description       string
	Body              string
	SealedPassword    string
	InsertInstant     int64
	LastUpdateInstant int64
}

const webhookColumns = "id, url, description, body, sealed_password, insert_instant, last_update_instant"

func scanWebhook(row scanner) (*WebhookRow, error) {
	var w WebhookRow
	err := row.Scan(&w.ID, &w.URL, &w.Description, &w.Body, &w.SealedPassword, &w.InsertInstant, &w.LastUpdateInstant)
	return &w, err
}

// InsertWebhook stores a new webhook and bumps the webhooks cache version.
func (tx *Tx) InsertWebhook(ctx context.Context, w *WebhookRow) error {
	if _, err := tx.q.ExecContext(ctx, "INSERT INTO webhooks ("+webhookColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		w.ID, w.URL, w.Description, w.Body, w.SealedPassword, w.InsertInstant, w.LastUpdateInstant); err != nil {
		return err
	}
	return tx.BumpCacheVersion(ctx, CacheWebhooks)
}

// UpdateWebhook replaces a webhook; ErrNotOne when it is gone.
func (tx *Tx) UpdateWebhook(ctx context.Context, w *WebhookRow) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE webhooks SET url = $2, description = $3, body = $4, sealed_password = $5,
		last_update_instant = $6 WHERE id = $1`, w.ID, w.URL, w.Description, w.Body, w.SealedPassword, w.LastUpdateInstant)
	if err != nil {
		return err
	}
	if err := expectOne(res); err != nil {
		return err
	}
	return tx.BumpCacheVersion(ctx, CacheWebhooks)
}

// DeleteWebhook removes a webhook and its pending deliveries; ErrNotOne when
// it is gone.
func (tx *Tx) DeleteWebhook(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM webhooks WHERE id = $1", id)
	if err != nil {
		return err
	}
	if err := expectOne(res); err != nil {
		return err
	}
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE webhook_id = $1", id); err != nil {
		return err
	}
	return tx.BumpCacheVersion(ctx, CacheWebhooks)
}

// WebhookByID reads one webhook; ErrNoRows when absent.
func (tx *Tx) WebhookByID(ctx context.Context, id string) (*WebhookRow, error) {
	return scanWebhook(tx.q.QueryRowContext(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE id = $1", id))
}

// Webhooks reads every webhook, oldest first.
func (tx *Tx) Webhooks(ctx context.Context) ([]*WebhookRow, error) {
	return tx.queryWebhooks(ctx, "SELECT "+webhookColumns+" FROM webhooks ORDER BY insert_instant, id")
}

// SearchWebhooks finds webhooks whose description and url contain the given
// text (case-insensitive; empty matches all), ordered by description.
func (tx *Tx) SearchWebhooks(ctx context.Context, description, url string) ([]*WebhookRow, error) {
	return tx.queryWebhooks(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE LOWER(description) LIKE $1 ESCAPE '\' AND LOWER(url) LIKE $2 ESCAPE '\' ORDER BY description, id`,
		containsPattern(description), containsPattern(url))
}

func (tx *Tx) queryWebhooks(ctx context.Context, q string, args ...any) ([]*WebhookRow, error) {
	return scanAll(scanWebhook)(tx.q.QueryContext(ctx, q, args...))
}

// WebhookEventRow is an event as written to the outbox.
type WebhookEventRow struct {
	Seq                int64
	ID                 string
	EventType          string
	TenantID           string
	LinkedObjectID     string
	Body               string
	EventResult        string
	FailedAttempts     int
	SuccessfulAttempts int
	InsertInstant      int64
	LastAttemptInstant int64
	LastUpdateInstant  int64
}

const webhookEventColumns = `seq, id, event_type, tenant_id, linked_object_id, body, event_result, failed_attempts,
	successful_attempts, insert_instant, last_attempt_instant, last_update_instant`

func scanWebhookEvent(row scanner) (*WebhookEventRow, error) {
	var e WebhookEventRow
	err := row.Scan(&e.Seq, &e.ID, &e.EventType, &e.TenantID, &e.LinkedObjectID, &e.Body, &e.EventResult,
		&e.FailedAttempts, &e.SuccessfulAttempts, &e.InsertInstant, &e.LastAttemptInstant, &e.LastUpdateInstant)
	return &e, err
}

// InsertWebhookEvent writes an event and one outbox row per webhook id, in
// the caller's transaction. orderKey orders one user's events per webhook.
// With no webhook ids the event is recorded as delivered (a transactional
// event sent before commit).
func (tx *Tx) InsertWebhookEvent(ctx context.Context, e *WebhookEventRow, webhookIDs []string, orderKey string) error {
	first, rest := webhookEventStmts(e, webhookIDs, orderKey)
	if err := tx.q.QueryRowContext(ctx, first.sql, first.args...).Scan(&e.Seq); err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	for _, st := range rest {
		if _, err := tx.q.ExecContext(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
	}
	return nil
}

// NewWebhookEvent is an event for AppendWebhookEvents: the row and the
// webhooks it goes to (at least one), in order of orderKey.
type NewWebhookEvent struct {
	Row        *WebhookEventRow
	WebhookIDs []string
	OrderKey   string
}

// AppendWebhookEvents writes events of something that writes nothing else
// (a login) in a transaction of their own: on PostgreSQL in one round trip.
// Their Seq stays unset.
func (s *Store) AppendWebhookEvents(ctx context.Context, evs []NewWebhookEvent) error {
	var stmts []stmt
	for _, ev := range evs {
		first, rest := webhookEventStmts(ev.Row, ev.WebhookIDs, ev.OrderKey)
		stmts = append(append(stmts, first), rest...)
	}
	if err := s.writeAll(ctx, stmts); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// webhookEventStmts are the writes of one event (first, returning its seq)
// and of its outbox rows, which find the event by id and so need no result
// of the first.
func webhookEventStmts(e *WebhookEventRow, webhookIDs []string, orderKey string) (first stmt, rest []stmt) {
	if e.EventResult == "" {
		e.EventResult = "Running"
	}
	first = stmt{`INSERT INTO webhook_events (id, event_type, tenant_id, linked_object_id, body,
		event_result, failed_attempts, successful_attempts, insert_instant, last_attempt_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9) RETURNING seq`,
		[]any{e.ID, e.EventType, e.TenantID, e.LinkedObjectID, e.Body, e.EventResult, e.FailedAttempts,
			e.SuccessfulAttempts, e.InsertInstant, e.LastAttemptInstant}}
	for _, id := range webhookIDs {
		rest = append(rest, stmt{`INSERT INTO webhook_deliveries (event_seq, webhook_id, order_key, next_attempt)
			SELECT seq, $2, $3, $4 FROM webhook_events WHERE id = $1`, []any{e.ID, id, orderKey, e.InsertInstant}})
	}
	return first, rest
}

// Delivery is a claimed outbox row with its event.
type Delivery struct {
	Seq       int64
	EventSeq  int64
	EventID   string
	WebhookID string
	OrderKey  string
	Attempts  int // including this one
	Body      string
}

// ClaimDeliveries leases up to limit due outbox rows to owner until
// leaseUntil, in one UPDATE … RETURNING, so that each row goes to one node
// at a time. A row waits while an earlier row of the same webhook and order
// key is still in the outbox (one user's events arrive in order). A lease
// that ran out (its node died) is claimable again.
func (tx *Tx) ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil int64, limit int) ([]*Delivery, error) {
	rows, err := tx.q.QueryContext(ctx, `UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
		WHERE seq IN (SELECT d.seq FROM webhook_deliveries d
			WHERE d.next_attempt <= $3 AND d.lease_until < $3
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
				WHERE e.webhook_id = d.webhook_id AND e.order_key = d.order_key AND e.seq < d.seq)
			ORDER BY d.seq LIMIT $4)
		AND lease_until < $3
		RETURNING `+claimedColumns, owner, leaseUntil, now, limit)
	return tx.claimed(ctx, rows, err)
}

const claimedColumns = "seq, event_seq, webhook_id, order_key, attempts"

// claimed reads the rows an UPDATE … RETURNING claimedColumns leased, in
// order, with their events.
func (tx *Tx) claimed(ctx context.Context, rows *sql.Rows, err error) ([]*Delivery, error) {
	out, err := scanAll(func(row scanner) (*Delivery, error) {
		var d Delivery
		return &d, row.Scan(&d.Seq, &d.EventSeq, &d.WebhookID, &d.OrderKey, &d.Attempts)
	})(rows, err)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b *Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, tx.readClaimedEvents(ctx, out)
}

// readClaimedEvents fills in the claimed rows' event ids and bodies, in one
// statement.
func (tx *Tx) readClaimedEvents(ctx context.Context, ds []*Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	byEvent := map[int64][]*Delivery{}
	var seqs []any
	for _, d := range ds {
		if byEvent[d.EventSeq] == nil {
			seqs = append(seqs, d.EventSeq)
		}
		byEvent[d.EventSeq] = append(byEvent[d.EventSeq], d)
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT seq, id, body FROM webhook_events WHERE seq IN ("+placeholders(1, len(seqs))+")", seqs...)
	if err != nil {
		return fmt.Errorf("read claimed events: %w", err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var seq int64
		var id, body string
		if err := rows.Scan(&seq, &id, &body); err != nil {
			return err
		}
		for _, d := range byEvent[seq] {
			d.EventID, d.Body = id, body
		}
		found++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if found != len(seqs) {
		return fmt.Errorf("read claimed events: %d of %d found", found, len(seqs))
	}
	return nil
}

// ClaimFollowers leases, for the node holding head, up to limit rows right
// behind it (same webhook and order key), in order and without a gap: the
// run stops at the first row that is not due or is leased. The node sends
// them after head, one after another, so that one user's events need not
// wait a round each. Only head's holder can claim them (no other node
// claims a row with an earlier row of its order key still in the outbox).
func (tx *Tx) ClaimFollowers(ctx context.Context, owner string, head *Delivery, now, leaseUntil int64, limit int) ([]*Delivery, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT seq, next_attempt, lease_until FROM webhook_deliveries
		WHERE webhook_id = $1 AND order_key = $2 AND seq > $3 ORDER BY seq LIMIT $4`, head.WebhookID, head.OrderKey, head.Seq, limit)
	if err != nil {
		return nil, fmt.Errorf("find followers: %w", err)
	}
	last := int64(0)
	for rows.Next() {
		var seq, next, lease int64
		if err := rows.Scan(&seq, &next, &lease); err != nil {
			rows.Close()
			return nil, err
		}
		if next > now || lease >= now {
			break
		}
		last = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil || last == 0 {
		return nil, err
	}
	rows, err = tx.q.QueryContext(ctx, `UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
		WHERE webhook_id = $3 AND order_key = $4 AND seq > $5 AND seq <= $6 AND lease_until < $7
		RETURNING `+claimedColumns, owner, leaseUntil, head.WebhookID, head.OrderKey, head.Seq, last, now)
	return tx.claimed(ctx, rows, err)
}

// ReleaseDelivery gives back a row owner claimed but did not send (a row
// behind one that failed), as if never claimed.
func (tx *Tx) ReleaseDelivery(ctx context.Context, d *Delivery, owner string) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_owner = '', lease_until = 0, attempts = attempts - 1
		WHERE seq = $1 AND lease_owner = $2`, d.Seq, owner)
	return err
}

// AttemptRow is one delivery attempt.
type AttemptRow struct {
	ID            string
	EventSeq      int64
	WebhookID     string
	StartInstant  int64
	EndInstant    int64
	AttemptResult string // Success, Failure
	StatusCode    int
	Data          string // JSON: url, exception
}

// RecordAttempt logs an attempt and counts it on its event.
func (tx *Tx) RecordAttempt(ctx context.Context, a *AttemptRow) error {
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO webhook_attempts (id, event_seq, webhook_id, start_instant, end_instant,
		attempt_result, status_code, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, a.EventSeq, a.WebhookID, a.StartInstant, a.EndInstant, a.AttemptResult, a.StatusCode, nullString(a.Data)); err != nil {
		return err
	}
	col := "failed_attempts"
	if a.AttemptResult == "Success" {
		col = "successful_attempts"
	}
	_, err := tx.q.ExecContext(ctx, "UPDATE webhook_events SET "+col+" = "+col+` + 1, last_attempt_instant = $2,
		last_update_instant = $2 WHERE seq = $1`, a.EventSeq, a.EndInstant)
	return err
}

// FinishDelivered settles deliveries their receivers accepted, in four
// statements however many there are: attempts[i] (ds[i]'s attempt, a
// Success) logged and counted on its event, the rows owner still holds
// removed, and each of their events Succeeded once no delivery of it is
// left. One by one it is RecordAttempt and FinishDelivery.
func (tx *Tx) FinishDelivered(ctx context.Context, owner string, ds []*Delivery, attempts []*AttemptRow) error {
	if len(ds) == 0 {
		return nil
	}
	if len(attempts) != len(ds) {
		return fmt.Errorf("finish delivered: %d attempts for %d deliveries", len(attempts), len(ds))
	}
	var values []string
	var args []any
	for _, a := range attempts {
		values = append(values, "("+placeholders(len(args)+1, 8)+")")
		args = append(args, a.ID, a.EventSeq, a.WebhookID, a.StartInstant, a.EndInstant, a.AttemptResult, a.StatusCode, nullString(a.Data))
	}
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO webhook_attempts (id, event_seq, webhook_id, start_instant, end_instant,
		attempt_result, status_code, data) VALUES `+strings.Join(values, ", "), args...); err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	// An event may be here more than once (one row per webhook): its count
	// grows by its rows, its last attempt is the latest of them.
	count, last := map[int64]int{}, map[int64]int64{}
	var events []int64
	for _, a := range attempts {
		if count[a.EventSeq] == 0 {
			events = append(events, a.EventSeq)
		}
		count[a.EventSeq]++
		last[a.EventSeq] = max(last[a.EventSeq], a.EndInstant)
	}
	args = nil
	var adds, instants []string
	for _, seq := range events {
		args = append(args, seq, count[seq], last[seq])
		n := len(args)
		adds = append(adds, fmt.Sprintf("WHEN $%d THEN CAST($%d AS INTEGER)", n-2, n-1))
		instants = append(instants, fmt.Sprintf("WHEN $%d THEN CAST($%d AS BIGINT)", n-2, n))
	}
	in := make([]string, len(events))
	for i := range events {
		in[i] = fmt.Sprintf("$%d", 3*i+1)
	}
	instant := "CASE seq " + strings.Join(instants, " ") + " END"
	if _, err := tx.q.ExecContext(ctx, "UPDATE webhook_events SET successful_attempts = successful_attempts + CASE seq "+strings.Join(adds, " ")+
		" END, last_attempt_instant = "+instant+", last_update_instant = "+instant+" WHERE seq IN ("+strings.Join(in, ", ")+")", args...); err != nil {
		return fmt.Errorf("count attempts: %w", err)
	}
	args = []any{owner}
	for _, d := range ds {
		args = append(args, d.Seq)
	}
	rows, err := tx.q.QueryContext(ctx, "DELETE FROM webhook_deliveries WHERE lease_owner = $1 AND seq IN ("+placeholders(2, len(ds))+") RETURNING event_seq", args...)
	if err != nil {
		return fmt.Errorf("finish deliveries: %w", err)
	}
	args = nil
	seen := map[int64]bool{}
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return err
		}
		if !seen[seq] {
			seen[seq] = true
			args = append(args, seq)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(args) == 0 {
		return err // every lease lost: another node settles those rows
	}
	_, err = tx.q.ExecContext(ctx, `UPDATE webhook_events SET event_result = 'Succeeded'
		WHERE seq IN (`+placeholders(1, len(args))+`) AND event_result = 'Running'
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = webhook_events.seq)`, args...)
	return err
}

// FinishDelivery removes a delivered (or abandoned) outbox row that owner
// still holds, and settles its event: Failed when failed is set, Succeeded
// once no delivery of it is left. It reports false when the lease was lost.
func (tx *Tx) FinishDelivery(ctx context.Context, d *Delivery, owner string, failed bool, now int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE seq = $1 AND lease_owner = $2", d.Seq, owner)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if failed {
		_, err = tx.q.ExecContext(ctx, "UPDATE webhook_events SET event_result = 'Failed', last_update_instant = $2 WHERE seq = $1",
			d.EventSeq, now)
	} else {
		_, err = tx.q.ExecContext(ctx, `UPDATE webhook_events SET event_result = 'Succeeded', last_update_instant = $2
			WHERE seq = $1 AND event_result = 'Running'
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE event_seq = $1)`, d.EventSeq, now)
	}
	return err == nil, err
}

// RetryDelivery releases a row owner holds, due again at next.
func (tx *Tx) RetryDelivery(ctx context.Context, d *Delivery, owner string, next int64) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_owner = '', lease_until = 0, next_attempt = $3
		WHERE seq = $1 AND lease_owner = $2`, d.Seq, owner, next)
	return err
}

// PendingDeliveries counts the outbox rows left.
func (tx *Tx) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM webhook_deliveries").Scan(&n)
	return n, err
}

// WebhookEventByID reads one event; ErrNoRows when absent.
func (tx *Tx) WebhookEventByID(ctx context.Context, id string) (*WebhookEventRow, error) {
	return scanWebhookEvent(tx.q.QueryRowContext(ctx, "SELECT "+webhookEventColumns+" FROM webhook_events WHERE id = $1", id))
}

// WebhookEventFilter narrows SearchWebhookEvents; zero values do not filter.
type WebhookEventFilter struct {
	EventType   string
	EventResult string
	Start, End  int64
	Descending  bool
}

// SearchWebhookEvents returns a page of events and the total that match,
// by sequence.
func (tx *Tx) SearchWebhookEvents(ctx context.Context, f WebhookEventFilter, offset, limit int) ([]*WebhookEventRow, int, error) {
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.EventType != "" {
		add("event_type = ?", f.EventType)
	}
	if f.EventResult != "" {
		add("event_result = ?", f.EventResult)
	}
	if f.Start > 0 {
		add("insert_instant >= ?", f.Start)
	}
	if f.End > 0 {
		add("insert_instant <= ?", f.End)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM webhook_events WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := "ASC"
	if f.Descending {
		order = "DESC"
	}
	args = append(args, limit, offset)
	rows, err := tx.q.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM webhook_events WHERE %s ORDER BY seq %s LIMIT $%d OFFSET $%d",
		webhookEventColumns, cond, order, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanAll(scanWebhookEvent)(rows, nil)
	return out, total, err
}

const attemptColumns = "id, event_seq, webhook_id, start_instant, end_instant, attempt_result, status_code, data"

func scanAttempt(row scanner) (*AttemptRow, error) {
	var a AttemptRow
	var data sql.NullString
	err := row.Scan(&a.ID, &a.EventSeq, &a.WebhookID, &a.StartInstant, &a.EndInstant, &a.AttemptResult, &a.StatusCode, &data)
	a.Data = data.String
	return &a, err
}

// AttemptsOfEvent reads an event's attempts, oldest first.
func (tx *Tx) AttemptsOfEvent(ctx context.Context, eventSeq int64) ([]*AttemptRow, error) {
	return scanAll(scanAttempt)(tx.q.QueryContext(ctx, "SELECT "+attemptColumns+" FROM webhook_attempts WHERE event_seq = $1 ORDER BY start_instant, id", eventSeq))
}

// AttemptByID reads one attempt and its event's id; ErrNoRows when absent.
func (tx *Tx) AttemptByID(ctx context.Context, id string) (*AttemptRow, string, error) {
	a, err := scanAttempt(tx.q.QueryRowContext(ctx, "SELECT "+attemptColumns+" FROM webhook_attempts WHERE id = $1", id))
	if err != nil {
		return nil, "", err
	}
	var eventID string
	err = tx.q.QueryRowContext(ctx, "SELECT id FROM webhook_events WHERE seq = $1", a.EventSeq).Scan(&eventID)
	return a, eventID, err
}

// EventLogRow is an entry of FusionAuth's event log.
type EventLogRow struct {
	ID            int64
	InsertInstant int64
	Type          string // Information, Debug, Error
	Message       string
}

// InsertEventLog writes an event log entry.
func (tx *Tx) InsertEventLog(ctx context.Context, e *EventLogRow) error {
	return tx.q.QueryRowContext(ctx, "INSERT INTO event_logs (insert_instant, log_type, message) VALUES ($1, $2, $3) RETURNING id",
		e.InsertInstant, e.Type, e.Message).Scan(&e.ID)
}

// EventLogByID reads one entry; ErrNoRows when absent.
func (tx *Tx) EventLogByID(ctx context.Context, id int64) (*EventLogRow, error) {
	var e EventLogRow
	err := tx.q.QueryRowContext(ctx, "SELECT id, insert_instant, log_type, message FROM event_logs WHERE id = $1", id).
		Scan(&e.ID, &e.InsertInstant, &e.Type, &e.Message)
	return &e, err
}

// EventLogFilter narrows SearchEventLogs; zero values do not filter.
type EventLogFilter struct {
	Message    string // substring, case-insensitive
	Type       string
	Start, End int64
	Descending bool
}

// SearchEventLogs returns a page of entries and the total that match.
func (tx *Tx) SearchEventLogs(ctx context.Context, f EventLogFilter, offset, limit int) ([]*EventLogRow, int, error) {
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Message != "" {
		add(`LOWER(message) LIKE ? ESCAPE '\'`, containsPattern(f.Message))
	}
	if f.Type != "" {
		add("log_type = ?", f.Type)
	}
	if f.Start > 0 {
		add("insert_instant >= ?", f.Start)
	}
	if f.End > 0 {
		add("insert_instant <= ?", f.End)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM event_logs WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := "ASC"
	if f.Descending {
		order = "DESC"
	}
	args = append(args, limit, offset)
	rows, err := tx.q.QueryContext(ctx, fmt.Sprintf("SELECT id, insert_instant, log_type, message FROM event_logs WHERE %s ORDER BY id %s LIMIT $%d OFFSET $%d",
		cond, order, len(args)-1, len(args)), args...)
	out, err := scanAll(func(row scanner) (*EventLogRow, error) {
		var e EventLogRow
		return &e, row.Scan(&e.ID, &e.InsertInstant, &e.Type, &e.Message)
	})(rows, err)
	return out, total, err
}

// DeleteEventLogsBefore applies retention: event log entries and settled
// webhook events (with their attempts) older than before go. Events still
// in the outbox stay.
func (tx *Tx) DeleteEventLogsBefore(ctx context.Context, before int64) (int64, error) {
	var total int64
	for _, q := range []string{
		"DELETE FROM event_logs WHERE insert_instant < $1",
		`DELETE FROM webhook_attempts WHERE event_seq IN (SELECT seq FROM webhook_events WHERE insert_instant < $1
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = webhook_events.seq))`,
		`DELETE FROM webhook_events WHERE insert_instant < $1
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = webhook_events.seq)`,
	} {
		res, err := tx.q.ExecContext(ctx, q, before)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// DueDeliveries counts outbox rows due and not leased at now (at most one is
// counted: it answers whether a claim is worth a write transaction).
func (tx *Tx) DueDeliveries(ctx context.Context, now int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries
		WHERE next_attempt <= $1 AND lease_until < $1 LIMIT 1) due`, now).Scan(&n)
	return n, err
}

// EmailTemplateRow is a stored email template.
type EmailTemplateRow struct {
	ID                string
	Name              string
	Body              string
	InsertInstant     int64
	LastUpdateInstant int64
}

func scanEmailTemplate(row scanner) (*EmailTemplateRow, error) {
	var r EmailTemplateRow
	err := row.Scan(&r.ID, &r.Name, &r.Body, &r.InsertInstant, &r.LastUpdateInstant)
	return &r, err
}

// InsertEmailTemplate stores a new template.
func (tx *Tx) InsertEmailTemplate(ctx context.Context, r *EmailTemplateRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO email_templates (id, name, body, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5)`, r.ID, r.Name, r.Body, r.InsertInstant, r.LastUpdateInstant)
	return err
}

// UpdateEmailTemplate replaces a template; ErrNotOne when it is gone.
func (tx *Tx) UpdateEmailTemplate(ctx context.Context, r *EmailTemplateRow) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE email_templates SET name = $2, body = $3, last_update_instant = $4 WHERE id = $1",
		r.ID, r.Name, r.Body, r.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// DeleteEmailTemplate removes a template; ErrNotOne when it is gone.
func (tx *Tx) DeleteEmailTemplate(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM email_templates WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// LockEmailTemplate takes the template's row lock for the rest of the
// transaction and reports whether it exists (as LockSigningKey): a tenant
// write naming a template and the template's deletion both take it first.
func (tx *Tx) LockEmailTemplate(ctx context.Context, id string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE email_templates SET last_update_instant = last_update_instant WHERE id = $1", id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// EmailTemplateByID reads one template; ErrNoRows when absent.
func (tx *Tx) EmailTemplateByID(ctx context.Context, id string) (*EmailTemplateRow, error) {
	return scanEmailTemplate(tx.q.QueryRowContext(ctx,
		"SELECT id, name, body, insert_instant, last_update_instant FROM email_templates WHERE id = $1", id))
}

// SearchEmailTemplates finds templates whose name contains name
// (case-insensitive; empty matches all), ordered by name.
func (tx *Tx) SearchEmailTemplates(ctx context.Context, name string) ([]*EmailTemplateRow, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, name, body, insert_instant, last_update_instant FROM email_templates
		WHERE LOWER(name) LIKE $1 ESCAPE '\' ORDER BY name, id`, containsPattern(name))
	if err != nil {
		return nil, err
	}
	return scanAll(scanEmailTemplate)(rows, nil)
}

// QueuedEmail is a claimed email_outbox row.
type QueuedEmail struct {
	Seq      int64
	TenantID string
	Message  string
	Attempts int
}

// InsertQueuedEmail puts a rendered message in the outbox, in the caller's
// transaction.
func (tx *Tx) InsertQueuedEmail(ctx context.Context, tenantID, message string, now int64) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO email_outbox (tenant_id, message, next_attempt, insert_instant)
		VALUES ($1, $2, $3, $3)`, tenantID, message, now)
	return err
}

// ClaimEmails leases up to limit due messages to owner, as ClaimDeliveries.
func (tx *Tx) ClaimEmails(ctx context.Context, owner string, now, leaseUntil int64, limit int) ([]*QueuedEmail, error) {
	rows, err := tx.q.QueryContext(ctx, `UPDATE email_outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
		WHERE seq IN (SELECT seq FROM email_outbox WHERE next_attempt <= $3 AND lease_until < $3 ORDER BY seq LIMIT $4)
		AND lease_until < $3
		RETURNING seq, tenant_id, message, attempts`, owner, leaseUntil, now, limit)
	return scanAll(func(row scanner) (*QueuedEmail, error) {
		var q QueuedEmail
		return &q, row.Scan(&q.Seq, &q.TenantID, &q.Message, &q.Attempts)
	})(rows, err)
}

// DueEmails reports whether a message is due at now.
func (tx *Tx) DueEmails(ctx context.Context, now int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM email_outbox
		WHERE next_attempt <= $1 AND lease_until < $1 LIMIT 1) due`, now).Scan(&n)
	return n, err
}

// FinishEmail deletes a sent (or abandoned) message owner holds.
func (tx *Tx) FinishEmail(ctx context.Context, seq int64, owner string) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM email_outbox WHERE seq = $1 AND lease_owner = $2", seq, owner)
	return err
}

// RetryEmail releases a message owner holds, due again at next.
func (tx *Tx) RetryEmail(ctx context.Context, seq int64, owner string, next int64) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE email_outbox SET lease_owner = '', lease_until = 0, next_attempt = $3
		WHERE seq = $1 AND lease_owner = $2`, seq, owner, next)
	return err
}

// SoleTenantID returns the id of the only tenant, or "" when there are
// several.
func (tx *Tx) SoleTenantID(ctx context.Context) (string, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT id FROM tenants ORDER BY id LIMIT 2")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 {
		return "", rows.Err()
	}
	return ids[0], rows.Err()
}
