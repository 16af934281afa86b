package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// A tenant's theme of the hosted pages (model.LoginTheme): the product name
// and logo in the header, texts the tenant overrides, and a stylesheet of
// its own (its primary colour and custom CSS) served beside the static
// ones, so the pages' CSP stays free of inline style.

// theme is what the layout shows of a tenant's theme.
type theme struct {
	ProductName string
	LogoURL     string
	CSSURL      string // the tenant's stylesheet ("" when it has none)
	messages    map[string]string
}

// themeOf is the view of a tenant's theme (nil: Latch's own look).
func themeOf(t *model.TenantConfig) *theme {
	if t == nil || t.LoginTheme == nil {
		return nil
	}
	lt := t.LoginTheme
	out := &theme{ProductName: lt.ProductName, LogoURL: lt.LogoURL, messages: lt.Messages}
	if css := themeCSS(lt); css != "" {
		sum := sha256.Sum256([]byte(css))
		out.CSSURL = "/static/theme/" + url.PathEscape(t.ID) + ".css?v=" + hex.EncodeToString(sum[:6])
	}
	return out
}

// Product is the name the pages show.
func (v view) Product() string {
	if v.Theme != nil && v.Theme.ProductName != "" {
		return v.Theme.ProductName
	}
	return "Latch"
}

// Msg is the tenant's text for key, else def.
func (v view) Msg(key, def string) string {
	if v.Theme != nil {
		if m, ok := v.Theme.messages[key]; ok && m != "" {
			return m
		}
	}
	return def
}

// themeCSS is a theme's stylesheet: its colour, then its custom CSS.
func themeCSS(t *model.LoginTheme) string {
	var b strings.Builder
	if c := t.PrimaryColor; c != "" {
		vars := "--accent: " + c + "; --accent-hover: " + c + "; --focus: " + c + "; --accent-text: #ffffff;"
		b.WriteString(":root { " + vars + " }\n@media (prefers-color-scheme: dark) { :root { " + vars + " } }\n")
	}
	if t.CustomCSS != "" {
		b.WriteString(t.CustomCSS)
		b.WriteString("\n")
	}
	return b.String()
}

// themeCSP adds the logo's origin to a page's img-src.
func themeCSP(csp string, th *theme) string {
	if th == nil || th.LogoURL == "" {
		return csp
	}
	u, err := url.Parse(th.LogoURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(u.Host, " ;,'\"\r\n") {
		return csp
	}
	return strings.Replace(csp, "img-src 'self' data:", "img-src 'self' data: https://"+u.Host, 1)
}

// serveThemeCSS is GET /static/theme/{tenantId}.css: a tenant's stylesheet,
// anonymous like the other static files (a theme is public by nature).
func (u *UI) serveThemeCSS(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".css")
	if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead {
		u.notFound(w, r)
		return
	}
	t, err := u.svc.Tenancy.LoginTenantConfig(r.Context(), id)
	if err != nil {
		if !errors.Is(err, model.ErrNotFound) {
			u.log.ErrorContext(r.Context(), "ui: theme stylesheet", "err", err)
		}
		u.notFound(w, r)
		return
	}
	css := ""
	if t.LoginTheme != nil {
		css = themeCSS(t.LoginTheme)
	}
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	// The pages link it with a content hash; a short cache still lets an old link see a change.
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write([]byte(css))
}
