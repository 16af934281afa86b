// Package pagekit is what every page of the admin UI shares: the page frame
// and its one navigation, the one renderer of messages and errors, the
// signed-in admin (Session), the role table (roles.go), and readers of the
// lists many pages offer as choices. The areas' handlers (internal/admin and
// its subpackages) are built on a Kit; internal/admin's route table names
// each handler with the action it needs.
package pagekit

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/ui"
)

//go:embed templates/*.html
var frameFiles embed.FS

// Handler is a page or action of a signed-in admin (s is nil on the
// anonymous sign-in routes).
type Handler = func(w http.ResponseWriter, r *http.Request, s *Session)

// Kit is the shared part of the admin UI's pages.
type Kit struct {
	Svc *services.Set
	Log *slog.Logger
	// UI serves the shared static assets (styles, scripts).
	UI *ui.UI
	// ClientIP is a request's client address (trusted proxies applied).
	ClientIP func(*http.Request) string
	pages    map[string]*template.Template
}

// New builds the kit with the pages of every area: each fsys holds
// templates/*.html, each defining "content" (page names are unique across
// areas). The templates are embedded: one that does not parse is a build
// defect, so New panics and every test catches it.
func New(svc *services.Set, log *slog.Logger, assets *ui.UI, clientIP func(*http.Request) string, areas ...fs.FS) *Kit {
	k := &Kit{Svc: svc, Log: log, UI: assets, ClientIP: clientIP}
	var err error
	if k.pages, err = k.parse(append([]fs.FS{frameFiles}, areas...)); err != nil {
		panic(fmt.Sprintf("admin: templates: %v", err))
	}
	return k
}

// Count is n and the noun for n of them: "1 user", "3 users" (the plural
// is the noun plus "s" unless given).
func Count(n int, noun string, plural ...string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(plural) > 0 {
		return fmt.Sprintf("%d %s", n, plural[0])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (k *Kit) parse(areas []fs.FS) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset":   func(name string) (string, error) { return k.UI.AssetURL(name) },
		"instant": FormatInstant,
		"ago":     func(ms int64) string { return Ago(k.Now(), ms) },
		"count":   Count,
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(frameFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, fsys := range areas {
		names, err := fs.Glob(fsys, "templates/*.html")
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			page := strings.TrimSuffix(path.Base(name), ".html")
			if page == "layout" {
				continue
			}
			if _, dup := pages[page]; dup {
				return nil, fmt.Errorf("two areas define the page %q", page)
			}
			if pages[page], err = template.Must(base.Clone()).ParseFS(fsys, name); err != nil {
				return nil, err
			}
		}
	}
	return pages, nil
}

// Actor is the admin as the audit log records it.
func (k *Kit) Actor(r *http.Request, s *Session) kit.Actor {
	return kit.Actor{Type: kit.ActorUser, ID: s.UserID, Name: s.Email, IP: k.clientIP(r), Method: r.Method, Path: r.URL.Path}
}

func (k *Kit) clientIP(r *http.Request) string {
	if k.ClientIP != nil {
		return k.ClientIP(r)
	}
	return r.RemoteAddr
}

// Now is the server's clock.
func (k *Kit) Now() time.Time { return k.Svc.Clock().Now() }

// view is what the admin layout renders.
type view struct {
	Title   string
	Active  string // the navigation entry of this page
	Nav     []navItem
	Email   string
	CSRF    string
	Scripts []string
	Data    any
}

// Render writes a page in full (a template failure is a clean 500) with the
// headers every page carries.
func (k *Kit) Render(w http.ResponseWriter, r *http.Request, s *Session, status int, page, title, active string, data any, scripts ...string) {
	v := view{Title: title, Active: active, Data: data, Scripts: scripts}
	if s != nil {
		v.Email, v.CSRF = s.Email, s.CSRF
		for _, n := range navigation {
			if Allowed(s.Roles, n.Action) {
				v.Nav = append(v.Nav, n)
			}
		}
	}
	ui.WritePage(w, r, k.Log, k.pages, status, page, v, ui.ContentSecurityPolicy)
}

// MessageData is the message page's content; paragraphs are plain text.
type MessageData struct {
	Heading    string
	Paragraphs []string
	Links      []Link
}

// Link is a button on the message page.
type Link struct{ Label, Href string }

// Message renders the one message page (errors, refusals).
func (k *Kit) Message(w http.ResponseWriter, r *http.Request, s *Session, status int, heading string, paragraphs ...string) {
	k.Render(w, r, s, status, "message", heading, "", MessageData{Heading: heading, Paragraphs: paragraphs})
}

// Fail logs an unexpected error (its detail goes to the log only) and shows
// a generic page; "busy" errors keep their status.
func (k *Kit) Fail(w http.ResponseWriter, r *http.Request, s *Session, what string, err error) {
	if status, after, ok := httpx.RetryLater(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(after))
		k.Message(w, r, s, status, "Latch is busy", "Nothing was changed. Try again in a moment.")
		return
	}
	k.Log.ErrorContext(r.Context(), "admin: "+what, "method", r.Method, "path", r.URL.Path, "err", err)
	k.Message(w, r, s, http.StatusInternalServerError, "Something went wrong",
		"Latch could not complete this request. The cause was written to the server's log. Try again in a moment.")
}

// Missing shows the 404 page of a thing (what: "group", "signing key")
// that does not exist, or no longer does.
func (k *Kit) Missing(w http.ResponseWriter, r *http.Request, s *Session, what string) {
	k.Message(w, r, s, http.StatusNotFound, "No such "+what, "This "+what+" does not exist; it may have been deleted.")
}

// Loaded reports whether reading what succeeded; otherwise it has shown
// the 404 page (not found) or, for any other error, Fail's page.
func (k *Kit) Loaded(w http.ResponseWriter, r *http.Request, s *Session, what string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, model.ErrNotFound):
		k.Missing(w, r, s, what)
	default:
		k.Fail(w, r, s, "load "+what, err)
	}
	return false
}

// Refusal is a failed change's messages, to show on its form, when the
// rules refused it (ok); any other error it has shown with Fail (what
// names the change in the log), and the handler stops.
func (k *Kit) Refusal(w http.ResponseWriter, r *http.Request, s *Session, what string, err error) (msgs []string, ok bool) {
	msgs, _, ok = ErrorMessages(err)
	if !ok {
		k.Fail(w, r, s, what, err)
	}
	return msgs, ok
}

// Forbidden refuses (403) an action a check in the handler forbids.
func (k *Kit) Forbidden(w http.ResponseWriter, r *http.Request, s *Session, why string) {
	k.Message(w, r, s, http.StatusForbidden, "Not allowed", why)
}

// FormatInstant writes epoch milliseconds as a UTC time ("" for none).
func FormatInstant(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04 UTC")
}

// Ago writes how long ago ms was, roughly ("never" for none).
func Ago(now time.Time, ms int64) string {
	if ms <= 0 {
		return "never"
	}
	d := now.Sub(time.UnixMilli(ms))
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}
