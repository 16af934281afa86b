package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// UserRow is a user as stored. Data is the user's whole JSON object without the
// fields that have columns (id, tenantId, email, username, fullName, flags,
// instants), without its registrations and memberships (their own tables), its
// password (PasswordHash, encoded by the password package) and its secrets
// (SecretsSealed, empty when it has none). FirstName and LastName are written
// to search keys only; the names themselves live in Data.
type UserRow struct {
	ID                        string
	TenantID                  string
	Email                     string
	Username                  string
	FullName                  string
	FirstName                 string
	LastName                  string
	PasswordHash              string
	PasswordChangeRequired    bool
	Active                    bool
	Verified                  bool
	Data                      string
	SecretsSealed             string
	InsertInstant             int64
	LastUpdateInstant         int64
	LastLoginInstant          *int64
	PasswordLastUpdateInstant int64
}

const userColumns = `id, tenant_id, email, username, full_name, password_hash, password_change_required, active,
	verified, data, secrets_sealed, insert_instant, last_update_instant, last_login_instant, password_last_update_instant`

func scanUser(row scanner) (*UserRow, error) {
	var u UserRow
	var email, username, sealed sql.NullString
	var lastLogin sql.NullInt64
	if err := row.Scan(&u.ID, &u.TenantID, &email, &username, &u.FullName, &u.PasswordHash, &u.PasswordChangeRequired,
		&u.Active, &u.Verified, &u.Data, &sealed, &u.InsertInstant, &u.LastUpdateInstant, &lastLogin,
		&u.PasswordLastUpdateInstant); err != nil {
		return nil, err
	}
	u.Email, u.Username, u.SecretsSealed = email.String, username.String, sealed.String
	if lastLogin.Valid {
		u.LastLoginInstant = &lastLogin.Int64
	}
	return &u, nil
}

// SearchKey is how a name, email or username is kept for search: trimmed and
// lower-cased. Lookups and uniqueness use the same lower-casing.
func SearchKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// LoginKey is the form in which emails and usernames are unique and looked
// up (email_lower, username_lower): NFKC, then Unicode case folding, then
// NFKC again (folding can undo normalisation), so that the Kelvin sign,
// full-width letters and other compatibility forms compare equal to the
// letters they stand for.
func LoginKey(s string) string {
	s = norm.NFKC.String(strings.TrimSpace(s))
	return norm.NFKC.String(cases.Fold().String(s))
}

