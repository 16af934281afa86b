package tenancy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/store"
)

// Tenants, FusionAuth's /api/tenant. A tenant is kept whole: the JSON object a
// client sends is stored as sent (FusionAuth's defaults filled in where it
// leaves settings out) and returned unchanged, with the fields Latch owns
// overlaid: id, name, insertInstant, lastUpdateInstant, state.

// tenantField prefixes tenant validation fields, as FusionAuth names them.
const tenantField = "tenant"

// tenantSecretPaths are the tenant settings that are credentials: stored
// sealed, never in the data column or an audit entry.
var tenantSecretPaths = []kit.SecretPath{
	{"emailConfiguration", "password"},
	{"captchaConfiguration", "secretKey"},
}

// tenantOwnedFields are overlaid from columns; what a client sends there is ignored.
var tenantOwnedFields = []string{"id", "name", "insertInstant", "lastUpdateInstant", "state"}

// TenantFields are the member names of a tenant object, matched exactly: the
// typed view's, the owned ones and the secrets.
var TenantFields = model.FieldsOf(model.TenantConfig{}, slices.Concat(tenantOwnedFields, []string{"data"}, kit.SecretPathNames(tenantSecretPaths))...)

// tenantRequestFields are the members of FusionAuth's TenantRequest.
var tenantRequestFields = model.FieldsOf(nil, tenantField, "eventInfo", "sourceTenantId", "webhookIds")

// tenantDefaults are tenantDefaultsJSON, parsed once (FillDefaults copies
// what it takes).
var tenantDefaults = kit.MustObject(tenantDefaultsJSON)

// tenantDefaultsJSON are FusionAuth's documented defaults for the tenant
// settings Latch acts on (password policy and hashing, tokens, lockout,
// one-time identifiers, email).
const tenantDefaultsJSON = `{
  "issuer": "acme.com",
  "httpSessionMaxInactiveInterval": 3600,
  "emailConfiguration": {
    "host": "localhost", "port": 25, "security": "NONE",
    "defaultFromEmail": "change-me@example.com", "defaultFromName": "FusionAuth",
    "implicitEmailVerificationAllowed": true, "verifyEmail": false, "verifyEmailWhenChanged": false,
    "unverified": {"allowEmailChangeWhenGated": false, "behavior": "Allow"}
  },
  "externalIdentifierConfiguration": {
    "authorizationGrantIdTimeToLiveInSeconds": 30,
    "changePasswordIdGenerator": {"length": 32, "type": "randomBytes"},
    "changePasswordIdTimeToLiveInSeconds": 600,
    "deviceCodeTimeToLiveInSeconds": 300,
    "deviceUserCodeIdGenerator": {"length": 6, "type": "randomAlphaNumeric"},
    "emailVerificationIdGenerator": {"length": 32, "type": "randomBytes"},
    "emailVerificationIdTimeToLiveInSeconds": 86400,
    "emailVerificationOneTimeCodeGenerator": {"length": 6, "type": "randomAlphaNumeric"},
    "externalAuthenticationIdTimeToLiveInSeconds": 300,
    "loginIntentTimeToLiveInSeconds": 1800,
    "oneTimePasswordTimeToLiveInSeconds": 60,
    "passwordlessLoginGenerator": {"length": 32, "type": "randomBytes"},
    "passwordlessLoginTimeToLiveInSeconds": 180,
    "pendingAccountLinkTimeToLiveInSeconds": 3600,
    "registrationVerificationIdGenerator": {"length": 32, "type": "randomBytes"},
    "registrationVerificationIdTimeToLiveInSeconds": 86400,
    "registrationVerificationOneTimeCodeGenerator": {"length": 6, "type": "randomAlphaNumeric"},
    "rememberOAuthScopeConsentChoiceTimeToLiveInSeconds": 2592000,
    "samlv2AuthNRequestIdTimeToLiveInSeconds": 300,
    "setupPasswordIdGenerator": {"length": 32, "type": "randomBytes"},
    "setupPasswordIdTimeToLiveInSeconds": 86400,
    "trustTokenTimeToLiveInSeconds": 180,
    "twoFactorIdTimeToLiveInSeconds": 300,
    "twoFactorOneTimeCodeIdGenerator": {"length": 6, "type": "randomDigits"},
    "twoFactorOneTimeCodeIdTimeToLiveInSeconds": 60,
    "twoFactorTrustIdTimeToLiveInSeconds": 2592000,
    "webAuthnAuthenticationChallengeTimeToLiveInSeconds": 180,
    "webAuthnRegistrationChallengeTimeToLiveInSeconds": 180
  },
  "failedAuthenticationConfiguration": {
    "actionCancelPolicy": {"onPasswordReset": false},
    "actionDuration": 3, "actionDurationUnit": "MINUTES",
    "resetCountInSeconds": 60, "tooManyAttempts": 5
  },
  "jwtConfiguration": {
    "enabled": true,
    "timeToLiveInSeconds": 3600,
    "refreshTokenTimeToLiveInMinutes": 43200,
    "refreshTokenExpirationPolicy": "Fixed",
    "refreshTokenUsagePolicy": "Reusable",
    "refreshTokenRevocationPolicy": {"onLoginPrevented": true, "onMultiFactorEnable": false, "onOneTimeTokenReuse": false, "onPasswordChanged": true}
  },
  "loginConfiguration": {"requireAuthentication": true},
  "maximumPasswordAge": {"enabled": false, "days": 180},
  "minimumPasswordAge": {"enabled": false, "seconds": 30},
  "passwordEncryptionConfiguration": {
    "encryptionScheme": "salted-pbkdf2-hmac-sha256",
    "encryptionSchemeFactor": 24000,
    "modifyEncryptionSchemeOnLogin": false
  },
  "passwordValidationRules": {
    "minLength": 8, "maxLength": 256,
    "requireMixedCase": false, "requireNonAlpha": false, "requireNumber": false,
    "validateOnLogin": false,
    "rememberPreviousPasswords": {"enabled": false, "count": 1},
    "breachDetection": {"enabled": false}
  }
}`

