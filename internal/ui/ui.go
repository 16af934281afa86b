// Package ui serves the server-rendered pages: the setup wizard now; hosted
// login and the admin UI later, on the same templates.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/services"
)

// The pages and their assets are compiled into the binary.
var (
	//go:embed templates/*.html
	templateFiles embed.FS
	//go:embed static
	staticFiles embed.FS
)

// Security headers of every page. The pages load nothing from elsewhere and
// run no inline script, so the policy can be this strict.
const (
	contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	// Asset URLs carry a content hash, so a year of caching never serves a stale file.
	assetCacheControl = "public, max-age=31536000, immutable"
)

// ContentSecurityPolicy is the policy of every page, the admin UI's too.
const ContentSecurityPolicy = contentSecurityPolicy

// assetTypes fixes the content types of static files, independent of the
// host's MIME database.
var assetTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
}

// UI is the pages surface.
type UI struct {
	svc    *services.Set
	cfg    *config.Config
	log    *slog.Logger
	pages  map[string]*template.Template
	assets map[string]asset
}

// asset is one embedded static file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	version     string // short content hash: the ?v= in links and the ETag
}

// view is what the layout renders: the page's title and scripts, and the
// page's own data.
type view struct {
	Title   string
	Scripts []string
	Data    any
	Theme   *theme // the tenant's look of hosted pages (nil: Latch's own)
}

// New wires the pages. The templates are embedded, so a template that does
// not parse is a build defect: New panics and every test catches it.
func New(svc *services.Set, cfg *config.Config, log *slog.Logger) *UI {
	u := &UI{svc: svc, cfg: cfg, log: log}
	var err error
	if u.assets, err = loadAssets(); err != nil {
		panic(fmt.Sprintf("ui: static assets: %v", err))
	}
	if u.pages, err = u.parsePages(); err != nil {
		panic(fmt.Sprintf("ui: templates: %v", err))
	}
	return u
}

// Mount registers the pages' routes on mux. Each handler checks the method
// itself so that wrong methods get an HTML 405 page and setup routes can
// answer 404 once setup is done, whatever the method.
func (u *UI) Mount(mux *http.ServeMux) {
	mux.HandleFunc("/setup-wizard", u.setupWizard)
	mux.HandleFunc("/static/", u.serveStatic)
	mux.HandleFunc("/password/forgot", u.methods(u.forgotPassword))
	mux.HandleFunc("/password/change/{changePasswordId}", u.methods(u.changePassword))
	mux.HandleFunc("/email/verify/{verificationId}", u.methods(u.verifyEmail))
	mux.HandleFunc("/registration/verify/{verificationId}", u.methods(u.verifyRegistration))
	mux.HandleFunc("/static/theme/{file}", u.serveThemeCSS)
	mux.HandleFunc("/", u.notFound)
}

func loadAssets() (map[string]asset, error) {
	assets := map[string]asset{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype, ok := assetTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("%s: no content type for this extension", p)
		}
		assets[strings.TrimPrefix(p, "static/")] = asset{body: body, contentType: ctype, version: hex.EncodeToString(sum[:6])}
		return nil
	})
	return assets, err
}

// parsePages builds one template set per page: the layout plus that page's
// "content" definition.
func (u *UI) parsePages() (map[string]*template.Template, error) {
	return ParsePages(templateFiles, template.FuncMap{"asset": u.assetURL})
}

// ParsePages builds one template set per page of fsys (templates/*.html):
// templates/layout.html with funcs, plus that page's definitions, keyed by
// the page's name without ".html". The admin UI's pages are built the same way.
func ParsePages(fsys fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		if name == "templates/layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(fsys, name)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return pages, nil
}

// assetURL is the versioned address of a static file. An unknown name is a
// template defect: it fails rendering rather than linking to a 404.
func (u *UI) assetURL(name string) (string, error) {
	a, ok := u.assets[name]
	if !ok {
		return "", fmt.Errorf("unknown static asset %q", name)
	}
	return "/static/" + name + "?v=" + a.version, nil
}

// AssetURL is the versioned address of a static file, for the admin UI's
// pages, which share these assets.
func (u *UI) AssetURL(name string) (string, error) { return u.assetURL(name) }

// SetPageHeaders sets the security headers every page carries.
func SetPageHeaders(h http.Header, csp string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// render writes a page with the headers every page carries. The page is
// rendered in full before anything is sent, so a template failure is a clean 500.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	u.renderWith(w, r, status, page, v, contentSecurityPolicy)
}

// renderWith is render with a given Content-Security-Policy.
func (u *UI) renderWith(w http.ResponseWriter, r *http.Request, status int, page string, v view, csp string) {
	WritePage(w, r, u.log, u.pages, status, page, v, csp)
}

