package api

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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

// auditAppend is the body of POST /api/system/audit-log.
type auditAppend = audit.AppendRequest

// createAuditLog is POST /api/system/audit-log.
func (s *Server) createAuditLog(c Call, req auditAppend) (any, error) {
	a, err := s.audit.Append(c, c.Actor, req)
	if err != nil {
		return nil, err
	}
	return auditLogResponse{a}, nil
}

// auditLogExportRequest is FusionAuth's AuditLogExportRequest.
type auditLogExportRequest struct {
	Criteria              audit.Search `json:"criteria"`
	DateTimeSecondsFormat string       `json:"dateTimeSecondsFormat"`
	ZoneID                string       `json:"zoneId"`
}

func auditExportQuery(v url.Values, verrs *model.Errors) auditLogExportRequest {
	return auditLogExportRequest{Criteria: auditQuery(v, verrs), DateTimeSecondsFormat: v.Get("dateTimeSecondsFormat"), ZoneID: v.Get("zoneId")}
}

// exportAuditLogs is POST (criteria in the body) and GET (in the query)
// /api/system/audit-log/export: a zip holding the matching entries as CSV.
func (s *Server) exportAuditLogs(w http.ResponseWriter, r *http.Request) {
	var req auditLogExportRequest
	if r.Method == http.MethodPost {
		if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
	} else {
		verrs := new(model.Errors)
		req = auditExportQuery(r.URL.Query(), verrs)
		if err := verrs.Err(); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
	}
	loc := time.UTC
	if z := strings.TrimSpace(req.ZoneID); z != "" && z != "Z" {
		l, err := time.LoadLocation(z)
		if err != nil || z == "Local" {
			httpx.WriteError(w, r, s.log, model.FieldError("zoneId", "invalid", "zoneId must be an IANA time zone such as UTC or Europe/Berlin."))
			return
		}
		loc = l
	}
	logs, _, err := s.audit.Export(r.Context(), req.Criteria)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var buf bytes.Buffer
	if err := audit.WriteZip(&buf, logs, loc); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="audit_log.zip"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}
