package store

import (
	"context"
	"fmt"
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
		out[i] = strings.ToLower(v)
	}
	return out
}

// takenValues runs prefix + "(…)" over values in batches; prefix selects one
// column and uses $1…$len(fixed) for fixed.
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

// registrationInsertColumns are InsertRegistrationRow's columns, in its order.
const registrationInsertColumns = `id, user_id, application_id, roles, data, verified, verified_instant, last_login_instant,
	authentication_token_hash, insert_instant, last_update_instant`

// InsertRegistrationRows stores new registrations with multi-row INSERTs, as
// InsertRegistrationRow stores one: an import writes thousands, and one
// round trip each dominates its time on PostgreSQL.
func (tx *Tx) InsertRegistrationRows(ctx context.Context, regs []*RegistrationRow) error {
	const columns = 11
	size := multiRowBatch(tx.dialect, columns)
	for start := 0; start < len(regs); start += size {
		batch := regs[start:min(start+size, len(regs))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO registrations (" + registrationInsertColumns + ") VALUES ")
		args := make([]any, 0, len(batch)*columns)
		for i, r := range batch {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for c := range columns {
				if c > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "$%d", len(args)+c+1)
			}
			sb.WriteByte(')')
			data := r.Data
			if data == "" {
				data = "{}"
			}
			args = append(args, r.ID, r.UserID, r.ApplicationID, rolesJSON(r.Roles), data, r.Verified, nullInt(r.VerifiedInstant),
				nullInt(r.LastLoginInstant), nullString(r.AuthTokenHash), r.InsertInstant, r.LastUpdateInstant)
		}
		if _, err := tx.q.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// multiRowBatch is how many rows of columns values one multi-row INSERT
// carries. PostgreSQL gains from few round trips. SQLite takes "$N" as a
// named parameter and resolves each name by a linear search of the names
// before it, so a statement's cost grows with the square of its parameters:
// there, about 500 parameters a statement is fastest.
func multiRowBatch(d Dialect, columns int) int {
	if d == SQLite {
		return max(1, 500/columns)
	}
	return max(1, 20000/columns)
}