// LookalikeKey is a login id with each non-ASCII character that is a
// look-alike of an ASCII letter or digit (Unicode's confusables, UTS #39)
// replaced by it: "раураl" in Cyrillic becomes "paypal". ok is false when
// nothing was replaced. An ASCII id is never changed (its own letters are
// its identity). users.email_lookalike and username_lookalike hold it (in
// LoginKey form) where it differs, so that a new id can be checked against
// imitations registered before it (UserLookalikeTaken).
func LookalikeKey(id string) (string, bool) {
	id = norm.NFKC.String(id)
	var b strings.Builder
	changed := false
	for _, r := range id {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		if sk := confusables.Skeleton(string(r)); len(sk) == 1 && sk[0] < utf8.RuneSelf && (unicode.IsLetter(rune(sk[0])) || unicode.IsDigit(rune(sk[0]))) {
			b.WriteByte(sk[0])
			changed = true
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), changed
}

// lookalikeColumn is what email_lookalike or username_lookalike holds for a
// login id: its look-alike key in LoginKey form, NULL when it has none.
func lookalikeColumn(v string) any {
	if like, ok := LookalikeKey(v); ok {
		return LoginKey(like)
	}
	return nil
}

// LookalikeForm is a login id as the look-alike columns are compared with
// (and TakenLookalikes answers it): its look-alike key when it has one, else
// itself, in LoginKey form.
func LookalikeForm(v string) string {
	if like, ok := LookalikeKey(v); ok {
		return LoginKey(like)
	}
	return LoginKey(v)
}

// insertUserColumns lists the columns InsertUserRows writes, in order.
const insertUserColumns = `id, tenant_id, email, email_lower, username, username_lower, full_name, password_hash,
	password_change_required, active, verified, data, secrets_sealed, insert_instant, last_update_instant,
	last_login_instant, password_last_update_instant, email_key, username_key, full_name_key, first_name_key,
	last_name_key, email_lookalike, username_lookalike`

const insertUserColumnCount = 24

func userInsertArgs(u *UserRow) []any {
	data := u.Data
	if data == "" {
		data = "{}"
	}
	return []any{u.ID, u.TenantID, nullString(u.Email), nullString(LoginKey(u.Email)), nullString(u.Username),
		nullString(LoginKey(u.Username)), u.FullName, u.PasswordHash, u.PasswordChangeRequired, u.Active,
		u.Verified, data, nullString(u.SecretsSealed), u.InsertInstant, u.LastUpdateInstant, nullInt(u.LastLoginInstant),
		u.PasswordLastUpdateInstant, SearchKey(u.Email), SearchKey(u.Username), SearchKey(u.FullName),
		SearchKey(u.FirstName), SearchKey(u.LastName), lookalikeColumn(u.Email), lookalikeColumn(u.Username)}
}

// InsertUserRow stores a new user.
func (tx *Tx) InsertUserRow(ctx context.Context, u *UserRow) error {
	return tx.InsertUserRows(ctx, []*UserRow{u})
}

// insertUserBatch is the number of rows of one multi-row INSERT on
// PostgreSQL: 22 columns each stay far under its parameter limit, and one
// round trip carries many rows.
const insertUserBatch = 500

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// InsertUserRows stores new users (bulk import and benchmarks); the derived
// lower-case and search-key columns are filled here, so every writer keeps
// them consistent. PostgreSQL gets multi-row INSERTs. SQLite gets one prepared
// single-row INSERT run per user: it costs no round trip there, and SQLite
// binds parameters in time quadratic in their number per statement.
func (tx *Tx) InsertUserRows(ctx context.Context, users []*UserRow) error {
	if p, ok := tx.q.(preparer); ok && tx.dialect == SQLite && len(users) > 1 {
		stmt, err := p.PrepareContext(ctx, "INSERT INTO users ("+insertUserColumns+") VALUES ("+placeholders(1, insertUserColumnCount)+")")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, u := range users {
			if _, err := stmt.ExecContext(ctx, userInsertArgs(u)...); err != nil {
				return err
			}
		}
		return nil
	}
	for start := 0; start < len(users); start += insertUserBatch {
		batch := users[start:min(start+insertUserBatch, len(users))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO users (" + insertUserColumns + ") VALUES ")
		args := make([]any, 0, len(batch)*insertUserColumnCount)
		for i, u := range batch {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + placeholders(len(args)+1, insertUserColumnCount) + ")")
			args = append(args, userInsertArgs(u)...)
		}
		if _, err := tx.q.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// placeholders makes "$first, …, $first+n-1".
func placeholders(first, n int) string {
	marks := make([]string, n)
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", first+i)
	}
	return strings.Join(marks, ", ")
}

// UpdateUserRow rewrites everything of a user but its id, tenant, insert and
// last login instants.
func (tx *Tx) UpdateUserRow(ctx context.Context, u *UserRow) error {
	data := u.Data
	if data == "" {
		data = "{}"
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET email = $2, email_lower = $3, username = $4, username_lower = $5,
		full_name = $6, password_hash = $7, password_change_required = $8, active = $9, verified = $10, data = $11,
		secrets_sealed = $12, last_update_instant = $13, password_last_update_instant = $14, email_key = $15,
		username_key = $16, full_name_key = $17, first_name_key = $18, last_name_key = $19, email_lookalike = $20,
		username_lookalike = $21 WHERE id = $1`,
		u.ID, nullString(u.Email), nullString(LoginKey(u.Email)), nullString(u.Username),
		nullString(LoginKey(u.Username)), u.FullName, u.PasswordHash, u.PasswordChangeRequired, u.Active,
		u.Verified, data, nullString(u.SecretsSealed), u.LastUpdateInstant, u.PasswordLastUpdateInstant,
		SearchKey(u.Email), SearchKey(u.Username), SearchKey(u.FullName), SearchKey(u.FirstName), SearchKey(u.LastName),
		lookalikeColumn(u.Email), lookalikeColumn(u.Username))
	if err != nil {
		return err
	}
	return expectOne(res)
}

// SetUserActive deactivates or reactivates a user.
func (tx *Tx) SetUserActive(ctx context.Context, id string, active bool, now int64) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE users SET active = $2, last_update_instant = $3 WHERE id = $1", id, active, now)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// SetUserPasswordHash replaces a user's password hash, as a password change
// does; unlike SetUserPassword (break-glass recovery) it leaves the user's
// active flag alone.
func (tx *Tx) SetUserPasswordHash(ctx context.Context, id, hash string, changeRequired bool, now int64) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET password_hash = $2, password_change_required = $3,
		password_last_update_instant = $4, last_update_instant = $4 WHERE id = $1`, id, hash, changeRequired, now)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// DeleteUserRow removes a user; registrations, memberships, codes and
// password history go with it (ON DELETE CASCADE).
func (tx *Tx) DeleteUserRow(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM users WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// UserRowByID finds a user; ErrNoRows when absent.
func (tx *Tx) UserRowByID(ctx context.Context, id string) (*UserRow, error) {
	return scanUser(tx.q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id))
}

// UserRowByEmail finds a user of a tenant by email, case-insensitively.
func (tx *Tx) UserRowByEmail(ctx context.Context, tenantID, email string) (*UserRow, error) {
	return scanUser(tx.q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE tenant_id = $1 AND email_lower = $2",
		tenantID, LoginKey(email)))
}

// UserRowByUsername finds a user of a tenant by username, case-insensitively.
func (tx *Tx) UserRowByUsername(ctx context.Context, tenantID, username string) (*UserRow, error) {
	return scanUser(tx.q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE tenant_id = $1 AND username_lower = $2",
		tenantID, LoginKey(username)))
}

// UserRowByLoginID finds a user of a tenant whose email or username is
// loginID; an email match wins over another user's username.
func (tx *Tx) UserRowByLoginID(ctx context.Context, tenantID, loginID string) (*UserRow, error) {
	u, err := tx.UserRowByEmail(ctx, tenantID, loginID)
	if !errors.Is(err, ErrNoRows) {
		return u, err
	}
	return tx.UserRowByUsername(ctx, tenantID, loginID)
}

// UserRowsByIDs returns the users with the given ids, limited to tenantIDs
// unless it is nil, in the order of ids (unknown ids are skipped).
func (tx *Tx) UserRowsByIDs(ctx context.Context, ids, tenantIDs []string) ([]*UserRow, error) {
	if tenantIDs != nil && len(tenantIDs) == 0 {
		return nil, nil
	}
	byID := map[string]*UserRow{}
	for start := 0; start < len(ids); start += inBatch {
		batch := ids[start:min(start+inBatch, len(ids))]
		in, args := idInList(1, batch)
		q := "SELECT " + userColumns + " FROM users WHERE id IN (" + in + ")"
		if tenantIDs != nil {
			tin, targs := idInList(len(args)+1, tenantIDs)
			q += " AND tenant_id IN (" + tin + ")"
			args = append(args, targs...)
		}
		rows, err := scanAll(scanUser)(tx.q.QueryContext(ctx, q, args...))
		if err != nil {
			return nil, err
		}
		for _, u := range rows {
			byID[u.ID] = u
		}
	}
	out := make([]*UserRow, 0, len(byID))
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			out = append(out, u)
			delete(byID, id)
		}
	}
	return out, nil
}

