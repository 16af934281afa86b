package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// CacheSigningKeys is the cache_versions row every change to signing_keys bumps.
const CacheSigningKeys = "signing_keys"

// SigningKeyRow is a signing key as stored. Public material is PEM; the
// private key PEM or HMAC secret is only ever here sealed (PrivateSealed, empty
// when the key has none). Empty strings and zero instants stand for NULL.
type SigningKeyRow struct {
	ID                string
	Name              string
	Algorithm         string
	Type              string
	Length            int
	Kid               string
	PublicKey         string
	Certificate       string
	PrivateSealed     string
	Issuer            string
	ExpirationInstant int64
	InsertInstant     int64
	LastUpdateInstant int64
}

const signingKeyColumns = `id, name, algorithm, type, length, kid, public_key, certificate, private_sealed, issuer,
	expiration_instant, insert_instant, last_update_instant`

func scanSigningKey(row scanner) (*SigningKeyRow, error) {
	var k SigningKeyRow
	var pub, cert, sealed, issuer sql.NullString
	var exp sql.NullInt64
	if err := row.Scan(&k.ID, &k.Name, &k.Algorithm, &k.Type, &k.Length, &k.Kid, &pub, &cert, &sealed, &issuer,
		&exp, &k.InsertInstant, &k.LastUpdateInstant); err != nil {
		return nil, err
	}
	k.PublicKey, k.Certificate, k.PrivateSealed, k.Issuer = pub.String, cert.String, sealed.String, issuer.String
	k.ExpirationInstant = exp.Int64
	return &k, nil
}

// InsertSigningKey stores a new key. A taken id, name or kid is a unique
// violation; SigningKeyUniqueField tells which.
func (tx *Tx) InsertSigningKey(ctx context.Context, k *SigningKeyRow) error {
	var exp any
	if k.ExpirationInstant != 0 {
		exp = k.ExpirationInstant
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO signing_keys (id, name, name_lower, algorithm, type, length, kid,
		public_key, certificate, private_sealed, issuer, expiration_instant, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		k.ID, k.Name, strings.ToLower(k.Name), k.Algorithm, k.Type, k.Length, k.Kid,
		nullString(k.PublicKey), nullString(k.Certificate), nullString(k.PrivateSealed), nullString(k.Issuer),
		exp, k.InsertInstant, k.LastUpdateInstant)
	return err
}

// RenameSigningKey changes a key's name, the only thing about a key that changes.
func (tx *Tx) RenameSigningKey(ctx context.Context, id, name string, now int64) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE signing_keys SET name = $2, name_lower = $3, last_update_instant = $4
		WHERE id = $1`, id, name, strings.ToLower(name), now)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// DeleteSigningKey removes a key.
func (tx *Tx) DeleteSigningKey(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM signing_keys WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// LockSigningKey takes the key's row lock for the rest of the transaction
// (a no-op update: PostgreSQL locks the row, SQLite's write transaction is
// already exclusive) and reports whether the key exists. A write that names a
// key and the deletion of that key both take it first, so one of them always
// sees the other.
func (tx *Tx) LockSigningKey(ctx context.Context, id string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE signing_keys SET last_update_instant = last_update_instant WHERE id = $1", id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SigningKeyByID finds a key; ErrNoRows when absent.
func (tx *Tx) SigningKeyByID(ctx context.Context, id string) (*SigningKeyRow, error) {
	return scanSigningKey(tx.q.QueryRowContext(ctx, "SELECT "+signingKeyColumns+" FROM signing_keys WHERE id = $1", id))
}

// AllSigningKeys returns every key, oldest first.
func (tx *Tx) AllSigningKeys(ctx context.Context) ([]*SigningKeyRow, error) {
	return scanAll(scanSigningKey)(tx.q.QueryContext(ctx, "SELECT "+signingKeyColumns+" FROM signing_keys ORDER BY insert_instant, id"))
}

// SigningKeyNameTaken reports whether another key (not exceptID) has this name,
// compared case-insensitively as the unique index does.
func (tx *Tx) SigningKeyNameTaken(ctx context.Context, name, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM signing_keys WHERE name_lower = $1 AND id <> $2",
		strings.ToLower(name), exceptID).Scan(&n)
	return n > 0, err
}

// SigningKeyKidTaken reports whether some key has this kid.
func (tx *Tx) SigningKeyKidTaken(ctx context.Context, kid string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM signing_keys WHERE kid = $1", kid).Scan(&n)
	return n > 0, err
}

// SigningKeyUniqueField tells which unique column of signing_keys a unique
// violation hit: "id", "name", "kid", or "" when it is none of them.
func SigningKeyUniqueField(err error) string {
	return uniqueField(err, "signing_keys", [2]string{"name_lower", "name"}, [2]string{"kid", "kid"})
}

// SigningKeyQuery narrows and orders SearchSigningKeys.
type SigningKeyQuery struct {
	Name       string // LIKE pattern, lower-case, already escaped; empty matches all
	Algorithm  string // exact; empty matches all
	Type       string // exact; empty matches all
	OrderBy    string // one of SigningKeyOrderColumns' keys; empty means name
	Descending bool
}

// SigningKeyOrderColumns maps FusionAuth's orderBy fields (lower-cased) to
// columns. Only these reach the SQL text. Keys without an expiration sort
// below every other, on both databases.
var SigningKeyOrderColumns = map[string]string{
	"algorithm":     "algorithm",
	"expiration":    "COALESCE(expiration_instant, -1)",
	"id":            "id",
	"insertinstant": "insert_instant",
	"name":          "name_lower",
	"type":          "type",
}

// LikePattern turns FusionAuth's name criterion into a case-insensitive LIKE
// pattern: "*" is the wildcard, and a value without one matches anywhere.
func LikePattern(name string) string {
	name = strings.ToLower(name)
	if !strings.Contains(name, "*") {
		return "%" + escapeLike(name) + "%"
	}
	parts := strings.Split(name, "*")
	for i := range parts {
		parts[i] = escapeLike(parts[i])
	}
	return strings.Join(parts, "%")
}

// SearchSigningKeys returns a page of keys and the number that match.
func (tx *Tx) SearchSigningKeys(ctx context.Context, q SigningKeyQuery, offset, limit int) ([]*SigningKeyRow, int, error) {
	col := "name_lower"
	if q.OrderBy != "" {
		c, ok := SigningKeyOrderColumns[strings.ToLower(q.OrderBy)]
		if !ok {
			return nil, 0, fmt.Errorf("signing key search: unknown order %q", q.OrderBy)
		}
		col = c
	}
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	where := []string{"1 = 1"}
	var args []any
	if q.Name != "" {
		args = append(args, q.Name)
		where = append(where, fmt.Sprintf(`name_lower LIKE $%d ESCAPE '\'`, len(args)))
	}
	if q.Algorithm != "" {
		args = append(args, q.Algorithm)
		where = append(where, fmt.Sprintf("algorithm = $%d", len(args)))
	}
	if q.Type != "" {
		args = append(args, q.Type)
		where = append(where, fmt.Sprintf("type = $%d", len(args)))
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM signing_keys WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	args = append(args, limit, offset)
	out, err := scanAll(scanSigningKey)(tx.q.QueryContext(ctx, fmt.Sprintf(
		"SELECT %s FROM signing_keys WHERE %s ORDER BY %s %s, id %s LIMIT $%d OFFSET $%d",
		signingKeyColumns, cond, col, dir, dir, len(args)-1, len(args)), args...))
	return out, total, err
}

