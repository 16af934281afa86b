package tenants

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/tenancy"
)

// A tenant's pages beyond its settings: the hosted pages' theme
// (tenant.loginTheme, what internal/ui reads), password hashing
// (passwordEncryptionConfiguration, the factor within the operator's
// bounds) and webhook event settings (eventConfiguration). Each save is a
// merge patch through tenancy, the rules of PATCH /api/tenant.

// subPage is one of these pages: the tenant, the form as stored or as
// entered, and the outcome of a save.
type subPage struct {
	ID, Name  string
	CanManage bool
	Notice    string
	Errors    []string
	Form      any
}

// loadSub reads the tenant of the path (a 404 page when it is missing).
func (p *Pages) loadSub(w http.ResponseWriter, r *http.Request, s *pagekit.Session) (*model.TenantConfig, bool) {
	t, err := p.Svc.Tenancy.Tenant(r.Context(), kit.TenantScope{}, r.PathValue("id"))
	if !p.Loaded(w, r, s, "tenant", err) {
		return nil, false
	}
	return t, true
}

func (p *Pages) renderSub(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, page, title string, t *model.TenantConfig, form any, errs []string) {
	d := subPage{ID: t.ID, Name: t.Name, CanManage: s.May(pagekit.ManageTenants), Errors: errs, Form: form}
	if status == http.StatusOK && r.URL.Query().Get("done") == "saved" {
		d.Notice = "The tenant was saved."
	}
	p.Render(w, r, s, status, page, title+" of "+t.Name, "tenants", d)
}

// patchTenant merges fields into the tenant of the path.
func (p *Pages) patchTenant(r *http.Request, s *pagekit.Session, fields kit.Object) error {
	body, err := json.Marshal(kit.Object{"tenant": fields})
	if err != nil {
		return err
	}
	_, err = p.Svc.Tenancy.PatchTenant(r.Context(), p.Actor(r, s), kit.TenantScope{}, r.PathValue("id"), model.PatchMerge, body)
	return err
}

// saved redirects to the page after a save, or shows its errors with the
// form as entered (never a 500 for a refusal).
func (p *Pages) saved(w http.ResponseWriter, r *http.Request, s *pagekit.Session, page, title string, t *model.TenantConfig, form any, err error) {
	if err == nil {
		http.Redirect(w, r, r.URL.Path+"?done=saved", http.StatusSeeOther)
		return
	}
	if errors.Is(err, model.ErrNotFound) {
		p.Missing(w, r, s, "tenant")
		return
	}
	msgs, ok := p.Refusal(w, r, s, "save tenant "+page, err)
	if !ok {
		return
	}
	p.renderSub(w, r, s, http.StatusBadRequest, page, title, t, form, msgs)
}

// themeForm is the hosted pages' theme, as stored or as entered.
type themeForm struct {
	ProductName, LogoURL, PrimaryColor, CustomCSS string
	Messages                                      []themeMessage
}

type themeMessage struct{ Key, Label, Value string }

// messageLabels say where each text a theme may override appears.
var messageLabels = map[string]string{
	"signInTitle": "Sign-in page: heading", "signInLead": "Sign-in page: the line under the heading",
	"signInButton": "Sign-in page: button", "registerTitle": "Registration page: heading",
	"registerButton": "Registration page: button", "passwordlessLink": "Sign-in page: the link to a sign-in by email",
	"passwordlessTitle": "Sign-in by email: heading", "passwordlessButton": "Sign-in by email: button",
	"footer": "Footer of every page",
}

func messageLabel(key string) string {
	if l, ok := messageLabels[key]; ok {
		return l
	}
	return key
}

func themeFormOf(t *model.TenantConfig) themeForm {
	lt := t.LoginTheme
	if lt == nil {
		lt = &model.LoginTheme{}
	}
	f := themeForm{ProductName: lt.ProductName, LogoURL: lt.LogoURL, PrimaryColor: lt.PrimaryColor, CustomCSS: lt.CustomCSS}
	for _, k := range model.ThemeMessageKeys {
		f.Messages = append(f.Messages, themeMessage{k, messageLabel(k), lt.Messages[k]})
	}
	return f
}

// Theme is the tenant's theme of the hosted pages.
func (p *Pages) Theme(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if t, ok := p.loadSub(w, r, s); ok {
		p.renderSub(w, r, s, http.StatusOK, "tenant_theme", "Theme", t, themeFormOf(t), nil)
	}
}

// SaveTheme saves the theme; a field left blank is removed, and a theme
// left wholly blank is removed (Latch's own look).
func (p *Pages) SaveTheme(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	t, ok := p.loadSub(w, r, s)
	if !ok {
		return
	}
	f := r.PostForm
	form := themeForm{ProductName: strings.TrimSpace(f.Get("productName")), LogoURL: strings.TrimSpace(f.Get("logoURL")),
		PrimaryColor: strings.TrimSpace(f.Get("primaryColor")), CustomCSS: f.Get("customCSS")}
	blank := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	messages, empty := kit.Object{}, form.ProductName == "" && form.LogoURL == "" && form.PrimaryColor == "" && strings.TrimSpace(form.CustomCSS) == ""
	for _, k := range model.ThemeMessageKeys {
		v := strings.TrimSpace(f.Get("message." + k))
		form.Messages = append(form.Messages, themeMessage{k, messageLabel(k), v})
		messages[k] = blank(v)
		empty = empty && v == ""
	}
	var theme any = kit.Object{"productName": blank(form.ProductName), "logoURL": blank(form.LogoURL),
		"primaryColor": blank(form.PrimaryColor), "customCSS": blank(form.CustomCSS), "messages": messages}
	if empty {
		theme = nil
	}
	p.saved(w, r, s, "tenant_theme", "Theme", t, form, p.patchTenant(r, s, kit.Object{"loginTheme": theme}))
}