// UserEmailTaken reports whether another user (not exceptID) of the tenant has
// this email, case-insensitively as the unique index compares.
func (tx *Tx) UserEmailTaken(ctx context.Context, tenantID, email, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND email_lower = $2 AND id <> $3",
		tenantID, LoginKey(email), exceptID).Scan(&n)
	return n > 0, err
}

// UserUsernameTaken is UserEmailTaken for usernames.
func (tx *Tx) UserUsernameTaken(ctx context.Context, tenantID, username, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND username_lower = $2 AND id <> $3",
		tenantID, LoginKey(username), exceptID).Scan(&n)
	return n > 0, err
}

// UserLookalikeTaken reports whether another user (not exceptID) of the
// tenant has an email or username that imitates this login id in other
// letters: whose look-alike key is the id's (or the id's own look-alike
// key).
func (tx *Tx) UserLookalikeTaken(ctx context.Context, tenantID, loginID, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND (email_lookalike = $2 OR username_lookalike = $2) AND id <> $3",
		tenantID, LookalikeForm(loginID), exceptID).Scan(&n)
	return n > 0, err
}

// UserUniqueField tells which unique column of users a unique violation hit:
// "email", "username", "id", or "" when it is none of them.
func UserUniqueField(err error) string {
	return uniqueField(err, "users", [2]string{"email_lower", "email"}, [2]string{"username_lower", "username"})
}

