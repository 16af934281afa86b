package ui

import (
	"html/template"
	"net/http"
	"strings"
)

// The hosted OAuth pages (internal/oauth renders them through these two
// methods): sign in, two-factor, password change, form_post, signed out,
// and the one error page the setup wizard uses too.

// Page renders a hosted page. formAction, when set, is one more origin the
// page's forms may post to (a form_post response to the client).
func (u *UI) Page(w http.ResponseWriter, r *http.Request, status int, page, title string, data any, formAction string) {
	csp := contentSecurityPolicy
	var scripts []string
	if formAction != "" && !strings.ContainsAny(formAction, " ;,'\"\r\n") {
		csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+formAction, 1)
	}
	if page == "oauth_form_post" {
		scripts = []string{"formpost.js"}
	}
	u.renderWith(w, r, status, page, view{Title: title, Scripts: scripts, Data: data}, csp)
}

// Error renders the error page with constant paragraphs (never markup).
func (u *UI) Error(w http.ResponseWriter, r *http.Request, status int, heading string, paragraphs ...string) {
	m := message{Status: status, Title: heading, Heading: heading}
	for _, p := range paragraphs {
		m.Paragraphs = append(m.Paragraphs, template.HTML(template.HTMLEscapeString(p)))
	}
	u.showMessage(w, r, m)
}