// hashingForm is the password hashing settings, as stored or as entered.
type hashingForm struct {
	Scheme, Factor string
	ModifyOnLogin  bool
	Schemes        []schemeBounds
}

// schemeBounds is a scheme with the factors the operator allows for it.
type schemeBounds struct {
	Name   string
	Lo, Hi int
	Bound  bool // the scheme has a factor
}

func (p *Pages) hashingBounds() []schemeBounds {
	limits := p.Svc.Hasher.Limits()
	var out []schemeBounds
	for _, name := range tenancy.PasswordSchemes {
		lo, hi, ok := limits.FactorRange(name)
		out = append(out, schemeBounds{name, lo, hi, ok})
	}
	return out
}

// PasswordHashing is the tenant's password hashing settings.
func (p *Pages) PasswordHashing(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if t, ok := p.loadSub(w, r, s); ok {
		pe := t.PasswordEncryptionConfiguration
		form := hashingForm{Scheme: pe.EncryptionScheme, Factor: strconv.Itoa(pe.EncryptionSchemeFactor), ModifyOnLogin: pe.ModifyEncryptionSchemeOnLogin,
			Schemes: p.hashingBounds()}
		p.renderSub(w, r, s, http.StatusOK, "tenant_hashing", "Password hashing", t, form, nil)
	}
}

// SavePasswordHashing saves the scheme and factor new passwords are hashed
// with, and whether a sign-in rehashes a password in another scheme;
// tenancy refuses a factor outside the operator's bounds.
func (p *Pages) SavePasswordHashing(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	t, ok := p.loadSub(w, r, s)
	if !ok {
		return
	}
	f := r.PostForm
	form := hashingForm{Scheme: f.Get("encryptionScheme"), Factor: strings.TrimSpace(f.Get("encryptionSchemeFactor")),
		ModifyOnLogin: f.Get("modifyEncryptionSchemeOnLogin") == "on", Schemes: p.hashingBounds()}
	factor, err := strconv.ParseInt(form.Factor, 10, 32)
	if err != nil {
		p.renderSub(w, r, s, http.StatusBadRequest, "tenant_hashing", "Password hashing", t, form, []string{"The factor must be a whole number."})
		return
	}
	err = p.patchTenant(r, s, kit.Object{"passwordEncryptionConfiguration": kit.Object{
		"encryptionScheme": form.Scheme, "encryptionSchemeFactor": factor, "modifyEncryptionSchemeOnLogin": form.ModifyOnLogin}})
	p.saved(w, r, s, "tenant_hashing", "Password hashing", t, form, err)
}

// eventRow is one event type's settings, as stored or as entered.
type eventRow struct {
	Type          string
	Enabled       bool
	Transaction   string
	Transactional bool // a transaction type applies to it
}

type eventsForm struct {
	Rows         []eventRow
	Transactions []string
}

var transactionTypes = []string{model.TransactionNone, model.TransactionAny, model.TransactionSimpleMajority,
	model.TransactionSuperMajority, model.TransactionAbsoluteMajority}

// Events is the tenant's webhook event settings: which event types are
// sent, and how many webhooks must accept a transactional one.
func (p *Pages) Events(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	t, ok := p.loadSub(w, r, s)
	if !ok {
		return
	}
	form := eventsForm{Transactions: transactionTypes}
	for _, typ := range model.EventTypes {
		c, set := t.EventConfiguration.Events[typ]
		// An event type the tenant does not name is sent (events treat only
		// an explicit false as off).
		row := eventRow{Type: typ, Enabled: !set || c.Enabled == nil || *c.Enabled, Transaction: c.TransactionType, Transactional: model.Transactional(typ)}
		if row.Transaction == "" {
			row.Transaction = model.TransactionNone
		}
		form.Rows = append(form.Rows, row)
	}
	p.renderSub(w, r, s, http.StatusOK, "tenant_events", "Webhook events", t, form, nil)
}

// SaveEvents saves every event type's settings. Fields naming a type that
// is not an event type are passed on, so that tenancy refuses them as the
// API does.
func (p *Pages) SaveEvents(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	t, ok := p.loadSub(w, r, s)
	if !ok {
		return
	}
	f := r.PostForm
	types := append([]string{}, model.EventTypes...)
	for k := range f {
		if typ, ok := strings.CutPrefix(k, "transactionType."); ok && !slices.Contains(types, typ) {
			types = append(types, typ)
		}
	}
	form := eventsForm{Transactions: transactionTypes}
	events := kit.Object{}
	for _, typ := range types {
		row := eventRow{Type: typ, Enabled: f.Get("enabled."+typ) == "on", Transaction: f.Get("transactionType." + typ), Transactional: model.Transactional(typ)}
		c := kit.Object{"enabled": row.Enabled}
		if row.Transaction != "" {
			c["transactionType"] = row.Transaction
		} else {
			row.Transaction = model.TransactionNone
		}
		events[typ] = c
		if slices.Contains(model.EventTypes, typ) {
			form.Rows = append(form.Rows, row)
		}
	}
	p.saved(w, r, s, "tenant_events", "Webhook events", t, form, p.patchTenant(r, s, kit.Object{"eventConfiguration": kit.Object{"events": events}}))
}
