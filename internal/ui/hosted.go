package ui

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// The hosted OAuth pages (internal/oauth renders them through these two
// methods): sign in, two-factor, password change, form_post, signed out,
// and the one error page the setup wizard uses too.

// Page renders a hosted page. formActions are more origins the page's
// forms may post to, or be redirected to after a post (a form_post
// response; the client's redirect URI after a sign-in form, which browsers
// check against form-action too). The tenant's theme, if any, styles it.
func (u *UI) Page(w http.ResponseWriter, r *http.Request, status int, page, title string, tenant *model.TenantConfig, data any, formActions ...string) {
	csp := contentSecurityPolicy
	var scripts []string
	var extra []string
	for _, fa := range formActions {
		if fa != "" && !strings.ContainsAny(fa, " ;,'\"\r\n") {
			extra = append(extra, fa)
		}
	}
	if len(extra) > 0 {
		csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(extra, " "), 1)
	}
	if page == "oauth_form_post" {
		scripts = []string{"formpost.js"}
	}
	th := themeOf(tenant)
	u.renderWith(w, r, status, page, view{Title: title, Scripts: scripts, Data: data, Theme: th}, themeCSP(csp, th))
}

// Error renders the error page with constant paragraphs (never markup),
// in tenant's theme (nil: Latch's own look).
func (u *UI) Error(w http.ResponseWriter, r *http.Request, status int, tenant *model.TenantConfig, heading string, paragraphs ...string) {
	m := message{Status: status, Title: heading, Heading: heading}
	for _, p := range paragraphs {
		m.Paragraphs = append(m.Paragraphs, template.HTML(template.HTMLEscapeString(p)))
	}
	u.showMessageIn(w, r, m, tenant)
}

// FrontChannelLogout renders the sign-out page that loads each of frames
// (other applications' logout URLs) in a hidden frame, then continues to
// continueTo ("": the page says the user is signed out). Only the frames'
// origins may be framed.
func (u *UI) FrontChannelLogout(w http.ResponseWriter, r *http.Request, continueTo string, frames []string) {
	var origins []string
	for _, f := range frames {
		if pu, err := url.Parse(f); err == nil && (pu.Scheme == "http" || pu.Scheme == "https") && pu.Host != "" {
			o := pu.Scheme + "://" + pu.Host
			if !strings.ContainsAny(o, " ;,'\"\r\n") && !slices.Contains(origins, o) {
				origins = append(origins, o)
			}
		}
	}
	csp := contentSecurityPolicy
	if len(origins) > 0 {
		csp += "; frame-src " + strings.Join(origins, " ")
	}
	data := map[string]any{"Continue": continueTo, "Frames": frames}
	u.renderWith(w, r, http.StatusOK, "oauth_logging_out", view{Title: "Signing out", Scripts: []string{"logout.js"}, Data: data}, csp)
}
