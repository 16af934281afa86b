package pagekit

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// Option is one choice of a select or a list of checkboxes.
type Option struct{ Value, Label string }

// TenantOptions are every tenant as a choice, and their names by id.
func (k *Kit) TenantOptions(r *http.Request) ([]Option, map[string]string, error) {
	rows, err := k.Svc.Store().Read().ListTenants(r.Context(), nil)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	var opts []Option
	for _, t := range rows {
		names[t.ID] = t.Name
		opts = append(opts, Option{t.ID, t.Name})
	}
	return opts, names, nil
}

// Tenants is TenantOptions for a handler: after a failure it has shown
// Fail's page, and ok is false.
func (k *Kit) Tenants(w http.ResponseWriter, r *http.Request, s *Session) (opts []Option, names map[string]string, ok bool) {
	opts, names, err := k.TenantOptions(r)
	if err != nil {
		k.Fail(w, r, s, "list tenants", err)
		return nil, nil, false
	}
	return opts, names, true
}

// InTenant is a new object's name and, when the form chose one, its tenant
// (otherwise the rules pick the default tenant).
func InTenant(name, tenantID string) kit.Object {
	o := kit.Object{"name": name}
	if tenantID != "" {
		o["tenantId"] = tenantID
	}
	return o
}

// VerifyOnly reports whether a key has no private half (it cannot sign).
func VerifyOnly(k *model.Key) bool { return k.HasPrivateKey != nil && !*k.HasPrivateKey }

// SigningKeyOptions are the keys a tenant may sign with (those with a
// private half), and every key's name by id.
func (k *Kit) SigningKeyOptions(r *http.Request) (map[string]string, []Option, error) {
	list, err := k.Svc.Signing.List(r.Context())
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	var opts []Option
	for _, key := range list {
		names[key.ID] = key.Name
		if !VerifyOnly(key) {
			opts = append(opts, Option{key.ID, key.Name + " (" + key.Algorithm + ")"})
		}
	}
	return names, opts, nil
}

// AppView is an application as the pages show it.
type AppView struct {
	ID, Name, TenantID, Tenant string
	Active                     bool
	Roles                      []RoleView
	RedirectURLs               []string
	LogoutURL, DeviceURL       string
	Grants                     []string
	ClientAuthentication, PKCE string
	HasSecret                  bool
	Builtin                    bool
}

// RoleView is a role of an application.
type RoleView struct {
	ID, Name, Description string
	Default, Super        bool
}

// ViewApp is the view of an application; tenants names its tenant.
func ViewApp(app *model.ApplicationConfig, tenants map[string]string) AppView {
	oc := app.OAuthConfiguration
	v := AppView{ID: app.ID, Name: app.Name, TenantID: app.TenantID, Active: app.Active,
		RedirectURLs: oc.AuthorizedRedirectURLs, LogoutURL: oc.LogoutURL, DeviceURL: oc.DeviceVerificationURL, Grants: oc.EnabledGrants,
		ClientAuthentication: oc.ClientAuthenticationPolicy, PKCE: oc.ProofKeyForCodeExchangePolicy,
		HasSecret: oc.ClientSecret != ""}
	v.Tenant = tenants[v.TenantID]
	v.Builtin = v.ID == model.AdminApplicationID
	for _, r := range app.Roles {
		v.Roles = append(v.Roles, RoleView{ID: r.ID, Name: r.Name, Description: r.Description, Default: r.IsDefault, Super: r.IsSuperRole})
	}
	return v
}

// AllApplications lists the active applications, then the inactive ones.
func (k *Kit) AllApplications(r *http.Request) ([]*model.ApplicationConfig, error) {
	active, err := k.Svc.Tenancy.Applications(r.Context(), kit.TenantScope{}, false)
	if err != nil {
		return nil, err
	}
	inactive, err := k.Svc.Tenancy.Applications(r.Context(), kit.TenantScope{}, true)
	return append(active, inactive...), err
}

// ErrorMessages are a validation error's messages, sorted by field, for a
// form's error list; ok is false for any other error (a defect or an
// outage: Fail shows it). guard is the last-key guard's refusal, in words
// for a page.
func ErrorMessages(err error) (msgs []string, guard string, ok bool) {
	var verrs *model.Errors
	if !errors.As(err, &verrs) {
		return nil, "", false
	}
	for _, g := range verrs.GeneralErrors {
		if g.Code == "[LastKeyManagerKey]" {
			guard = plainGuard(g.Message)
			continue
		}
		msgs = append(msgs, Plain(g.Message))
	}
	fields := make([]string, 0, len(verrs.FieldErrors))
	for f := range verrs.FieldErrors {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		for _, e := range verrs.FieldErrors[f] {
			msgs = append(msgs, Plain(e.Message))
		}
	}
	return msgs, guard, true
}

// apiField is a field's path as API messages name it: [tenant.jwtConfiguration.timeToLiveInSeconds].
var apiField = regexp.MustCompile(`\[([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*|\[\d+\])+)\]`)

// Plain words an API message for a page, where the field is beside it:
// "[tenant.jwtConfiguration.timeToLiveInSeconds] must be…" reads "Time to
// live in seconds must be…".
func Plain(msg string) string {
	return apiField.ReplaceAllStringFunc(msg, func(m string) string {
		path := strings.TrimSuffix(strings.TrimPrefix(m, "["), "]")
		last := path[strings.LastIndexAny(path, ".[")+1:]
		if strings.HasSuffix(last, "]") { // an index: name the list
			trimmed := strings.TrimSuffix(path, "["+last)
			last = trimmed[strings.LastIndex(trimmed, ".")+1:]
		}
		label := words(last)
		if strings.HasPrefix(msg, m) {
			return strings.ToUpper(label[:1]) + label[1:]
		}
		return label
	})
}

// words splits a camelCase name: timeToLiveInSeconds → time to live in
// seconds; runs of capitals stay (deviceVerificationURL → device
// verification URL).
func words(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		upper := unicode.IsUpper(r)
		if i > 0 && upper && (!unicode.IsUpper(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte(' ')
		}
		if upper && (i+1 >= len(rs) || !unicode.IsUpper(rs[i+1])) && (i == 0 || !unicode.IsUpper(rs[i-1])) {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// plainGuard words the last-key guard's refusal for this page rather than
// for an API request.
func plainGuard(msg string) string {
	msg = strings.ReplaceAll(msg, "repeat the request with ?force=true", "confirm below")
	return strings.ReplaceAll(msg, "`", "")
}

// PageParam reads ?page= (1-based).
func PageParam(r *http.Request) int {
	p, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || p < 1 || p > 100000 {
		return 1
	}
	return p
}

// Str is a string member of a document ("" when absent).
func Str(o kit.Object, k string) string { v, _ := o[k].(string); return v }

// Objects are the objects of a document's array member.
func Objects(v any) []kit.Object {
	var out []kit.Object
	switch l := v.(type) {
	case []any:
		for _, e := range l {
			if o, ok := e.(kit.Object); ok {
				out = append(out, o)
			}
		}
	case []kit.Object:
		out = l
	}
	return out
}

// StringList are the strings of a document's array member.
func StringList(v any) []string {
	var out []string
	switch l := v.(type) {
	case []any:
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = l
	}
	return out
}