// User search. The identity package parses FusionAuth's query string into filters; only
// the store writes SQL, from fixed column names and bound values.

// UserField names a text field users are searched by.
type UserField string

// Text fields of users, each backed by a byte-ordered search-key index.
const (
	FieldEmail     UserField = "email"
	FieldUsername  UserField = "username"
	FieldFullName  UserField = "fullName"
	FieldFirstName UserField = "firstName"
	FieldLastName  UserField = "lastName"
)

// TextFields are the fields a bare search term looks in.
var TextFields = []UserField{FieldEmail, FieldUsername, FieldFullName, FieldFirstName, FieldLastName}

var userKeyColumn = map[UserField]string{
	FieldEmail:     "email_key",
	FieldUsername:  "username_key",
	FieldFullName:  "full_name_key",
	FieldFirstName: "first_name_key",
	FieldLastName:  "last_name_key",
}

// Match says how a text filter compares.
type Match int

const (
	// MatchPrefix: the key starts with the value (an index range).
	MatchPrefix Match = iota
	// MatchExact: the key is the value (an index lookup).
	MatchExact
	// MatchSuffix and MatchContains need a scan of the rows the other
	// filters leave; the identity package allows them only where FusionAuth's query
	// syntax asks for a leading wildcard.
	MatchSuffix
	MatchContains
	// MatchPresent: the field has any value.
	MatchPresent
)

// UserFilter is one condition of a search; a user matches a query when it
// meets every filter. A text filter matches when any of its fields does.
type UserFilter struct {
	Fields []UserField // text filters
	Match  Match
	Value  string // lower-cased by the store

	IDs           []string // users with these ids
	TenantID      string   // users of this tenant
	Active        *bool
	Verified      *bool
	ApplicationID string // users registered to this application
}

// UserSortColumns maps FusionAuth's sort field names (lower-cased) to the
// sortable expressions. Only these reach the SQL text.
var UserSortColumns = map[string]string{
	"email":             "email_key",
	"login":             "email_key",
	"username":          "username_key",
	"fullname":          "full_name_key",
	"firstname":         "first_name_key",
	"lastname":          "last_name_key",
	"insertinstant":     "insert_instant",
	"lastupdateinstant": "last_update_instant",
	"lastlogininstant":  "COALESCE(last_login_instant, 0)",
	"id":                "id",
}

// UserSort is one sort key; id always follows as the tie-breaker.
type UserSort struct {
	Field      string // a key of UserSortColumns
	Descending bool
}

// UserCursor resumes a search after the last row of a page: the value of the
// (single) sort key and the id of that row.
type UserCursor struct {
	Key any // string or int64, as SortValue returned it
	ID  string
}

// UserQuery is a search: filters, the tenants in scope, the order and where
// to start.
type UserQuery struct {
	TenantIDs []string // nil: every tenant
	Filters   []UserFilter
	Sort      []UserSort // empty: insertInstant ascending
	After     *UserCursor
}

