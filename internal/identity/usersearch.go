package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// User search, FusionAuth's /api/user/search, served from the database with
// indexes (no search engine). FusionAuth passes queryString to Elasticsearch;
// Latch reads the part of that syntax people use on users:
//
//	*                        every user
//	john  "john doe"         a prefix of email, username, fullName, firstName or lastName
//	email:john@example.com   that email (any case); likewise username, fullName, firstName, lastName
//	email:jo*                a prefix of the field (login: email or username)
//	email:*@example.com      a suffix; email:@example.com means the same (FusionAuth's database search)
//	email:*example*          a substring
//	email:*                  the field is set
//	id:… tenantId:… registrations.applicationId:… active:true verified:false
//
// Terms are combined with AND (the word AND may be written). Prefixes and
// exact values are index ranges; suffixes and substrings scan the rows the
// other terms leave. Other syntax (OR, NOT, groups, ranges, regular
// expressions, fuzzy or boosted terms) is refused with a 400 that says so,
// never silently read another way. The JSON query is read in the same subset:
// match_all, match, term, prefix, wildcard, exists, ids, and bool must/filter
// (nested is read through).

// UserSearch is FusionAuth's UserSearchCriteria.
type UserSearch struct {
	IDs             []string    `json:"ids"`
	QueryString     string      `json:"queryString"`
	Query           string      `json:"query"`
	SortFields      []SortField `json:"sortFields"`
	OrderBy         string      `json:"orderBy"`
	StartRow        int         `json:"startRow"`
	NumberOfResults int         `json:"numberOfResults"`
	AccurateTotal   bool        `json:"accurateTotal"`
	NextResults     string      `json:"nextResults"`
}

// SortField is FusionAuth's SortField. Missing values sort first in ascending
// order and last in descending order, on both databases.
type SortField struct {
	Name    string `json:"name"`
	Order   string `json:"order,omitempty"`
	Missing string `json:"missing,omitempty"`
}

// UserSearchResult is FusionAuth's user SearchResponse.
type UserSearchResult struct {
	Users       []*model.User `json:"users"`
	Total       int           `json:"total"`
	NextResults string        `json:"nextResults,omitempty"`
	Expandable  []string      `json:"expandable"`
}

// Limits of a user search. Deep pages by startRow cost a skip of every row
// before them, so they stop where FusionAuth's do (10,000); nextResults goes
// on from there at the cost of one page.
//
// total is exact up to inaccurateTotalCap and is inaccurateTotalCap when more
// users match ("at least 10,000"), unless the search asks for accurateTotal:
// FusionAuth's Elasticsearch engine answers so (Elasticsearch tracks total
// hits to 10,000 by default; accurateTotal asks it to count them all).
// Counting every match costs a read of each; a capped count stops at the cap
// and, for a one-term search, is read from the key indexes where it can be
// (store.Tx.SearchUsers).
const (
	maxUserSearchWindow = 10_000
	inaccurateTotalCap  = 10_000
)

// Expansions FusionAuth's search can leave out of each user.
const (
	ExpandRegistrations = "registrations"
	ExpandMemberships   = "memberships"
)

// searchField is what a field name of the query syntax searches.
type searchField struct {
	text []store.UserField
	kind string // "text", "id", "tenantId", "active", "verified", "application"
}

var searchFields = map[string]searchField{
	"email":                        {text: []store.UserField{store.FieldEmail}, kind: "text"},
	"username":                     {text: []store.UserField{store.FieldUsername}, kind: "text"},
	"login":                        {text: []store.UserField{store.FieldEmail, store.FieldUsername}, kind: "text"},
	"fullName":                     {text: []store.UserField{store.FieldFullName}, kind: "text"},
	"firstName":                    {text: []store.UserField{store.FieldFirstName}, kind: "text"},
	"lastName":                     {text: []store.UserField{store.FieldLastName}, kind: "text"},
	"id":                           {kind: "id"},
	"tenantId":                     {kind: "tenantId"},
	"active":                       {kind: "active"},
	"verified":                     {kind: "verified"},
	"registrations.applicationId":  {kind: "application"},
	"registrations.application_id": {kind: "application"},
}

