package access

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// IP access control lists, FusionAuth's /api/ip-acl. A key's ACL is part of
// what the key cache holds, so every change bumps the api_keys cache version in
// its transaction and refreshes this node's cache after commit.

// ipaclField prefixes every validation field, as FusionAuth names them.
const ipaclField = "ipAccessControlList"

// IPACLSearch is FusionAuth's IPAccessControlListSearchCriteria.
type IPACLSearch struct {
	Name            string `json:"name"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// IPACL returns one list, or model.ErrNotFound.
func (s *Service) IPACL(ctx context.Context, id string) (*model.IPAccessControlList, error) {
	l, err := s.store.Read().IPACLByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("ip acl %s", id)
	}
	return l, err
}

// SearchIPACLs finds lists by name. FusionAuth's "*" wildcard is accepted and
// means what a substring match already does.
func (s *Service) SearchIPACLs(ctx context.Context, q IPACLSearch) ([]*model.IPAccessControlList, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.IPACLOrderColumns)
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be one of id, insertInstant, lastUpdateInstant or name, optionally followed by ASC or DESC.")
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	name := strings.ReplaceAll(strings.TrimSpace(q.Name), "*", "")
	lists, total, err := s.store.Read().SearchIPACLsOrdered(ctx, store.IPACLQuery{Name: name, OrderBy: col, Descending: desc}, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search ip acls: %w", err)
	}
	if lists == nil {
		lists = []*model.IPAccessControlList{}
	}
	return lists, total, nil
}

// CreateIPACL stores a new list. id may be empty (one is generated) or a UUID
// the caller chose.
func (s *Service) CreateIPACL(ctx context.Context, actor kit.Actor, id string, in *model.IPAccessControlList) (*model.IPAccessControlList, error) {
	l := cloneIPACL(in)
	verrs := normalizeIPACL(l)
	if id == "" {
		id = uuid.NewString()
	} else if u, err := uuid.Parse(id); err != nil {
		verrs.Field(ipaclField+".id", "invalid", "The id must be a UUID.")
	} else {
		id = u.String()
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	l.ID, l.InsertInstant, l.LastUpdateInstant = id, now, now
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.IPACLByID(ctx, id); err == nil {
			return model.FieldError(ipaclField+".id", "duplicate", "An IP access control list with this id already exists.")
		} else if !errors.Is(err, store.ErrNoRows) {
			return err
		}
		if err := checkIPACLName(ctx, tx, l); err != nil {
			return err
		}
		if err := tx.InsertIPACL(ctx, l); err != nil {
			return ipaclWriteError(err)
		}
		return s.ipaclChanged(ctx, tx, actor, audit.Change{Message: "Created IP access control list " + ipaclLabel(l), TargetID: l.ID, New: l})
	})
	if err != nil {
		return nil, err
	}
	s.Keys.Refresh(ctx)
	return l, nil
}

// UpdateIPACL replaces a list's name and entries.
func (s *Service) UpdateIPACL(ctx context.Context, actor kit.Actor, id string, in *model.IPAccessControlList) (*model.IPAccessControlList, error) {
	return s.changeIPACL(ctx, actor, id, func(*model.IPAccessControlList) (*model.IPAccessControlList, error) {
		return cloneIPACL(in), nil
	})
}

// PatchIPACL applies a PATCH body in any of FusionAuth's forms (see
// model.PatchForm) to the list in request form, {"ipAccessControlList":{…}},
// then validates the result exactly as an update.
func (s *Service) PatchIPACL(ctx context.Context, actor kit.Actor, id string, form model.PatchForm, body []byte) (*model.IPAccessControlList, error) {
	return s.changeIPACL(ctx, actor, id, func(cur *model.IPAccessControlList) (*model.IPAccessControlList, error) {
		list, err := model.PatchAs[model.IPAccessControlList](cur, ipaclField, "IP access control list", form, body)
		if err != nil {
			return nil, err
		}
		return cloneIPACL(list), nil
	})
}

// changeIPACL reads the list, lets next compute its new state, validates it and
// writes it, all in one transaction.
func (s *Service) changeIPACL(ctx context.Context, actor kit.Actor, id string,
	next func(cur *model.IPAccessControlList) (*model.IPAccessControlList, error)) (*model.IPAccessControlList, error) {
	var out *model.IPAccessControlList
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.IPACLByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("ip acl %s", id)
		}
		if err != nil {
			return err
		}
		l, err := next(cloneIPACL(cur))
		if err != nil {
			return err
		}
		if err := normalizeIPACL(l).Err(); err != nil {
			return err
		}
		l.ID, l.InsertInstant, l.LastUpdateInstant = cur.ID, cur.InsertInstant, s.now()
		if err := checkIPACLName(ctx, tx, l); err != nil {
			return err
		}
		if err := tx.UpdateIPACL(ctx, l); err != nil {
			return ipaclWriteError(err)
		}
		out = l
		return s.ipaclChanged(ctx, tx, actor, audit.Change{Message: "Updated IP access control list " + ipaclLabel(l), TargetID: l.ID, Old: cur, New: l})
	})
	if err != nil {
		return nil, err
	}
	s.Keys.Refresh(ctx)
	return out, nil
}

// maxInUseKeysNamed bounds how many keys an "in use" error lists.
const maxInUseKeysNamed = 5

// DeleteIPACL removes a list. A list some key still uses is refused with a 400
// rather than left to the foreign key.
func (s *Service) DeleteIPACL(ctx context.Context, actor kit.Actor, id string) error {
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.IPACLByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("ip acl %s", id)
		}
		if err != nil {
			return err
		}
		users, err := tx.APIKeysUsingIPACL(ctx, id, maxInUseKeysNamed)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return ipaclInUse(users)
		}
		if err := tx.DeleteIPACL(ctx, id); err != nil {
			if store.IsForeignKey(err) { // a key took it up meanwhile
				return ipaclInUse(nil)
			}
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("ip acl %s", id)
			}
			return err
		}
		return s.ipaclChanged(ctx, tx, actor, audit.Change{Message: "Deleted IP access control list " + ipaclLabel(cur), TargetID: id, Old: cur})
	})
	if err != nil {
		return err
	}
	s.Keys.Refresh(ctx)
	return nil
}

// ipaclChanged audits a change and tells every node's key cache, inside tx.
func (s *Service) ipaclChanged(ctx context.Context, tx *store.Tx, actor kit.Actor, c audit.Change) error {
	if err := s.audit.Write(ctx, tx, actor, c); err != nil {
		return err
	}
	return tx.BumpCacheVersion(ctx, store.CacheAPIKeys)
}

func ipaclInUse(keyIDs []string) error {
	msg := "The IP access control list is in use by one or more API keys. Remove it from them first."
	if len(keyIDs) > 0 {
		msg = "The IP access control list is in use by API key(s) " + strings.Join(keyIDs, ", ") + ". Remove it from them first."
	}
	return model.GeneralError("IPAccessControlListInUse", msg)
}

// ipaclWriteError turns a unique violation that slipped past the checks (a
// concurrent writer) into the duplicate-name error.
func ipaclWriteError(err error) error {
	if store.IsUnique(err) {
		return model.FieldError(ipaclField+".name", "duplicate", "An IP access control list with this name already exists.")
	}
	return err
}

func checkIPACLName(ctx context.Context, tx *store.Tx, l *model.IPAccessControlList) error {
	taken, err := tx.IPACLNameTaken(ctx, l.Name, l.ID)
	if err != nil {
		return err
	}
	if taken {
		return model.FieldError(ipaclField+".name", "duplicate", "An IP access control list with this name already exists.")
	}
	return nil
}

func ipaclLabel(l *model.IPAccessControlList) string {
	return fmt.Sprintf("[%s] (%s)", l.Name, l.ID)
}

func cloneIPACL(in *model.IPAccessControlList) *model.IPAccessControlList {
	if in == nil {
		return &model.IPAccessControlList{}
	}
	out := *in
	out.Entries = append([]model.IPAccessControlEntry(nil), in.Entries...)
	return &out
}

// normalizeIPACL trims and canonicalises l in place and returns what is wrong
// with it. The rules: a name; each entry Allow or Block on a valid address, or
// a range of one family with end ≥ start; exactly one "*" entry, the default
// for addresses no range matches.
func normalizeIPACL(l *model.IPAccessControlList) *model.Errors {
	verrs := &model.Errors{}
	l.Name = strings.TrimSpace(l.Name)
	if l.Name == "" {
		verrs.Field(ipaclField+".name", "blank", "The name is required.")
	}
	defaults := 0
	for i := range l.Entries {
		e := &l.Entries[i]
		field := fmt.Sprintf("%s.entries[%d].", ipaclField, i)
		switch a := strings.TrimSpace(e.Action); {
		case a == "":
			verrs.Field(field+"action", "missing", "The action is required: Allow or Block.")
		case strings.EqualFold(a, model.ACLAllow):
			e.Action = model.ACLAllow
		case strings.EqualFold(a, model.ACLBlock):
			e.Action = model.ACLBlock
		default:
			verrs.Field(field+"action", "invalid", "The action must be Allow or Block.")
		}
		e.StartIPAddress = strings.TrimSpace(e.StartIPAddress)
		e.EndIPAddress = strings.TrimSpace(e.EndIPAddress)
		if e.StartIPAddress == "*" {
			defaults++
			if defaults > 1 {
				verrs.Field(field+"startIPAddress", "duplicate", "Only one entry may have the start address [*].")
			}
			if e.EndIPAddress != "" {
				verrs.Field(field+"endIPAddress", "invalid", "The default entry [*] takes no end address.")
			}
			continue
		}
		if e.StartIPAddress == "" {
			verrs.Field(field+"startIPAddress", "missing", "The start address is required.")
			continue
		}
		start, ok := parseACLAddr(e.StartIPAddress)
		if !ok {
			verrs.Field(field+"startIPAddress", "invalid", "The start address must be an IPv4 or IPv6 address, or [*].")
			continue
		}
		if e.EndIPAddress == "" {
			continue
		}
		end, ok := parseACLAddr(e.EndIPAddress)
		switch {
		case !ok:
			verrs.Field(field+"endIPAddress", "invalid", "The end address must be an IPv4 or IPv6 address.")
		case end.BitLen() != start.BitLen():
			verrs.Field(field+"endIPAddress", "invalid", "The end address must be of the same family as the start address.")
		case end.Less(start):
			verrs.Field(field+"endIPAddress", "invalid", "The end address must not be lower than the start address.")
		}
	}
	if defaults == 0 {
		verrs.Field(ipaclField+".entries", "missing", "An entry with the start address [*] is required: its action applies to every address no other entry matches.")
	}
	return verrs
}

// parseACLAddr parses an entry address the way ACL matching reads it:
// IPv4-mapped IPv6 counts as IPv4. Zones make no sense in an ACL.
func parseACLAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
