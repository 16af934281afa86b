package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/model"
)

// /api/ip-acl: FusionAuth's IP access control list API.

type ipaclRequest struct {
	IPAccessControlList *model.IPAccessControlList `json:"ipAccessControlList"`
}

type ipaclResponse struct {
	IPAccessControlList *model.IPAccessControlList `json:"ipAccessControlList"`
}

type ipaclSearchResponse struct {
	IPAccessControlLists []*model.IPAccessControlList `json:"ipAccessControlLists"`
	Total                int                          `json:"total"`
}

func (s *Server) createIPACL(c Call, req ipaclRequest) (any, error) {
	l, err := s.access.CreateIPACL(c, c.Actor, c.Path("id"), req.IPAccessControlList)
	return ipaclResponse{l}, err
}

func (s *Server) retrieveIPACL(c Call, _ struct{}) (any, error) {
	l, err := s.access.IPACL(c, c.Path("id"))
	return ipaclResponse{l}, err
}

// ownList refuses a key's change to the IP ACL it is bound to: loosening the
// list would widen where the key, and every key it made, may be used from.
func (s *Server) ownList(w http.ResponseWriter, r *http.Request) bool {
	p := PrincipalFrom(r.Context())
	if p.Key == nil || p.Key.IPAccessControlListID == "" || !strings.EqualFold(p.Key.IPAccessControlListID, r.PathValue("id")) {
		return false
	}
	s.denied(r, p, r.Method+" "+r.URL.Path, "a key may not change the IP access control list it is bound to")
	httpx.WriteStatus(w, s.cfg.ForbiddenStatus)
	return true
}

// notOwnList runs h unless the request changes the calling key's own IP ACL.
func (s *Server) notOwnList(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.ownList(w, r) {
			return
		}
		h(w, r)
	}
}

func (s *Server) updateIPACL(c Call, req ipaclRequest) (any, error) {
	l, err := s.access.UpdateIPACL(c, c.Actor, c.Path("id"), req.IPAccessControlList)
	return ipaclResponse{l}, err
}

// patchIPACL applies a PATCH in the form the Content-Type names: FusionAuth's
// own (application/json: arrays such as entries are appended to), RFC 7396
// merge patch or RFC 6902 JSON Patch, to {"ipAccessControlList":{…}}.
func (s *Server) patchIPACL(c Call, p Patch) (any, error) {
	l, err := s.access.PatchIPACL(c, c.Actor, c.Path("id"), p.Form, p.Body)
	return ipaclResponse{l}, err
}

func (s *Server) deleteIPACL(c Call, _ struct{}) (any, error) {
	return nil, s.access.DeleteIPACL(c, c.Actor, c.Path("id"))
}

// searchIPACLs answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchIPACLs(c Call, q access.IPACLSearch) (any, error) {
	lists, total, err := s.access.SearchIPACLs(c, q)
	return ipaclSearchResponse{IPAccessControlLists: lists, Total: total}, err
}

func ipaclQuery(v url.Values, verrs *model.Errors) (q access.IPACLSearch) {
	q.Name, q.OrderBy = v.Get("name"), v.Get("orderBy")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}

// searchCriteria reads a search's criteria: from a POST body {"search":{…}},
// or, for GET, from the query string through fromQuery.
func searchCriteria[T any](w http.ResponseWriter, r *http.Request, fromQuery func(v url.Values, verrs *model.Errors) T) (T, error) {
	if r.Method == http.MethodPost {
		var req struct {
			Search T `json:"search"`
		}
		err := httpx.DecodeJSON(w, r, &req, true)
		return req.Search, err
	}
	var verrs model.Errors
	q := fromQuery(r.URL.Query(), &verrs)
	return q, verrs.Err()
}

// searchQueryInt reads an optional integer search parameter; garbage is a field
// error named as the body's criteria field would be.
func searchQueryInt(verrs *model.Errors, v url.Values, name string) int {
	s := v.Get(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		verrs.Field("search."+name, "invalid", name+" must be an integer.")
	}
	return n
}

// searchQueryInt64 is searchQueryInt for instants.
func searchQueryInt64(verrs *model.Errors, v url.Values, name string) int64 {
	s := v.Get(name)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		verrs.Field("search."+name, "invalid", name+" must be an instant in epoch milliseconds.")
	}
	return n
}