type sqlBuilder struct {
	args []any
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// prefixUpperBound is the smallest string greater than every string that
// starts with p, in byte order; ok is false when there is none (p made of
// U+10FFFF only). Incrementing the last rune keeps the bound valid UTF-8,
// which PostgreSQL requires of a text parameter.
func prefixUpperBound(p string) (string, bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		switch {
		case r == utf8.MaxRune || r == utf8.RuneError:
			continue // drop it and increment the rune before
		case r == 0xD7FF:
			return p + string(rune(0xE000)), true // skip the surrogates
		default:
			return p + string(r+1), true
		}
	}
	return "", false
}

func (b *sqlBuilder) textCondition(col string, m Match, value string) string {
	switch m {
	case MatchExact:
		return col + " = " + b.arg(value)
	case MatchPresent:
		return col + " <> ''"
	case MatchSuffix:
		return col + " LIKE " + b.arg("%"+escapeLike(value)) + ` ESCAPE '\'`
	case MatchContains:
		return col + " LIKE " + b.arg("%"+escapeLike(value)+"%") + ` ESCAPE '\'`
	default:
		if value == "" {
			return "1 = 1"
		}
		cond := col + " >= " + b.arg(value)
		if hi, ok := prefixUpperBound(value); ok {
			cond += " AND " + col + " < " + b.arg(hi)
		}
		return cond
	}
}

// conditions are the SQL conditions of a query: base (tenants, ids, flags,
// registrations) and text (the search-key filters), each ANDed.
type conditions struct {
	base, text []string
	textCols   map[string]bool
}

func and(conds []string) string {
	if len(conds) == 0 {
		return "1 = 1"
	}
	return strings.Join(conds, " AND ")
}

// where builds the conditions of q; ok is false when nothing can match.
func (b *sqlBuilder) where(q *UserQuery) (c conditions, ok bool) {
	c.textCols = map[string]bool{}
	if q.TenantIDs != nil {
		if len(q.TenantIDs) == 0 {
			return c, false
		}
		c.base = append(c.base, b.in("tenant_id", q.TenantIDs))
	}
	for _, f := range q.Filters {
		switch {
		case len(f.Fields) > 0:
			var ors []string
			for _, field := range f.Fields {
				col, ok := userKeyColumn[field]
				if !ok {
					continue
				}
				c.textCols[col] = true
				ors = append(ors, "("+b.textCondition(col, f.Match, SearchKey(f.Value))+")")
			}
			if len(ors) == 0 {
				return c, false
			}
			c.text = append(c.text, "("+strings.Join(ors, " OR ")+")")
		case f.IDs != nil:
			if len(f.IDs) == 0 {
				return c, false
			}
			c.base = append(c.base, b.in("id", f.IDs))
		case f.TenantID != "":
			c.base = append(c.base, "tenant_id = "+b.arg(f.TenantID))
		case f.Active != nil:
			c.base = append(c.base, "active = "+b.arg(*f.Active))
		case f.Verified != nil:
			c.base = append(c.base, "verified = "+b.arg(*f.Verified))
		case f.ApplicationID != "":
			c.base = append(c.base, "EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = users.id AND r.application_id = "+
				b.arg(f.ApplicationID)+")")
		}
	}
	return c, true
}

func (b *sqlBuilder) in(col string, values []string) string {
	marks := make([]string, len(values))
	for i, v := range values {
		marks[i] = b.arg(v)
	}
	return col + " IN (" + strings.Join(marks, ", ") + ")"
}

// sortKey is the first sort column and direction (insertInstant ascending
// by default).
func (q *UserQuery) sortKey() (string, bool) {
	if len(q.Sort) == 0 {
		return "insert_instant", false
	}
	return UserSortColumns[strings.ToLower(q.Sort[0].Field)], q.Sort[0].Descending
}

