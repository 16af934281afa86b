package admin

import "net/http"

func (a *Admin) auditLog(w http.ResponseWriter, r *http.Request, s *session)       {}
func (a *Admin) exportAuditLog(w http.ResponseWriter, r *http.Request, s *session) {}
