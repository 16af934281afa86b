package admin

import "net/http"

func (a *Admin) apiKeys(w http.ResponseWriter, r *http.Request, s *session)        {}
func (a *Admin) newAPIKey(w http.ResponseWriter, r *http.Request, s *session)      {}
func (a *Admin) createAPIKey(w http.ResponseWriter, r *http.Request, s *session)   {}
func (a *Admin) editAPIKey(w http.ResponseWriter, r *http.Request, s *session)     {}
func (a *Admin) updateAPIKey(w http.ResponseWriter, r *http.Request, s *session)   {}
func (a *Admin) deleteAPIKey(w http.ResponseWriter, r *http.Request, s *session)   {}
func (a *Admin) auditLog(w http.ResponseWriter, r *http.Request, s *session)       {}
func (a *Admin) exportAuditLog(w http.ResponseWriter, r *http.Request, s *session) {}
