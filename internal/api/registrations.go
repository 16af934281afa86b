package api

import "github.com/latchid/latch/internal/kit"

// /api/user/registration: FusionAuth's registration API. Registrations of
// users of tenants outside the request's scope are 404.

// register is POST /api/user/registration[/{userId}[/{applicationId}]]: with a
// "user" member it creates the user and the registration together.
func (s *Server) register(c Call, body kit.Object) (any, error) {
	return s.identity.Register(c, c.Actor, c.Scope, c.Path("userId"), c.Path("applicationId"), body)
}

func (s *Server) retrieveRegistration(c Call, _ struct{}) (any, error) {
	reg, err := s.identity.Registration(c, c.Scope, c.Path("userId"), c.Path("applicationId"))
	return map[string]any{"registration": reg}, err
}

// updateRegistration is PUT /api/user/registration/{userId}[/{applicationId}]:
// the application comes from the path, else from the body.
func (s *Server) updateRegistration(c Call, body kit.Object) (any, error) {
	return s.identity.UpdateRegistration(c, c.Actor, c.Scope, c.Path("userId"), c.Path("applicationId"), body)
}

func (s *Server) patchRegistration(c Call, p Patch) (any, error) {
	return s.identity.PatchRegistration(c, c.Actor, c.Scope, c.Path("userId"), c.Path("applicationId"), p.Form, p.Body)
}

// deleteRegistration is DELETE /api/user/registration/{userId}/{applicationId};
// a body (RegistrationDeleteRequest: event information only) is accepted and
// not needed.
func (s *Server) deleteRegistration(c Call, _ struct{}) (any, error) {
	return nil, s.identity.DeleteRegistration(c, c.Actor, c.Scope, c.Path("userId"), c.Path("applicationId"))
}
