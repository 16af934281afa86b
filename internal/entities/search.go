package entities

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Entity search, FusionAuth's /api/entity/search, served from the database.
// FusionAuth passes queryString and query to Elasticsearch; Latch reads the
// part of that syntax people use on entities, and refuses the rest with a
// 400 rather than read it another way:
//
//	*                      every entity
//	billing  billing*      a prefix of the name (case-insensitive)
//	name:Billing           that name; name:bill* name:*ing name:*ll* wildcards
//	id:… tenantId:… type.id:… clientId:…   exact values
//
// Terms are ANDed (the word AND may be written). The JSON query reads
// match_all, term, terms, match (a substring of the name), prefix, wildcard,
// ids, and bool must/filter, on the same fields (a ".keyword" suffix is
// ignored).

// entityConds collects the conditions of a search; nil lists are unconstrained.
type entityConds struct {
	q    store.EntityQuery
	none bool // two conditions that no entity can meet
	errs *model.Errors
	at   string // the field errors name
}

// intersect narrows a constrained list by another; nil means unconstrained.
func intersect(cur, with []string, none bool) ([]string, bool) {
	if with == nil {
		return cur, none
	}
	if cur == nil {
		return slices.Clone(with), none || len(with) == 0
	}
	out := []string{}
	for _, v := range cur {
		if slices.Contains(with, v) {
			out = append(out, v)
		}
	}
	return out, none || len(out) == 0
}

func (c *entityConds) fail(msg string) { c.errs.Field(c.at, "invalid", msg) }

// exact adds field = one of values.
func (c *entityConds) exact(field string, values []string) {
	field = strings.TrimSuffix(field, ".keyword")
	var into *[]string
	canon := true
	switch field {
	case "id":
		into = &c.q.IDs
	case "tenantId":
		into = &c.q.TenantIDs
	case "type.id", "typeId":
		into = &c.q.TypeIDs
	case "clientId":
		into, canon = &c.q.ClientIDs, false
	case "name":
		for _, v := range values {
			if len(values) > 1 {
				c.fail("Several names in one term are not supported; use one term per name.")
				return
			}
			c.q.NameWildcards = append(c.q.NameWildcards, strings.NewReplacer("*", `\*`, "?", `\?`).Replace(v))
		}
		return
	default:
		c.fail(fmt.Sprintf("The field [%s] cannot be searched. Search id, tenantId, type.id, clientId or name.", field))
		return
	}
	vals := make([]string, 0, len(values))
	for _, v := range values {
		if canon {
			id, ok := kit.CanonicalID(v)
			if !ok {
				continue // no entity has it
			}
			v = id
		}
		vals = append(vals, v)
	}
	*into, c.none = intersect(*into, vals, c.none)
}

// wildcard adds field matches pattern (* and ?); only the name takes patterns.
func (c *entityConds) wildcard(field, pattern string) {
	field = strings.TrimSuffix(field, ".keyword")
	if !strings.ContainsAny(pattern, "*?") {
		c.exact(field, []string{pattern})
		return
	}
	if field != "name" {
		if pattern == "*" {
			return // the field is always set
		}
		c.fail(fmt.Sprintf("Wildcards are supported on the name only, not on [%s].", field))
		return
	}
	if strings.Trim(pattern, "*") != "" {
		c.q.NameWildcards = append(c.q.NameWildcards, pattern)
	}
}

// queryString reads the Lucene subset described above.
func (c *entityConds) queryString(qs string) {
	for _, term := range strings.Fields(qs) {
		term = strings.Trim(term, `"`)
		if term == "AND" || term == "*" || term == "" {
			continue
		}
		if strings.ContainsAny(term, "()[]{}~^|!") || term == "OR" || term == "NOT" || strings.HasPrefix(term, "-") || strings.HasPrefix(term, "+") {
			c.fail(fmt.Sprintf("[%s]: only terms ANDed together are supported (no OR, NOT, groups, ranges, fuzzy or boosted terms).", term))
			return
		}
		if field, value, ok := strings.Cut(term, ":"); ok {
			c.wildcard(field, strings.Trim(value, `"`))
			continue
		}
		if !strings.HasSuffix(term, "*") {
			term += "*"
		}
		c.wildcard("name", term)
	}
}

// leaf reads {field: value} or {field: {key: value}} of term, match, prefix, wildcard.
func leaf(body any, key string) (field string, value any, ok bool) {
	m, isMap := body.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for f, v := range m {
		if inner, isMap := v.(map[string]any); isMap {
			v = inner[key]
		}
		return f, v, true
	}
	return "", nil, false
}

