package tenants

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/tenancy"
)

// The tenant's identifier settings (externalIdentifierConfiguration): how
// long each one-time identifier lives, and how the generated ones are made
// (length and kind). The fields are the model's own JSON names, so the page
// offers exactly what PATCH /api/tenant accepts; tenancy checks the values.

const identifiersField = "externalIdentifierConfiguration"

// identifierLabels say, for a field's name without its "TimeToLiveInSeconds"
// or "Generator" suffix, what the identifier is for.
var identifierLabels = map[string]string{
	"authorizationGrantId": "OAuth authorization code", "changePasswordId": "Password reset link",
	"deviceCode": "Device grant code", "deviceUserCodeId": "Device grant user code",
	"emailVerificationId": "Email verification link", "emailVerificationOneTimeCode": "Email verification one-time code",
	"externalAuthenticationId": "Sign-in through an identity provider", "loginIntent": "Sign-in in progress",
	"oneTimePassword": "One-time password", "passwordlessLogin": "Passwordless sign-in link",
	"pendingAccountLink": "Pending account link", "registrationVerificationId": "Registration verification link",
	"registrationVerificationOneTimeCode": "Registration verification one-time code",
	"rememberOAuthScopeConsentChoice":     "Remembered OAuth consent", "samlv2AuthNRequestId": "SAML v2 AuthN request",
	"setupPasswordId": "Password setup link", "trustToken": "Trust token", "twoFactorId": "Two-factor sign-in step",
	"twoFactorOneTimeCodeId": "Two-factor one-time code", "twoFactorTrustId": "Trusted device (two-factor skipped)",
	"webAuthnAuthenticationChallenge": "WebAuthn sign-in challenge", "webAuthnRegistrationChallenge": "WebAuthn registration challenge",
}

// idTTL is one lifetime, idGenerator one generator, as stored or as entered.
type idTTL struct {
	Name, Label, Value string
	Invalid            bool
}

type idGenerator struct {
	Name, Label, Length, Type string
	Invalid                   bool
}

type identifiersForm struct {
	TTLs       []idTTL
	Generators []idGenerator
	Types      []string
}

func identifierLabel(name string) string {
	key := strings.TrimSuffix(strings.TrimSuffix(name, "TimeToLiveInSeconds"), "Generator")
	if l, ok := identifierLabels[key]; ok {
		return l
	}
	return name
}

// identifiersFormOf is the stored settings, by the model's JSON names:
// numbers are lifetimes, objects generators.
func identifiersFormOf(c model.ExternalIdentifierConfiguration) (identifiersForm, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return identifiersForm{}, err
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return identifiersForm{}, err
	}
	f := identifiersForm{Types: tenancy.GeneratorTypes}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		switch v := fields[name].(type) {
		case float64:
			f.TTLs = append(f.TTLs, idTTL{Name: name, Label: identifierLabel(name), Value: strconv.FormatInt(int64(v), 10)})
		case map[string]any:
			g := idGenerator{Name: name, Label: identifierLabel(name), Type: pagekit.Str(v, "type")}
			if n, ok := v["length"].(float64); ok {
				g.Length = strconv.FormatInt(int64(n), 10)
			}
			f.Generators = append(f.Generators, g)
		}
	}
	return f, nil
}

// loadIdentifiers reads the tenant of the path and its stored settings.
func (p *Pages) loadIdentifiers(w http.ResponseWriter, r *http.Request, s *pagekit.Session) (*model.TenantConfig, identifiersForm, bool) {
	t, ok := p.loadSub(w, r, s)
	if !ok {
		return nil, identifiersForm{}, false
	}
	form, err := identifiersFormOf(t.ExternalIdentifierConfiguration)
	if err != nil {
		p.Fail(w, r, s, "tenant identifiers", err)
		return nil, identifiersForm{}, false
	}
	return t, form, true
}

// Identifiers is the tenant's identifier settings.
func (p *Pages) Identifiers(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if t, form, ok := p.loadIdentifiers(w, r, s); ok {
		p.renderSub(w, r, s, http.StatusOK, "tenant_identifiers", "Identifiers", t, form, nil)
	}
}

// SaveIdentifiers saves the lifetimes and generators the form sends. A
// value that is not a whole number is refused here; tenancy refuses the
// rest (bounds, kinds) as the API does. Either way nothing is written and
// the fields at fault are marked.
func (p *Pages) SaveIdentifiers(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	t, form, ok := p.loadIdentifiers(w, r, s)
	if !ok {
		return
	}
	patch, errs := readIdentifiers(r, &form)
	if len(errs) > 0 {
		p.renderSub(w, r, s, http.StatusBadRequest, "tenant_identifiers", "Identifiers", t, form, errs)
		return
	}
	err := p.patchTenant(r, s, kit.Object{identifiersField: patch})
	markInvalid(err, &form)
	p.saved(w, r, s, "tenant_identifiers", "Identifiers", t, form, err)
}

// readIdentifiers fills the form as entered and builds the merge patch of
// the fields the form sent (one it did not send stays as stored); errs
// names the values that are not whole numbers.
func readIdentifiers(r *http.Request, form *identifiersForm) (kit.Object, []string) {
	f, patch := r.PostForm, kit.Object{}
	var errs []string
	number := func(label, v string) (int64, bool) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, label+": enter a whole number.")
		}
		return n, err == nil
	}
	for i := range form.TTLs {
		ttl := &form.TTLs[i]
		if !f.Has(ttl.Name) {
			continue
		}
		ttl.Value = strings.TrimSpace(f.Get(ttl.Name))
		n, ok := number(ttl.Label+", time to live", ttl.Value)
		ttl.Invalid, patch[ttl.Name] = !ok, n
	}
	for i := range form.Generators {
		g, gen := &form.Generators[i], kit.Object{}
		if f.Has(g.Name + ".length") {
			g.Length = strings.TrimSpace(f.Get(g.Name + ".length"))
			n, ok := number(g.Label+", length", g.Length)
			g.Invalid, gen["length"] = !ok, n
		}
		if f.Has(g.Name + ".type") {
			g.Type, gen["type"] = f.Get(g.Name+".type"), f.Get(g.Name+".type")
		}
		if len(gen) > 0 {
			patch[g.Name] = gen
		}
	}
	return patch, errs
}

// markInvalid marks the fields a refusal names.
func markInvalid(err error, form *identifiersForm) {
	var verrs *model.Errors
	if !errors.As(err, &verrs) {
		return
	}
	named := func(name string) bool {
		prefix := "tenant." + identifiersField + "." + name
		for field := range verrs.FieldErrors {
			if field == prefix || strings.HasPrefix(field, prefix+".") {
				return true
			}
		}
		return false
	}
	for i := range form.TTLs {
		form.TTLs[i].Invalid = named(form.TTLs[i].Name)
	}
	for i := range form.Generators {
		form.Generators[i].Invalid = named(form.Generators[i].Name)
	}
}
