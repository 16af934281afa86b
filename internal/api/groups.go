package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// /api/group and /api/group/member: FusionAuth's group API. Groups of tenants
// outside the request's scope are 404 (or, named in a member request body,
// "[invalid]members").

type groupResponse struct {
	Group *model.Group `json:"group"`
}

type groupsResponse struct {
	Groups []model.Group `json:"groups"`
}

type groupSearchResponse struct {
	Groups []model.Group `json:"groups"`
	Total  int           `json:"total"`
}

type memberResponse struct {
	Members map[string][]model.GroupMember `json:"members"`
}

type memberSearchResponse struct {
	Members []model.GroupMember `json:"members"`
	Total   int                 `json:"total"`
}

// groupRequestBody reads a GroupRequest body.
func groupRequestBody(w http.ResponseWriter, r *http.Request) (*groups.GroupRequest, error) {
	o, err := decodeObject(w, r)
	if err != nil {
		return nil, err
	}
	return groups.ReadGroupRequest(o), nil
}

// memberRequestBody reads a MemberRequest body.
func memberRequestBody(w http.ResponseWriter, r *http.Request) (*groups.MemberRequest, error) {
	o, err := decodeObject(w, r)
	if err != nil {
		return nil, err
	}
	return groups.ReadMemberRequest(o)
}

func (s *Server) createGroup(c Call, req *groups.GroupRequest) (any, error) {
	g, err := s.groups.CreateGroup(c, c.Actor, c.Scope, c.Path("id"), req)
	return groupResponse{g}, err
}

func (s *Server) retrieveGroup(c Call, _ struct{}) (any, error) {
	g, err := s.groups.Group(c, c.Scope, c.Path("id"))
	return groupResponse{g}, err
}

func (s *Server) retrieveGroups(c Call, _ struct{}) (any, error) {
	gs, err := s.groups.Groups(c, c.Scope)
	return groupsResponse{gs}, err
}

func (s *Server) updateGroup(c Call, req *groups.GroupRequest) (any, error) {
	g, err := s.groups.UpdateGroup(c, c.Actor, c.Scope, c.Path("id"), req)
	return groupResponse{g}, err
}

func (s *Server) patchGroup(c Call, p Patch) (any, error) {
	g, err := s.groups.PatchGroup(c, c.Actor, c.Scope, c.Path("id"), p.Form, p.Body)
	return groupResponse{g}, err
}

func (s *Server) deleteGroup(c Call, _ struct{}) (any, error) {
	return nil, s.groups.DeleteGroup(c, c.Actor, c.Scope, c.Path("id"))
}

// searchGroups answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchGroups(c Call, q groups.GroupSearch) (any, error) {
	gs, total, err := s.groups.SearchGroups(c, c.Scope, q)
	return groupSearchResponse{Groups: gs, Total: total}, err
}

func groupQuery(v url.Values, verrs *model.Errors) (q groups.GroupSearch) {
	q.Name, q.TenantID, q.OrderBy = v.Get("name"), v.Get("tenantId"), v.Get("orderBy")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}

// writeGroupMembers is POST (add) and PUT (replace) /api/group/member.
func (s *Server) writeGroupMembers(c Call, req *groups.MemberRequest) (any, error) {
	var members map[string][]model.GroupMember
	var err error
	if c.r.Method == http.MethodPut {
		members, err = s.groups.ReplaceGroupMembers(c, c.Actor, c.Scope, req)
	} else {
		members, err = s.groups.AddGroupMembers(c, c.Actor, c.Scope, req)
	}
	return memberResponse{members}, err
}

// deleteGroupMembers is DELETE /api/group/member/{memberId}, or DELETE
// /api/group/member with ?groupId=[&userId=] or a MemberDeleteRequest body.
func (s *Server) deleteGroupMembers(w http.ResponseWriter, r *http.Request) {
	ctx, actor, scope := r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r)
	var err error
	q := r.URL.Query()
	switch {
	case r.PathValue("memberId") != "":
		err = s.groups.RemoveGroupMemberByID(ctx, actor, scope, r.PathValue("memberId"))
	case strings.TrimSpace(q.Get("groupId")) != "":
		err = s.groups.RemoveGroupMember(ctx, actor, scope, q.Get("groupId"), strings.TrimSpace(q.Get("userId")))
	default:
		var body kit.Object
		if body, err = decodeObject(w, r); err == nil {
			err = s.groups.RemoveGroupMembers(ctx, actor, scope, groups.ReadMemberDeleteRequest(body))
		}
	}
	s.reply(w, r, nil, err)
}

// searchGroupMembers answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchGroupMembers(c Call, q groups.MemberSearch) (any, error) {
	ms, total, err := s.groups.SearchGroupMembers(c, c.Scope, q)
	return memberSearchResponse{Members: ms, Total: total}, err
}

func memberQuery(v url.Values, verrs *model.Errors) (q groups.MemberSearch) {
	q.GroupID, q.UserID, q.TenantID, q.OrderBy = v.Get("groupId"), v.Get("userId"), v.Get("tenantId"), v.Get("orderBy")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}
