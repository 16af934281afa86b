// Package userquery reads the search syntax of FusionAuth's /api/user/search
// into store queries: the query string, the JSON query, the sort and the
// nextResults cursor. It knows nothing of the database or of HTTP.
package userquery

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
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

// SortField is FusionAuth's SortField. Missing values sort first in ascending
// order and last in descending order, on both databases.
type SortField struct {
	Name    string `json:"name"`
	Order   string `json:"order,omitempty"`
	Missing string `json:"missing,omitempty"`
}

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

// ParseSort reads sortFields, or FusionAuth's older orderBy.
func ParseSort(fields []SortField, orderBy string) ([]store.UserSort, error) {
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

// Cursor is the content of nextResults: the search it continues and
// the last row's sort key. It is not secret: a client that edits it gets
// another search within its own scope.
type Cursor struct {
	QueryString   string      `json:"qs,omitempty"`
	Query         string      `json:"q,omitempty"`
	SortFields    []SortField `json:"sf,omitempty"`
	AccurateTotal bool        `json:"at,omitempty"`
	Key           string      `json:"k"`
	ID            string      `json:"id"`
}

func EncodeCursor(c Cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func DecodeCursor(s string) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if _, ok := kit.CanonicalID(c.ID); err != nil || !ok || strings.ContainsRune(c.Key, 0) {
		return c, model.FieldError("search.nextResults", "invalid", "nextResults is not a value a previous search returned.")
	}
	return c, nil
}

// NumericSort tells whether a sort field's key is a number.
func NumericSort(field string) bool {
	switch strings.ToLower(field) {
	case "", "insertinstant", "lastupdateinstant":
		return true
	}
	return false
}

// Cursorable tells whether a search order can continue with nextResults: one
// sort key whose value a row gives back.
func Cursorable(sorts []store.UserSort) bool {
	return len(sorts) == 0 || (len(sorts) == 1 && !strings.EqualFold(sorts[0].Field, "lastLoginInstant"))
}

// Build builds the store query of a search's terms (query before
// queryString, as FusionAuth prefers). empty is true when nothing can match.
func Build(scope kit.TenantScope, qs, query string) (store.UserQuery, bool, error) {
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