func searchFieldNames() string {
	names := make([]string, 0, len(searchFields))
	for n := range searchFields {
		if !strings.Contains(n, "_") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func queryStringError(msg string) error {
	return model.FieldError("search.queryString", "invalid", msg)
}

// queryToken is one term of a query string.
type queryToken struct {
	field  string // "" for a bare term
	value  string
	quoted bool
}

// tokenizeQueryString splits a query string into terms, honouring double
// quotes and backslash escapes.
func tokenizeQueryString(qs string) ([]queryToken, error) {
	var out []queryToken
	rs := []rune(qs)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		var tok queryToken
		var sb strings.Builder
		quotedStart := false
		for i < len(rs) && !unicode.IsSpace(rs[i]) {
			c := rs[i]
			switch {
			case c == '\\' && i+1 < len(rs):
				sb.WriteRune(rs[i+1])
				i += 2
				continue
			case c == '"':
				end := i + 1
				var q strings.Builder
				for end < len(rs) && rs[end] != '"' {
					if rs[end] == '\\' && end+1 < len(rs) {
						end++
					}
					q.WriteRune(rs[end])
					end++
				}
				if end >= len(rs) {
					return nil, queryStringError("A quote in the query string is not closed.")
				}
				if sb.Len() > 0 && tok.field == "" {
					return nil, queryStringError("A quoted value must be a whole term or follow field:.")
				}
				sb.WriteString(q.String())
				tok.quoted, quotedStart = true, true
				i = end + 1
				continue
			case c == ':' && tok.field == "" && !quotedStart:
				tok.field = sb.String()
				sb.Reset()
				i++
				continue
			case strings.ContainsRune("()[]{}~^/", c):
				return nil, queryStringError(fmt.Sprintf("The query string syntax %q is not supported; use terms combined with AND.", string(c)))
			}
			sb.WriteRune(c)
			i++
		}
		tok.value = sb.String()
		if tok.field == "" && !tok.quoted {
			switch tok.value {
			case "AND", "&&":
				continue
			case "OR", "||", "NOT":
				return nil, queryStringError("The query string operator " + tok.value + " is not supported; terms are combined with AND.")
			}
			if strings.HasPrefix(tok.value, "-") || strings.HasPrefix(tok.value, "+") || strings.HasPrefix(tok.value, "!") {
				return nil, queryStringError("The query string operators +, - and ! are not supported; terms are combined with AND.")
			}
		}
		out = append(out, tok)
	}
	return out, nil
}

// wildcardMatch reads a value with * wildcards: * alone, prefix*, *suffix,
// *infix*, or none. literal says no wildcard applies (a quoted value).
func wildcardMatch(v string, literal bool) (store.Match, string, error) {
	if literal {
		return store.MatchExact, v, nil
	}
	if strings.ContainsRune(v, '?') {
		return 0, "", queryStringError("The ? wildcard is not supported; use * at the start or end of a value.")
	}
	lead, trail := strings.HasPrefix(v, "*"), strings.HasSuffix(v, "*")
	inner := strings.Trim(v, "*")
	if strings.Contains(inner, "*") {
		return 0, "", queryStringError("A * wildcard may only start or end a value.")
	}
	switch {
	case inner == "":
		return store.MatchPresent, "", nil
	case lead && trail:
		return store.MatchContains, inner, nil
	case lead:
		return store.MatchSuffix, inner, nil
	case trail:
		return store.MatchPrefix, inner, nil
	}
	return store.MatchExact, v, nil
}

// termFilter turns one term into a filter; none is true for a term that
// matches every user (*). scope decides tenants a tenantId term may name.
func termFilter(tok queryToken, scope kit.TenantScope) (f store.UserFilter, none bool, empty bool, err error) {
	if tok.field == "" {
		if tok.quoted {
			return store.UserFilter{Fields: store.TextFields, Match: store.MatchPrefix, Value: tok.value}, false, false, nil
		}
		m, v, err := wildcardMatch(tok.value, false)
		if err != nil {
			return f, false, false, err
		}
		switch m {
		case store.MatchPresent:
			return f, true, false, nil
		case store.MatchExact:
			m = store.MatchPrefix // a bare word is a prefix of any name
		}
		return store.UserFilter{Fields: store.TextFields, Match: m, Value: v}, false, false, nil
	}
	sf, ok := searchFields[tok.field]
	if !ok {
		return f, false, false, queryStringError(fmt.Sprintf("The field %q cannot be searched; use one of %s.", tok.field, searchFieldNames()))
	}
	switch sf.kind {
	case "text":
		m, v, err := wildcardMatch(tok.value, tok.quoted)
		if err != nil {
			return f, false, false, err
		}
		if m == store.MatchExact && strings.HasPrefix(v, "@") && slices.Contains(sf.text, store.FieldEmail) {
			m = store.MatchSuffix // email:@example.com, as FusionAuth's database search reads it
		}
		return store.UserFilter{Fields: sf.text, Match: m, Value: v}, false, false, nil
	case "id", "tenantId", "application":
		if tok.value == "*" {
			return f, true, false, nil
		}
		id, ok := kit.CanonicalID(tok.value)
		if !ok {
			return f, false, false, queryStringError(fmt.Sprintf("The value of %s must be a UUID.", tok.field))
		}
		switch sf.kind {
		case "id":
			return store.UserFilter{IDs: []string{id}}, false, false, nil
		case "tenantId":
			if !scope.CanSee(id) {
				return f, false, true, nil
			}
			return store.UserFilter{TenantID: id}, false, false, nil
		default:
			return store.UserFilter{ApplicationID: id}, false, false, nil
		}
	default: // active, verified
		b, err := strconv.ParseBool(strings.ToLower(tok.value))
		if err != nil || (tok.value != "true" && tok.value != "false") {
			return f, false, false, queryStringError(fmt.Sprintf("The value of %s must be true or false.", tok.field))
		}
		if sf.kind == "active" {
			return store.UserFilter{Active: &b}, false, false, nil
		}
		return store.UserFilter{Verified: &b}, false, false, nil
	}
}

// parseQueryString turns a query string into filters. empty is true when no
// user can match (a tenant outside the scope).
func parseQueryString(qs string, scope kit.TenantScope) (filters []store.UserFilter, empty bool, err error) {
	if strings.ContainsRune(qs, 0) {
		return nil, false, queryStringError("The query string must not contain NUL characters.")
	}
	toks, err := tokenizeQueryString(qs)
	if err != nil {
		return nil, false, err
	}
	if len(toks) == 0 {
		return nil, false, model.FieldError("search.queryString", "blank", "The query string has no terms; use * to match every user.")
	}
	for _, tok := range toks {
		f, all, none, err := termFilter(tok, scope)
		if err != nil {
			return nil, false, err
		}
		if none {
			empty = true
		}
		if !all && !none {
			filters = append(filters, f)
		}
	}
	return filters, empty, nil
}

func queryError(msg string) error { return model.FieldError("search.query", "invalid", msg) }

// asQueryError names a term error of the JSON query after search.query.
func asQueryError(err error) error {
	var verrs *model.Errors
	if errors.As(err, &verrs) {
		for _, items := range verrs.FieldErrors {
			if len(items) > 0 {
				return queryError(items[0].Message)
			}
		}
	}
	return err
}

// parseQuery reads an Elasticsearch JSON query in the subset described above.
func parseQuery(text string, scope kit.TenantScope) ([]store.UserFilter, bool, error) {
	if strings.Contains(text, `\u0000`) || strings.ContainsRune(text, 0) {
		return nil, false, queryError("The query must not contain NUL characters.")
	}
	v, err := model.DecodeJSONValue([]byte(text))
	if err != nil {
		return nil, false, queryError("The query is not JSON: " + err.Error())
	}
	var filters []store.UserFilter
	empty := false
	var walk func(node any, depth int) error
	walk = func(node any, depth int) error {
		if depth > 16 {
			return queryError("The query is nested too deeply.")
		}
		o, ok := node.(kit.Object)
		if !ok || len(o) != 1 {
			return queryError("Each query clause must be an object with one member, such as {\"match\":{\"email\":\"…\"}}.")
		}
		for kind, body := range o {
			switch kind {
			case "match_all":
				return nil
			case "bool":
				b, ok := body.(kit.Object)
				if !ok {
					return queryError("bool must be an object.")
				}
				for k, clauses := range b {
					if k != "must" && k != "filter" {
						return queryError("Only the must and filter clauses of bool are supported.")
					}
					list, ok := clauses.([]any)
					if !ok {
						list = []any{clauses}
					}
					for _, c := range list {
						if err := walk(c, depth+1); err != nil {
							return err
						}
					}
				}
				return nil
			case "nested":
				b, ok := body.(kit.Object)
				if !ok || b["query"] == nil {
					return queryError("nested must hold a query.")
				}
				return walk(b["query"], depth+1)
			case "ids":
				b, _ := body.(kit.Object)
				vals, ok := b["values"].([]any)
				if !ok {
					return queryError("ids must hold a values list.")
				}
				ids := []string{}
				for _, x := range vals {
					if s, ok := x.(string); ok {
						if id, ok := kit.CanonicalID(s); ok {
							ids = append(ids, id)
						}
					}
				}
				filters = append(filters, store.UserFilter{IDs: ids})
				return nil
			case "exists":
				b, _ := body.(kit.Object)
				field, _ := b["field"].(string)
				sf, ok := searchFields[field]
				if !ok || sf.kind != "text" {
					return queryError(fmt.Sprintf("exists is supported on %s.", "email, username, login, fullName, firstName and lastName"))
				}
				filters = append(filters, store.UserFilter{Fields: sf.text, Match: store.MatchPresent})
				return nil
			case "match", "term", "prefix", "wildcard", "match_phrase":
				b, ok := body.(kit.Object)
				if !ok || len(b) != 1 {
					return queryError(kind + " must name one field.")
				}
				for field, val := range b {
					if m, ok := val.(kit.Object); ok {
						val = m["query"]
						if val == nil {
							val = m["value"]
						}
					}
					var s string
					switch x := val.(type) {
					case string:
						s = x
					case bool:
						s = strconv.FormatBool(x)
					case json.Number:
						s = x.String()
					default:
						return queryError(fmt.Sprintf("The value of %s.%s must be a string.", kind, field))
					}
					tok := queryToken{field: field, value: s, quoted: kind != "wildcard"}
					if kind == "prefix" {
						tok.value, tok.quoted = s+"*", false
						if strings.ContainsAny(s, "*?") {
							return queryError("A prefix value must not hold wildcards.")
						}
					}
					f, all, none, err := termFilter(tok, scope)
					if err != nil {
						return asQueryError(err)
					}
					if none {
						empty = true
					}
					if !all && !none {
						filters = append(filters, f)
					}
				}
				return nil
			default:
				return queryError(fmt.Sprintf("The query clause %q is not supported; use match_all, match, term, prefix, wildcard, exists, ids or bool (must/filter).", kind))
			}
		}
		return nil
	}
	if err := walk(v, 0); err != nil {
		return nil, false, err
	}
	return filters, empty, nil
}

// parseUserSort reads sortFields, or FusionAuth's older orderBy.
func parseUserSort(fields []SortField, orderBy string) ([]store.UserSort, error) {
	var out []store.UserSort
	for i, f := range fields {
		name := strings.TrimSpace(f.Name)
		if _, ok := store.UserSortColumns[strings.ToLower(name)]; !ok {
			return nil, model.FieldError("search.sortFields", "invalid", fmt.Sprintf(
				"[search.sortFields][%d].name %q cannot be sorted on; use email, username, fullName, firstName, lastName, insertInstant, lastUpdateInstant, lastLoginInstant or id.", i, f.Name))
		}
		var desc bool
		switch strings.ToLower(strings.TrimSpace(f.Order)) {
		case "", "asc":
		case "desc":
			desc = true
		default:
			return nil, model.FieldError("search.sortFields", "invalid", fmt.Sprintf("[search.sortFields][%d].order must be asc or desc.", i))
		}
		out = append(out, store.UserSort{Field: name, Descending: desc})
	}
	if len(out) == 0 && strings.TrimSpace(orderBy) != "" {
		field, desc, ok := kit.ParseOrderBy(orderBy, store.UserSortColumns)
		if !ok {
			return nil, model.FieldError("search.orderBy", "invalid", "orderBy must be a sortable field (email, username, fullName, insertInstant…), optionally followed by ASC or DESC.")
		}
		out = append(out, store.UserSort{Field: field, Descending: desc})
	}
	return out, nil
}

// userCursorToken is the content of nextResults: the search it continues and
// the last row's sort key. It is not secret: a client that edits it gets
// another search within its own scope.
type userCursorToken struct {
	QueryString   string      `json:"qs,omitempty"`
	Query         string      `json:"q,omitempty"`
	SortFields    []SortField `json:"sf,omitempty"`
	AccurateTotal bool        `json:"at,omitempty"`
	Key           string      `json:"k"`
	ID            string      `json:"id"`
}

func encodeCursor(c userCursorToken) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (userCursorToken, error) {
	var c userCursorToken
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if _, ok := kit.CanonicalID(c.ID); err != nil || !ok || strings.ContainsRune(c.Key, 0) {
		return c, model.FieldError("search.nextResults", "invalid", "nextResults is not a value a previous search returned.")
	}
	return c, nil
}

// numericSort tells whether a sort field's key is a number.
func numericSort(field string) bool {
	switch strings.ToLower(field) {
	case "", "insertinstant", "lastupdateinstant":
		return true
	}
	return false
}

// cursorable tells whether a search order can continue with nextResults: one
// sort key whose value a row gives back.
func cursorable(sorts []store.UserSort) bool {
	return len(sorts) == 0 || (len(sorts) == 1 && !strings.EqualFold(sorts[0].Field, "lastLoginInstant"))
}

// expandSet reads FusionAuth's expand list; nil expands everything. The
// lists left out are named in the answer's expandable.
func expandSet(expand []string) (userExpand, []string) {
	e := userExpand{
		registrations: expand == nil || slices.Contains(expand, ExpandRegistrations),
		memberships:   expand == nil || slices.Contains(expand, ExpandMemberships),
	}
	expandable := []string{}
	if !e.memberships {
		expandable = append(expandable, ExpandMemberships)
	}
	if !e.registrations {
		expandable = append(expandable, ExpandRegistrations)
	}
	return e, expandable
}

// userQuery builds the store query of a search's terms (query before
// queryString, as FusionAuth prefers). empty is true when nothing can match.
func userQuery(scope kit.TenantScope, qs, query string) (store.UserQuery, bool, error) {
	q := store.UserQuery{TenantIDs: scope.Tenants}
	var err error
	var empty bool
	switch {
	case strings.TrimSpace(query) != "":
		q.Filters, empty, err = parseQuery(query, scope)
	case strings.TrimSpace(qs) != "":
		q.Filters, empty, err = parseQueryString(qs, scope)
	default:
		err = model.FieldError("search.queryString", "blank", "A search needs ids, queryString or query; use queryString * to match every user.")
	}
	return q, empty, err
}

// SearchUsers is FusionAuth's user search, limited to the scope. expand is
// the request's expand list (nil: everything).
func (s *Service) SearchUsers(ctx context.Context, scope kit.TenantScope, in UserSearch, expand []string) (*UserSearchResult, error) {
	exp, expandable := expandSet(expand)
	res := &UserSearchResult{Users: []*model.User{}, Expandable: expandable}
	rd := s.store.Read()
	if len(in.IDs) > 0 {
		ids := make([]string, 0, len(in.IDs))
		seen := map[string]bool{}
		for _, raw := range in.IDs {
			// FusionAuth ignores ids that are not UUIDs.
			if id, ok := kit.CanonicalID(raw); ok && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		rows, err := rd.UserRowsByIDs(ctx, ids, scope.Tenants)
		if err != nil {
			return nil, fmt.Errorf("users by ids: %w", err)
		}
		if res.Users, err = s.userObjects(ctx, rd, rows, exp); err != nil {
			return nil, err
		}
		res.Total = len(rows)
		return res, nil
	}
	var verrs model.Errors
	var after *store.UserCursor
	if in.NextResults != "" {
		c, err := decodeCursor(in.NextResults)
		if err != nil {
			return nil, err
		}
		in.QueryString, in.Query, in.SortFields, in.AccurateTotal, in.OrderBy, in.StartRow = c.QueryString, c.Query, c.SortFields, c.AccurateTotal, "", 0
		after = &store.UserCursor{Key: c.Key, ID: c.ID}
	}
	offset, limit := kit.PageWindow(&verrs, in.StartRow, in.NumberOfResults)
	if offset+limit > maxUserSearchWindow && verrs.Empty() {
		verrs.Field("search.startRow", "invalid", fmt.Sprintf("startRow + numberOfResults must not exceed %d; continue with nextResults instead.", maxUserSearchWindow))
	}
	sorts, err := parseUserSort(in.SortFields, in.OrderBy)
	if err != nil {
		return nil, err
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	q, empty, err := userQuery(scope, in.QueryString, in.Query)
	if err != nil {
		return nil, err
	}
	if empty {
		return res, nil
	}
	q.Sort = sorts
	if after != nil {
		if !cursorable(sorts) {
			return nil, model.FieldError("search.nextResults", "invalid", "nextResults needs a search sorted by one field.")
		}
		if len(sorts) == 0 || numericSort(sorts[0].Field) {
			n, err := strconv.ParseInt(after.Key.(string), 10, 64)
			if err != nil {
				return nil, model.FieldError("search.nextResults", "invalid", "nextResults is not a value a previous search returned.")
			}
			after.Key = n
		}
		q.After = after
	}
	countCap := inaccurateTotalCap
	if in.AccurateTotal {
		countCap = 0
	}
	rows, total, err := rd.SearchUsers(ctx, q, offset, limit, countCap)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	if res.Users, err = s.userObjects(ctx, rd, rows, exp); err != nil {
		return nil, err
	}
	res.Total = total
	if len(rows) == limit && cursorable(sorts) {
		field := ""
		if len(sorts) == 1 {
			field = sorts[0].Field
		}
		last := rows[len(rows)-1]
		u := res.Users[len(rows)-1]
		if key, ok := store.UserSortValue(last, field, u.FirstName, u.LastName); ok {
			res.NextResults = encodeCursor(userCursorToken{QueryString: in.QueryString, Query: in.Query, SortFields: in.SortFields,
				AccurateTotal: in.AccurateTotal, Key: fmt.Sprint(key), ID: last.ID})
		}
	}
	return res, nil
}

// UserBulkDelete is FusionAuth's UserDeleteRequest.
type UserBulkDelete struct {
	UserIDs     []string `json:"userIds"`
	Query       string   `json:"query"`
	QueryString string   `json:"queryString"`
	HardDelete  bool     `json:"hardDelete"`
	DryRun      bool     `json:"dryRun"`
	Limit       int      `json:"limit"`
}

// UserBulkDeleteResult is FusionAuth's UserDeleteResponse.
type UserBulkDeleteResult struct {
	DryRun     bool     `json:"dryRun"`
	HardDelete bool     `json:"hardDelete"`
	Total      int      `json:"total"`
	UserIDs    []string `json:"userIds"`
}

// maxBulkUsers bounds the users one bulk call changes (one transaction).
const maxBulkUsers = 10_000

// DeleteUsers deactivates or hard-deletes the users named by ids, or matching
// query or queryString (in that order of preference), within the scope. With
// DryRun it only says which users it would change.
func (s *Service) DeleteUsers(ctx context.Context, actor kit.Actor, scope kit.TenantScope, in UserBulkDelete) (*UserBulkDeleteResult, error) {
	res := &UserBulkDeleteResult{DryRun: in.DryRun, HardDelete: in.HardDelete, UserIDs: []string{}}
	limit := in.Limit
	switch {
	case limit < 0:
		return nil, model.FieldError("limit", "invalid", "limit must not be negative.")
	case limit == 0 || limit > maxBulkUsers:
		limit = maxBulkUsers
	}
	var ids []string
	var q store.UserQuery
	byIDs := len(in.UserIDs) > 0
	if byIDs {
		seen := map[string]bool{}
		for _, raw := range in.UserIDs {
			id, ok := kit.CanonicalID(raw)
			if !ok {
				return nil, model.FieldError("userIds", "invalid", fmt.Sprintf("%q is not a UUID.", raw))
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		if len(ids) > maxBulkUsers {
			return nil, model.FieldError("userIds", "tooMany", fmt.Sprintf("At most %d users may be deleted in one request.", maxBulkUsers))
		}
	} else {
		if strings.TrimSpace(in.Query) == "" && strings.TrimSpace(in.QueryString) == "" {
			return nil, model.GeneralError("invalid", "Name the users to delete with userIds, query or queryString.")
		}
		var empty bool
		var err error
		if q, empty, err = userQuery(scope, in.QueryString, in.Query); err != nil {
			return nil, err
		}
		if empty {
			return res, nil
		}
		q.Sort = []store.UserSort{{Field: "id"}}
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var rows []*store.UserRow
		var err error
		if byIDs {
			rows, err = tx.UserRowsByIDs(ctx, ids, scope.Tenants)
		} else {
			rows, _, err = tx.SearchUsers(ctx, q, 0, limit, 1)
		}
		if err != nil {
			return fmt.Errorf("find users to delete: %w", err)
		}
		res.UserIDs = res.UserIDs[:0]
		for _, row := range rows {
			res.UserIDs = append(res.UserIDs, row.ID)
			if in.DryRun {
				continue
			}
			if in.HardDelete {
				if err := s.deleteUserRow(ctx, tx, actor, row); err != nil {
					return err
				}
				continue
			}
			if err := tx.SetUserActive(ctx, row.ID, false, s.now()); err != nil {
				return err
			}
			if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deactivated user " + kit.UserLabel(row) + " (bulk)", TargetID: row.ID,
				Data: map[string]any{"active": false}, Events: []model.Event{kit.LazyUserEvent(model.EventUserDeactivate, s.UserObject, kit.WithActive(row, false), nil)}}); err != nil {
				return err
			}
			if _, err := s.tokens.RevokeUserTokens(ctx, tx, actor, row.ID, kit.UserLabel(row), tokens.RevokedDeactivated); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Total = len(res.UserIDs)
	return res, nil
}