func (q *UserQuery) order() ([]string, error) {
	sorts := q.Sort
	if len(sorts) == 0 {
		sorts = []UserSort{{Field: "insertinstant"}}
	}
	var out []string
	for _, s := range sorts {
		col, ok := UserSortColumns[strings.ToLower(s.Field)]
		if !ok {
			return nil, fmt.Errorf("unknown sort field %q", s.Field)
		}
		out = append(out, col+" "+sortDirection(s.Descending))
	}
	// id is unique: it makes the order total, so pages neither repeat nor skip.
	out = append(out, "id "+sortDirection(sorts[len(sorts)-1].Descending))
	return out, nil
}

// indexedSortColumns are the sort keys with a (key, id) index.
var indexedSortColumns = map[string]bool{
	"email_key": true, "username_key": true, "full_name_key": true, "first_name_key": true,
	"last_name_key": true, "insert_instant": true, "id": true,
}

// Plan choice of a search with text filters. Fetching every match and sorting
// costs a row read per match; walking the index of the sort key and testing
// each row costs (offset+limit)/selectivity row reads. With few matches the
// first wins, with many the second: a three-letter term matching a tenth of a
// million users reads some 250 rows instead of 100,000. Neither database's
// planner makes that choice reliably (SQLite never does), so the store
// makes it from the count it has already taken.
const (
	// denseMatches is the count from which walking the sort index is tried.
	denseMatches = 500
	// walkBudgetPerRow and walkBudgetMin, walkBudgetMax bound the rows a walk
	// reads before giving up for the fetch-and-sort plan: enough to find a
	// page when at least 1% of the users match.
	walkBudgetPerRow = 100
	walkBudgetMin    = 2_500
	walkBudgetMax    = 50_000
)

// SearchUsers returns up to limit users matching q from offset (or after
// q.After), and how many match in all — counting at most countCap rows when
// countCap > 0, as FusionAuth's inaccurate totals stop at 10,000.
func (tx *Tx) SearchUsers(ctx context.Context, q UserQuery, offset, limit, countCap int) ([]*UserRow, int, error) {
	order, err := q.order()
	if err != nil {
		return nil, 0, err
	}
	if q.After != nil && len(q.Sort) > 1 {
		return nil, 0, errors.New("a cursor needs a single sort key")
	}
	b := &sqlBuilder{}
	c, ok := b.where(&q)
	if !ok {
		return nil, 0, nil
	}
	all := and(append(slices.Clone(c.base), c.text...))
	total, err := tx.countUsers(ctx, &q, all, b.args, countCap)
	if err != nil {
		return nil, 0, err
	}
	if total == 0 {
		return nil, 0, nil
	}
	base := slices.Clone(c.base)
	if q.After != nil {
		sortCol, desc := q.sortKey()
		op := ">"
		if desc {
			op = "<"
		}
		// A row value compares key then id, as the (key, id) indexes are
		// ordered: the next page starts inside the index, not by skipping.
		base = append(base, fmt.Sprintf("(%s, id) %s (%s, %s)", sortCol, op, b.arg(q.After.Key), b.arg(q.After.ID)))
	}
	orderBy := strings.Join(order, ", ")
	sortCol, _ := q.sortKey()
	walk := len(c.text) > 0 && len(q.Sort) <= 1 && indexedSortColumns[sortCol] && total >= denseMatches &&
		!(len(c.textCols) == 1 && c.textCols[sortCol])
	if walk {
		budget := min(max(walkBudgetPerRow*(offset+limit), walkBudgetMin), walkBudgetMax)
		text := fmt.Sprintf(`SELECT %s FROM (SELECT %s, email_key, username_key, full_name_key, first_name_key, last_name_key
			FROM users WHERE %s ORDER BY %s LIMIT %s) t WHERE %s ORDER BY %s LIMIT %s OFFSET %s`,
			userColumns, userColumns, and(base), orderBy, b.arg(budget), and(c.text), orderBy, b.arg(limit), b.arg(offset))
		rows, err := scanAll(scanUser)(tx.q.QueryContext(ctx, text, b.args...))
		if err != nil {
			return nil, 0, err
		}
		complete := q.After == nil && (countCap == 0 || total < countCap) && offset+len(rows) >= total
		if len(rows) == limit || complete {
			return rows, total, nil
		}
		// Too few matches near the start of the order: fetch them all.
		b.args = b.args[:len(b.args)-3]
	}
	text := fmt.Sprintf("SELECT %s FROM users WHERE %s ORDER BY %s LIMIT %s OFFSET %s",
		userColumns, and(append(base, c.text...)), orderBy, b.arg(limit), b.arg(offset))
	rows, err := scanAll(scanUser)(tx.q.QueryContext(ctx, text, b.args...))
	return rows, total, err
}

