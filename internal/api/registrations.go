package api

import (
	"net/http"

	"github.com/latchid/latch/internal/httpx"
)

// /api/user/registration: FusionAuth's registration API. Registrations of
// users of tenants outside the request's scope are 404.

// register is POST /api/user/registration[/{userId}[/{applicationId}]]: with a
// "user" member it creates the user and the registration together.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.svc.Identity.Register(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("userId"), r.PathValue("applicationId"), body)
	s.reply(w, r, res, err)
}

func (s *Server) retrieveRegistration(w http.ResponseWriter, r *http.Request) {
	reg, err := s.svc.Identity.Registration(r.Context(), scopeOf(r), r.PathValue("userId"), r.PathValue("applicationId"))
	s.reply(w, r, map[string]any{"registration": reg}, err)
}

// updateRegistration is PUT /api/user/registration/{userId}[/{applicationId}]:
// the application comes from the path, else from the body.
func (s *Server) updateRegistration(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.svc.Identity.UpdateRegistration(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("userId"), r.PathValue("applicationId"), body)
	s.reply(w, r, res, err)
}

func (s *Server) patchRegistration(w http.ResponseWriter, r *http.Request) {
	form, patch, err := readPatch(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.svc.Identity.PatchRegistration(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("userId"), r.PathValue("applicationId"), form, patch)
	s.reply(w, r, res, err)
}

// deleteRegistration is DELETE /api/user/registration/{userId}/{applicationId};
// a body (RegistrationDeleteRequest: event information only) is accepted and
// not needed.
func (s *Server) deleteRegistration(w http.ResponseWriter, r *http.Request) {
	var ignored any
	if err := httpx.DecodeJSON(w, r, &ignored, true); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.reply(w, r, nil, s.svc.Identity.DeleteRegistration(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("userId"), r.PathValue("applicationId")))
}