// Holder is a tenant, application, entity type or webhook whose stored
// JSON may name another object by id (a signing key, an email template).
type Holder struct {
	Kind string // "tenant", "application", "entity type" or "webhook"
	ID   string
	Name string
	Data string
}

// Holders returns the tenants, applications, entity types and webhooks whose
// stored JSON mentions id as a string value. The caller decodes Data to see
// where: a mention is a candidate, not yet a use.
func (tx *Tx) Holders(ctx context.Context, id string) ([]Holder, error) {
	pattern := `%"` + escapeLike(id) + `"%`
	var out []Holder
	for _, q := range []struct{ kind, table, name, data string }{{"tenant", "tenants", "name", "data"},
		{"application", "applications", "name", "data"}, {"entity type", "entity_types", "name", "data"},
		{"webhook", "webhooks", "url", "body"}} {
		rows, err := tx.q.QueryContext(ctx, `SELECT id, `+q.name+`, `+q.data+` FROM `+q.table+` WHERE `+q.data+` LIKE $1 ESCAPE '\'
			ORDER BY insert_instant, id`, pattern)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			h := Holder{Kind: q.kind}
			if err := rows.Scan(&h.ID, &h.Name, &h.Data); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, h)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DefaultTenantData returns the id and stored JSON of the tenant holding the
// built-in admin application (the Default tenant); ErrNoRows before bootstrap.
func (tx *Tx) DefaultTenantData(ctx context.Context, adminApplicationID string) (id, data string, err error) {
	err = tx.q.QueryRowContext(ctx, `SELECT t.id, t.data FROM tenants t JOIN applications a ON a.tenant_id = t.id
		WHERE a.id = $1`, adminApplicationID).Scan(&id, &data)
	return id, data, err
}

// SetTenantData rewrites a tenant's stored JSON alone, for system changes
// (such as naming the default signing key) that touch one setting.
func (tx *Tx) SetTenantData(ctx context.Context, id, data string, now int64) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE tenants SET data = $2, last_update_instant = $3 WHERE id = $1", id, data, now)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// ApplicationAndTenantData returns an application's stored JSON and its
// tenant's; ErrNoRows when the application does not exist.
func (tx *Tx) ApplicationAndTenantData(ctx context.Context, applicationID string) (appData, tenantData string, err error) {
	err = tx.q.QueryRowContext(ctx, `SELECT a.data, t.data FROM applications a JOIN tenants t ON t.id = a.tenant_id
		WHERE a.id = $1`, applicationID).Scan(&appData, &tenantData)
	return appData, tenantData, err
}
