package store

import (
	"context"
	"strings"
)

// Batch lookups for the user import: which of many values are already taken,
// in a few IN queries rather than one query per user.

// TakenUserEmails returns which of emails (compared lower-cased, as the unique
// index does) users of the tenant already have; the keys are lower-cased.
func (tx *Tx) TakenUserEmails(ctx context.Context, tenantID string, emails []string) (map[string]bool, error) {
	return tx.takenValues(ctx, "SELECT email_lower FROM users WHERE tenant_id = $1 AND email_lower IN ", []any{tenantID}, lowerAll(emails))
}

// TakenUsernames is TakenUserEmails for usernames.
func (tx *Tx) TakenUsernames(ctx context.Context, tenantID string, usernames []string) (map[string]bool, error) {
	return tx.takenValues(ctx, "SELECT username_lower FROM users WHERE tenant_id = $1 AND username_lower IN ", []any{tenantID}, lowerAll(usernames))
}

// TakenUserIDs returns which of ids are ids of users (of any tenant).
func (tx *Tx) TakenUserIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	return tx.takenValues(ctx, "SELECT id FROM users WHERE id IN ", nil, ids)
}

// TakenRegistrationIDs returns which of ids are ids of registrations.
func (tx *Tx) TakenRegistrationIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	return tx.takenValues(ctx, "SELECT id FROM registrations WHERE id IN ", nil, ids)
}

func lowerAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = LoginKey(v)
	}
	return out
}

// takenValues runs prefix + "(…)" over values in batches; prefix selects one
// column and uses $1…$len(fixed) for fixed.
// TakenLookalikes finds which of the login ids some user of the tenant
// imitates (UserLookalikeTaken, in bulk): the set of their lookalike forms
// taken.
func (tx *Tx) TakenLookalikes(ctx context.Context, tenantID string, loginIDs []string) (map[string]bool, error) {
	forms := make([]string, len(loginIDs))
	for i, v := range loginIDs {
		forms[i] = LookalikeForm(v)
	}
	out, err := tx.takenValues(ctx, "SELECT email_lookalike FROM users WHERE tenant_id = $1 AND email_lookalike IN ", []any{tenantID}, forms)
	if err != nil {
		return nil, err
	}
	names, err := tx.takenValues(ctx, "SELECT username_lookalike FROM users WHERE tenant_id = $1 AND username_lookalike IN ", []any{tenantID}, forms)
	for k := range names {
		out[k] = true
	}
	return out, err
}

func (tx *Tx) takenValues(ctx context.Context, prefix string, fixed []any, values []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(values); start += inBatch {
		batch := values[start:min(start+inBatch, len(values))]
		in, args := idInList(len(fixed)+1, batch)
		rows, err := tx.q.QueryContext(ctx, prefix+"("+in+")", append(append([]any{}, fixed...), args...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, err
			}
			out[v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ImportUserRows stores new users in bulk (see insertRows), as InsertUserRows
// does, filling the same derived columns.
func (tx *Tx) ImportUserRows(ctx context.Context, users []*UserRow) error {
	return tx.insertRows(ctx, "users", insertUserColumns, len(users), func(i int) []any {
		return userInsertArgs(users[i])
	})
}

// registrationInsertColumns are InsertRegistrationRow's columns, in its order.
const registrationInsertColumns = `id, user_id, application_id, roles, data, verified, verified_instant, last_login_instant,
	authentication_token_hash, insert_instant, last_update_instant`

// InsertRegistrationRows stores new registrations, as InsertRegistrationRow
// stores one, in bulk (see insertRows): an import writes thousands.
func (tx *Tx) InsertRegistrationRows(ctx context.Context, regs []*RegistrationRow) error {
	return tx.insertRows(ctx, "registrations", registrationInsertColumns, len(regs), func(i int) []any {
		r := regs[i]
		data := r.Data
		if data == "" {
			data = "{}"
		}
		return []any{r.ID, r.UserID, r.ApplicationID, rolesJSON(r.Roles), data, r.Verified, nullInt(r.VerifiedInstant),
			nullInt(r.LastLoginInstant), nullString(r.AuthTokenHash), r.InsertInstant, r.LastUpdateInstant}
	})
}

// insertRows inserts n rows into table; args gives row i's values, one per
// column of the comma-separated columns. The SQL text is the same on both
// databases; only its batching differs. PostgreSQL gets multi-row INSERTs, because each statement is a
// round trip. SQLite gets one single-row INSERT prepared once and run per
// row: a statement is no round trip there, but a multi-row one costs a parse
// each time, a statement journal (it may fail halfway), and SQLite resolves
// each "$N" by a linear search of the names before it, so binding grows with
// the square of the parameters of one statement.
func (tx *Tx) insertRows(ctx context.Context, table, columns string, n int, args func(i int) []any) error {
	if n == 0 {
		return nil
	}
	ncols := strings.Count(columns, ",") + 1
	prefix := "INSERT INTO " + table + " (" + columns + ") VALUES "
	if p, ok := tx.q.(preparer); ok && tx.dialect == SQLite {
		stmt, err := p.PrepareContext(ctx, prefix+"("+placeholders(1, ncols)+")")
		if err != nil {
			return err
		}
		defer stmt.Close()
		// The driver watches a cancellable context with a goroutine per
		// statement run; the rows are checked here every so often instead.
		rowCtx := context.WithoutCancel(ctx)
		for i := range n {
			if i%1000 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if _, err := stmt.ExecContext(rowCtx, args(i)...); err != nil {
				return err
			}
		}
		return nil
	}
	// PostgreSQL takes at most 65535 parameters a statement.
	size := max(1, pgInsertParams/ncols)
	for start := 0; start < n; start += size {
		end := min(start+size, n)
		var sb strings.Builder
		sb.WriteString(prefix)
		all := make([]any, 0, (end-start)*ncols)
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + placeholders(len(all)+1, ncols) + ")")
			all = append(all, args(i)...)
		}
		if _, err := tx.q.ExecContext(ctx, sb.String(), all...); err != nil {
			return err
		}
	}
	return nil
}

// pgInsertParams is the number of parameters of one multi-row INSERT on
// PostgreSQL.
const pgInsertParams = 20000
