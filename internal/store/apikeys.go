package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// APIKeyRow is an API key as stored: the hash, and the sealed value for
// retrievable keys. model.APIKey.Key is never filled from here.
type APIKeyRow struct {
	model.APIKey
	KeyHash   string
	KeySealed string
}

const apiKeyColumns = `id, key_hash, key_sealed, name, key_manager, permissions, tenant_ids, ip_acl_id,
	meta_data, expiration_instant, retrievable, insert_instant, last_update_instant, last_used_instant, use_count`

func scanAPIKey(row scanner) (*APIKeyRow, error) {
	var (
		k                       APIKeyRow
		sealed, name, acl, meta sql.NullString
		perms, tenants          string
		expires, lastUsed       sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.KeyHash, &sealed, &name, &k.KeyManager, &perms, &tenants, &acl,
		&meta, &expires, &k.Retrievable, &k.InsertInstant, &k.LastUpdateInstant, &lastUsed, &k.UseCount); err != nil {
		return nil, err
	}
	k.KeySealed, k.Name, k.IPAccessControlListID = sealed.String, name.String, acl.String
	if err := json.Unmarshal([]byte(perms), &k.Permissions.Endpoints); err != nil {
		return nil, fmt.Errorf("api key %s permissions: %w", k.ID, err)
	}
	var tids []string
	if err := json.Unmarshal([]byte(tenants), &tids); err != nil {
		return nil, fmt.Errorf("api key %s tenants: %w", k.ID, err)
	}
	// One tenant is FusionAuth's tenantId; several are our tenantIds extension.
	if len(tids) == 1 {
		k.TenantID = tids[0]
	} else if len(tids) > 1 {
		k.TenantIDs = tids
	}
	if meta.Valid && meta.String != "" {
		k.MetaData = &model.APIKeyMetaData{}
		if err := json.Unmarshal([]byte(meta.String), k.MetaData); err != nil {
			return nil, fmt.Errorf("api key %s metadata: %w", k.ID, err)
		}
	}
	if expires.Valid {
		k.ExpirationInstant = &expires.Int64
	}
	if lastUsed.Valid {
		k.LastUsedInstant = &lastUsed.Int64
	}
	return &k, nil
}

func apiKeyArgs(k *APIKeyRow) []any {
	var meta any
	if k.MetaData != nil {
		meta = toJSON(k.MetaData)
	}
	perms := k.Permissions.Endpoints
	if perms == nil {
		perms = map[string][]string{}
	}
	tenants := k.Tenants()
	if tenants == nil {
		tenants = []string{}
	}
	var nameLower any
	if k.Name != "" {
		nameLower = strings.ToLower(k.Name)
	}
	return []any{k.ID, k.KeyHash, nullString(k.KeySealed), nullString(k.Name), nameLower, k.KeyManager,
		toJSON(perms), toJSON(tenants), nullString(k.IPAccessControlListID), meta,
		nullInt(k.ExpirationInstant), k.Retrievable, k.InsertInstant, k.LastUpdateInstant}
}

// InsertAPIKey stores a new key.
func (tx *Tx) InsertAPIKey(ctx context.Context, k *APIKeyRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO api_keys (id, key_hash, key_sealed, name, name_lower, key_manager,
		permissions, tenant_ids, ip_acl_id, meta_data, expiration_instant, retrievable, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, apiKeyArgs(k)...)
	return err
}

// UpdateAPIKey rewrites a key's mutable fields. The hash and sealed value stay.
func (tx *Tx) UpdateAPIKey(ctx context.Context, k *APIKeyRow) error {
	// Every argument must appear in the SQL: PostgreSQL cannot type an unused
	// parameter, so the sealed value (args[2]) is left out.
	args := apiKeyArgs(k)
	res, err := tx.q.ExecContext(ctx, `UPDATE api_keys SET name = $3, name_lower = $4, key_manager = $5,
		permissions = $6, tenant_ids = $7, ip_acl_id = $8, meta_data = $9, expiration_instant = $10,
		last_update_instant = $13 WHERE id = $1 AND key_hash = $2 AND retrievable = $11 AND insert_instant = $12`,
		args[0], args[1], args[3], args[4], args[5], args[6], args[7], args[8], args[9], args[10], args[11], args[12], args[13])
	if err != nil {
		return err
	}
	return expectOne(res)
}

