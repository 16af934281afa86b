package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// LoginFailureState reads a subject's failed-login row: the lockout in force
// at now (0: none) and whether there is a row at all (failures to clear on
// a successful login, or an ended lockout).
func (tx *Tx) LoginFailureState(ctx context.Context, subject string, now int64) (lockedUntil int64, exists bool, err error) {
	var until sql.NullInt64
	err = tx.q.QueryRowContext(ctx, "SELECT locked_until FROM failed_logins WHERE subject = $1", subject).Scan(&until)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case until.Valid && until.Int64 > now:
		return until.Int64, true, nil
	}
	return 0, true, nil
}

// RecordLogins writes a batch of logins recorded in memory (authentication's login
// buffer): the login records and the users' and registrations'
// lastLoginInstant. It tolerates what changed since the logins: a deleted
// user's records are dropped, and a lastLoginInstant only moves forward (a
// login written at once may be newer than a buffered one).
func (tx *Tx) RecordLogins(ctx context.Context, recs []LoginRecord) error {
	type regKey struct{ user, app string }
	users := map[string]int64{}
	regs := map[regKey]int64{}
	for _, r := range recs {
		users[r.UserID] = max(users[r.UserID], r.Instant)
		if r.ApplicationID != "" {
			k := regKey{r.UserID, r.ApplicationID}
			regs[k] = max(regs[k], r.Instant)
		}
	}
	for id, at := range users {
		if _, err := tx.q.ExecContext(ctx, `UPDATE users SET last_login_instant = $2
			WHERE id = $1 AND (last_login_instant IS NULL OR last_login_instant < $2)`, id, at); err != nil {
			return err
		}
	}
	for k, at := range regs {
		if _, err := tx.q.ExecContext(ctx, `UPDATE registrations SET last_login_instant = $3
			WHERE user_id = $1 AND application_id = $2 AND (last_login_instant IS NULL OR last_login_instant < $3)`,
			k.user, k.app, at); err != nil {
			return err
		}
	}
	// Records of users deleted since their login are dropped (the table's
	// foreign key would refuse them and, with them, the whole batch).
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	exists := make(map[string]bool, len(ids))
	for start := 0; start < len(ids); start += inBatch {
		in, args := idInList(1, ids[start:min(start+inBatch, len(ids))])
		rows, err := tx.q.QueryContext(ctx, "SELECT id FROM users WHERE id IN ("+in+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			exists[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	kept := make([]LoginRecord, 0, len(recs))
	for _, r := range recs {
		if exists[r.UserID] {
			kept = append(kept, r)
		}
	}
	// Many rows per INSERT: one statement per login would cost the flush
	// more than the logins it saves.
	const perInsert = 100
	for start := 0; start < len(kept); start += perInsert {
		chunk := kept[start:min(start+perInsert, len(kept))]
		var b strings.Builder
		b.WriteString("INSERT INTO login_records (user_id, application_id, ip_address, login_id, instant) VALUES ")
		args := make([]any, 0, 5*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			n := 5 * i
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
			args = append(args, r.UserID, nullString(r.ApplicationID), r.IPAddress, r.LoginID, r.Instant)
		}
		if _, err := tx.q.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
