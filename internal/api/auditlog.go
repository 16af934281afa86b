package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/model"
)

// /api/system/audit-log: reading FusionAuth's audit log. Entries carry, as
// extensions, who acted (actorType, actorId), the request (method, path), the
// object changed (targetId) and the source address.

type auditLogResponse struct {
	AuditLog *model.AuditLog `json:"auditLog"`
}

type auditLogSearchResponse struct {
	AuditLogs []*model.AuditLog `json:"auditLogs"`
	Total     int               `json:"total"`
}

func (s *Server) retrieveAuditLog(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.WriteStatus(w, http.StatusNotFound) // no such entry can exist
		return
	}
	a, err := s.audit.Entry(r.Context(), id)
	s.reply(w, r, auditLogResponse{a}, err)
}

// searchAuditLogs answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchAuditLogs(c Call, q audit.Search) (any, error) {
	logs, total, err := s.audit.Search(c, q)
	return auditLogSearchResponse{AuditLogs: logs, Total: total}, err
}

func auditQuery(v url.Values, verrs *model.Errors) (q audit.Search) {
	q.Message, q.User, q.OrderBy = v.Get("message"), v.Get("user"), v.Get("orderBy")
	q.Start = searchQueryInt64(verrs, v, "start")
	q.End = searchQueryInt64(verrs, v, "end")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}
