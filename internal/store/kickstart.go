package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kickstart run states.
const (
	KickstartRunning   = "running"
	KickstartFailed    = "failed"
	KickstartCompleted = "completed"
)

// KickstartRunRow is the one kickstart an instance has had (or is having).
type KickstartRunRow struct {
	ID                string
	File              string
	KeysHash          string
	Generated         map[string]string
	Total             int
	NextIndex         int
	Status            string
	Error             string
	LeaseOwner        string
	LeaseUntil        int64
	InsertInstant     int64
	LastUpdateInstant int64
	CompletedInstant  *int64
}

// KickstartStepRow is one completed request of a run.
type KickstartStepRow struct {
	Index            int
	Hash             string
	Method           string
	URL              string
	StatusCode       int
	CompletedInstant int64
}

const kickstartRunColumns = `id, file, keys_hash, generated, total, next_index, status, error, lease_owner,
	lease_until, insert_instant, last_update_instant, completed_instant`

// InsertKickstartRun records a new run. A second run fails with a unique
// violation on the singleton column.
func (tx *Tx) InsertKickstartRun(ctx context.Context, r *KickstartRunRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO kickstart_runs (id, file, keys_hash, generated, total, next_index,
		status, error, lease_owner, lease_until, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.ID, r.File, r.KeysHash, toJSON(nonNilMap(r.Generated)), r.Total, r.NextIndex, r.Status, r.Error,
		r.LeaseOwner, r.LeaseUntil, r.InsertInstant, r.LastUpdateInstant)
	return err
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// KickstartRun returns the instance's run; ErrNoRows when it never had one.
func (tx *Tx) KickstartRun(ctx context.Context) (*KickstartRunRow, error) {
	var (
		r         KickstartRunRow
		generated string
		completed sql.NullInt64
	)
	err := tx.q.QueryRowContext(ctx, "SELECT "+kickstartRunColumns+" FROM kickstart_runs").Scan(&r.ID, &r.File,
		&r.KeysHash, &generated, &r.Total, &r.NextIndex, &r.Status, &r.Error, &r.LeaseOwner, &r.LeaseUntil,
		&r.InsertInstant, &r.LastUpdateInstant, &completed)
	if err != nil {
		return nil, err
	}
	r.Generated = map[string]string{}
	if err := json.Unmarshal([]byte(generated), &r.Generated); err != nil {
		return nil, fmt.Errorf("kickstart run %s: generated values: %w", r.ID, err)
	}
	if completed.Valid {
		r.CompletedInstant = &completed.Int64
	}
	return &r, nil
}

// ClaimKickstartRun takes the run's lease for owner until leaseUntil, when it
// is free (expired, or already owner's). It reports whether owner holds it.
func (tx *Tx) ClaimKickstartRun(ctx context.Context, id, owner string, now, leaseUntil int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE kickstart_runs SET lease_owner = $2, lease_until = $3
		WHERE id = $1 AND status <> $5 AND (lease_owner = $2 OR lease_owner = '' OR lease_until <= $4)`,
		id, owner, leaseUntil, now, KickstartCompleted)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UpdateKickstartRun rewrites the run's progress, but only while owner holds
// its lease (ErrNotOne otherwise).
func (tx *Tx) UpdateKickstartRun(ctx context.Context, r *KickstartRunRow, owner string) error {
	var completed any
	if r.CompletedInstant != nil {
		completed = *r.CompletedInstant
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE kickstart_runs SET generated = $3, total = $4, next_index = $5,
		status = $6, error = $7, lease_owner = $8, lease_until = $9, last_update_instant = $10, completed_instant = $11
		WHERE id = $1 AND lease_owner = $2`,
		r.ID, owner, toJSON(nonNilMap(r.Generated)), r.Total, r.NextIndex, r.Status, r.Error, r.LeaseOwner,
		r.LeaseUntil, r.LastUpdateInstant, completed)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// InsertKickstartStep records a completed request.
func (tx *Tx) InsertKickstartStep(ctx context.Context, runID string, s *KickstartStepRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO kickstart_steps (run_id, idx, hash, method, url, status_code,
		completed_instant) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		runID, s.Index, s.Hash, s.Method, s.URL, s.StatusCode, s.CompletedInstant)
	return err
}

