package api

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// /api/user: FusionAuth's user API, its search, bulk delete, and the forgot
// and change password calls. Users of tenants outside the request's scope are
// 404; searches return only the scope's users.

type userResponse struct {
	User *model.User `json:"user"`
}

type forgotPasswordResponse struct {
	ChangePasswordID string `json:"changePasswordId"`
}

func (s *Server) createUser(c Call, body kit.Object) (any, error) {
	u, err := s.identity.CreateUser(c, c.Actor, c.Scope, c.Path("id"), body)
	return userResponse{u}, err
}

func (s *Server) retrieveUser(c Call, _ struct{}) (any, error) {
	u, err := s.identity.User(c, c.Scope, c.Path("id"))
	return userResponse{u}, err
}

// retrieveUserBy answers GET /api/user?email=… (or username, loginId,
// changePasswordId). Without one of them it is FusionAuth's [invalid].
func (s *Server) retrieveUserBy(c Call, _ struct{}) (any, error) {
	q := c.Query()
	var u *model.User
	var err error
	switch {
	case q.Has("email"):
		u, err = s.identity.UserBy(c, c.Scope, identity.LookupEmail, q.Get("email"))
	case q.Has("username"):
		u, err = s.identity.UserBy(c, c.Scope, identity.LookupUsername, q.Get("username"))
	case q.Has("loginId"):
		u, err = s.identity.UserBy(c, c.Scope, identity.LookupLoginID, q.Get("loginId"))
	case q.Has("changePasswordId"):
		u, err = s.identity.UserByChangePasswordID(c, c.Scope, q.Get("changePasswordId"))
	default:
		err = model.GeneralError("invalid", "Name the user with an id in the path, or the email, username, loginId or changePasswordId parameter.")
	}
	return userResponse{u}, err
}

// updateUser replaces a user, or with ?reactivate=true (and no body)
// reactivates it.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	actor := PrincipalFrom(r.Context()).Actor(r)
	if queryTrue(r, "reactivate") {
		u, err := s.identity.ReactivateUser(r.Context(), actor, scopeOf(r), r.PathValue("id"))
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, userResponse{u})
		return
	}
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	u, err := s.identity.UpdateUser(r.Context(), actor, scopeOf(r), r.PathValue("id"), body)
	s.reply(w, r, userResponse{u}, err)
}

func (s *Server) patchUser(c Call, p Patch) (any, error) {
	u, err := s.identity.PatchUser(c, c.Actor, c.Scope, c.Path("id"), p.Form, p.Body)
	return userResponse{u}, err
}

// deleteUser deactivates a user, or hard-deletes it with ?hardDelete=true or
// a body {"hardDelete":true} (FusionAuth's UserDeleteSingleRequest).
func (s *Server) deleteUser(c Call, req userDeleteRequest) (any, error) {
	if req.HardDelete || c.QueryTrue("hardDelete") {
		return nil, s.identity.DeleteUser(c, c.Actor, c.Scope, c.Path("id"))
	}
	return nil, s.identity.DeactivateUser(c, c.Actor, c.Scope, c.Path("id"))
}

// userDeleteRequest is FusionAuth's UserDeleteSingleRequest.
type userDeleteRequest struct {
	HardDelete bool `json:"hardDelete"`
}

// queryBool reads an optional boolean parameter; garbage is a field error.
func queryBool(verrs *model.Errors, v url.Values, name string, into *bool) {
	raw := strings.TrimSpace(v.Get(name))
	if raw == "" {
		return
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		verrs.Field(name, "invalid", name+" must be true or false.")
		return
	}
	*into = b
}

// searchUsers answers POST (criteria in the body) and GET (in the query).
func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request) {
	var q identity.UserSearch
	var expand []string
	if r.Method == http.MethodPost {
		var req struct {
			Search identity.UserSearch `json:"search"`
			Expand []string            `json:"expand"`
		}
		if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		q, expand = req.Search, req.Expand
	} else {
		var verrs model.Errors
		v := r.URL.Query()
		q.IDs = v["ids"]
		q.QueryString, q.Query, q.OrderBy, q.NextResults = v.Get("queryString"), v.Get("query"), v.Get("orderBy"), v.Get("nextResults")
		q.StartRow = searchQueryInt(&verrs, v, "startRow")
		q.NumberOfResults = searchQueryInt(&verrs, v, "numberOfResults")
		queryBool(&verrs, v, "accurateTotal", &q.AccurateTotal)
		for i := 0; ; i++ {
			name := v.Get("sortFields[" + strconv.Itoa(i) + "].name")
			if name == "" {
				break
			}
			q.SortFields = append(q.SortFields, identity.SortField{Name: name, Order: v.Get("sortFields[" + strconv.Itoa(i) + "].order")})
		}
		if v.Has("expand") {
			expand = v["expand"]
		}
		if err := verrs.Err(); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
	}
	res, err := s.identity.SearchUsers(r.Context(), scopeOf(r), q, expand)
	s.reply(w, r, res, err)
}

// refreshUserSearchIndex is FusionAuth's PUT /api/user/search. Latch searches
// the database itself, which is always current: there is nothing to refresh.
func (s *Server) refreshUserSearchIndex(w http.ResponseWriter, r *http.Request) {
	httpx.WriteStatus(w, http.StatusOK)
}