// countUsers counts the users matching where (the conditions of q, with
// args), at most countCap of them when countCap > 0.
//
// Counting reads every matching row, and on PostgreSQL each row costs a read
// of its table page: some 7,000 pages for 10,000 users scattered over a
// million. A search of one term over index ranges is counted from the key
// indexes first (fieldMatches), which needs no table page: a field alone
// with countCap matches proves the capped total, and a term that matches in
// one field only is counted exactly there. The table is read only when
// several fields match fewer than countCap users each, as then the same user
// may match in more than one of them.
func (tx *Tx) countUsers(ctx context.Context, q *UserQuery, where string, args []any, countCap int) (int, error) {
	var n int
	if countCap <= 0 {
		err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE "+where, args...).Scan(&n)
		return n, err
	}
	if perField, ok, err := tx.fieldMatches(ctx, q, countCap); err != nil {
		return 0, err
	} else if ok {
		most, fields := 0, 0
		for _, m := range perField {
			most = max(most, m)
			if m > 0 {
				fields++
			}
		}
		if most >= countCap || fields <= 1 {
			return most, nil
		}
	}
	err := tx.q.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE %s LIMIT %d) t", where, countCap),
		args...).Scan(&n)
	return n, err
}

// fieldMatches counts, for a query of one prefix or exact term and nothing
// else (no tenant, flag or id condition), the users whose key matches in
// each of the term's fields, at most countCap per field. Each count is a
// range of one (key, id) index, read from the index alone (on PostgreSQL once
// the visibility map is set, as vacuum leaves it). ok is false for other
// queries.
func (tx *Tx) fieldMatches(ctx context.Context, q *UserQuery, countCap int) (perField []int, ok bool, err error) {
	if q.TenantIDs != nil || len(q.Filters) != 1 {
		return nil, false, nil
	}
	f := q.Filters[0]
	if len(f.Fields) == 0 || (f.Match != MatchPrefix && f.Match != MatchExact) {
		return nil, false, nil
	}
	b := &sqlBuilder{}
	var counts []string
	for i, field := range f.Fields {
		col, ok := userKeyColumn[field]
		if !ok {
			return nil, false, nil
		}
		counts = append(counts, fmt.Sprintf("SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE %s LIMIT %d) f%d",
			b.textCondition(col, f.Match, SearchKey(f.Value)), countCap, i))
	}
	rows, err := tx.q.QueryContext(ctx, strings.Join(counts, " UNION ALL "), b.args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, false, err
		}
		perField = append(perField, n)
	}
	return perField, true, rows.Err()
}

// UserSortValue is the value of a sort field of a row, for a cursor.
func UserSortValue(u *UserRow, field string, firstName, lastName string) (any, bool) {
	switch strings.ToLower(field) {
	case "", "insertinstant":
		return u.InsertInstant, true
	case "email", "login":
		return SearchKey(u.Email), true
	case "username":
		return SearchKey(u.Username), true
	case "fullname":
		return SearchKey(u.FullName), true
	case "firstname":
		return SearchKey(firstName), true
	case "lastname":
		return SearchKey(lastName), true
	case "lastupdateinstant":
		return u.LastUpdateInstant, true
	case "id":
		return u.ID, true
	}
	return nil, false
}

// Password history.

