package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// Applications and their roles, FusionAuth's /api/application. An application
// is kept whole like a tenant (see tenants.go). Latch owns id, tenantId, name,
// active/state, the instants, roles (managed through the role API after
// create) and oauthConfiguration.clientId (always the application id). The
// OAuth client secret is generated when not given, stored sealed under the
// master key, and returned decrypted, as FusionAuth returns it.

const applicationField = "application"

// applicationSecretPath is where the client secret sits in the object.
var applicationSecretPath = kit.SecretPath{"oauthConfiguration", "clientSecret"}

// applicationKeptSecretPaths are the credentials of FusionAuth settings Latch
// keeps without acting on them (CleanSpeak's API key): sealed with the client
// secret, never in the data column or an audit entry, returned as sent.
var applicationKeptSecretPaths = []kit.SecretPath{{"cleanSpeakConfiguration", "apiKey"}}

// applicationSecretPaths are every secret an application holds.
var applicationSecretPaths = append([]kit.SecretPath{applicationSecretPath}, applicationKeptSecretPaths...)

var applicationOwnedFields = []string{"id", "tenantId", "name", "active", "state", "insertInstant", "lastUpdateInstant", "roles"}

// ApplicationFields are the member names of an application object, matched
// exactly: the typed view's (the client secret among them), the owned ones
// and the kept secrets.
var ApplicationFields = model.FieldsOf(model.ApplicationConfig{},
	slices.Concat(applicationOwnedFields, []string{"data"}, kit.SecretPathNames(applicationKeptSecretPaths))...)

// applicationRequestFields are the members of FusionAuth's ApplicationRequest
// (roles are sent in one too).
var applicationRequestFields = model.FieldsOf(nil, applicationField, roleField, "eventInfo", "sourceApplicationId")

// roleFields are the member names of a role object.
var roleFields = model.FieldsOf(model.ApplicationRole{})

// applicationDefaults are applicationDefaultsJSON, parsed once (FillDefaults
// copies what it takes).
var applicationDefaults = kit.MustObject(applicationDefaultsJSON)

// applicationDefaultsJSON are FusionAuth's defaults for a new application's
// settings that Latch acts on (tokens, Login API, OAuth client).
const applicationDefaultsJSON = `{
  "jwtConfiguration": {
    "enabled": false, "timeToLiveInSeconds": 3600, "refreshTokenTimeToLiveInMinutes": 43200,
    "refreshTokenExpirationPolicy": "Fixed", "refreshTokenUsagePolicy": "Reusable",
    "refreshTokenRevocationPolicy": {"onLoginPrevented": true, "onMultiFactorEnable": false, "onOneTimeTokenReuse": false, "onPasswordChanged": true}
  },
  "loginConfiguration": {"allowTokenRefresh": false, "generateRefreshTokens": false, "requireAuthentication": true},
  "oauthConfiguration": {
    "authorizedOriginURLs": [],
    "authorizedRedirectURLs": [],
    "authorizedURLValidationPolicy": "ExactMatch",
    "clientAuthenticationPolicy": "Required",
    "consentMode": "AlwaysPrompt",
    "debug": false,
    "enabledGrants": ["authorization_code", "refresh_token"],
    "generateRefreshTokens": true,
    "logoutBehavior": "AllApplications",
    "proofKeyForCodeExchangePolicy": "NotRequired",
    "providedScopePolicy": {
      "address": {"enabled": true, "required": false},
      "email": {"enabled": true, "required": false},
      "phone": {"enabled": true, "required": false},
      "profile": {"enabled": true, "required": false}
    },
    "relationship": "FirstParty",
    "requireClientAuthentication": true,
    "requireRegistration": false,
    "scopeHandlingPolicy": "Strict",
    "unknownScopePolicy": "Reject"
  },
  "passwordlessConfiguration": {"enabled": false},
  "registrationConfiguration": {"enabled": false, "type": "basic"},
  "verifyRegistration": false
}`

// OAuthGrants are the grants an application may enable.
var OAuthGrants = []string{model.GrantAuthorizationCode, model.GrantImplicit, model.GrantPassword, model.GrantRefreshToken, model.GrantDeviceCode}

// maxClientSecretLength bounds a client secret a caller chooses.
const maxClientSecretLength = 1024

// newClientSecret makes a client secret with 256 bits of entropy. It is
// URL-safe so that it survives form encoding in token requests unescaped.
func newClientSecret() string { return secrets.Token(32) }

// TenantIDRequired is FusionAuth's error when a request needs a tenant and
// names none.
func TenantIDRequired() error {
	return model.GeneralError("TenantIdRequired", "A Tenant Id is required to complete this request. To complete this request, "+
		"you may assign a Tenant to your API key, or add the X-FusionAuth-TenantId HTTP request header with the Tenant Id.")
}