// deleteUsers is FusionAuth's bulk delete: userIds (the userId parameter, or
// the body), query or queryString, with hardDelete, dryRun and limit. Query
// parameters override the body.
func (s *Server) deleteUsers(w http.ResponseWriter, r *http.Request) {
	var req identity.UserBulkDelete
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var verrs model.Errors
	v := r.URL.Query()
	if ids := append(slices.Clone(v["userId"]), v["userIds"]...); len(ids) > 0 {
		req.UserIDs = ids
	}
	if v.Has("query") {
		req.Query = v.Get("query")
	}
	if v.Has("queryString") {
		req.QueryString = v.Get("queryString")
	}
	queryBool(&verrs, v, "hardDelete", &req.HardDelete)
	queryBool(&verrs, v, "dryRun", &req.DryRun)
	if v.Has("limit") {
		n, err := strconv.Atoi(v.Get("limit"))
		if err != nil {
			verrs.Field("limit", "invalid", "limit must be an integer.")
		}
		req.Limit = n
	}
	if err := verrs.Err(); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.identity.DeleteUsers(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), req)
	s.reply(w, r, res, err)
}

func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) {
	var req identity.ForgotPasswordRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	id, err := s.identity.ForgotPassword(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), req)
	s.reply(w, r, forgotPasswordResponse{id}, err)
}

// keyScope applies an anonymous route's optional key as an Endpoint route
// would: the key must allow the family and method (else ok is false), and
// X-FusionAuth-TenantId may narrow its tenants, never widen them. The guard
// does this for Endpoint routes; change password is anonymous with a
// changePasswordId and needs a key with a loginId, as in FusionAuth.
func keyScope(r *http.Request, family string) (kit.TenantScope, bool) {
	p := PrincipalFrom(r.Context())
	if p.Key == nil || !p.Key.Allows(family, r.Method) {
		return kit.TenantScope{}, false
	}
	tenants := p.Key.Tenants()
	if h := strings.TrimSpace(r.Header.Get("X-FusionAuth-TenantId")); h != "" {
		if tenants != nil && !slices.Contains(tenants, h) {
			return kit.TenantScope{}, false
		}
		tenants = []string{h}
	}
	return kit.TenantScope{Tenants: tenants}, true
}

// changePassword is FusionAuth's change password: with a changePasswordId
// (in the path or the body) anyone holding the id may use it once; with a
// loginId and the current password it is an API key call; with an access
// token (Authorization: Bearer) and the current password it is the token's
// user's own. A user with a second factor also needs a trust token.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var req identity.ChangePasswordRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	actor := PrincipalFrom(r.Context()).Actor(r)
	code := r.PathValue("changePasswordId")
	if code == "" {
		code = req.ChangePasswordID
	}
	switch {
	case code != "":
		res, err := s.identity.ChangePasswordByID(r.Context(), actor, code, req)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, res)
	case req.LoginID != "":
		scope, ok := keyScope(r, "/api/user/change-password")
		if !ok {
			s.refuseAnonymous(w, r)
			return
		}
		if err := s.identity.ChangePasswordByLoginID(r.Context(), actor, scope, req); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteStatus(w, http.StatusOK)
	case bearerToken(r) != "":
		id, _, actor, err := s.jwtUser(r)
		if err != nil {
			s.refuseJWT(w, r, err)
			return
		}
		res, err := s.identity.ChangePasswordByJWT(r.Context(), actor, id, req)
		if errors.Is(err, model.ErrUnauthorized) {
			s.refuseJWT(w, r, err)
			return
		}
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, res)
	default:
		httpx.WriteError(w, r, s.log, model.GeneralError("invalid", "Send a changePasswordId, a loginId with the currentPassword, or an access token with the currentPassword."))
	}
}

// refuseAnonymous answers a call that needs a key: 401 without one, the
// not-permitted status with one that does not allow the call.
func (s *Server) refuseAnonymous(w http.ResponseWriter, r *http.Request) {
	if PrincipalFrom(r.Context()).Key == nil {
		httpx.WriteStatus(w, http.StatusUnauthorized)
		return
	}
	httpx.WriteStatus(w, s.cfg.ForbiddenStatus)
}

// checkChangePassword is FusionAuth's GET /api/user/change-password[/{id}]:
// 200 when the change may proceed without a trust token, 400
// [TrustTokenRequired] when the user has a second factor, 404 for an unknown,
// used or expired id. The loginId form is an API key call; with neither, the
// access token's user is asked about.
func (s *Server) checkChangePassword(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("changePasswordId")
	if code == "" {
		code = r.URL.Query().Get("changePasswordId")
	}
	loginID := r.URL.Query().Get("loginId")
	var err error
	switch {
	case code != "":
		err = s.identity.CheckChangePasswordID(r.Context(), code)
	case loginID != "":
		scope, ok := keyScope(r, "/api/user/change-password")
		if !ok {
			s.refuseAnonymous(w, r)
			return
		}
		var row *store.UserRow
		if row, _, err = s.identity.RequestUser(r.Context(), scope, "", "", loginID); err == nil {
			err = identity.CheckTrust(row)
		}
	case bearerToken(r) != "":
		id, _, _, jerr := s.jwtUser(r)
		if jerr == nil {
			jerr = s.identity.CheckTrustOf(r.Context(), id)
		}
		if errors.Is(jerr, model.ErrUnauthorized) || jerr != nil && id == "" {
			s.refuseJWT(w, r, jerr) // no valid token, or its user is gone
			return
		}
		err = jerr
	default:
		err = model.GeneralError("invalidGET", "Send a changePasswordId, a loginId or an access token.")
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteStatus(w, http.StatusOK)
}