// AddPasswordHistory remembers a user's former password hash and keeps only
// the newest keep entries.
func (tx *Tx) AddPasswordHistory(ctx context.Context, userID, hash string, now int64, keep int) error {
	if _, err := tx.q.ExecContext(ctx, "INSERT INTO user_password_history (user_id, password_hash, insert_instant) VALUES ($1, $2, $3)",
		userID, hash, now); err != nil {
		return err
	}
	_, err := tx.q.ExecContext(ctx, `DELETE FROM user_password_history WHERE user_id = $1 AND id NOT IN
		(SELECT id FROM user_password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)`, userID, keep)
	return err
}

// PasswordHistory returns up to n former password hashes of a user, newest first.
func (tx *Tx) PasswordHistory(ctx context.Context, userID string, n int) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT password_hash FROM user_password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2", userID, n)
	return scanAll(scanString)(rows, err)
}

// One-time codes.

// OneTimeCode is a stored one-time code: the SHA-256 of the code, never the code.
type OneTimeCode struct {
	Hash           string
	Kind           string
	UserID         string
	TenantID       string
	Data           string // a JSON object
	ExpiresInstant int64
	InsertInstant  int64
}

const oneTimeCodeColumns = "code_hash, kind, user_id, tenant_id, data, expires_instant, insert_instant"

func scanOneTimeCode(row scanner) (*OneTimeCode, error) {
	var c OneTimeCode
	if err := row.Scan(&c.Hash, &c.Kind, &c.UserID, &c.TenantID, &c.Data, &c.ExpiresInstant, &c.InsertInstant); err != nil {
		return nil, err
	}
	return &c, nil
}

// InsertOneTimeCode stores a code.
func (tx *Tx) InsertOneTimeCode(ctx context.Context, c *OneTimeCode) error {
	data := c.Data
	if data == "" {
		data = "{}"
	}
	_, err := tx.q.ExecContext(ctx, "INSERT INTO one_time_codes ("+oneTimeCodeColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		c.Hash, c.Kind, c.UserID, c.TenantID, data, c.ExpiresInstant, c.InsertInstant)
	return err
}

// OneTimeCodeByHash reads an unexpired code of one of the kinds without using
// it; ErrNoRows when there is none.
func (tx *Tx) OneTimeCodeByHash(ctx context.Context, hash string, kinds []string, now int64) (*OneTimeCode, error) {
	b := &sqlBuilder{}
	text := "SELECT " + oneTimeCodeColumns + " FROM one_time_codes WHERE code_hash = " + b.arg(hash) +
		" AND expires_instant > " + b.arg(now) + " AND " + b.in("kind", kinds)
	return scanOneTimeCode(tx.q.QueryRowContext(ctx, text, b.args...))
}

// ConsumeOneTimeCode uses an unexpired code of one of the kinds: one statement
// deletes and returns it, so of concurrent uses on any nodes exactly one gets
// the row. ErrNoRows when it is unknown, expired or already used.
func (tx *Tx) ConsumeOneTimeCode(ctx context.Context, hash string, kinds []string, now int64) (*OneTimeCode, error) {
	b := &sqlBuilder{}
	text := "DELETE FROM one_time_codes WHERE code_hash = " + b.arg(hash) + " AND expires_instant > " + b.arg(now) +
		" AND " + b.in("kind", kinds) + " RETURNING " + oneTimeCodeColumns
	return scanOneTimeCode(tx.q.QueryRowContext(ctx, text, b.args...))
}

// DeleteUserCodes removes a user's codes of the kinds (a new change-password
// id replaces the one before).
func (tx *Tx) DeleteUserCodes(ctx context.Context, userID string, kinds []string) error {
	b := &sqlBuilder{}
	text := "DELETE FROM one_time_codes WHERE user_id = " + b.arg(userID) + " AND " + b.in("kind", kinds)
	_, err := tx.q.ExecContext(ctx, text, b.args...)
	return err
}

// DeleteExpiredCodes removes codes that expired before now.
func (tx *Tx) DeleteExpiredCodes(ctx context.Context, now int64) (int64, error) {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM one_time_codes WHERE expires_instant <= $1", now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