// WritePage renders a page of pages (its "layout" template with data) and
// sends it with the headers every page carries, the admin UI's too. The page
// is rendered in full before anything is sent, so a template failure is a
// clean 500 that shows nothing of it.
func WritePage(w http.ResponseWriter, r *http.Request, log *slog.Logger, pages map[string]*template.Template, status int, page string, data any, csp string) {
	var buf bytes.Buffer
	body := []byte("Internal Server Error\n")
	if t, ok := pages[page]; !ok {
		log.ErrorContext(r.Context(), "unknown page template", "page", page)
		status = http.StatusInternalServerError
	} else if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		log.ErrorContext(r.Context(), "render page", "page", page, "err", err)
		status = http.StatusInternalServerError
	} else {
		body = buf.Bytes()
	}
	h := w.Header()
	SetPageHeaders(h, csp)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// message is the content of an error page. Paragraphs are constant text
// written in this package (never user input), so they may carry markup.
type message struct {
	Status     int
	Title      string
	Heading    string
	Paragraphs []template.HTML
}

// The error pages, one per situation a visitor can meet.
var (
	msgNotFound = message{Status: http.StatusNotFound, Title: "Page not found", Heading: "Page not found",
		Paragraphs: []template.HTML{"There is nothing at this address."}}
	msgSetupGone = message{Status: http.StatusNotFound, Title: "Page not found", Heading: "Page not found",
		Paragraphs: []template.HTML{
			"There is nothing at this address. If you followed a setup link: Latch has already been set up, so setup links no longer work.",
			"Administrators sign in with their email address and password. If every way in is lost, <code>latch recover</code> on the server regains access.",
		}}
	msgMethodNotAllowed = message{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Heading: "Method not allowed",
		Paragraphs: []template.HTML{"This page cannot be used with that request method."}}
	msgSetupForbidden = message{Status: http.StatusForbidden, Title: "Setup link required", Heading: "Open the setup link from the server's log",
		Paragraphs: []template.HTML{
			"Setting up Latch needs the one-time link that the server printed when it started. This address is missing its token, or the token is not valid: it expired, or the server restarted and printed a new link.",
			"Look in the server's output or log for a line with <code>/setup-wizard?token=</code> and open that exact link. Restarting the server prints a fresh link while setup is not done.",
		}}
	msgSetupConflict = message{Status: http.StatusConflict, Title: "Setup already completed", Heading: "Setup was completed by someone else",
		Paragraphs: []template.HTML{
			"While you were filling in this form, Latch was set up from another browser, another server or the <code>latch setup</code> command. Nothing was created from your form: no admin and no API key.",
			"Ask whoever completed setup for access. If nobody did, treat it as a security incident: <code>latch recover</code> on the server regains access, and the audit log shows who set Latch up and from which address.",
		}}
	msgBadForm = message{Status: http.StatusBadRequest, Title: "Bad request", Heading: "The form could not be read",
		Paragraphs: []template.HTML{"The submitted form was malformed or too large. Go back, reload the page and try again."}}
	msgBusy = message{Status: http.StatusServiceUnavailable, Title: "Busy", Heading: "Latch is busy",
		Paragraphs: []template.HTML{"Latch has more work than it can take right now. Nothing was changed. Go back and try again in a moment."}}
	msgTooMany = message{Status: http.StatusTooManyRequests, Title: "Too many requests", Heading: "Too many attempts",
		Paragraphs: []template.HTML{"Too many requests came from your address. Nothing was changed. Wait a minute, then go back and try again."}}
	msgInternal = message{Status: http.StatusInternalServerError, Title: "Something went wrong", Heading: "Something went wrong",
		Paragraphs: []template.HTML{"Latch could not complete this request. The cause was written to the server's log. Try again in a moment."}}
)

// showMessage renders an error page with the message's status.
func (u *UI) showMessage(w http.ResponseWriter, r *http.Request, m message) {
	u.render(w, r, m.Status, "message", view{Title: m.Title, Data: m})
}

// showMessageIn is showMessage in a tenant's theme (nil: none).
func (u *UI) showMessageIn(w http.ResponseWriter, r *http.Request, m message, tenant *model.TenantConfig) {
	th := themeOf(tenant)
	u.renderWith(w, r, m.Status, "message", view{Title: m.Title, Data: m, Theme: th}, themeCSP(contentSecurityPolicy, th))
}

// fail logs an unexpected error (the log is the only place its detail goes)
// and shows a generic 500 page.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if status, after, ok := httpx.RetryLater(err); ok {
		m := msgBusy
		if status == http.StatusTooManyRequests {
			m = msgTooMany
		}
		w.Header().Set("Retry-After", strconv.Itoa(after))
		u.showMessage(w, r, m)
		return
	}
	u.log.ErrorContext(r.Context(), what, "method", r.Method, "path", r.URL.Path, "err", err)
	u.showMessage(w, r, msgInternal)
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request) {
	u.showMessage(w, r, msgNotFound)
}

// serveStatic serves the embedded assets with long cache lifetimes; links
// carry the content hash, so a changed file gets a new URL.
func (u *UI) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		u.showMessage(w, r, msgMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	a, ok := u.assets[name]
	if !ok {
		u.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", assetCacheControl)
	h.Set("ETag", `"`+a.version+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
