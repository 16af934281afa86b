package api

import (
	"net/http"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/mailflows"
)

// Email verification (internal/mailflows): POST verifies by verificationId
// (anonymous, as FusionAuth) or by userId (a key with the permission); PUT
// issues a new verificationId and emails it.

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) {
	var req mailflows.VerifyEmailRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if req.UserID != "" {
		scope, ok := keyScope(r, "/api/user/verify-email")
		if !ok {
			s.refuseAnonymous(w, r)
			return
		}
		req.VerificationID = ""
		s.finishVerifyEmail(w, r, s.mailflows.VerifyEmail(r.Context(), PrincipalFrom(r.Context()).Actor(r), &scope, req))
		return
	}
	s.finishVerifyEmail(w, r, s.mailflows.VerifyEmail(r.Context(), PrincipalFrom(r.Context()).Actor(r), nil, req))
}

func (s *Server) finishVerifyEmail(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteStatus(w, http.StatusOK)
}

// resendVerifyEmail is PUT /api/user/verify-email?email=…[&sendVerifyEmail=false].
func (s *Server) resendVerifyEmail(c Call, _ struct{}) (any, error) {
	q := c.Query()
	send := q.Get("sendVerifyEmail") != "false"
	return s.mailflows.ResendVerification(c, c.Actor, c.Scope, q.Get("email"), send)
}

// Registration verification: POST uses a verificationId (anonymous, as
// FusionAuth; the older form puts it in the path), PUT issues a new one.

func (s *Server) verifyRegistration(w http.ResponseWriter, r *http.Request) {
	var req mailflows.VerifyRegistrationRequest
	if id := r.PathValue("verificationId"); id != "" {
		req.VerificationID = id
	} else if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.finishVerifyEmail(w, r, s.mailflows.VerifyRegistration(r.Context(), PrincipalFrom(r.Context()).Actor(r), req))
}

// resendVerifyRegistration is PUT /api/user/verify-registration?email=…&applicationId=…[&sendVerifyPasswordEmail=false].
func (s *Server) resendVerifyRegistration(c Call, _ struct{}) (any, error) {
	q := c.Query()
	send := q.Get("sendVerifyPasswordEmail") != "false"
	return s.mailflows.ResendRegistrationVerification(c, c.Actor, c.Scope, q.Get("email"), q.Get("applicationId"), send)
}