// PasswordSchemes are the encryption schemes FusionAuth names for a tenant.
var PasswordSchemes = []string{
	"salted-md5", "salted-sha256", "salted-hmac-sha256", "salted-pbkdf2-hmac-sha256",
	"salted-pbkdf2-hmac-sha256-512", "salted-pbkdf2-hmac-sha512-512", "bcrypt", "phpass-md5", "phpass-sha512",
}

// GeneratorTypes are the kinds of a tenant's identifier generators
// (FusionAuth's SecureGeneratorType).
var GeneratorTypes = []string{"randomBytes", "randomAlpha", "randomAlphaNumeric", "randomDigits"}

// MaxPasswordLength is the longest password policy FusionAuth allows.
const MaxPasswordLength = 256

// TenantSearch is FusionAuth's TenantSearchCriteria.
type TenantSearch struct {
	Name            string `json:"name"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// normalizeTenant checks a tenant object as sent on create or update and
// prepares it for storage in place: owned fields removed, defaults filled.
// It returns the name and the typed view.
func normalizeTenant(o kit.Object, limits password.Limits) (string, *model.TenantConfig, *model.Errors) {
	verrs := &model.Errors{}
	if !TenantFields.Check(o, tenantField, verrs) {
		return "", nil, verrs
	}
	name := kit.RequiredName(o, tenantField+".name", verrs)
	for _, f := range tenantOwnedFields {
		delete(o, f)
	}
	kit.FillDefaults(o, tenantDefaults)
	if v, ok := o["data"]; ok && v != nil {
		if _, ok := v.(kit.Object); !ok {
			verrs.Field(tenantField+".data", "invalid", "[tenant.data] must be a JSON object.")
		}
	}
	var cfg model.TenantConfig
	if !kit.DecodeTyped(o, tenantField, &cfg, verrs) {
		return name, nil, verrs
	}
	checkTenantConfig(&cfg, limits, verrs)
	return name, &cfg, verrs
}

func checkTenantConfig(c *model.TenantConfig, limits password.Limits, verrs *model.Errors) {
	f := func(s string) string { return tenantField + "." + s }
	pv := c.PasswordValidationRules
	kit.Positive(verrs, f("passwordValidationRules.minLength"), int64(pv.MinLength))
	switch {
	case pv.MaxLength > MaxPasswordLength:
		verrs.Field(f("passwordValidationRules.maxLength"), "invalid", fmt.Sprintf("[tenant.passwordValidationRules.maxLength] must be at most %d.", MaxPasswordLength))
	case pv.MaxLength < pv.MinLength:
		verrs.Field(f("passwordValidationRules.maxLength"), "invalid", "[tenant.passwordValidationRules.maxLength] must not be less than minLength.")
	}
	if pv.RememberPreviousPasswords.Enabled {
		kit.Between(verrs, f("passwordValidationRules.rememberPreviousPasswords.count"), int64(pv.RememberPreviousPasswords.Count), 1, MaxRememberedPasswords)
	}
	// Ages are bounded whether enabled or not: they apply once enabled, and
	// a day count far out overflows the instant it is compared with.
	kit.Between(verrs, f("maximumPasswordAge.days"), int64(c.MaximumPasswordAge.Days), 1, MaxPasswordAgeDays)
	kit.Between(verrs, f("minimumPasswordAge.seconds"), int64(c.MinimumPasswordAge.Seconds), 0, MaxSeconds)
	pe := c.PasswordEncryptionConfiguration
	if !slices.Contains(PasswordSchemes, pe.EncryptionScheme) {
		verrs.Field(f("passwordEncryptionConfiguration.encryptionScheme"), "invalid",
			"[tenant.passwordEncryptionConfiguration.encryptionScheme] must be one of "+strings.Join(PasswordSchemes, ", ")+".")
	}
	kit.Positive(verrs, f("passwordEncryptionConfiguration.encryptionSchemeFactor"), int64(pe.EncryptionSchemeFactor))
	// The operator bounds the factor: a tenant key must not be able to make
	// every login in its tenant (and an unknown user's) cost minutes.
	if lo, hi, ok := limits.FactorRange(pe.EncryptionScheme); ok && pe.EncryptionSchemeFactor > 0 &&
		(pe.EncryptionSchemeFactor < lo || pe.EncryptionSchemeFactor > hi) {
		verrs.Field(f("passwordEncryptionConfiguration.encryptionSchemeFactor"), "invalid",
			fmt.Sprintf("[tenant.passwordEncryptionConfiguration.encryptionSchemeFactor] must be between %d and %d for %s.", lo, hi, pe.EncryptionScheme))
	}

	checkJWTConfiguration(&c.JWTConfiguration, f("jwtConfiguration"), true, verrs)
	checkEventConfiguration(&c.EventConfiguration, f("eventConfiguration.events"), verrs)

	fa := c.FailedAuthenticationConfiguration
	kit.Between(verrs, f("failedAuthenticationConfiguration.tooManyAttempts"), int64(fa.TooManyAttempts), 1, MaxFailedAttempts)
	kit.Between(verrs, f("failedAuthenticationConfiguration.resetCountInSeconds"), int64(fa.ResetCountInSeconds), 1, MaxSeconds)
	kit.Between(verrs, f("failedAuthenticationConfiguration.actionDuration"), fa.ActionDuration, 1, maxActionDuration(fa.ActionDurationUnit))
	kit.OneOf(verrs, f("failedAuthenticationConfiguration.actionDurationUnit"), fa.ActionDurationUnit,
		"MINUTES", "HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS")

	ei := c.ExternalIdentifierConfiguration
	for name, ttl := range map[string]int{
		"authorizationGrantIdTimeToLiveInSeconds":            ei.AuthorizationGrantIDTimeToLiveInSeconds,
		"changePasswordIdTimeToLiveInSeconds":                ei.ChangePasswordIDTimeToLiveInSeconds,
		"deviceCodeTimeToLiveInSeconds":                      ei.DeviceCodeTimeToLiveInSeconds,
		"emailVerificationIdTimeToLiveInSeconds":             ei.EmailVerificationIDTimeToLiveInSeconds,
		"externalAuthenticationIdTimeToLiveInSeconds":        ei.ExternalAuthenticationIDTimeToLiveInSeconds,
		"loginIntentTimeToLiveInSeconds":                     ei.LoginIntentTimeToLiveInSeconds,
		"oneTimePasswordTimeToLiveInSeconds":                 ei.OneTimePasswordTimeToLiveInSeconds,
		"passwordlessLoginTimeToLiveInSeconds":               ei.PasswordlessLoginTimeToLiveInSeconds,
		"pendingAccountLinkTimeToLiveInSeconds":              ei.PendingAccountLinkTimeToLiveInSeconds,
		"registrationVerificationIdTimeToLiveInSeconds":      ei.RegistrationVerificationIDTimeToLiveInSeconds,
		"rememberOAuthScopeConsentChoiceTimeToLiveInSeconds": ei.RememberOAuthScopeConsentChoiceTimeToLiveInSecs,
		"samlv2AuthNRequestIdTimeToLiveInSeconds":            ei.Samlv2AuthNRequestIDTimeToLiveInSeconds,
		"setupPasswordIdTimeToLiveInSeconds":                 ei.SetupPasswordIDTimeToLiveInSeconds,
		"trustTokenTimeToLiveInSeconds":                      ei.TrustTokenTimeToLiveInSeconds,
		"twoFactorIdTimeToLiveInSeconds":                     ei.TwoFactorIDTimeToLiveInSeconds,
		"twoFactorOneTimeCodeIdTimeToLiveInSeconds":          ei.TwoFactorOneTimeCodeIDTimeToLiveInSeconds,
		"twoFactorTrustIdTimeToLiveInSeconds":                ei.TwoFactorTrustIDTimeToLiveInSeconds,
		"webAuthnAuthenticationChallengeTimeToLiveInSeconds": ei.WebAuthnAuthenticationChallengeTimeToLiveInSecs,
		"webAuthnRegistrationChallengeTimeToLiveInSeconds":   ei.WebAuthnRegistrationChallengeTimeToLiveInSeconds,
	} {
		kit.Between(verrs, f("externalIdentifierConfiguration."+name), int64(ttl), 1, MaxSeconds)
	}
	for name, g := range map[string]model.SecureGenerator{
		"changePasswordIdGenerator":                    ei.ChangePasswordIDGenerator,
		"deviceUserCodeIdGenerator":                    ei.DeviceUserCodeIDGenerator,
		"emailVerificationIdGenerator":                 ei.EmailVerificationIDGenerator,
		"emailVerificationOneTimeCodeGenerator":        ei.EmailVerificationOneTimeCodeGenerator,
		"passwordlessLoginGenerator":                   ei.PasswordlessLoginGenerator,
		"registrationVerificationIdGenerator":          ei.RegistrationVerificationIDGenerator,
		"registrationVerificationOneTimeCodeGenerator": ei.RegistrationVerificationOneTimeCodeGenerator,
		"setupPasswordIdGenerator":                     ei.SetupPasswordIDGenerator,
		"twoFactorOneTimeCodeIdGenerator":              ei.TwoFactorOneTimeCodeIDGenerator,
	} {
		kit.Positive(verrs, f("externalIdentifierConfiguration."+name+".length"), int64(g.Length))
		kit.OneOf(verrs, f("externalIdentifierConfiguration."+name+".type"), g.Type, GeneratorTypes...)
	}

	kit.Between(verrs, f("httpSessionMaxInactiveInterval"), int64(c.HTTPSessionMaxInactiveInterval), 1, MaxSeconds)
	if p := c.EmailConfiguration.Port; p < 0 || p > 65535 {
		verrs.Field(f("emailConfiguration.port"), "invalid", "[tenant.emailConfiguration.port] must be between 0 and 65535.")
	}
	kit.OneOf(verrs, f("emailConfiguration.security"), c.EmailConfiguration.Security, "NONE", "SSL", "TLS")
	kit.OneOf(verrs, f("emailConfiguration.unverified.behavior"), c.EmailConfiguration.Unverified.Behavior, "Allow", "Gated")
	ec := c.EmailConfiguration
	if ec.DefaultFromEmail != "" && !kit.IsEmail(ec.DefaultFromEmail) {
		verrs.Field(f("emailConfiguration.defaultFromEmail"), "invalid", "[tenant.emailConfiguration.defaultFromEmail] must be an email address.")
	}
	if strings.ContainsFunc(ec.DefaultFromName, unicode.IsControl) {
		verrs.Field(f("emailConfiguration.defaultFromName"), "invalid", "[tenant.emailConfiguration.defaultFromName] must be one line without control characters.")
	}
	if len(ec.Host) > 253 || strings.ContainsFunc(ec.Host, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		verrs.Field(f("emailConfiguration.host"), "invalid", "[tenant.emailConfiguration.host] must be a host name or address, without spaces or control characters.")
	}
	for _, h := range c.EmailConfiguration.AdditionalHeaders {
		if !model.ValidMailHeader(h.Name, h.Value) {
			verrs.Field(f("emailConfiguration.additionalHeaders"), "invalid",
				"Each of [tenant.emailConfiguration.additionalHeaders] needs a header name (letters, digits, hyphens) other than the message's own headers, and a one-line value.")
			break
		}
	}
	if c.LoginTheme != nil {
		checkLoginTheme(c.LoginTheme, f("loginTheme"), verrs)
	}
}

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// checkLoginTheme validates the hosted pages' theme: what the pages and
// their stylesheet will carry.
func checkLoginTheme(t *model.LoginTheme, path string, verrs *model.Errors) {
	if n := utf8.RuneCountInString(t.ProductName); n > model.MaxThemeNameLength || strings.ContainsAny(t.ProductName, "\r\n") {
		verrs.Field(path+".productName", "invalid", fmt.Sprintf("[%s.productName] must be one line of at most %d characters.", path, model.MaxThemeNameLength))
	}
	if t.LogoURL != "" {
		u, err := url.Parse(t.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(t.LogoURL) > 2048 || strings.ContainsAny(t.LogoURL, " ;,'\"") {
			verrs.Field(path+".logoURL", "invalid", "["+path+".logoURL] must be an absolute https URL.")
		}
	}
	if t.PrimaryColor != "" && !hexColor.MatchString(t.PrimaryColor) {
		verrs.Field(path+".primaryColor", "invalid", "["+path+".primaryColor] must be a hex colour such as #1d4ed8.")
	}
	if len(t.CustomCSS) > model.MaxThemeCSSLength {
		verrs.Field(path+".customCSS", "tooLong", fmt.Sprintf("[%s.customCSS] must be at most %d bytes.", path, model.MaxThemeCSSLength))
	}
	for k, v := range t.Messages {
		switch {
		case !slices.Contains(model.ThemeMessageKeys, k):
			verrs.Field(path+".messages", "invalid", fmt.Sprintf("[%s.messages] has the unknown key %q; the keys are %s.", path, k, strings.Join(model.ThemeMessageKeys, ", ")))
		case utf8.RuneCountInString(v) > model.MaxThemeMessageLength:
			verrs.Field(path+".messages."+k, "tooLong", fmt.Sprintf("[%s.messages.%s] must be at most %d characters.", path, k, model.MaxThemeMessageLength))
		}
	}
}

// Upper bounds of lifetimes, so that now plus any of them stays far from
// overflowing an int64 of milliseconds (or a time.Duration). docs/compatibility.md
// lists them.
const (
	// MaxSeconds bounds every lifetime in seconds: access tokens, one-time ids,
	// sessions, lockout counting (one year).
	MaxSeconds = 365 * 24 * 3600
	// MaxRefreshMinutes bounds refresh token lifetimes (ten years).
	MaxRefreshMinutes = 10 * 365 * 24 * 60
	// MaxGraceSeconds bounds a one-time refresh token's grace period (a day).
	MaxGraceSeconds = 24 * 3600
	// MaxPasswordAgeDays bounds maximumPasswordAge (ten years).
	MaxPasswordAgeDays = 10 * 365
	// MaxFailedAttempts bounds failedAuthenticationConfiguration.tooManyAttempts.
	MaxFailedAttempts = 10_000
	// MaxRememberedPasswords bounds the password history a tenant keeps per user.
	MaxRememberedPasswords = 100
)

// maxActionDuration bounds a lockout's duration to ten years in its unit.
func maxActionDuration(unit string) int64 {
	const years = 10
	switch unit {
	case "HOURS":
		return years * 365 * 24
	case "DAYS":
		return years * 365
	case "WEEKS":
		return years * 52
	case "MONTHS":
		return years * 12
	case "YEARS":
		return years
	default: // MINUTES
		return years * 365 * 24 * 60
	}
}

// checkJWTConfiguration checks token lifetimes and policies. An application's
// settings only apply when enabled; a tenant's always do.
func checkJWTConfiguration(j *model.JWTConfiguration, field string, always bool, verrs *model.Errors) {
	if !always && !j.Enabled {
		return
	}
	kit.Between(verrs, field+".timeToLiveInSeconds", int64(j.TimeToLiveInSeconds), 1, MaxSeconds)
	kit.Between(verrs, field+".refreshTokenTimeToLiveInMinutes", int64(j.RefreshTokenTimeToLiveInMinutes), 1, MaxRefreshMinutes)
	kit.OneOf(verrs, field+".refreshTokenExpirationPolicy", j.RefreshTokenExpirationPolicy,
		"Fixed", "SlidingWindow", "SlidingWindowWithMaximumLifetime")
	kit.OneOf(verrs, field+".refreshTokenUsagePolicy", j.RefreshTokenUsagePolicy, "Reusable", "OneTimeUse")
	// A day at most: a grace period reopens a used one-time token (0: none).
	kit.Between(verrs, field+".refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds",
		int64(j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds), 0, MaxGraceSeconds)
	m := j.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes
	if j.RefreshTokenExpirationPolicy != "SlidingWindowWithMaximumLifetime" {
		// Unused, but bounded: it applies once the policy changes.
		kit.Between(verrs, field+".refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes", int64(m), 0, MaxRefreshMinutes)
		return
	}
	if m > MaxRefreshMinutes {
		kit.Between(verrs, field+".refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes", int64(m), 1, MaxRefreshMinutes)
	} else if m < j.RefreshTokenTimeToLiveInMinutes {
		verrs.Field(field+".refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes", "invalid",
			"["+field+".refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes] must not be less than refreshTokenTimeToLiveInMinutes.")
	}
}

// tenantObject builds the tenant a client sees from a stored row, decoded once
// into its typed form. Defaults are filled again so that rows written before
// a setting existed (or by bootstrap) read complete. withSecrets adds the
// decrypted secrets.
func (s *Service) tenantObject(row *store.TenantRow, withSecrets bool) (*model.TenantConfig, error) {
	o, err := kit.StoredObject(row.Data, TenantFields)
	if err != nil {
		return nil, fmt.Errorf("tenant %s data: %w", row.ID, err)
	}
	kit.FillDefaults(o, tenantDefaults)
	o["id"] = row.ID
	o["name"] = row.Name
	o["insertInstant"] = row.InsertInstant
	o["lastUpdateInstant"] = row.LastUpdateInstant
	o["state"] = "Active"
	if withSecrets {
		sec, err := kit.OpenSecrets(s.master, row.SecretsSealed, TenantSecretAD(row.ID))
		if err != nil {
			return nil, err
		}
		kit.PutSecrets(o, tenantSecretPaths, sec)
	}
	return kit.StoredConfig[model.TenantConfig](o, tenantField, "tenant "+row.ID)
}

func TenantSecretAD(id string) string { return "tenant:" + id }

// tenantRow prepares a normalized object for storage.
func (s *Service) tenantRow(id, name string, o kit.Object, insert, update int64) (*store.TenantRow, error) {
	sec := kit.CutSecrets(o, tenantSecretPaths)
	sealed, err := kit.SealSecrets(s.master, sec, TenantSecretAD(id))
	if err != nil {
		return nil, err
	}
	data, err := kit.EncodeObject(o)
	if err != nil {
		return nil, err
	}
	return &store.TenantRow{ID: id, Name: name, Data: data, SecretsSealed: sealed, InsertInstant: insert, LastUpdateInstant: update}, nil
}

func tenantLabel(name, id string) string { return fmt.Sprintf("[%s] (%s)", name, id) }

// Tenant returns one tenant, or model.ErrNotFound (also for tenants outside
// the scope).
func (s *Service) Tenant(ctx context.Context, scope kit.TenantScope, id string) (*model.TenantConfig, error) {
	id, ok := kit.CanonicalID(id)
	if !ok || !scope.CanSee(id) {
		return nil, model.NotFoundf("tenant %s", id)
	}
	row, err := s.store.Read().TenantByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("tenant %s", id)
	}
	if err != nil {
		return nil, err
	}
	return s.tenantObject(row, true)
}

// Tenants returns every tenant in the scope, ordered by name.
func (s *Service) Tenants(ctx context.Context, scope kit.TenantScope) ([]*model.TenantConfig, error) {
	rows, err := s.store.Read().ListTenants(ctx, scope.Tenants)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out := make([]*model.TenantConfig, 0, len(rows))
	for _, row := range rows {
		o, err := s.tenantObject(row, true)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// TenantConfig returns a tenant, secrets included, for the features that act
// on its settings (passwords, tokens, email).
func (s *Service) TenantConfig(ctx context.Context, id string) (*model.TenantConfig, error) {
	return s.Tenant(ctx, kit.AllTenants, id)
}

// SearchTenants finds tenants by name, FusionAuth's tenant search. "*" is
// accepted and means what a substring match already does.
func (s *Service) SearchTenants(ctx context.Context, scope kit.TenantScope, q TenantSearch) ([]*model.TenantConfig, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.TenantOrderColumns)
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be one of id, insertInstant, lastUpdateInstant or name, optionally followed by ASC or DESC.")
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	name := strings.TrimSpace(q.Name) // * is a wildcard (store.containsPattern)
	rows, total, err := s.store.Read().SearchTenants(ctx, store.TenantQuery{Name: name, IDs: scope.Tenants, OrderBy: col, Descending: desc}, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search tenants: %w", err)
	}
	out := make([]*model.TenantConfig, 0, len(rows))
	for _, row := range rows {
		// Search results leave secrets out, as FusionAuth's do.
		o, err := s.tenantObject(row, false)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, o)
	}
	return out, total, nil
}

// CreateTenant creates a tenant from a TenantRequest body: {"tenant":{…}} or,
// to copy one, {"sourceTenantId":…, "tenant":{"name":…}}. id may be "" (one is
// generated) or a UUID the caller chose.
func (s *Service) CreateTenant(ctx context.Context, actor kit.Actor, id string, body kit.Object) (*model.TenantConfig, error) {
	verrs := &model.Errors{}
	id = kit.NewOrGivenID(id, tenantField+".id", verrs)
	o := kit.RequestObject(body, tenantRequestFields, tenantField, verrs)
	sourceID := kit.OptionalID(body, "sourceTenantId", verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	var out *model.TenantConfig
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if sourceID != "" {
			src, err := tx.TenantByID(ctx, sourceID)
			if errors.Is(err, store.ErrNoRows) {
				return model.FieldError("sourceTenantId", "invalid", "The source tenant does not exist.")
			}
			if err != nil {
				return err
			}
			srcTenant, err := s.tenantObject(src, true)
			if err != nil {
				return err
			}
			base, err := srcTenant.Tree()
			if err != nil {
				return err
			}
			// The copy takes every setting of the source; what the request
			// sends (at least the new name) is merged over it.
			var ok bool
			if o, ok = model.MergePatch(base, o).(kit.Object); !ok {
				return errors.New("merged tenant copy is not an object")
			}
		}
		name, cfg, verrs := normalizeTenant(o, s.limits)
		if err := verrs.Err(); err != nil {
			return err
		}
		if err := checkSigningKeyRefs(ctx, tx, tenantField+".jwtConfiguration", &cfg.JWTConfiguration); err != nil {
			return err
		}
		if err := checkEmailTemplateRefs(ctx, tx, o, nil); err != nil {
			return err
		}
		if _, err := tx.TenantByID(ctx, id); err == nil {
			return model.FieldError(tenantField+".id", "duplicate", "A tenant with this id already exists.")
		} else if !errors.Is(err, store.ErrNoRows) {
			return err
		}
		if err := checkTenantName(ctx, tx, name, id); err != nil {
			return err
		}
		now := s.now()
		row, err := s.tenantRow(id, name, o, now, now)
		if err != nil {
			return err
		}
		if err := tx.InsertTenantRow(ctx, row); err != nil {
			return tenantWriteError(err)
		}
		snapshot, err := s.tenantObject(row, false)
		if err != nil {
			return err
		}
		msg := "Created tenant " + tenantLabel(name, id)
		if sourceID != "" {
			msg += " as a copy of tenant " + sourceID
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: msg, TargetID: id, New: snapshot}); err != nil {
			return err
		}
		out, err = s.tenantObject(row, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateTenant replaces a tenant with the object of a TenantRequest body.
func (s *Service) UpdateTenant(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, body kit.Object) (*model.TenantConfig, error) {
	verrs := &model.Errors{}
	o := kit.RequestObject(body, tenantRequestFields, tenantField, verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	return s.changeTenant(ctx, actor, scope, id, func(cur kit.Object) (kit.Object, error) {
		keepOmittedSMTPPassword(o, cur)
		return o, nil
	})
}

// keepOmittedSMTPPassword carries the stored SMTP password over a PUT that
// leaves it out: clients never see it (WithoutSMTPPassword), so a client
// that sends back what it read must not erase it. An empty string clears it.
func keepOmittedSMTPPassword(o, cur kit.Object) {
	ec, ok := kit.ObjectMember(o, "emailConfiguration")
	if !ok {
		return
	}
	if _, given := ec["password"]; given {
		return
	}
	if old, ok := cur["emailConfiguration"].(kit.Object); ok {
		if pw, ok := old["password"].(string); ok && pw != "" {
			ec["password"] = pw
		}
	}
}

// WithoutSMTPPassword removes the SMTP password from a tenant object a
// client is about to read: it is a credential, stored sealed and used only
// by the mailer.
func WithoutSMTPPassword(t *model.TenantConfig) *model.TenantConfig {
	if t == nil || t.EmailConfiguration.Password == "" {
		return t
	}
	c := *t // a copy: t may be shared
	c.EmailConfiguration.Password = ""
	return &c
}

// PatchTenant applies a patch in one of FusionAuth's three forms to the
// tenant in request form ({"tenant":{…}}), then validates the result as an
// update.
func (s *Service) PatchTenant(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, form model.PatchForm, patch []byte) (*model.TenantConfig, error) {
	return s.changeTenant(ctx, actor, scope, id, func(cur kit.Object) (kit.Object, error) {
		patched, err := model.ApplyPatch(form, kit.Object{tenantField: cur}, patch)
		if err != nil {
			return nil, err
		}
		body, ok := patched.(kit.Object)
		if !ok {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The patched request is not a JSON object.")
		}
		verrs := &model.Errors{}
		o := kit.RequestObject(body, tenantRequestFields, tenantField, verrs)
		return o, verrs.Err()
	})
}

// changeTenant reads a tenant, lets next compute its new object from the
// current one (secrets included), validates and stores it, in one transaction.
func (s *Service) changeTenant(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, next func(cur kit.Object) (kit.Object, error)) (*model.TenantConfig, error) {
	id, ok := kit.CanonicalID(id)
	if !ok || !scope.CanSee(id) {
		return nil, model.NotFoundf("tenant %s", id)
	}
	var out *model.TenantConfig
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.changeTenantIn(ctx, tx, actor, id, next)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeTenantIn is changeTenant in the caller's transaction, for a tenant
// the caller may change.
func (s *Service) changeTenantIn(ctx context.Context, tx *store.Tx, actor kit.Actor, id string, next func(cur kit.Object) (kit.Object, error)) (*model.TenantConfig, error) {
	var out *model.TenantConfig
	err := func() error {
		cur, err := tx.TenantByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("tenant %s", id)
		}
		if err != nil {
			return err
		}
		curTenant, err := s.tenantObject(cur, true)
		if err != nil {
			return err
		}
		curObj, err := curTenant.Tree()
		if err != nil {
			return err
		}
		o, err := next(curObj)
		if err != nil {
			return err
		}
		name, cfg, verrs := normalizeTenant(o, s.limits)
		if err := verrs.Err(); err != nil {
			return err
		}
		if err := checkSigningKeyRefs(ctx, tx, tenantField+".jwtConfiguration", &cfg.JWTConfiguration); err != nil {
			return err
		}
		if err := checkEmailTemplateRefs(ctx, tx, o, curObj); err != nil {
			return err
		}
		if err := checkTenantName(ctx, tx, name, id); err != nil {
			return err
		}
		row, err := s.tenantRow(id, name, o, cur.InsertInstant, s.now())
		if err != nil {
			return err
		}
		if err := tx.UpdateTenantRow(ctx, row); err != nil {
			return tenantWriteError(err)
		}
		oldSnap, err := s.tenantObject(cur, false)
		if err != nil {
			return err
		}
		newSnap, err := s.tenantObject(row, false)
		if err != nil {
			return err
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Updated tenant " + tenantLabel(name, id), TargetID: id, Old: oldSnap, New: newSnap,
			Events: tenantKeyEvents(ctx, tx, id, &oldSnap.JWTConfiguration, &newSnap.JWTConfiguration)}); err != nil {
			return err
		}
		out, err = s.tenantObject(row, true)
		return err
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteTenant removes a tenant with its applications and users. API keys
// limited to it alone are deleted; keys limited to it among others lose it.
// The tenant holding the admin application cannot be deleted.
func (s *Service) DeleteTenant(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) error {
	id, ok := kit.CanonicalID(id)
	if !ok || !scope.CanSee(id) {
		return model.NotFoundf("tenant %s", id)
	}
	keysChanged := false
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		// Key changes below must not race the last-key guard of the key API.
		if err := tx.LockAPIKeys(ctx); err != nil {
			return err
		}
		cur, err := tx.TenantByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("tenant %s", id)
		}
		if err != nil {
			return err
		}
		adminTenant, err := tx.ApplicationTenantID(ctx, model.AdminApplicationID)
		if err != nil && !errors.Is(err, store.ErrNoRows) {
			return err
		}
		if adminTenant == id {
			return model.FieldError("tenantId", "cannotDelete",
				"The tenant of the FusionAuth admin application cannot be deleted.")
		}
		keys, err := tx.APIKeysOfTenant(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		for _, k := range keys {
			before := k.APIKey
			rest := slices.DeleteFunc(slices.Clone(k.Tenants()), func(t string) bool { return t == id })
			if len(rest) == 0 {
				// A key limited to this tenant alone must not outlive it: with
				// no tenant left it would read as a key for every tenant.
				if err := tx.DeleteAPIKey(ctx, k.ID); err != nil {
					return fmt.Errorf("delete api key %s: %w", k.ID, err)
				}
				if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deleted API key " + kit.KeyLabel(&before) + " with its only tenant " + tenantLabel(cur.Name, id),
					TargetID: k.ID, Old: &before, Critical: true}); err != nil {
					return err
				}
			} else {
				k.TenantID, k.TenantIDs = "", nil
				if len(rest) == 1 {
					k.TenantID = rest[0]
				} else {
					k.TenantIDs = rest
				}
				k.LastUpdateInstant = now
				if err := tx.UpdateAPIKey(ctx, k); err != nil {
					return fmt.Errorf("narrow api key %s: %w", k.ID, err)
				}
				after := k.APIKey
				if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Removed deleted tenant " + tenantLabel(cur.Name, id) + " from API key " + kit.KeyLabel(&after),
					TargetID: k.ID, Old: &before, New: &after}); err != nil {
					return err
				}
			}
			keysChanged = true
		}
		if keysChanged {
			if err := tx.BumpCacheVersion(ctx, store.CacheAPIKeys); err != nil {
				return err
			}
		}
		if err := tx.DeleteTenantCascade(ctx, id); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("tenant %s", id)
			}
			return fmt.Errorf("delete tenant %s: %w", id, err)
		}
		snapshot, err := s.tenantObject(cur, false)
		if err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deleted tenant " + tenantLabel(cur.Name, id) + " with its applications and users",
			TargetID: id, Old: snapshot, Critical: true})
	})
	if err != nil {
		return err
	}
	if keysChanged {
		// The deleted keys stop working on this node now, on others at their next poll.
		s.apiKeys.Refresh(ctx)
	}
	return nil
}

func checkTenantName(ctx context.Context, tx *store.Tx, name, id string) error {
	taken, err := tx.TenantNameTaken(ctx, name, id)
	if err != nil {
		return err
	}
	if taken {
		return model.FieldError(tenantField+".name", "duplicate", "A tenant with this name already exists.")
	}
	return nil
}

// tenantWriteError turns a unique violation that slipped past the checks (a
// concurrent writer) into the matching duplicate error.
func tenantWriteError(err error) error {
	switch store.TenantUniqueField(err) {
	case "name":
		return model.FieldError(tenantField+".name", "duplicate", "A tenant with this name already exists.")
	case "id":
		return model.FieldError(tenantField+".id", "duplicate", "A tenant with this id already exists.")
	}
	return err
}

// checkEmailTemplateRefs refuses an emailConfiguration whose
// *EmailTemplateId members (those Latch uses and FusionAuth's others alike)
// are not the id of an email template, as FusionAuth does. Only members the
// write sets or changes are checked (cur is the stored tenant, nil for a new
// one): a reference stored before is not this write's to answer for, and
// must not keep the tenant from other changes (a key rotation). The
// template rows stay locked until the transaction ends, so a template
// cannot be deleted under the write (email.Service.DeleteTemplate locks it
// too).
func checkEmailTemplateRefs(ctx context.Context, tx *store.Tx, o, cur kit.Object) error {
	ec, _ := o["emailConfiguration"].(kit.Object)
	stored, _ := cur["emailConfiguration"].(kit.Object)
	verrs := &model.Errors{}
	for _, name := range slices.Sorted(maps.Keys(ec)) {
		if !strings.HasSuffix(name, "EmailTemplateId") || ec[name] == nil {
			continue
		}
		if old, ok := stored[name]; ok && reflect.DeepEqual(old, ec[name]) {
			continue
		}
		field := tenantField + ".emailConfiguration." + name
		raw, isString := ec[name].(string)
		if isString && strings.TrimSpace(raw) == "" {
			continue
		}
		id, ok := kit.CanonicalID(raw)
		if !isString || !ok {
			verrs.Field(field, "invalid", "["+field+"] must be the id of an email template.")
			continue
		}
		exists, err := tx.LockEmailTemplate(ctx, id)
		if err != nil {
			return err
		}
		if !exists {
			verrs.Field(field, "invalid", "["+field+"] names no email template: no template with id "+id+" exists.")
		}
	}
	return verrs.Err()
}

// checkSigningKeyRefs refuses a jwtConfiguration naming a signing key that
// does not exist or has no private part (it could not sign: logins would
// fail). The key rows stay locked until the transaction ends, so the key
// cannot be deleted under the write (signing.Service.Delete locks them too).
func checkSigningKeyRefs(ctx context.Context, tx *store.Tx, field string, j *model.JWTConfiguration) error {
	verrs := &model.Errors{}
	for _, ref := range []struct{ name, id string }{{"accessTokenKeyId", j.AccessTokenKeyID}, {"idTokenKeyId", j.IDTokenKeyID}} {
		raw := strings.TrimSpace(ref.id)
		if raw == "" {
			continue // the default key
		}
		f := field + "." + ref.name
		id, ok := kit.CanonicalID(raw)
		if !ok {
			verrs.Field(f, "invalid", "["+f+"] must be the id of a signing key.")
			continue
		}
		exists, err := tx.LockSigningKey(ctx, id)
		if err != nil {
			return err
		}
		if !exists {
			verrs.Field(f, "invalid", "["+f+"] names no signing key: no key with id "+id+" exists.")
			continue
		}
		row, err := tx.SigningKeyByID(ctx, id)
		if err != nil {
			return err
		}
		if row.PrivateSealed == "" {
			verrs.Field(f, "invalid", "["+f+"] names a key without a private key, which cannot sign tokens.")
		}
	}
	return verrs.Err()
}
