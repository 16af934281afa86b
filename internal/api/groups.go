package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// /api/group and /api/group/member: FusionAuth's group API. Groups of tenants
// outside the request's scope are 404 (or, named in a member request body,
// "[invalid]members").

type groupResponse struct {
	Group kit.Object `json:"group"`
}

type groupsResponse struct {
	Groups []kit.Object `json:"groups"`
}

type groupSearchResponse struct {
	Groups []kit.Object `json:"groups"`
	Total  int          `json:"total"`
}

type memberResponse struct {
	Members map[string][]kit.Object `json:"members"`
}

type memberSearchResponse struct {
	Members []kit.Object `json:"members"`
	Total   int          `json:"total"`
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	g, err := s.svc.Groups.CreateGroup(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), body)
	s.reply(w, r, groupResponse{g}, err)
}

func (s *Server) retrieveGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.svc.Groups.Group(r.Context(), scopeOf(r), r.PathValue("id"))
	s.reply(w, r, groupResponse{g}, err)
}

func (s *Server) retrieveGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.svc.Groups.Groups(r.Context(), scopeOf(r))
	s.reply(w, r, groupsResponse{gs}, err)
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	g, err := s.svc.Groups.UpdateGroup(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), body)
	s.reply(w, r, groupResponse{g}, err)
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request) {
	form, patch, err := readPatch(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	g, err := s.svc.Groups.PatchGroup(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), form, patch)
	s.reply(w, r, groupResponse{g}, err)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	s.reply(w, r, nil, s.svc.Groups.DeleteGroup(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id")))
}

// searchGroups answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchGroups(w http.ResponseWriter, r *http.Request) {
	q, err := searchCriteria(w, r, func(v url.Values, verrs *model.Errors) (q groups.GroupSearch) {
		q.Name, q.TenantID, q.OrderBy = v.Get("name"), v.Get("tenantId"), v.Get("orderBy")
		q.StartRow = searchQueryInt(verrs, v, "startRow")
		q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
		return q
	})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	gs, total, err := s.svc.Groups.SearchGroups(r.Context(), scopeOf(r), q)
	s.reply(w, r, groupSearchResponse{Groups: gs, Total: total}, err)
}

// writeGroupMembers is POST (add) and PUT (replace) /api/group/member.
func (s *Server) writeGroupMembers(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	actor := PrincipalFrom(r.Context()).Actor(r)
	var members map[string][]kit.Object
	if r.Method == http.MethodPut {
		members, err = s.svc.Groups.ReplaceGroupMembers(r.Context(), actor, scopeOf(r), body)
	} else {
		members, err = s.svc.Groups.AddGroupMembers(r.Context(), actor, scopeOf(r), body)
	}
	s.reply(w, r, memberResponse{members}, err)
}

// deleteGroupMembers is DELETE /api/group/member/{memberId}, or DELETE
// /api/group/member with ?groupId=[&userId=] or a MemberDeleteRequest body.
func (s *Server) deleteGroupMembers(w http.ResponseWriter, r *http.Request) {
	ctx, actor, scope := r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r)
	var err error
	q := r.URL.Query()
	switch {
	case r.PathValue("memberId") != "":
		err = s.svc.Groups.RemoveGroupMemberByID(ctx, actor, scope, r.PathValue("memberId"))
	case strings.TrimSpace(q.Get("groupId")) != "":
		err = s.svc.Groups.RemoveGroupMember(ctx, actor, scope, q.Get("groupId"), strings.TrimSpace(q.Get("userId")))
	default:
		var body kit.Object
		if body, err = decodeObject(w, r); err == nil {
			err = s.svc.Groups.RemoveGroupMembers(ctx, actor, scope, body)
		}
	}
	s.reply(w, r, nil, err)
}

// searchGroupMembers answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchGroupMembers(w http.ResponseWriter, r *http.Request) {
	q, err := searchCriteria(w, r, func(v url.Values, verrs *model.Errors) (q groups.MemberSearch) {
		q.GroupID, q.UserID, q.TenantID, q.OrderBy = v.Get("groupId"), v.Get("userId"), v.Get("tenantId"), v.Get("orderBy")
		q.StartRow = searchQueryInt(verrs, v, "startRow")
		q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
		return q
	})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	ms, total, err := s.svc.Groups.SearchGroupMembers(r.Context(), scopeOf(r), q)
	s.reply(w, r, memberSearchResponse{Members: ms, Total: total}, err)
}