// KickstartSteps lists a run's completed requests in order.
func (tx *Tx) KickstartSteps(ctx context.Context, runID string) ([]*KickstartStepRow, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT idx, hash, method, url, status_code, completed_instant
		FROM kickstart_steps WHERE run_id = $1 ORDER BY idx`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*KickstartStepRow
	for rows.Next() {
		var s KickstartStepRow
		if err := rows.Scan(&s.Index, &s.Hash, &s.Method, &s.URL, &s.StatusCode, &s.CompletedInstant); err != nil {
			return nil, err
		}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// CountUsers counts users in every tenant.
func (tx *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, err
}

// ColumnRef is a column of a table.
type ColumnRef struct{ Table, Column string }

// TenantReferences lists the columns that hold tenant ids: every column with
// a foreign key to tenants(id), and every other column named tenant_id (some
// tables keep a tenant id without a constraint). They are read from the schema
// so that tables added by later migrations are included.
func (tx *Tx) TenantReferences(ctx context.Context) ([]ColumnRef, error) {
	q := `SELECT m.name, p."from" FROM sqlite_master m, pragma_foreign_key_list(m.name) p
			WHERE m.type = 'table' AND p."table" = 'tenants'
		UNION SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
			WHERE m.type = 'table' AND m.name <> 'tenants' AND c.name = 'tenant_id'
		ORDER BY 1, 2`
	if tx.dialect == Postgres {
		q = `SELECT cl.relname::text, att.attname::text FROM pg_constraint c
				JOIN pg_class cl ON cl.oid = c.conrelid
				JOIN pg_attribute att ON att.attrelid = c.conrelid AND att.attnum = ANY (c.conkey)
				WHERE c.contype = 'f' AND c.confrelid = 'tenants'::regclass
			UNION SELECT table_name::text, column_name::text FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name <> 'tenants' AND column_name = 'tenant_id'
			ORDER BY 1, 2`
	}
	rows, err := tx.q.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list references to tenants: %w", err)
	}
	defer rows.Close()
	var out []ColumnRef
	for rows.Next() {
		var c ColumnRef
		if err := rows.Scan(&c.Table, &c.Column); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ChangeTenantID gives a tenant a new id, moving every row that references it
// (see TenantReferences). The tenant row is re-inserted under the new id, so
// the caller passes its secrets re-sealed for the new id.
// Neither database cascades primary-key updates here, so the old row stays
// until nothing points to it. Run it in the transaction of the whole change.
func (tx *Tx) ChangeTenantID(ctx context.Context, oldID, newID, resealed string, now int64) error {
	t, err := tx.TenantByID(ctx, oldID)
	if err != nil {
		return fmt.Errorf("tenant %s: %w", oldID, err)
	}
	refs, err := tx.TenantReferences(ctx)
	if err != nil {
		return err
	}
	// Free the unique name for the copy first.
	if _, err := tx.q.ExecContext(ctx, "UPDATE tenants SET name_lower = $2 WHERE id = $1", oldID, "kickstart: moving "+oldID); err != nil {
		return fmt.Errorf("rename tenant %s: %w", oldID, err)
	}
	moved := &TenantRow{ID: newID, Name: t.Name, Data: t.Data, SecretsSealed: resealed,
		InsertInstant: t.InsertInstant, LastUpdateInstant: now}
	if err := tx.InsertTenantRow(ctx, moved); err != nil {
		return fmt.Errorf("insert tenant %s: %w", newID, err)
	}
	for _, r := range refs {
		stmt := fmt.Sprintf("UPDATE %s SET %s = $2 WHERE %s = $1", quoteIdent(r.Table), quoteIdent(r.Column), quoteIdent(r.Column))
		if _, err := tx.q.ExecContext(ctx, stmt, oldID, newID); err != nil {
			return fmt.Errorf("move %s.%s to tenant %s: %w", r.Table, r.Column, newID, err)
		}
	}
	res, err := tx.q.ExecContext(ctx, "DELETE FROM tenants WHERE id = $1", oldID)
	if err != nil {
		return fmt.Errorf("delete tenant %s: %w", oldID, err)
	}
	return expectOne(res)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Tables the dry-run copy leaves out: the target has its own migration
// history, and the audit log is history that no request reads.
var copySkip = []string{"schema_migrations", "audit_log"}

// tables lists the base tables of the database.
func (tx *Tx) tables(ctx context.Context) ([]string, error) {
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if tx.dialect == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
			AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	rows, err := tx.q.QueryContext(ctx, q)
	return scanAll(scanString)(rows, err)
}

// CopyInto replaces the rows of dst, a migrated SQLite database, with the rows
// of s (either database), table by table, except the audit log. It is how a
// kickstart dry run gets a throwaway twin of the instance to replay against.
func (s *Store) CopyInto(ctx context.Context, dst *Store) error {
	if dst.dialect != SQLite {
		return errors.New("copy: the target must be SQLite")
	}
	src := s.Read()
	names, err := src.tables(ctx)
	if err != nil {
		return fmt.Errorf("copy: list tables: %w", err)
	}
	have, err := dst.Read().tables(ctx)
	if err != nil {
		return fmt.Errorf("copy: list target tables: %w", err)
	}
	return dst.InTx(ctx, func(tx *Tx) error {
		// Foreign keys are checked at commit, so tables copy in any order.
		if _, err := tx.q.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
			return err
		}
		for _, name := range names {
			if slices.Contains(copySkip, name) || !slices.Contains(have, name) {
				continue
			}
			if err := copyTable(ctx, src, tx, name); err != nil {
				return fmt.Errorf("copy %s: %w", name, err)
			}
		}
		return nil
	})
}

func copyTable(ctx context.Context, src, dst *Tx, table string) error {
	if _, err := dst.q.ExecContext(ctx, "DELETE FROM "+quoteIdent(table)); err != nil {
		return err
	}
	rows, err := src.q.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table))
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	quoted := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	insert := "INSERT INTO " + quoteIdent(table) + " (" + strings.Join(quoted, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if _, err := dst.q.ExecContext(ctx, insert, vals...); err != nil {
			return err
		}
	}
	return rows.Err()
}
