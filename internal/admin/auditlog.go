package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// The audit log page: filters by actor, target, text and time, paging, and
// downloads of what the filters match as CSV or JSON.

const auditPerPage = 50

// actorKinds are the actor filter's choices and the actor types each covers.
var actorKinds = []struct {
	Value, Label string
	Types        []string
}{
	{"admin", "Admins (admin UI and users)", []string{kit.ActorUser}},
	{"apiKey", "API keys", []string{kit.ActorAPIKey}},
	{"cli", "Command line", []string{kit.ActorCLI}},
	{"system", "System (setup, kickstart, Latch itself)", []string{kit.ActorSystem, kit.ActorSetup, kit.ActorKickstart}},
}

// auditFilter is the page's filter form, as entered.
type auditFilter struct {
	Actor, Target, Text, User, From, To string
}

func readAuditFilter(v url.Values) auditFilter {
	return auditFilter{Actor: v.Get("actor"), Target: strings.TrimSpace(v.Get("target")), Text: strings.TrimSpace(v.Get("text")),
		User: strings.TrimSpace(v.Get("user")), From: v.Get("from"), To: v.Get("to")}
}

// query is the filter as the audit log's search, or a message for the form.
func (f auditFilter) query() (audit.Search, string) {
	q := audit.Search{Message: f.Text, User: f.User, TargetID: f.Target}
	for _, k := range actorKinds {
		if k.Value == f.Actor {
			q.ActorTypes = k.Types
		}
	}
	if f.From != "" {
		t, err := time.Parse("2006-01-02", f.From)
		if err != nil {
			return q, "The start date must be a date such as 2030-01-31."
		}
		q.Start = t.UnixMilli()
	}
	if f.To != "" {
		t, err := time.Parse("2006-01-02", f.To)
		if err != nil {
			return q, "The end date must be a date such as 2030-01-31."
		}
		q.End = t.Add(24*time.Hour).UnixMilli() - 1 // the whole day
	}
	if q.End > 0 && q.End < q.Start {
		return q, "The end date must not be before the start date."
	}
	return q, ""
}

// encode is the filter as query parameters, for paging and export links.
func (f auditFilter) encode() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"actor": f.Actor, "target": f.Target, "text": f.Text, "user": f.User, "from": f.From, "to": f.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

type auditData struct {
	Filter     auditFilter
	Kinds      []pagekit.Option
	Logs       []*model.AuditLog
	Total      int
	Error      string
	Prev, Next string
	CSV, JSON  string
}

func (a *Admin) auditLog(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := readAuditFilter(r.URL.Query())
	d := auditData{Filter: f}
	for _, k := range actorKinds {
		d.Kinds = append(d.Kinds, pagekit.Option{Value: k.Value, Label: k.Label})
	}
	q, msg := f.query()
	status := http.StatusOK
	if msg != "" {
		d.Error, status = msg, http.StatusBadRequest
	} else {
		pg := pagekit.PageParam(r)
		q.StartRow, q.NumberOfResults = (pg-1)*auditPerPage, auditPerPage
		logs, total, err := a.Svc.Audit.Search(r.Context(), q)
		var verrs *model.Errors
		if errors.As(err, &verrs) {
			d.Error, status = "The filter is not valid.", http.StatusBadRequest
		} else if err != nil {
			a.Fail(w, r, s, "search audit log", err)
			return
		}
		d.Logs, d.Total = logs, total
		base := f.encode()
		if pg > 1 {
			base.Set("page", strconv.Itoa(pg-1))
			d.Prev = "/admin/audit-log?" + base.Encode()
		}
		if pg*auditPerPage < total {
			base.Set("page", strconv.Itoa(pg+1))
			d.Next = "/admin/audit-log?" + base.Encode()
		}
		exp := f.encode()
		exp.Set("format", "csv")
		d.CSV = "/admin/audit-log/export?" + exp.Encode()
		exp.Set("format", "json")
		d.JSON = "/admin/audit-log/export?" + exp.Encode()
	}
	a.Render(w, r, s, status, "auditlog", "Audit log", "audit-log", d)
}

// exportAuditLog downloads what the filter matches (?format=csv or json).
func (a *Admin) exportAuditLog(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := readAuditFilter(r.URL.Query())
	q, msg := f.query()
	format := r.URL.Query().Get("format")
	if msg != "" || (format != "csv" && format != "json") {
		a.Message(w, r, s, http.StatusBadRequest, "The export could not be made", "Choose CSV or JSON, and a valid filter.")
		return
	}
	logs, more, err := a.Svc.Audit.Export(r.Context(), q)
	if err != nil {
		a.Fail(w, r, s, "export audit log", err)
		return
	}
	var buf bytes.Buffer
	name := "audit-log-" + a.Now().UTC().Format("20060102-150405")
	if format == "csv" {
		err = audit.WriteCSV(&buf, logs, time.UTC)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		name += ".csv"
	} else {
		err = json.NewEncoder(&buf).Encode(map[string]any{"auditLogs": logs, "total": len(logs), "truncated": more})
		w.Header().Set("Content-Type", "application/json")
		name += ".json"
	}
	if err != nil {
		a.Fail(w, r, s, "write audit export", err)
		return
	}
	h := w.Header()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}