// ApplicationSearch is FusionAuth's ApplicationSearchCriteria.
type ApplicationSearch struct {
	Name            string `json:"name"`
	State           string `json:"state"`
	TenantID        string `json:"tenantId"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// preparedApplication is a validated application ready to store.
type preparedApplication struct {
	app    *model.ApplicationConfig // as stored: without the fields Latch owns and the secret
	name   string
	secret string            // "" when the request gave none
	kept   map[string]string // applicationKeptSecretPaths' values by path
	roles  []model.ApplicationRole
}

// normalizeApplication checks an application object as sent and prepares it
// in place: owned fields and the client secret cut out, defaults filled. Roles
// are read on create only; FusionAuth manages them through the role API after.
func normalizeApplication(o kit.Object, create bool) (*preparedApplication, *model.Errors) {
	verrs := &model.Errors{}
	if !ApplicationFields.Check(o, applicationField, verrs) {
		return &preparedApplication{}, verrs
	}
	p := &preparedApplication{app: &model.ApplicationConfig{}, name: kit.RequiredName(o, applicationField+".name", verrs)}
	rolesRaw := o["roles"]
	for _, f := range applicationOwnedFields {
		delete(o, f)
	}
	if oauth, ok := kit.ObjectMember(o, "oauthConfiguration"); !ok {
		verrs.Field(applicationField+".oauthConfiguration", "invalid", "[application.oauthConfiguration] must be a JSON object.")
	} else {
		switch v := oauth["clientSecret"].(type) {
		case nil:
		case string:
			p.secret = strings.TrimSpace(v)
			if len(p.secret) > maxClientSecretLength {
				verrs.Field(applicationField+".oauthConfiguration.clientSecret", "tooLong",
					fmt.Sprintf("[application.oauthConfiguration.clientSecret] must be at most %d characters.", maxClientSecretLength))
			}
		default:
			verrs.Field(applicationField+".oauthConfiguration.clientSecret", "invalid", "[application.oauthConfiguration.clientSecret] must be a string.")
		}
		delete(oauth, "clientSecret")
		delete(oauth, "clientId")
	}
	p.kept = kit.CutSecrets(o, applicationKeptSecretPaths)
	for _, sp := range applicationKeptSecretPaths {
		// CutSecrets leaves what is not a string: never stored in the clear.
		parent := o
		for _, k := range sp[:len(sp)-1] {
			parent, _ = parent[k].(kit.Object)
		}
		if parent[sp[len(sp)-1]] != nil {
			verrs.Field(applicationField+"."+sp.String(), "invalid", "["+applicationField+"."+sp.String()+"] must be a string.")
		}
	}
	kit.FillDefaults(o, applicationDefaults)
	if v, ok := o["data"]; ok && v != nil {
		if _, ok := v.(kit.Object); !ok {
			verrs.Field(applicationField+".data", "invalid", "[application.data] must be a JSON object.")
		}
	}
	if kit.DecodeTyped(o, applicationField, p.app, verrs) {
		checkApplicationConfig(p.app, verrs)
	}
	if create {
		p.roles = normalizeNewRoles(rolesRaw, verrs)
	}
	return p, verrs
}

func checkApplicationConfig(c *model.ApplicationConfig, verrs *model.Errors) {
	f := func(s string) string { return applicationField + "." + s }
	checkJWTConfiguration(&c.JWTConfiguration, f("jwtConfiguration"), false, verrs)
	oc := &c.OAuthConfiguration
	var grants []string
	for _, g := range oc.EnabledGrants {
		if !slices.Contains(OAuthGrants, g) {
			verrs.Field(f("oauthConfiguration.enabledGrants"), "invalid",
				fmt.Sprintf("[%s] is not a grant; use %s.", g, strings.Join(OAuthGrants, ", ")))
			continue
		}
		if !slices.Contains(grants, g) {
			grants = append(grants, g)
		}
	}
	// enabledGrants is a set: FusionAuth's PATCH appends to lists, which must
	// not leave a grant listed twice.
	if grants != nil {
		oc.EnabledGrants = grants
	}
	for field, urls := range map[string][]string{
		"oauthConfiguration.authorizedRedirectURLs": oc.AuthorizedRedirectURLs,
		"oauthConfiguration.authorizedOriginURLs":   oc.AuthorizedOriginURLs,
	} {
		for _, u := range urls {
			if why := badTargetURL(u); why != "" {
				verrs.Field(f(field), "invalid", fmt.Sprintf("[%s] %s", u, why))
			}
		}
	}
	if u := oc.LogoutURL; u != "" {
		if why := badTargetURL(u); why != "" {
			verrs.Field(f("oauthConfiguration.logoutURL"), "invalid", "[application.oauthConfiguration.logoutURL] "+why)
		}
	}
	if slices.Contains(oc.EnabledGrants, model.GrantDeviceCode) && oc.DeviceVerificationURL == "" {
		verrs.Field(f("oauthConfiguration.deviceVerificationURL"), "blank",
			"[application.oauthConfiguration.deviceVerificationURL] is required when the device code grant is enabled.")
	}
	kit.OneOf(verrs, f("oauthConfiguration.authorizedURLValidationPolicy"), oc.AuthorizedURLValidationPolicy, "ExactMatch", "AllowWildcards")
	kit.OneOf(verrs, f("oauthConfiguration.clientAuthenticationPolicy"), oc.ClientAuthenticationPolicy, "Required", "NotRequired", "NotRequiredWhenUsingPKCE")
	kit.OneOf(verrs, f("oauthConfiguration.proofKeyForCodeExchangePolicy"), oc.ProofKeyForCodeExchangePolicy, "Required", "NotRequired", "NotRequiredWhenUsingClientAuthentication")
	kit.OneOf(verrs, f("oauthConfiguration.logoutBehavior"), oc.LogoutBehavior, "RedirectOnly", "AllApplications")
	kit.OneOf(verrs, f("oauthConfiguration.relationship"), oc.Relationship, "FirstParty", "ThirdParty")
	kit.OneOf(verrs, f("oauthConfiguration.consentMode"), oc.ConsentMode, "AlwaysPrompt", "RememberDecision", "NeverPrompt")
	kit.OneOf(verrs, f("oauthConfiguration.scopeHandlingPolicy"), oc.ScopeHandlingPolicy, "Compatibility", "Strict")
	kit.OneOf(verrs, f("oauthConfiguration.unknownScopePolicy"), oc.UnknownScopePolicy, "Allow", "Remove", "Reject")
}

// scriptSchemes are URL schemes that run or embed content where they are
// opened: never a place to send a browser with a code or a token.
var scriptSchemes = []string{"javascript", "data", "vbscript", "file", "blob", "about"}

// badTargetURL says why u cannot be where the provider sends a browser (""
// when it can): it must parse and have a scheme, which may be an app's own
// (RFC 8252 §7.1), but not one of scriptSchemes.
func badTargetURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme == "" {
		return "is not a valid URL."
	}
	if slices.Contains(scriptSchemes, strings.ToLower(parsed.Scheme)) {
		return fmt.Sprintf("uses the %s scheme, which cannot be a redirect target.", strings.ToLower(parsed.Scheme))
	}
	return ""
}

// normalizeNewRoles reads the roles of an application being created.
func normalizeNewRoles(raw any, verrs *model.Errors) []model.ApplicationRole {
	if raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		verrs.Field(applicationField+".roles", "invalid", "[application.roles] must be an array of roles.")
		return nil
	}
	var roles []model.ApplicationRole
	for i, item := range list {
		field := fmt.Sprintf("%s.roles[%d]", applicationField, i)
		o, ok := item.(kit.Object)
		if !ok {
			verrs.Field(field, "invalid", "["+field+"] must be a JSON object.")
			continue
		}
		r, ok := normalizeRole(o, field, verrs)
		if !ok {
			continue
		}
		for _, prev := range roles {
			if prev.Name == r.Name {
				verrs.Field(field+".name", "duplicate", "Role names must be unique within an application.")
			}
			if r.ID != "" && prev.ID == r.ID {
				verrs.Field(field+".id", "duplicate", "Role ids must be unique.")
			}
		}
		roles = append(roles, r)
	}
	for i := range roles {
		if roles[i].ID == "" {
			roles[i].ID = kit.NewOrGivenID("", "", verrs)
		}
	}
	return roles
}

// normalizeRole reads one role object; field prefixes its errors. The id stays
// "" when not given.
func normalizeRole(o kit.Object, field string, verrs *model.Errors) (model.ApplicationRole, bool) {
	var r model.ApplicationRole
	if !roleFields.Check(o, field, verrs) {
		return r, false
	}
	name := kit.RequiredName(o, field+".name", verrs)
	// The name was checked above; the typed decode checks the other members.
	clean := model.CopyObject(o)
	delete(clean, "name")
	delete(clean, "insertInstant")
	delete(clean, "lastUpdateInstant")
	if !kit.DecodeTyped(clean, field, &r, verrs) {
		return r, false
	}
	r.Name = name
	if r.ID != "" {
		id, ok := kit.CanonicalID(r.ID)
		if !ok {
			verrs.Field(field+".id", "invalid", "["+field+".id] must be a UUID.")
		}
		r.ID = id
	}
	if strings.ContainsRune(r.Description, 0) {
		verrs.Field(field+".description", "invalid", "["+field+".description] must not contain NUL characters.")
	}
	if len(r.Description) > 1024 {
		verrs.Field(field+".description", "tooLong", "["+field+".description] must be at most 1024 characters.")
	}
	return r, true
}

// applicationObject builds the application a client sees from a stored row:
// the stored document with defaults filled and the owned fields overlaid,
// decoded once into its typed form.
func (s *Service) applicationObject(row *store.ApplicationRow, roles []model.ApplicationRole, withSecrets bool) (*model.ApplicationConfig, error) {
	o, err := kit.StoredObject(row.Data, ApplicationFields)
	if err != nil {
		return nil, fmt.Errorf("application %s data: %w", row.ID, err)
	}
	kit.FillDefaults(o, applicationDefaults)
	o["id"] = row.ID
	o["tenantId"] = row.TenantID
	o["name"] = row.Name
	o["active"] = row.Active
	o["state"] = "Active"
	if !row.Active {
		o["state"] = "Inactive"
	}
	o["insertInstant"] = row.InsertInstant
	o["lastUpdateInstant"] = row.LastUpdateInstant
	if roles == nil {
		roles = []model.ApplicationRole{}
	}
	tree, err := kit.ToTree(roles)
	if err != nil {
		return nil, err
	}
	o["roles"] = tree
	if oauth, ok := kit.ObjectMember(o, "oauthConfiguration"); ok {
		oauth["clientId"] = row.ID
	}
	// Releases before the kept secrets were sealed stored them in the clear:
	// they show only where secrets do, until the next write seals them.
	legacy := kit.CutSecrets(o, applicationKeptSecretPaths)
	if withSecrets {
		sec, err := kit.OpenSecrets(s.master, row.SecretsSealed, applicationSecretAD(row.ID))
		if err != nil {
			return nil, err
		}
		maps.Copy(legacy, sec)
		kit.PutSecrets(o, applicationSecretPaths, legacy)
	}
	return kit.StoredConfig[model.ApplicationConfig](o, applicationField, "application "+row.ID)
}

func applicationSecretAD(id string) string { return "application:" + id }

// applicationRow prepares a normalized application for storage with its secrets.
func (s *Service) applicationRow(id, tenantID string, active bool, p *preparedApplication, insert, update int64) (*store.ApplicationRow, error) {
	sec := maps.Clone(p.kept)
	if sec == nil {
		sec = map[string]string{}
	}
	sec[applicationSecretPath.String()] = p.secret
	sealed, err := kit.SealSecrets(s.master, sec, applicationSecretAD(id))
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(p.app)
	if err != nil {
		return nil, err
	}
	return &store.ApplicationRow{ID: id, TenantID: tenantID, Name: p.name, Active: active, Data: string(data),
		SecretsSealed: sealed, InsertInstant: insert, LastUpdateInstant: update}, nil
}

func applicationLabel(name, id string) string { return fmt.Sprintf("[%s] (%s)", name, id) }

// loadApplication reads an application and its roles within the scope.
func (s *Service) loadApplication(ctx context.Context, tx *store.Tx, scope kit.TenantScope, id string) (*store.ApplicationRow, []model.ApplicationRole, error) {
	id, ok := kit.CanonicalID(id)
	if !ok {
		return nil, nil, model.NotFoundf("application %s", id)
	}
	row, err := tx.ApplicationByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) || (err == nil && !scope.CanSee(row.TenantID)) {
		return nil, nil, model.NotFoundf("application %s", id)
	}
	if err != nil {
		return nil, nil, err
	}
	roles, err := tx.RolesOfApplications(ctx, []string{id})
	if err != nil {
		return nil, nil, err
	}
	return row, roles[id], nil
}

// Application returns one application (active or not), or model.ErrNotFound
// (also for applications of tenants outside the scope).
func (s *Service) Application(ctx context.Context, scope kit.TenantScope, id string) (*model.ApplicationConfig, error) {
	row, roles, err := s.loadApplication(ctx, s.store.Read(), scope, id)
	if err != nil {
		return nil, err
	}
	return s.applicationObject(row, roles, true)
}

// ApplicationConfig returns an application of any tenant, client secret
// included, for the OAuth and login features.
func (s *Service) ApplicationConfig(ctx context.Context, id string) (*model.ApplicationConfig, error) {
	return s.Application(ctx, kit.AllTenants, id)
}

// ClientSecret is an application's OAuth client secret ("" when it has
// none), read and unsealed alone: a token request authenticating its client
// needs nothing else of the application (the rest comes from the settings
// cache). model.ErrNotFound for an unknown application.
func (s *Service) ClientSecret(ctx context.Context, id string) (secrets.Secret, error) {
	cid, ok := kit.CanonicalID(id)
	if !ok {
		return "", model.NotFoundf("application %q", id)
	}
	row, err := s.store.Read().ApplicationByID(ctx, cid)
	if errors.Is(err, store.ErrNoRows) {
		return "", model.NotFoundf("application %s", cid)
	}
	if err != nil {
		return "", err
	}
	sec, err := kit.OpenSecrets(s.master, row.SecretsSealed, applicationSecretAD(row.ID))
	if err != nil {
		return "", err
	}
	return secrets.Secret(sec[applicationSecretPath.String()]), nil
}

// Applications returns the active applications in the scope, or the inactive
// ones when inactive is true, ordered by name.
func (s *Service) Applications(ctx context.Context, scope kit.TenantScope, inactive bool) ([]*model.ApplicationConfig, error) {
	active := !inactive
	rd := s.store.Read()
	rows, err := rd.ListApplications(ctx, store.ApplicationQuery{TenantIDs: scope.Tenants, Active: &active})
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return s.applicationObjects(ctx, rd, rows)
}

func (s *Service) applicationObjects(ctx context.Context, tx *store.Tx, rows []*store.ApplicationRow) ([]*model.ApplicationConfig, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	roles, err := tx.RolesOfApplications(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*model.ApplicationConfig, 0, len(rows))
	for _, row := range rows {
		o, err := s.applicationObject(row, roles[row.ID], true)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// SearchApplications is FusionAuth's application search, limited to the scope.
func (s *Service) SearchApplications(ctx context.Context, scope kit.TenantScope, q ApplicationSearch) ([]*model.ApplicationConfig, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.ApplicationOrderColumns)
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be one of id, insertInstant, lastUpdateInstant, name or tenantId, optionally followed by ASC or DESC.")
	}
	query := store.ApplicationQuery{Name: strings.ReplaceAll(strings.TrimSpace(q.Name), "*", ""), TenantIDs: scope.Tenants, OrderBy: col, Descending: desc}
	none := false
	switch strings.TrimSpace(q.State) {
	case "":
	case "Active":
		query.Active = new(true)
	case "Inactive":
		query.Active = new(false)
	case "PendingDelete":
		none = true // applications are deleted at once, never pending
	default:
		verrs.Field("search.state", "invalid", "state must be Active, Inactive or PendingDelete.")
	}
	if kit.NarrowToTenant(scope, q.TenantID, &query.TenantIDs, &verrs) {
		none = true
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	if none {
		return []*model.ApplicationConfig{}, 0, nil
	}
	rd := s.store.Read()
	rows, total, err := rd.SearchApplications(ctx, query, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search applications: %w", err)
	}
	out, err := s.applicationObjects(ctx, rd, rows)
	return out, total, err
}

// CreateApplication creates an application from an ApplicationRequest body:
// {"application":{…}} or, to copy one, {"sourceApplicationId":…,
// "application":{"name":…}}. id may be "" (one is generated) or a chosen UUID.
func (s *Service) CreateApplication(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, body kit.Object) (*model.ApplicationConfig, error) {
	verrs := &model.Errors{}
	id = kit.NewOrGivenID(id, applicationField+".id", verrs)
	o := kit.RequestObject(body, applicationRequestFields, applicationField, verrs)
	sourceID := kit.OptionalID(body, "sourceApplicationId", verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	var out *model.ApplicationConfig
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		fallback := ""
		if sourceID != "" {
			src, roles, err := s.loadApplication(ctx, tx, scope, sourceID)
			if errors.Is(err, model.ErrNotFound) {
				return model.FieldError("sourceApplicationId", "invalid", "The source application does not exist.")
			}
			if err != nil {
				return err
			}
			base, err := s.applicationCopyBase(src, roles)
			if err != nil {
				return err
			}
			fallback = src.TenantID
			var ok bool
			if o, ok = model.MergePatch(base, o).(kit.Object); !ok {
				return errors.New("merged application copy is not an object")
			}
		}
		tenantID, err := ResolveTenantOf(ctx, tx, scope, applicationField+".tenantId", o["tenantId"], fallback)
		if err != nil {
			return err
		}
		p, verrs := normalizeApplication(o, true)
		if err := verrs.Err(); err != nil {
			return err
		}
		if err := checkSigningKeyRefs(ctx, tx, applicationField+".jwtConfiguration", &p.app.JWTConfiguration); err != nil {
			return err
		}
		if _, err := tx.ApplicationByID(ctx, id); err == nil {
			return model.FieldError(applicationField+".id", "duplicate", "An application with this id already exists.")
		} else if !errors.Is(err, store.ErrNoRows) {
			return err
		}
		for i, r := range p.roles {
			taken, err := tx.RoleIDExists(ctx, r.ID)
			if err != nil {
				return err
			}
			if taken {
				return model.FieldError(fmt.Sprintf("%s.roles[%d].id", applicationField, i), "duplicate", "A role with this id already exists.")
			}
		}
		if p.secret == "" {
			p.secret = newClientSecret()
		}
		now := s.now()
		row, err := s.applicationRow(id, tenantID, true, p, now, now)
		if err != nil {
			return err
		}
		if err := tx.InsertApplicationRow(ctx, row); err != nil {
			if store.IsUnique(err) {
				return model.FieldError(applicationField+".id", "duplicate", "An application with this id already exists.")
			}
			return fmt.Errorf("store application: %w", err)
		}
		for i := range p.roles {
			r := &p.roles[i]
			r.InsertInstant, r.LastUpdateInstant = now, now
			if err := tx.InsertApplicationRole(ctx, id, r); err != nil {
				if store.IsUnique(err) {
					return model.FieldError(fmt.Sprintf("%s.roles[%d].id", applicationField, i), "duplicate", "A role with this id already exists.")
				}
				return fmt.Errorf("store role: %w", err)
			}
		}
		roles := slices.Clone(p.roles)
		sortRoles(roles)
		snapshot, err := s.applicationObject(row, roles, false)
		if err != nil {
			return err
		}
		msg := "Created application " + applicationLabel(p.name, id)
		if sourceID != "" {
			msg += " as a copy of application " + sourceID
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: msg, TargetID: id, New: snapshot, Data: map[string]any{"tenantId": tenantID}}); err != nil {
			return err
		}
		out, err = s.applicationObject(row, roles, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sortRoles orders roles as the store lists them: by name, then id.
func sortRoles(roles []model.ApplicationRole) {
	slices.SortFunc(roles, func(a, b model.ApplicationRole) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// UpdateApplication replaces an application with the object of an
// ApplicationRequest body. Its tenant and roles do not change here; a blank
// client secret keeps the current one, as in FusionAuth.
func (s *Service) UpdateApplication(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, body kit.Object) (*model.ApplicationConfig, error) {
	verrs := &model.Errors{}
	o := kit.RequestObject(body, applicationRequestFields, applicationField, verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	return s.changeApplication(ctx, actor, scope, id, func(kit.Object) (kit.Object, error) { return o, nil })
}

// PatchApplication applies a patch in one of FusionAuth's three forms to the
// application in request form ({"application":{…}}), then validates the
// result as an update.
func (s *Service) PatchApplication(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, form model.PatchForm, patch []byte) (*model.ApplicationConfig, error) {
	return s.changeApplication(ctx, actor, scope, id, func(cur kit.Object) (kit.Object, error) {
		patched, err := model.ApplyPatch(form, kit.Object{applicationField: cur}, patch)
		if err != nil {
			return nil, err
		}
		body, ok := patched.(kit.Object)
		if !ok {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The patched request is not a JSON object.")
		}
		verrs := &model.Errors{}
		o := kit.RequestObject(body, applicationRequestFields, applicationField, verrs)
		return o, verrs.Err()
	})
}

func (s *Service) changeApplication(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, next func(cur kit.Object) (kit.Object, error)) (*model.ApplicationConfig, error) {
	var out *model.ApplicationConfig
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.changeApplicationIn(ctx, tx, actor, scope, id, next)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeApplicationIn is changeApplication in the caller's transaction.
func (s *Service) changeApplicationIn(ctx context.Context, tx *store.Tx, actor kit.Actor, scope kit.TenantScope, id string, next func(cur kit.Object) (kit.Object, error)) (*model.ApplicationConfig, error) {
	var out *model.ApplicationConfig
	err := func() error {
		cur, roles, err := s.loadApplication(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		curApp, err := s.applicationObject(cur, roles, true)
		if err != nil {
			return err
		}
		curObj, err := curApp.Tree()
		if err != nil {
			return err
		}
		o, err := next(curObj)
		if err != nil {
			return err
		}
		p, verrs := normalizeApplication(o, false)
		if err := verrs.Err(); err != nil {
			return err
		}
		if err := checkSigningKeyRefs(ctx, tx, applicationField+".jwtConfiguration", &p.app.JWTConfiguration); err != nil {
			return err
		}
		if p.secret == "" {
			sec, err := kit.OpenSecrets(s.master, cur.SecretsSealed, applicationSecretAD(cur.ID))
			if err != nil {
				return err
			}
			if p.secret = sec[applicationSecretPath.String()]; p.secret == "" {
				p.secret = newClientSecret()
			}
		}
		row, err := s.applicationRow(cur.ID, cur.TenantID, cur.Active, p, cur.InsertInstant, s.now())
		if err != nil {
			return err
		}
		if err := tx.UpdateApplicationRow(ctx, row); err != nil {
			return fmt.Errorf("update application: %w", err)
		}
		oldSnap, err := s.applicationObject(cur, roles, false)
		if err != nil {
			return err
		}
		newSnap, err := s.applicationObject(row, roles, false)
		if err != nil {
			return err
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Updated application " + applicationLabel(p.name, cur.ID),
			TargetID: cur.ID, Old: oldSnap, New: newSnap,
			Events: applicationKeyEvents(cur.TenantID, cur.ID, &oldSnap.JWTConfiguration, &newSnap.JWTConfiguration)}); err != nil {
			return err
		}
		out, err = s.applicationObject(row, roles, true)
		return err
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeactivateApplication soft-deletes an application (DELETE without hardDelete).
func (s *Service) DeactivateApplication(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) error {
	_, err := s.setApplicationActive(ctx, actor, scope, id, false)
	return err
}

// ReactivateApplication undoes a deactivation and returns the application.
func (s *Service) ReactivateApplication(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) (*model.ApplicationConfig, error) {
	return s.setApplicationActive(ctx, actor, scope, id, true)
}

func (s *Service) setApplicationActive(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, active bool) (*model.ApplicationConfig, error) {
	var out *model.ApplicationConfig
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, roles, err := s.loadApplication(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		if !active && cur.ID == model.AdminApplicationID {
			return model.FieldError("applicationId", "cannotDeactivate", "The FusionAuth admin application cannot be deactivated.")
		}
		now := s.now()
		if err := tx.SetApplicationActive(ctx, cur.ID, active, now); err != nil {
			return err
		}
		next := *cur
		next.Active, next.LastUpdateInstant = active, now
		verb := "Deactivated"
		if active {
			verb = "Reactivated"
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: verb + " application " + applicationLabel(cur.Name, cur.ID),
			TargetID: cur.ID, Data: map[string]any{"active": active}}); err != nil {
			return err
		}
		out, err = s.applicationObject(&next, roles, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteApplication hard-deletes an application with its roles and
// registrations. The admin application cannot be deleted.
func (s *Service) DeleteApplication(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, roles, err := s.loadApplication(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		if cur.ID == model.AdminApplicationID {
			return model.FieldError("applicationId", "cannotDelete", "The FusionAuth admin application cannot be deleted.")
		}
		if err := tx.DeleteApplicationRow(ctx, cur.ID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("application %s", cur.ID)
			}
			return err
		}
		snapshot, err := s.applicationObject(cur, roles, false)
		if err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deleted application " + applicationLabel(cur.Name, cur.ID) + " with its roles and registrations",
			TargetID: cur.ID, Old: snapshot, Critical: true})
	})
}

// OAuthConfigurationResponse is FusionAuth's OAuthConfigurationResponse: the
// application's OAuth settings with the client secret, and the session
// settings that come from its tenant.
type OAuthConfigurationResponse struct {
	HTTPSessionMaxInactiveInterval int             `json:"httpSessionMaxInactiveInterval"`
	LogoutURL                      string          `json:"logoutURL,omitempty"`
	OAuthConfiguration             json.RawMessage `json:"oauthConfiguration"` // as the application holds it, unknown members too
}

// ApplicationOAuthConfiguration answers /api/application/{id}/oauth-configuration.
func (s *Service) ApplicationOAuthConfiguration(ctx context.Context, scope kit.TenantScope, id string) (*OAuthConfigurationResponse, error) {
	app, err := s.Application(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	tenant, err := s.TenantConfig(ctx, app.TenantID)
	if err != nil {
		return nil, err
	}
	tree, err := app.Tree()
	if err != nil {
		return nil, err
	}
	oauth, err := model.EncodeTree(tree["oauthConfiguration"])
	if err != nil {
		return nil, err
	}
	out := &OAuthConfigurationResponse{OAuthConfiguration: oauth, HTTPSessionMaxInactiveInterval: tenant.HTTPSessionMaxInactiveInterval,
		LogoutURL: app.OAuthConfiguration.LogoutURL}
	if out.LogoutURL == "" {
		out.LogoutURL = tenant.LogoutURL
	}
	return out, nil
}

// applicationCopyBase is the request object a copy of src starts from: the
// source's settings and roles (with new ids), but not its tenant (unless
// nothing else names one) nor its secret.
func (s *Service) applicationCopyBase(src *store.ApplicationRow, roles []model.ApplicationRole) (kit.Object, error) {
	app, err := s.applicationObject(src, nil, false)
	if err != nil {
		return nil, err
	}
	base, err := app.Tree()
	if err != nil {
		return nil, err
	}
	delete(base, "tenantId")
	copies := make([]any, 0, len(roles))
	for _, r := range roles {
		r.ID = ""
		role, err := model.TreeOf(r)
		if err != nil {
			return nil, err
		}
		delete(role, "id")
		copies = append(copies, role)
	}
	base["roles"] = copies
	return base, nil
}

// Roles.

const roleField = "role"

// checkRolesEditable refuses changes to the admin application's roles: the
// admin UI and the last-admin rules depend on them.
func checkRolesEditable(appID string) error {
	if appID == model.AdminApplicationID {
		return model.FieldError("applicationId", "cannotModify", "The roles of the FusionAuth admin application cannot be changed.")
	}
	return nil
}

// CreateRole adds a role to an application from {"role":{…}}. roleID may be
// "" (the role object's id, else a generated one) or a chosen UUID.
func (s *Service) CreateRole(ctx context.Context, actor kit.Actor, scope kit.TenantScope, appID, roleID string, body kit.Object) (*model.ApplicationRole, error) {
	verrs := &model.Errors{}
	o := kit.RequestObject(body, applicationRequestFields, roleField, verrs)
	r, ok := normalizeRole(o, roleField, verrs)
	if ok {
		if roleID != "" {
			r.ID = kit.NewOrGivenID(roleID, roleField+".id", verrs)
		} else if r.ID == "" {
			r.ID = kit.NewOrGivenID("", "", verrs)
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		app, _, err := s.loadApplication(ctx, tx, scope, appID)
		if err != nil {
			return err
		}
		if err := checkRolesEditable(app.ID); err != nil {
			return err
		}
		if err := checkRoleUnique(ctx, tx, app.ID, &r, true); err != nil {
			return err
		}
		now := s.now()
		r.InsertInstant, r.LastUpdateInstant = now, now
		if err := tx.InsertApplicationRole(ctx, app.ID, &r); err != nil {
			if store.IsUnique(err) {
				return roleWriteError()
			}
			return fmt.Errorf("store role: %w", err)
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Created role [%s] (%s) of application %s", r.Name, r.ID, applicationLabel(app.Name, app.ID)),
			TargetID: r.ID, New: &r, Data: map[string]any{"applicationId": app.ID}})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// UpdateRole replaces a role with the object of {"role":{…}}.
func (s *Service) UpdateRole(ctx context.Context, actor kit.Actor, scope kit.TenantScope, appID, roleID string, body kit.Object) (*model.ApplicationRole, error) {
	verrs := &model.Errors{}
	o := kit.RequestObject(body, applicationRequestFields, roleField, verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	return s.changeRole(ctx, actor, scope, appID, roleID, func(kit.Object) (kit.Object, error) { return o, nil })
}

// PatchRole patches a role in request form ({"role":{…}}) and validates the
// result as an update.
func (s *Service) PatchRole(ctx context.Context, actor kit.Actor, scope kit.TenantScope, appID, roleID string, form model.PatchForm, patch []byte) (*model.ApplicationRole, error) {
	return s.changeRole(ctx, actor, scope, appID, roleID, func(cur kit.Object) (kit.Object, error) {
		patched, err := model.ApplyPatch(form, kit.Object{roleField: cur}, patch)
		if err != nil {
			return nil, err
		}
		body, ok := patched.(kit.Object)
		if !ok {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The patched request is not a JSON object.")
		}
		verrs := &model.Errors{}
		o := kit.RequestObject(body, applicationRequestFields, roleField, verrs)
		return o, verrs.Err()
	})
}

func (s *Service) changeRole(ctx context.Context, actor kit.Actor, scope kit.TenantScope, appID, roleID string, next func(cur kit.Object) (kit.Object, error)) (*model.ApplicationRole, error) {
	var out *model.ApplicationRole
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		app, cur, err := s.loadRole(ctx, tx, scope, appID, roleID)
		if err != nil {
			return err
		}
		if err := checkRolesEditable(app.ID); err != nil {
			return err
		}
		tree, err := model.TreeOf(cur)
		if err != nil {
			return err
		}
		o, err := next(tree)
		if err != nil {
			return err
		}
		verrs := &model.Errors{}
		r, _ := normalizeRole(o, roleField, verrs)
		if err := verrs.Err(); err != nil {
			return err
		}
		r.ID, r.InsertInstant, r.LastUpdateInstant = cur.ID, cur.InsertInstant, s.now()
		if err := checkRoleUnique(ctx, tx, app.ID, &r, false); err != nil {
			return err
		}
		if err := tx.UpdateApplicationRole(ctx, app.ID, &r); err != nil {
			if store.IsUnique(err) {
				return roleWriteError()
			}
			return fmt.Errorf("update role: %w", err)
		}
		if err := renameRegistrationRole(ctx, tx, app.ID, cur.Name, r.Name); err != nil {
			return err
		}
		out = &r
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Updated role [%s] (%s) of application %s", r.Name, r.ID, applicationLabel(app.Name, app.ID)),
			TargetID: r.ID, Old: cur, New: &r, Data: map[string]any{"applicationId": app.ID}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRole removes a role by id, or by name when roleID is "" and name is set.
func (s *Service) DeleteRole(ctx context.Context, actor kit.Actor, scope kit.TenantScope, appID, roleID, name string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		var app *store.ApplicationRow
		var cur *model.ApplicationRole
		var err error
		if roleID != "" {
			app, cur, err = s.loadRole(ctx, tx, scope, appID, roleID)
		} else {
			if app, _, err = s.loadApplication(ctx, tx, scope, appID); err == nil {
				cur, err = tx.RoleByName(ctx, app.ID, name)
				if errors.Is(err, store.ErrNoRows) {
					err = model.NotFoundf("role %q of application %s", name, app.ID)
				}
			}
		}
		if err != nil {
			return err
		}
		if err := checkRolesEditable(app.ID); err != nil {
			return err
		}
		if err := tx.DeleteApplicationRole(ctx, app.ID, cur.ID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("role %s", cur.ID)
			}
			return err
		}
		if err := dropRegistrationRole(ctx, tx, app.ID, cur.Name); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Deleted role [%s] (%s) of application %s", cur.Name, cur.ID, applicationLabel(app.Name, app.ID)),
			TargetID: cur.ID, Old: cur, Data: map[string]any{"applicationId": app.ID}})
	})
}

func (s *Service) loadRole(ctx context.Context, tx *store.Tx, scope kit.TenantScope, appID, roleID string) (*store.ApplicationRow, *model.ApplicationRole, error) {
	app, _, err := s.loadApplication(ctx, tx, scope, appID)
	if err != nil {
		return nil, nil, err
	}
	id, ok := kit.CanonicalID(roleID)
	if !ok {
		return nil, nil, model.NotFoundf("role %s", roleID)
	}
	r, err := tx.RoleByID(ctx, app.ID, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, nil, model.NotFoundf("role %s of application %s", id, app.ID)
	}
	if err != nil {
		return nil, nil, err
	}
	return app, r, nil
}

// checkRoleUnique reports a name taken by another role of the application, or
// (on create) an id taken by any role.
func checkRoleUnique(ctx context.Context, tx *store.Tx, appID string, r *model.ApplicationRole, create bool) error {
	other, err := tx.RoleByName(ctx, appID, r.Name)
	if err == nil && other.ID != r.ID {
		return model.FieldError(roleField+".name", "duplicate", "A role with this name already exists on the application.")
	}
	if err != nil && !errors.Is(err, store.ErrNoRows) {
		return err
	}
	if create {
		taken, err := tx.RoleIDExists(ctx, r.ID)
		if err != nil {
			return err
		}
		if taken {
			return model.FieldError(roleField+".id", "duplicate", "A role with this id already exists.")
		}
	}
	return nil
}

// roleWriteError explains a unique violation a concurrent writer caused after
// the checks passed. (PostgreSQL allows no further query in the transaction.)
func roleWriteError() error {
	return model.FieldError(roleField+".name", "duplicate", "A role with this name already exists on the application.")
}

// ReplaceSigningKeyIn points a tenant's or an application's key reference
// at the dotted path (as signing.KeyUse names it, e.g.
// "jwtConfiguration.accessTokenKeyId") to keyID, in the caller's
// transaction, under the same rules and audit as a PATCH: a key rotation
// moves every holder in the transaction that stores the new key.
func (s *Service) ReplaceSigningKeyIn(ctx context.Context, tx *store.Tx, actor kit.Actor, kind, id, path, keyID string) error {
	set := func(cur kit.Object) (kit.Object, error) {
		parts := strings.Split(path, ".")
		o := cur
		for _, p := range parts[:len(parts)-1] {
			child, ok := o[p].(kit.Object)
			if !ok {
				return nil, fmt.Errorf("%s %s has no object at %q", kind, id, p)
			}
			o = child
		}
		o[parts[len(parts)-1]] = keyID
		return cur, nil
	}
	var err error
	switch kind {
	case "tenant":
		_, err = s.changeTenantIn(ctx, tx, actor, id, set)
	case "application":
		_, err = s.changeApplicationIn(ctx, tx, actor, kit.TenantScope{}, id, set)
	default:
		err = fmt.Errorf("no key reference of a %s is replaced here", kind)
	}
	return err
}