func scalar(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return fmt.Sprint(t), true
	}
	return "", false
}

// query reads one clause of the JSON query.
func (c *entityConds) query(clause any, depth int) {
	m, ok := clause.(map[string]any)
	if !ok || len(m) != 1 || depth > 8 {
		c.fail("Each query clause must be an object with one member.")
		return
	}
	for kind, body := range m {
		switch kind {
		case "match_all":
		case "bool":
			b, ok := body.(map[string]any)
			if !ok {
				c.fail("[bool] must be an object.")
				return
			}
			for k, v := range b {
				switch k {
				case "must", "filter":
					list, isList := v.([]any)
					if !isList {
						list = []any{v}
					}
					for _, sub := range list {
						c.query(sub, depth+1)
					}
				default:
					c.fail(fmt.Sprintf("[bool.%s] is not supported; use must or filter.", k))
				}
			}
		case "term", "match", "prefix", "wildcard":
			key := map[string]string{"term": "value", "match": "query", "prefix": "value", "wildcard": "value"}[kind]
			field, v, ok := leaf(body, key)
			value, isScalar := scalar(v)
			if !ok || !isScalar {
				c.fail(fmt.Sprintf("[%s] must name one field and its value.", kind))
				return
			}
			switch kind {
			case "term":
				c.exact(field, []string{value})
			case "match":
				if strings.TrimSuffix(field, ".keyword") == "name" {
					c.wildcard(field, "*"+strings.NewReplacer("*", "", "?", "").Replace(value)+"*")
				} else {
					c.exact(field, []string{value})
				}
			case "prefix":
				c.wildcard(field, strings.NewReplacer("*", "", "?", "").Replace(value)+"*")
			case "wildcard":
				c.wildcard(field, value)
			}
		case "terms":
			b, ok := body.(map[string]any)
			if !ok || len(b) != 1 {
				c.fail("[terms] must name one field and its values.")
				return
			}
			for field, v := range b {
				list, _ := v.([]any)
				vals := make([]string, 0, len(list))
				for _, item := range list {
					if s, ok := scalar(item); ok {
						vals = append(vals, s)
					}
				}
				c.exact(field, vals)
			}
		case "ids":
			b, _ := body.(map[string]any)
			list, _ := b["values"].([]any)
			vals := make([]string, 0, len(list))
			for _, item := range list {
				if s, ok := item.(string); ok {
					vals = append(vals, s)
				}
			}
			c.exact("id", vals)
		default:
			c.fail(fmt.Sprintf("The query [%s] is not supported; use match_all, term, terms, match, prefix, wildcard, ids or bool.", kind))
		}
	}
}

// parseEntitySearch turns criteria into a store query. none reports that no
// entity can match.
func parseEntitySearch(q EntitySearch, verrs *model.Errors) (store.EntityQuery, bool) {
	c := &entityConds{errs: verrs}
	if q.IDs != nil {
		c.at = "search.ids"
		c.exact("id", q.IDs)
	}
	if strings.TrimSpace(q.QueryString) != "" {
		c.at = "search.queryString"
		c.queryString(q.QueryString)
	}
	if strings.TrimSpace(q.Query) != "" {
		c.at = "search.query"
		v, err := model.DecodeJSONValue([]byte(q.Query))
		if err != nil {
			c.fail("[search.query] is not valid JSON.")
		} else {
			c.query(v, 0)
		}
	}
	if q.IDs == nil && strings.TrimSpace(q.QueryString) == "" && strings.TrimSpace(q.Query) == "" {
		verrs.Field("search.queryString", "blank", "Give ids, queryString or query.")
	}
	orderBy := q.OrderBy
	if len(q.SortFields) > 0 {
		if len(q.SortFields) > 1 {
			verrs.Field("search.sortFields", "invalid", "One sort field is supported.")
		}
		f := q.SortFields[0]
		orderBy = strings.TrimSuffix(f.Name, ".keyword")
		switch strings.ToLower(f.Order) {
		case "", "asc":
		case "desc":
			orderBy += " DESC"
		default:
			verrs.Field("search.sortFields[0].order", "invalid", "order must be asc or desc.")
		}
	}
	col, desc, ok := kit.ParseOrderBy(orderBy, store.EntityOrderColumns)
	if !ok {
		verrs.Field("search.sortFields", "invalid", "Sort by one of id, name, clientId, insertInstant, lastUpdateInstant, tenantId or type.id.")
	}
	c.q.OrderBy, c.q.Descending = col, desc
	return c.q, c.none
}
