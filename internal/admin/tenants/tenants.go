// Package tenants holds the admin UI's tenants pages: list, create, a
// tenant's settings (name, issuer, signing keys, token and session
// lifetimes, password rules, lockout, email server), its theme, password
// hashing and webhook event pages (more.go), its identifier settings
// (identifiers.go), its token settings (tokens.go) and delete with a typed
// confirmation. Every change is a merge patch through tenancy, the rules of
// PATCH /api/tenant, with the admin as the actor.
package tenants

import (
	"embed"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// Templates are the pages of this area.
//
//go:embed templates/*.html
var Templates embed.FS

// Pages are the tenants pages' handlers.
type Pages struct{ *pagekit.Kit }

type listRow struct {
	ID, Name, Issuer, AccessTokenKey string
	Inserted                         int64
}

// List shows every tenant.
func (p *Pages) List(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	list, err := p.Svc.Tenancy.Tenants(r.Context(), kit.TenantScope{})
	if err != nil {
		p.Fail(w, r, s, "list tenants", err)
		return
	}
	keyNames, _, err := p.SigningKeyOptions(r)
	if err != nil {
		p.Fail(w, r, s, "list signing keys", err)
		return
	}
	var rows []listRow
	for _, t := range list {
		rows = append(rows, listRow{ID: t.ID, Name: t.Name, Issuer: t.Issuer, Inserted: t.InsertInstant,
			AccessTokenKey: keyNames[t.JWTConfiguration.AccessTokenKeyID]})
	}
	p.Render(w, r, s, http.StatusOK, "tenants", "Tenants", "tenants", struct {
		Tenants   []listRow
		CanManage bool
	}{rows, s.May(pagekit.ManageTenants)})
}

// form is the tenant form as stored or as entered: numbers stay text, so
// that a bad one is shown back as typed. The SMTP password is write-only:
// never read into the form, never rendered.
type form struct {
	Name, Issuer, AccessTokenKey, IDTokenKey string
	// Lifetimes: access token (seconds), refresh token (minutes), SSO
	// session idle time (seconds). The token lifetimes are set here only
	// on create, and shown on edit: the tokens page owns them.
	TTL, RefreshTTL, SessionIdle string
	// Password rules.
	MinLength, MaxLength              string
	MixedCase, NonAlpha, Number       bool
	TooManyAttempts, ResetCount       string
	LockDuration, LockUnit            string
	UnlockOnReset                     bool
	SMTPHost, SMTPPort, SMTPSecurity  string
	SMTPUsername, FromEmail, FromName string
	// ClearPassword removes the stored SMTP password; smtpPassword is a new one.
	ClearPassword bool
	smtpPassword  string
}

func num[T int | int64](v T) string { return strconv.FormatInt(int64(v), 10) }

func formOf(t *model.TenantConfig) form {
	j, pv, fa, ec := t.JWTConfiguration, t.PasswordValidationRules, t.FailedAuthenticationConfiguration, t.EmailConfiguration
	return form{Name: t.Name, Issuer: t.Issuer, AccessTokenKey: j.AccessTokenKeyID, IDTokenKey: j.IDTokenKeyID,
		TTL: num(j.TimeToLiveInSeconds), RefreshTTL: num(j.RefreshTokenTimeToLiveInMinutes), SessionIdle: num(t.HTTPSessionMaxInactiveInterval),
		MinLength: num(pv.MinLength), MaxLength: num(pv.MaxLength), MixedCase: pv.RequireMixedCase, NonAlpha: pv.RequireNonAlpha, Number: pv.RequireNumber,
		TooManyAttempts: num(fa.TooManyAttempts), ResetCount: num(fa.ResetCountInSeconds), LockDuration: num(fa.ActionDuration),
		LockUnit: fa.ActionDurationUnit, UnlockOnReset: fa.ActionCancelPolicy.OnPasswordReset,
		SMTPHost: ec.Host, SMTPPort: num(ec.Port), SMTPSecurity: ec.Security, SMTPUsername: ec.Username,
		FromEmail: ec.DefaultFromEmail, FromName: ec.DefaultFromName}
}

func readForm(r *http.Request) form {
	f := r.PostForm
	v := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	on := func(k string) bool { return f.Get(k) == "on" }
	return form{Name: v("name"), Issuer: v("issuer"), AccessTokenKey: f.Get("accessTokenKeyId"), IDTokenKey: f.Get("idTokenKeyId"),
		TTL: v("ttl"), RefreshTTL: v("refreshTTL"), SessionIdle: v("sessionIdle"),
		MinLength: v("minLength"), MaxLength: v("maxLength"), MixedCase: on("requireMixedCase"), NonAlpha: on("requireNonAlpha"), Number: on("requireNumber"),
		TooManyAttempts: v("tooManyAttempts"), ResetCount: v("resetCountInSeconds"), LockDuration: v("actionDuration"),
		LockUnit: f.Get("actionDurationUnit"), UnlockOnReset: on("unlockOnPasswordReset"),
		SMTPHost: v("smtpHost"), SMTPPort: v("smtpPort"), SMTPSecurity: f.Get("smtpSecurity"), SMTPUsername: v("smtpUsername"),
		FromEmail: v("defaultFromEmail"), FromName: v("defaultFromName"),
		ClearPassword: on("clearSmtpPassword"), smtpPassword: f.Get("smtpPassword")}
}

// numbers are the form's number fields: where each goes, and its words.
type number struct {
	text        *string
	into        kit.Object
	member, say string
}

// patch is the tenant document the form sets (the merge patch on edit, the
// body on create). settings: the form showed every section (edit); a new
// tenant's form shows only the first. Numbers that are not whole numbers
// are refused here, with the field's name, before anything is written.
func (f *form) patch(settings bool) (kit.Object, []string) {
	t, jwt := kit.Object{"name": f.Name}, kit.Object{}
	if f.Issuer != "" {
		t["issuer"] = f.Issuer
	}
	if f.AccessTokenKey != "" {
		jwt["accessTokenKeyId"] = f.AccessTokenKey
	}
	if f.IDTokenKey != "" {
		jwt["idTokenKeyId"] = f.IDTokenKey
	}
	var nums []number
	if !settings {
		// A new tenant's one lifetime; later the tokens page sets them all.
		nums = append(nums, number{&f.TTL, jwt, "timeToLiveInSeconds", "The access token lifetime must be a whole number of seconds."})
	} else {
		pv := kit.Object{"requireMixedCase": f.MixedCase, "requireNonAlpha": f.NonAlpha, "requireNumber": f.Number}
		fa := kit.Object{"actionCancelPolicy": kit.Object{"onPasswordReset": f.UnlockOnReset}}
		ec := kit.Object{"host": f.SMTPHost, "username": f.SMTPUsername, "defaultFromEmail": f.FromEmail, "defaultFromName": f.FromName}
		if f.LockUnit != "" {
			fa["actionDurationUnit"] = f.LockUnit
		}
		if f.SMTPSecurity != "" {
			ec["security"] = f.SMTPSecurity
		}
		if f.SMTPUsername == "" {
			ec["username"] = nil // merge patch: remove
		}
		switch {
		case f.smtpPassword != "":
			ec["password"] = f.smtpPassword
		case f.ClearPassword:
			ec["password"] = nil
		}
		t["passwordValidationRules"], t["failedAuthenticationConfiguration"], t["emailConfiguration"] = pv, fa, ec
		nums = append(nums,
			number{&f.SessionIdle, t, "httpSessionMaxInactiveInterval", "The sign-in session timeout must be a whole number of seconds."},
			number{&f.MinLength, pv, "minLength", "The minimum password length must be a whole number."},
			number{&f.MaxLength, pv, "maxLength", "The maximum password length must be a whole number."},
			number{&f.TooManyAttempts, fa, "tooManyAttempts", "The failed sign-ins before a lockout must be a whole number."},
			number{&f.ResetCount, fa, "resetCountInSeconds", "The window of failed sign-ins must be a whole number of seconds."},
			number{&f.LockDuration, fa, "actionDuration", "The lockout duration must be a whole number."},
			number{&f.SMTPPort, ec, "port", "The SMTP port must be a whole number."})
	}
	var msgs []string
	for _, n := range nums {
		if *n.text == "" {
			continue
		}
		v, err := strconv.ParseInt(*n.text, 10, 64)
		if err != nil {
			msgs = append(msgs, n.say)
			continue
		}
		n.into[n.member] = v
	}
	if len(jwt) > 0 {
		t["jwtConfiguration"] = jwt
	}
	return t, msgs
}

type tenantPage struct {
	ID                   string // "" on create
	Builtin              bool   // holds the admin application
	Form                 form
	HasSMTPPassword      bool
	Keys                 []pagekit.Option
	Units, Securities    []string
	CanManage, CanDelete bool
	Notice               string
	Errors               []string
}

func (p *Pages) page(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, d tenantPage) {
	_, opts, err := p.SigningKeyOptions(r)
	if err != nil {
		p.Fail(w, r, s, "list signing keys", err)
		return
	}
	d.Keys, d.CanManage, d.CanDelete = opts, s.May(pagekit.ManageTenants), s.May(pagekit.DeleteTenants)
	d.Units = []string{"MINUTES", "HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS"}
	d.Securities = []string{"NONE", "SSL", "TLS"}
	title := "New tenant"
	if d.ID != "" {
		title = "Tenant " + d.Form.Name
	}
	p.Render(w, r, s, status, "tenant", title, "tenants", d)
}

// New is the form of a new tenant.
func (p *Pages) New(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	p.page(w, r, s, http.StatusOK, tenantPage{})
}

// load reads the tenant of the path into its page.
func (p *Pages) load(w http.ResponseWriter, r *http.Request, s *pagekit.Session) (*model.TenantConfig, tenantPage, bool) {
	t, ok := p.loadSub(w, r, s)
	if !ok {
		return nil, tenantPage{}, false
	}
	d := tenantPage{ID: t.ID, Form: formOf(t), HasSMTPPassword: t.EmailConfiguration.Password != ""}
	if app, err := p.Svc.Tenancy.Application(r.Context(), kit.TenantScope{}, model.AdminApplicationID); err == nil {
		d.Builtin = app.TenantID == t.ID
	}
	return t, d, true
}

// Show is a tenant's page.
func (p *Pages) Show(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if _, d, ok := p.load(w, r, s); ok {
		d.Notice = map[string]string{"saved": "The tenant was saved."}[r.URL.Query().Get("done")]
		p.page(w, r, s, http.StatusOK, d)
	}
}

// Save creates (no id in the path) or changes a tenant; a change is a merge
// patch of the form's fields, so settings the page does not show stay.
func (p *Pages) Save(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	d := tenantPage{}
	if r.PathValue("id") != "" {
		var ok bool
		if _, d, ok = p.load(w, r, s); !ok {
			return
		}
	}
	stored := d.Form
	d.Form = readForm(r)
	if d.ID != "" {
		// The lifetimes are the tokens page's; this page shows them only.
		d.Form.TTL, d.Form.RefreshTTL = stored.TTL, stored.RefreshTTL
	}
	fields, msgs := d.Form.patch(d.ID != "")
	if len(msgs) > 0 {
		d.Errors = msgs
		p.page(w, r, s, http.StatusBadRequest, d)
		return
	}
	var saved *model.TenantConfig
	var err error
	if d.ID == "" {
		saved, err = p.Svc.Tenancy.CreateTenant(r.Context(), p.Actor(r, s), "", kit.Object{"tenant": fields})
	} else {
		var body []byte
		if body, err = json.Marshal(kit.Object{"tenant": fields}); err == nil {
			saved, err = p.Svc.Tenancy.PatchTenant(r.Context(), p.Actor(r, s), kit.TenantScope{}, d.ID, model.PatchMerge, body)
		}
	}
	if err != nil {
		msgs, ok := p.Refusal(w, r, s, "save tenant", err)
		if !ok {
			return
		}
		d.Errors = msgs
		p.page(w, r, s, http.StatusBadRequest, d)
		return
	}
	http.Redirect(w, r, "/admin/tenants/"+saved.ID+"?done=saved", http.StatusSeeOther)
}

// Delete deletes a tenant, with its applications and users, only when the
// admin typed its name.
func (p *Pages) Delete(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	t, d, ok := p.load(w, r, s)
	if !ok {
		return
	}
	if strings.TrimSpace(r.PostForm.Get("confirm")) != t.Name {
		d.Errors = []string{"The tenant was not deleted: type " + t.Name + " exactly to confirm."}
		p.page(w, r, s, http.StatusBadRequest, d)
		return
	}
	if err := p.Svc.Tenancy.DeleteTenant(r.Context(), p.Actor(r, s), kit.TenantScope{}, t.ID); err != nil {
		msgs, ok := p.Refusal(w, r, s, "delete tenant", err)
		if !ok {
			return
		}
		d.Errors = msgs
		p.page(w, r, s, http.StatusBadRequest, d)
		return
	}
	http.Redirect(w, r, "/admin/tenants", http.StatusSeeOther)
}
