package identity

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/identity/userquery"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// User search, FusionAuth's /api/user/search, served from the database with
// indexes; the query syntax Latch reads is in package userquery.

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

// SortField is FusionAuth's SortField (userquery.SortField).
type SortField = userquery.SortField

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
		c, err := userquery.DecodeCursor(in.NextResults)
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
	sorts, err := userquery.ParseSort(in.SortFields, in.OrderBy)
	if err != nil {
		return nil, err
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	q, empty, err := userquery.Build(scope, in.QueryString, in.Query)
	if err != nil {
		return nil, err
	}
	if empty {
		return res, nil
	}
	q.Sort = sorts
	if after != nil {
		if !userquery.Cursorable(sorts) {
			return nil, model.FieldError("search.nextResults", "invalid", "nextResults needs a search sorted by one field.")
		}
		if len(sorts) == 0 || userquery.NumericSort(sorts[0].Field) {
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
	if len(rows) == limit && userquery.Cursorable(sorts) {
		field := ""
		if len(sorts) == 1 {
			field = sorts[0].Field
		}
		last := rows[len(rows)-1]
		u := res.Users[len(rows)-1]
		if key, ok := store.UserSortValue(last, field, u.FirstName, u.LastName); ok {
			res.NextResults = userquery.EncodeCursor(userquery.Cursor{QueryString: in.QueryString, Query: in.Query, SortFields: in.SortFields,
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
		if q, empty, err = userquery.Build(scope, in.QueryString, in.Query); err != nil {
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
				Data: map[string]any{"active": false}, Events: []model.Event{kit.LazyUserEvent(ctx, tx, model.EventUserDeactivate, s.FullUserObject, kit.WithActive(row, false), nil)}}); err != nil {
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