// DeleteAPIKey removes a key.
func (tx *Tx) DeleteAPIKey(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM api_keys WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// APIKeyByID finds a key by id; ErrNoRows when absent.
func (tx *Tx) APIKeyByID(ctx context.Context, id string) (*APIKeyRow, error) {
	return scanAPIKey(tx.q.QueryRowContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE id = $1", id))
}

// APIKeyByHash finds a key by the SHA-256 of its value; ErrNoRows when absent.
func (tx *Tx) APIKeyByHash(ctx context.Context, hash string) (*APIKeyRow, error) {
	return scanAPIKey(tx.q.QueryRowContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE key_hash = $1", hash))
}

// APIKeyFilter narrows ListAPIKeys. Empty fields do not filter.
type APIKeyFilter struct {
	Name       string // substring, case-insensitive
	TenantID   string
	KeyManager *bool
	Expired    *bool
	Now        int64 // for Expired
}

// ListAPIKeys returns keys ordered by insert time, with the total that match.
func (tx *Tx) ListAPIKeys(ctx context.Context, f APIKeyFilter, offset, limit int) ([]*APIKeyRow, int, error) {
	where := []string{"1 = 1"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Name != "" {
		add("name_lower LIKE ?", containsPattern(f.Name))
		where[len(where)-1] += ` ESCAPE '\'`
	}
	if f.TenantID != "" {
		add("tenant_ids LIKE ?", `%"`+escapeLike(f.TenantID)+`"%`)
		where[len(where)-1] += ` ESCAPE '\'`
	}
	if f.KeyManager != nil {
		add("key_manager = ?", *f.KeyManager)
	}
	if f.Expired != nil {
		if *f.Expired {
			add("(expiration_instant IS NOT NULL AND expiration_instant <= ?)", f.Now)
		} else {
			add("(expiration_instant IS NULL OR expiration_instant > ?)", f.Now)
		}
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM api_keys WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	args = append(args, limit, offset)
	rows, err := tx.q.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM api_keys WHERE %s ORDER BY insert_instant, id LIMIT $%d OFFSET $%d",
		apiKeyColumns, cond, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanAll(scanAPIKey)(rows, nil)
	return out, total, err
}

// AllAPIKeys returns every key; used to warm the authentication cache and to
// evaluate the last-key guard.
func (tx *Tx) AllAPIKeys(ctx context.Context) ([]*APIKeyRow, error) {
	return scanAll(scanAPIKey)(tx.q.QueryContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys ORDER BY insert_instant, id"))
}

// CountAPIKeys counts stored keys.
func (tx *Tx) CountAPIKeys(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM api_keys").Scan(&n)
	return n, err
}

// KeyUsage is a batch of uses of one key since the last flush.
type KeyUsage struct {
	ID       string
	Count    int64
	LastUsed int64
}

// AddAPIKeyUsage adds batched use counts; a deleted key is skipped silently.
func (tx *Tx) AddAPIKeyUsage(ctx context.Context, u KeyUsage) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE api_keys SET use_count = use_count + $2,
		last_used_instant = CASE WHEN last_used_instant IS NULL OR last_used_instant < $3 THEN $3 ELSE last_used_instant END
		WHERE id = $1`, u.ID, u.Count, u.LastUsed)
	return err
}

// containsPattern is the LIKE pattern (with ESCAPE '\') of a search text,
// case-insensitive as FusionAuth's searches are: a text with the wildcard *
// matches as written (*admin, key*, a*b), one without matches anywhere
// (as *text*). LIKE's own % and _ match themselves.
func containsPattern(text string) string {
	p := escapeLike(strings.ToLower(text))
	if strings.Contains(p, "*") {
		return strings.ReplaceAll(p, "*", "%")
	}
	return "%" + p + "%"
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ErrNotOne means an update or delete matched no row.
var ErrNotOne = errors.New("no row matched")

func expectOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotOne
	}
	return nil
}

// LockAPIKeys serialises changes to API keys: call it first in a transaction
// that reads keys to decide a change (the last-key guard), so that two such
// transactions cannot both decide on the same snapshot. PostgreSQL locks the
// api_keys cache-version row until commit; SQLite's immediate transactions
// already hold the database's write lock from BEGIN (and know no FOR UPDATE).
func (tx *Tx) LockAPIKeys(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	var v int64
	if err := tx.q.QueryRowContext(ctx, "SELECT version FROM cache_versions WHERE name = $1 FOR UPDATE", CacheAPIKeys).Scan(&v); err != nil {
		return fmt.Errorf("lock api keys: %w", err)
	}
	return nil
}

// APIKeyUniqueField tells which unique column of api_keys a unique violation
// hit: "id", "name", "key" (the value's hash), or "" when it is none of them.
func APIKeyUniqueField(err error) string {
	return uniqueField(err, "api_keys", [2]string{"name_lower", "name"}, [2]string{"key_hash", "key"})
}
