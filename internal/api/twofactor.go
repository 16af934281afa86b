package api

import (
	"errors"
	"net/http"

	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// Two-factor authentication: secrets, enabling and disabling methods, and the
// second step of a login (authentication/twofactor.go).
//
// The user-facing forms FusionAuth offers with a JWT instead of a key (GET
// /api/two-factor/secret, POST and DELETE /api/user/two-factor without a
// user id) are Anonymous in the route table: the handler accepts a key
// allowed to call the family, or a valid access token, whose user is the
// one acted on. /api/two-factor/login needs a key exactly when /api/login
// does (requireAuthentication), with the /api/login permission.

// statusTwoFactorCodeInvalid is FusionAuth's status of a wrong two-factor code.
const statusTwoFactorCodeInvalid = 421

// writeTwoFactorError renders a wrong code as FusionAuth's 421 (empty body).
func (s *Server) writeTwoFactorError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, authentication.ErrTwoFactorCodeInvalid) {
		httpx.WriteStatus(w, statusTwoFactorCodeInvalid)
		return
	}
	s.writeLoginError(w, r, err)
}

// jwtUser is the user of a request's valid access token: its id, a scope of
// its tenant, and the actor of its changes. model.ErrUnauthorized when there
// is no valid token; any other error (the database away) is no verdict on
// the token and must not be answered as one.
func (s *Server) jwtUser(r *http.Request) (string, kit.TenantScope, kit.Actor, error) {
	tok := bearerToken(r)
	if tok == "" {
		return "", kit.TenantScope{}, kit.Actor{}, model.ErrUnauthorized
	}
	j, err := s.tokens.ValidateJWT(r.Context(), tok)
	if err != nil {
		return "", kit.TenantScope{}, kit.Actor{}, err
	}
	if j.Subject == "" || j.TenantID == "" {
		return "", kit.TenantScope{}, kit.Actor{}, model.ErrUnauthorized
	}
	a := PrincipalFrom(r.Context()).Actor(r)
	a.Type, a.ID, a.Name = kit.ActorUser, j.Subject, ""
	return j.Subject, kit.TenantScope{Tenants: []string{j.TenantID}}, a, nil
}

// refuseJWT answers a failed jwtUser: as a call without credentials for
// want of a valid token, as a server error otherwise.
func (s *Server) refuseJWT(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, model.ErrUnauthorized) {
		s.refuseAnonymous(w, r)
		return
	}
	httpx.WriteError(w, r, s.log, err)
}

// twoFactorSecret is GET /api/two-factor/secret, with a key or a JWT.
func (s *Server) twoFactorSecret(w http.ResponseWriter, r *http.Request) {
	if _, ok := keyScope(r, "/api/two-factor/secret"); !ok {
		if _, _, _, err := s.jwtUser(r); err != nil {
			s.refuseJWT(w, r, err)
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, authentication.GenerateTwoFactorSecret())
}

// twoFactorTarget is the user a /api/user/two-factor call acts on: the
// {userId} of a key call (the guard checked the key), or the JWT's user.
func (s *Server) twoFactorTarget(w http.ResponseWriter, r *http.Request) (string, kit.TenantScope, kit.Actor, bool) {
	if id := r.PathValue("userId"); id != "" {
		return id, scopeOf(r), PrincipalFrom(r.Context()).Actor(r), true
	}
	id, scope, actor, err := s.jwtUser(r)
	if err != nil {
		s.refuseJWT(w, r, err)
	}
	return id, scope, actor, err == nil
}

// enableTwoFactor is POST /api/user/two-factor/{userId} (key) and POST
// /api/user/two-factor (JWT).
func (s *Server) enableTwoFactor(w http.ResponseWriter, r *http.Request) {
	id, scope, actor, ok := s.twoFactorTarget(w, r)
	if !ok {
		return
	}
	var req authentication.TwoFactorRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.authentication.EnableTwoFactor(r.Context(), actor, scope, id, req)
	if err != nil {
		s.writeTwoFactorError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

// disableTwoFactor is DELETE /api/user/two-factor/{userId} (key) and DELETE
// /api/user/two-factor (JWT), with methodId and code as parameters or in a
// TwoFactorDisableRequest body.
func (s *Server) disableTwoFactor(w http.ResponseWriter, r *http.Request) {
	id, scope, actor, ok := s.twoFactorTarget(w, r)
	if !ok {
		return
	}
	var req authentication.TwoFactorDisableRequest
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	if v := q.Get("methodId"); v != "" {
		req.MethodID = v
	}
	if v := q.Get("code"); v != "" {
		req.Code = v
	}
	if err := s.authentication.DisableTwoFactor(r.Context(), actor, scope, id, req); err != nil {
		s.writeTwoFactorError(w, r, err)
		return
	}
	httpx.WriteStatus(w, http.StatusOK)
}

// twoFactorLogin is POST /api/two-factor/login.
func (s *Server) twoFactorLogin(w http.ResponseWriter, r *http.Request) {
	var req authentication.TwoFactorLoginRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.authentication.TwoFactorLogin(r.Context(), loginCaller(r, "/api/login"), req)
	s.countLogin(res, err)
	if err != nil {
		s.writeTwoFactorError(w, r, err)
		return
	}
	s.writeLoginResult(w, r, res)
}

// startTwoFactor is POST /api/two-factor/start (a key call): a step-up.
func (s *Server) startTwoFactor(w http.ResponseWriter, r *http.Request) {
	var req authentication.TwoFactorStartRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.authentication.StartTwoFactor(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), req)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

// twoFactorStatus is GET /api/two-factor/status[/{twoFactorTrustId}]
// (userId and applicationId in the query) and POST /api/two-factor/status (a
// TwoFactorStatusRequest): 200 when a password login of the user would need
// no second factor (none enrolled, or the twoFactorTrustId holds), 242 when
// it would.
func (s *Server) twoFactorStatus(w http.ResponseWriter, r *http.Request) {
	var req authentication.TwoFactorStatusRequest
	if r.Method == http.MethodPost {
		if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
	} else {
		q := r.URL.Query()
		req.UserID, req.ApplicationID, req.TwoFactorTrustID = q.Get("userId"), q.Get("applicationId"), r.PathValue("twoFactorTrustId")
	}
	res, required, err := s.authentication.TwoFactorStatus(r.Context(), scopeOf(r), req)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	status := http.StatusOK
	if required {
		status = loginStatus[authentication.TwoFactorRequired]
	}
	httpx.WriteJSON(w, status, res)
}

// sendTwoFactorCode is POST /api/two-factor/send (a key: an enrolment code
// for userId to email) and POST /api/two-factor/send/{twoFactorId}
// (anonymous: a code for the login's email method).
func (s *Server) sendTwoFactorCode(w http.ResponseWriter, r *http.Request) {
	var req authentication.TwoFactorSendRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var scope *kit.TenantScope
	twoFactorID := r.PathValue("twoFactorId")
	if twoFactorID == "" {
		sc, ok := keyScope(r, "/api/two-factor/send")
		if !ok {
			s.refuseAnonymous(w, r)
			return
		}
		scope = &sc
	}
	if err := s.authentication.SendTwoFactorCode(r.Context(), PrincipalFrom(r.Context()).Actor(r), scope, twoFactorID, req); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteStatus(w, http.StatusOK)
}
