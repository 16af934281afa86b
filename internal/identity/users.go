package identity

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // user.timezone is checked against the IANA database, also where the OS has none
	"unicode"
	"unicode/utf8"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
	"github.com/latchid/latch/internal/tokens"
)

// Users, FusionAuth's /api/user. Every field a client sends is stored in the
// data column and returned unchanged (model.User and its raw bag), with the
// fields Latch owns overlaid from columns and other tables. The password is
// never stored, returned, logged or audited; two-factor method secrets are
// sealed under the master key.

const userField = "user"

// userOwnedFields are overlaid on the way out; what a client sends there is
// read by validation (email, username, fullName, password,
// passwordChangeRequired) or ignored, never stored in data. registrations and
// memberships come from their own tables and APIs.
var userOwnedFields = []string{
	"id", "tenantId", "email", "username", "fullName", "active", "verified", "passwordChangeRequired",
	"insertInstant", "lastUpdateInstant", "lastLoginInstant", "passwordLastUpdateInstant",
	"registrations", "memberships", "password", "salt", "encryptionScheme", "factor",
	"breachedPasswordStatus", "breachedPasswordLastCheckedInstant",
}

// UserFields are the member names of a user object, matched exactly: the
// typed view's, the owned ones, and the two-factor members Latch reads or
// cuts out.
var UserFields = model.FieldsOf(userView{}, append(slices.Clone(userOwnedFields),
	"twoFactor.methods[].id", "twoFactor.methods[].method", "twoFactor.methods[].secret", "twoFactor.methods[].secretBase32Encoded",
	"twoFactor.recoveryCodes")...)

// userRequestFields are the members of FusionAuth's UserRequest.
var userRequestFields = model.FieldsOf(nil, userField, "applicationId", "currentPassword", "disableDomainBlock", "eventInfo",
	"passwordFieldType", "sendSetPasswordEmail", "sendSetPasswordIdentityType", "skipVerification", "verificationIds")

// Bounds of user fields (FusionAuth's columns are no longer).
const (
	maxEmailLength    = 191
	maxUsernameLength = 191
	maxUserNameLength = 255 // fullName, firstName, middleName, lastName
	maxImageURLLength = 2048
	maxTwoFactorID    = 32
)

// Kinds of one-time codes users hold.
const (
	CodeChangePassword  = "changePassword"
	CodeSetupPassword   = "setupPassword"
	CodeOneTimePassword = "oneTimePassword"
)

// userView is the typed part of a user object that validation reads. Decoding
// into it turns a member of the wrong type into [invalid]user.<field>.
type userView struct {
	TenantID               string         `json:"tenantId"`
	Email                  string         `json:"email"`
	Username               string         `json:"username"`
	FullName               string         `json:"fullName"`
	FirstName              string         `json:"firstName"`
	MiddleName             string         `json:"middleName"`
	LastName               string         `json:"lastName"`
	BirthDate              string         `json:"birthDate"`
	Timezone               string         `json:"timezone"`
	ImageURL               string         `json:"imageUrl"`
	MobilePhone            string         `json:"mobilePhone"`
	PhoneNumber            string         `json:"phoneNumber"`
	ParentEmail            string         `json:"parentEmail"`
	PreferredLanguages     []string       `json:"preferredLanguages"`
	Data                   map[string]any `json:"data"`
	Expiry                 int64          `json:"expiry"`
	Password               string         `json:"password"`
	PasswordChangeRequired bool           `json:"passwordChangeRequired"`
	TwoFactor              *struct {
		Methods []map[string]any `json:"methods"`
	} `json:"twoFactor"`
}

// preparedUser is a validated user object ready to store.
type preparedUser struct {
	email, username, fullName string
	firstName, lastName       string
	password                  string // "" when the request sets none
	passwordChangeRequired    bool
	data                      kit.Object          // the object to store, owned fields removed
	secrets                   map[string]string   // two-factor secrets by method id
	memberships               *groups.Memberships // user.memberships as sent (the group API stores them)
}

// storedUser is what an update keeps of the user it changes: its opened
// secrets (a two-factor method that keeps its id keeps its secret) and its
// login ids (a value already stored is not checked again by the character
// rules of new ones, which came after it).
type storedUser struct {
	secrets         map[string]string
	email, username string
}

// normalizeUser checks a user object as sent and prepares it in place. was
// is the stored user an update changes (nil on create).
func normalizeUser(o kit.Object, was *storedUser) (*preparedUser, *model.Errors) {
	if was == nil {
		was = &storedUser{}
	}
	verrs := &model.Errors{}
	f := func(s string) string { return userField + "." + s }
	if !UserFields.Check(o, userField, verrs) {
		return nil, verrs
	}
	var v userView
	if !kit.DecodeTyped(o, userField, &v, verrs) {
		return nil, verrs
	}
	p := &preparedUser{
		email:                  strings.TrimSpace(v.Email),
		username:               strings.TrimSpace(v.Username),
		fullName:               strings.TrimSpace(v.FullName),
		firstName:              v.FirstName,
		lastName:               v.LastName,
		password:               v.Password,
		passwordChangeRequired: v.PasswordChangeRequired,
	}
	switch {
	case p.email == "" && p.username == "":
		verrs.Field(f("email"), "blank", "An email or a username is required.")
	case p.email != "" && len(p.email) > maxEmailLength:
		verrs.Field(f("email"), "tooLong", fmt.Sprintf("[user.email] must be at most %d characters.", maxEmailLength))
	case p.email != "" && (!kit.IsEmail(p.email) || strings.IndexFunc(p.email, unicode.IsControl) >= 0):
		verrs.Field(f("email"), "notEmail", "[user.email] is not a valid email address.")
	case p.email != "" && p.email != was.email:
		checkLoginIDInvisible(f("email"), p.email, verrs)
	}
	switch {
	case p.username == "":
	case utf8.RuneCountInString(p.username) > maxUsernameLength:
		verrs.Field(f("username"), "tooLong", fmt.Sprintf("[user.username] must be at most %d characters.", maxUsernameLength))
	case strings.IndexFunc(p.username, unicode.IsControl) >= 0:
		verrs.Field(f("username"), "invalid", "[user.username] must not contain control characters.")
	case p.username != was.username:
		checkUsername(f("username"), p.username, verrs)
	}
	for name, val := range map[string]string{"fullName": v.FullName, "firstName": v.FirstName, "middleName": v.MiddleName, "lastName": v.LastName} {
		switch {
		case utf8.RuneCountInString(val) > maxUserNameLength:
			verrs.Field(f(name), "tooLong", fmt.Sprintf("[user.%s] must be at most %d characters.", name, maxUserNameLength))
		case strings.IndexFunc(val, unicode.IsControl) >= 0:
			verrs.Field(f(name), "invalid", fmt.Sprintf("[user.%s] must not contain control characters.", name))
		}
	}
	if v.BirthDate != "" {
		if _, err := time.Parse(time.DateOnly, v.BirthDate); err != nil {
			verrs.Field(f("birthDate"), "invalid", "[user.birthDate] must be a date as YYYY-MM-DD.")
		}
	}
	if v.Timezone != "" {
		if _, err := time.LoadLocation(v.Timezone); err != nil || strings.EqualFold(v.Timezone, "local") {
			verrs.Field(f("timezone"), "invalid", "[user.timezone] must be an IANA time zone such as America/Denver.")
		}
	}
	if v.ImageURL != "" {
		u, err := url.Parse(v.ImageURL)
		if err != nil || u.Scheme == "" || len(v.ImageURL) > maxImageURLLength {
			verrs.Field(f("imageUrl"), "invalid", "[user.imageUrl] must be an absolute URL.")
		}
	}
	if v.ParentEmail != "" && !kit.IsEmail(strings.TrimSpace(v.ParentEmail)) {
		verrs.Field(f("parentEmail"), "notEmail", "[user.parentEmail] is not a valid email address.")
	}
	for i, l := range v.PreferredLanguages {
		if strings.TrimSpace(l) == "" || len(l) > 35 {
			verrs.Field(f("preferredLanguages"), "invalid", fmt.Sprintf("[user.preferredLanguages][%d] is not a language tag.", i))
		}
	}
	if d, ok := o["data"]; ok && d != nil {
		if _, ok := d.(kit.Object); !ok {
			verrs.Field(f("data"), "invalid", "[user.data] must be a JSON object.")
		}
	}
	p.memberships = groups.ReadMemberships(o["memberships"])
	for _, k := range userOwnedFields {
		delete(o, k)
	}
	p.secrets = prepareTwoFactor(o, was.secrets, verrs)
	p.data = o
	return p, verrs
}

// twoFactorMethods are the methods FusionAuth's users may hold.
var twoFactorMethods = []string{"authenticator", "email", "sms"}

// MinTwoFactorSecretBytes is the shortest authenticator key accepted,
// however it arrives: 160 bits, RFC 4226's recommendation.
const MinTwoFactorSecretBytes = 20

// SecretBase32Prefix marks a sealed secret given only in base32 whose bytes
// are not text (FusionAuth's secret is text).
const SecretBase32Prefix = "base32:"

// TwoFactorKey is the TOTP key of a stored secret: its bytes as FusionAuth
// uses them, or the decoded bytes of a base32-only secret.
func TwoFactorKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, SecretBase32Prefix); ok {
		b, _ := base32.StdEncoding.DecodeString(rest)
		return b
	}
	return []byte(secret)
}

// SecretFromBase32 reads a secret given as secretBase32Encoded, as
// authenticator apps show it (any case, spaces or dashes, with or without
// padding), into the form it is stored in: the key as text when it is text,
// else SecretBase32Prefix and the key in base32. ok is false when s is not
// base32 or holds nothing.
func SecretFromBase32(s string) (secret string, ok bool) {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(s))
	s = strings.TrimRight(s, "=")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || len(key) == 0 {
		return "", false
	}
	if utf8.Valid(key) && !strings.HasPrefix(string(key), SecretBase32Prefix) {
		return string(key), true
	}
	return SecretBase32Prefix + base32.StdEncoding.EncodeToString(key), true
}

// prepareTwoFactor gives every two-factor method an id (as FusionAuth does)
// and cuts its secret out of the object: secret, or secretBase32Encoded as
// the enable API takes it. A method without one keeps the secret stored for
// its id; an authenticator method with none is refused (it could never be
// used).
func prepareTwoFactor(o kit.Object, prev map[string]string, verrs *model.Errors) map[string]string {
	out := map[string]string{}
	tf, ok := o["twoFactor"].(kit.Object)
	if !ok {
		return out
	}
	// Recovery codes are secrets Latch will generate; it never keeps ones a
	// caller sends in the user object, where they would be stored and returned.
	if tf["recoveryCodes"] != nil {
		verrs.Field("user.twoFactor.recoveryCodes", "invalid", "[user.twoFactor.recoveryCodes] cannot be set; recovery codes are generated by the server.")
	}
	list, ok := tf["methods"].([]any)
	if !ok {
		return out
	}
	seen := map[string]bool{}
	for i, item := range list {
		field := fmt.Sprintf("user.twoFactor.methods[%d]", i)
		m, ok := item.(kit.Object)
		if !ok {
			verrs.Field(field, "invalid", "["+field+"] must be a JSON object.")
			continue
		}
		method, _ := m["method"].(string)
		if !slices.Contains(twoFactorMethods, method) {
			verrs.Field(field+".method", "invalid", "["+field+".method] must be one of "+strings.Join(twoFactorMethods, ", ")+".")
		}
		id, _ := m["id"].(string)
		switch {
		case m["id"] == nil || id == "":
			id = NewTwoFactorID()
			m["id"] = id
		case len(id) > maxTwoFactorID || strings.ContainsAny(id, ". \t\n"):
			verrs.Field(field+".id", "invalid", "["+field+".id] is not a valid method id.")
			continue
		}
		if seen[id] {
			verrs.Field(field+".id", "duplicate", "["+field+".id] is used by another method.")
			continue
		}
		seen[id] = true
		secret, from, ok := methodSecret(m, field, verrs)
		delete(m, "secret")
		delete(m, "secretBase32Encoded")
		old, kept := prev[TwoFactorSecretKey(id)]
		switch {
		case !ok:
		case secret != "" && method == "authenticator" && len(TwoFactorKey(secret)) < MinTwoFactorSecretBytes:
			verrs.Field(field+"."+from, "tooShort", fmt.Sprintf("[%s.%s] must hold at least %d bytes (160 bits).", field, from, MinTwoFactorSecretBytes))
		case secret != "":
			out[TwoFactorSecretKey(id)] = secret
		case kept:
			out[TwoFactorSecretKey(id)] = old
		case method == "authenticator":
			verrs.Field(field+".secret", "blank", "["+field+".secret] is required: an authenticator method needs its secret (secret or secretBase32Encoded).")
		}
	}
	return out
}

// methodSecret reads the secret a method was sent with ("" for none: absent,
// null or blank) and the member it came from. secretBase32Encoded is the key
// in base32; sent with secret, it must name the same key. ok is false when
// either is not a usable value (the error is added).
func methodSecret(m kit.Object, field string, verrs *model.Errors) (secret, from string, ok bool) {
	text, ok1 := optionalString(m, "secret", field, verrs)
	b32, ok2 := optionalString(m, "secretBase32Encoded", field, verrs)
	if !ok1 || !ok2 {
		return "", "", false
	}
	if strings.TrimSpace(b32) == "" {
		return text, "secret", true
	}
	fromB32, ok := SecretFromBase32(b32)
	switch {
	case !ok:
		verrs.Field(field+".secretBase32Encoded", "invalid", "["+field+".secretBase32Encoded] is not base32.")
		return "", "", false
	case text == "":
		return fromB32, "secretBase32Encoded", true
	case !slices.Equal(TwoFactorKey(text), TwoFactorKey(fromB32)):
		verrs.Field(field+".secretBase32Encoded", "invalid", "["+field+".secretBase32Encoded] is another key than ["+field+".secret]; send one of them.")
		return "", "", false
	}
	return text, "secret", true
}

// optionalString reads member k of a method: a string, or "" when absent or
// null; anything else is an error.
func optionalString(m kit.Object, k, field string, verrs *model.Errors) (string, bool) {
	switch v := m[k].(type) {
	case nil:
		return "", true
	case string:
		return v, true
	default:
		verrs.Field(field+"."+k, "invalid", "["+field+"."+k+"] must be a string.")
		return "", false
	}
}

func TwoFactorSecretKey(methodID string) string { return "twoFactor.methods." + methodID + ".secret" }

// NewTwoFactorID makes a short method id like FusionAuth's ("35VW").
func NewTwoFactorID() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func UserSecretAD(id string) string { return "user:" + id }

// StoredUserData reads a user's stored document (its data column) as every
// reader takes it: without members that only look like a field (see
// model.Fields.Drop), and without any secret a two-factor method still holds
// there. Latch cuts secret and secretBase32Encoded out before storing, but
// releases that did not read secretBase32Encoded kept it as sent; it is
// never shown, nor taken for a secret.
func StoredUserData(text string) (kit.Object, error) {
	o, err := kit.StoredObject(text, UserFields)
	if err != nil {
		return nil, err
	}
	if tf, ok := o["twoFactor"].(kit.Object); ok {
		list, _ := tf["methods"].([]any)
		for _, m := range list {
			if m, ok := m.(kit.Object); ok {
				delete(m, "secret")
				delete(m, "secretBase32Encoded")
			}
		}
	}
	return o, nil
}

// UserObject builds the typed user a client sees from a stored row. regs and
// members are the user's registrations and group memberships (nil when not
// expanded or none).
func (s *Service) UserObject(row *store.UserRow, regs []*store.RegistrationRow, members []model.GroupMember) (*model.User, error) {
	o, err := StoredUserData(row.Data)
	if err != nil {
		return nil, fmt.Errorf("user %s data: %w", row.ID, err)
	}
	// o is StoredObject's own tree: the owned members go in as a tree holds
	// them, so that the user decodes from it without a pass through text.
	num := func(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }
	o["id"] = row.ID
	o["tenantId"] = row.TenantID
	if row.Email != "" {
		o["email"] = row.Email
	}
	if row.Username != "" {
		o["username"] = row.Username
	}
	if row.FullName != "" {
		o["fullName"] = row.FullName
	}
	o["active"] = row.Active
	o["verified"] = row.Verified
	o["passwordChangeRequired"] = row.PasswordChangeRequired
	o["insertInstant"] = num(row.InsertInstant)
	o["lastUpdateInstant"] = num(row.LastUpdateInstant)
	if row.LastLoginInstant != nil {
		o["lastLoginInstant"] = num(*row.LastLoginInstant)
	}
	if row.PasswordLastUpdateInstant > 0 {
		o["passwordLastUpdateInstant"] = num(row.PasswordLastUpdateInstant)
	}
	if len(regs) > 0 {
		list := make([]any, 0, len(regs))
		for _, r := range regs {
			ro, err := registrationTree(r)
			if err != nil {
				return nil, err
			}
			list = append(list, ro)
		}
		o["registrations"] = list
	}
	if len(members) > 0 {
		list := make([]any, len(members))
		for i := range members {
			if list[i], err = members[i].Tree(); err != nil {
				return nil, err
			}
		}
		o["memberships"] = list
	}
	// The strings come from the row (valid UTF-8 as written from JSON), but
	// the memberships hold Go values: make them a tree.
	for _, k := range []string{"id", "tenantId", "email", "username", "fullName", "memberships"} {
		if v, ok := o[k]; ok {
			t, err := model.NormalizeTree(v)
			if err != nil {
				return nil, fmt.Errorf("user %s %s: %w", row.ID, k, err)
			}
			o[k] = t
		}
	}
	return kit.StoredTree[model.User](o, userField, "user "+row.ID)
}

// userExpand says which related lists a user answer carries.
type userExpand struct{ registrations, memberships bool }

var expandAll = userExpand{registrations: true, memberships: true}

// userObjects builds the objects of rows with the related lists asked for.
func (s *Service) userObjects(ctx context.Context, tx *store.Tx, rows []*store.UserRow, expand userExpand) ([]*model.User, error) {
	var regs map[string][]*store.RegistrationRow
	var members map[string][]model.GroupMember
	if len(rows) > 0 && (expand.registrations || expand.memberships) {
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		var err error
		if expand.registrations {
			if regs, err = tx.RegistrationsOfUsers(ctx, ids); err != nil {
				return nil, fmt.Errorf("registrations of users: %w", err)
			}
		}
		if expand.memberships {
			if members, err = s.groups.Memberships(ctx, tx, ids); err != nil {
				return nil, err
			}
		}
	}
	out := make([]*model.User, 0, len(rows))
	for _, row := range rows {
		o, err := s.UserObject(row, regs[row.ID], members[row.ID])
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// FullUserObject is a user with its registrations and memberships, for
// single-user answers.
func (s *Service) FullUserObject(ctx context.Context, tx *store.Tx, row *store.UserRow) (*model.User, error) {
	list, err := s.userObjects(ctx, tx, []*store.UserRow{row}, expandAll)
	if err != nil {
		return nil, err
	}
	return list[0], nil
}

// User returns one user with its registrations, and the scheme and factor of
// its password as FusionAuth's retrieve does; ErrNotFound when absent or
// outside the scope.
func (s *Service) User(ctx context.Context, scope kit.TenantScope, id string) (*model.User, error) {
	rd := s.store.Read()
	row, err := kit.LoadUser(ctx, rd, scope, id)
	if err != nil {
		return nil, err
	}
	o, err := s.FullUserObject(ctx, rd, row)
	if err != nil {
		return nil, err
	}
	if h, err := password.Decode(row.PasswordHash); err == nil {
		o.EncryptionScheme, o.Factor = h.Scheme, h.Factor
	}
	return o, nil
}

// UserLookup says which identifier UserBy compares.
type UserLookup int

const (
	LookupEmail UserLookup = iota
	LookupUsername
	LookupLoginID
)

// UserBy finds a user of the request's tenant by email, username or login id
// (either). With several tenants a request must name one (key or
// X-FusionAuth-TenantId): [TenantIdRequired].
func (s *Service) UserBy(ctx context.Context, scope kit.TenantScope, by UserLookup, value string) (*model.User, error) {
	rd := s.store.Read()
	tenantID, err := s.RequestTenant(ctx, rd, scope, "", "tenantId")
	if err != nil {
		return nil, err
	}
	row, err := lookupUser(ctx, rd, tenantID, by, value)
	if err != nil {
		return nil, err
	}
	return s.FullUserObject(ctx, rd, row)
}

func lookupUser(ctx context.Context, tx *store.Tx, tenantID string, by UserLookup, value string) (*store.UserRow, error) {
	value = strings.TrimSpace(value)
	if value == "" || strings.ContainsRune(value, 0) {
		// No user has such a login id (and PostgreSQL refuses NUL in text).
		return nil, model.NotFoundf("blank or impossible login id")
	}
	var row *store.UserRow
	var err error
	switch by {
	case LookupEmail:
		row, err = tx.UserRowByEmail(ctx, tenantID, value)
	case LookupUsername:
		row, err = tx.UserRowByUsername(ctx, tenantID, value)
	default:
		row, err = tx.UserRowByLoginID(ctx, tenantID, value)
	}
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("user in tenant %s", tenantID)
	}
	return row, err
}

// RequestTenant decides the tenant a user request acts in: the tenant it
// names (given: user.tenantId, or the tenant of an application), else the
// one tenant of the key or X-FusionAuth-TenantId, else the only tenant there
// is. With several and none named it is FusionAuth's [TenantIdRequired].
// field names the error of an unknown or invisible given tenant.
func (s *Service) RequestTenant(ctx context.Context, tx *store.Tx, scope kit.TenantScope, given, field string) (string, error) {
	return tenancy.ResolveTenantOf(ctx, tx, scope, field, given, "")
}

// passwordPolicy is what a tenant asks of new passwords and how it hashes them.
type passwordPolicy struct {
	rules      model.PasswordValidationRules
	minAge     model.MinimumPasswordAge
	scheme     string
	factor     int
	verifyMail model.EmailConfiguration
	tenantID   string
	hasher     *password.Hasher
}

func (s *Service) passwordPolicyOf(ctx context.Context, tenantID string) (*passwordPolicy, error) {
	cfg, err := s.tenancy.TenantConfig(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("tenant %s settings: %w", tenantID, err)
	}
	p := &passwordPolicy{rules: cfg.PasswordValidationRules, minAge: cfg.MinimumPasswordAge, verifyMail: cfg.EmailConfiguration,
		tenantID: tenantID, hasher: s.hasher}
	p.scheme, p.factor = TenantHashing(cfg, s.hasher.Limits())
	return p, nil
}

// TenantHashing is the scheme and factor a tenant hashes new passwords with
// (a factor its scheme cannot take, or one beyond the operator's limits,
// falls back to the scheme's default).
func TenantHashing(cfg *model.TenantConfig, limits password.Limits) (string, int) {
	return limits.Choose(cfg.PasswordEncryptionConfiguration.EncryptionScheme, cfg.PasswordEncryptionConfiguration.EncryptionSchemeFactor)
}

// CheckPasswordRules applies the tenant's password rules to pw as a new
// password would be checked (a login's validateOnLogin).
func CheckPasswordRules(cfg *model.TenantConfig, field, pw string, verrs *model.Errors) {
	p := &passwordPolicy{rules: cfg.PasswordValidationRules}
	p.scheme, p.factor = TenantHashing(cfg, password.Limits{})
	p.check(field, pw, verrs)
}

// check applies the tenant's password rules to a new password; field is where
// errors go (user.password on the User API, password on change password). A
// password is never truncated: one longer than the rules or the hash scheme
// take is refused.
func (p *passwordPolicy) check(field, pw string, verrs *model.Errors) {
	r := p.rules
	n := utf8.RuneCountInString(pw)
	switch {
	case n < r.MinLength:
		verrs.Field(field, "tooShort", fmt.Sprintf("The password must be at least %d characters long.", r.MinLength))
	case r.MaxLength > 0 && n > r.MaxLength:
		verrs.Field(field, "tooLong", fmt.Sprintf("The password must be at most %d characters long.", r.MaxLength))
	case password.MaxPasswordBytes(p.scheme) > 0 && len(pw) > password.MaxPasswordBytes(p.scheme):
		verrs.Field(field, "tooLong", fmt.Sprintf("The password must be at most %d bytes long: the tenant's %s hashing uses no more.",
			password.MaxPasswordBytes(p.scheme), p.scheme))
	}
	var upper, lower, nonAlpha, digit bool
	for _, c := range pw {
		switch {
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsLower(c):
			lower = true
		}
		// FusionAuth's requireNonAlpha asks for a non-alphanumeric character.
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			nonAlpha = true
		}
		if unicode.IsDigit(c) {
			digit = true
		}
	}
	if r.RequireMixedCase && !(upper && lower) {
		verrs.Field(field, "singleCase", "The password must contain upper and lower case letters.")
	}
	if r.RequireNonAlpha && !nonAlpha {
		verrs.Field(field, "onlyAlpha", "The password must contain a character that is neither a letter nor a digit.")
	}
	if r.RequireNumber && !digit {
		verrs.Field(field, "requireNumber", "The password must contain a number.")
	}
	if r.RejectCommonPasswords && password.Common(pw) {
		verrs.Field(field, "common", "The password is one of the most common leaked passwords; choose another.")
	}
}

// remembered is how many earlier passwords (besides the current one) the
// tenant forbids reusing; 0 when it does not remember any.
func (p *passwordPolicy) remembered() int {
	rp := p.rules.RememberPreviousPasswords
	if !rp.Enabled || rp.Count <= 1 {
		return 0
	}
	return rp.Count - 1
}

// reused reports whether pw is the user's current password or, under
// rememberPreviousPasswords, one of the earlier ones. It hashes once per
// remembered password: call it outside transactions.
func (p *passwordPolicy) reused(ctx context.Context, rd *store.Tx, row *store.UserRow, pw string) (bool, error) {
	if !p.rules.RememberPreviousPasswords.Enabled || row == nil {
		return false, nil
	}
	hashes := []string{row.PasswordHash}
	if n := p.remembered(); n > 0 {
		earlier, err := rd.PasswordHistory(ctx, row.ID, n)
		if err != nil {
			return false, err
		}
		hashes = append(hashes, earlier...)
	}
	for _, enc := range hashes {
		h, err := password.Decode(enc)
		if err != nil {
			continue // no password, or one this build cannot read
		}
		if ok, err := p.hasher.Check(ctx, p.tenantID, h, pw); errors.Is(err, password.ErrBusy) {
			return false, err
		} else if err == nil && ok {
			return true, nil
		}
	}
	return false, nil
}

// hash hashes a password the tenant's way. It is slow on purpose: call it
// outside transactions.
func (p *passwordPolicy) hash(ctx context.Context, pw string) (string, error) {
	h, err := p.hasher.Hash(ctx, p.tenantID, p.scheme, p.factor, pw)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h.Encode(), nil
}

// NewUser is a user validated and hashed, ready to insert in a transaction.
// The registration API uses it to create a user and a registration together.
type NewUser struct {
	id, tenantID string
	p            *preparedUser
	hash         string
	verified     bool
	// sendSetPassword: the set-password email goes out with the user.
	sendSetPassword bool
}

// ID is the new user's id.
func (nu *NewUser) ID() string { return nu.id }

// TenantID is the new user's tenant.
func (nu *NewUser) TenantID() string { return nu.tenantID }

// PrepareNewUser validates a UserRequest body ({"user":{…}, "skipVerification":
// …}) for a new user with id ("" for a fresh one) and hashes its password.
// Nothing is written; InsertNewUser does that.
func (s *Service) PrepareNewUser(ctx context.Context, scope kit.TenantScope, id string, body kit.Object) (*NewUser, error) {
	verrs := &model.Errors{}
	id = kit.NewOrGivenID(id, "userId", verrs)
	if body[userField] == nil {
		verrs.Field(userField, "missing", "A user object is required.")
	}
	o := kit.RequestObject(body, userRequestFields, userField, verrs)
	skip := boolMember(body, "skipVerification", verrs)
	sendSetPassword := boolMember(body, "sendSetPasswordEmail", verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	given, ok := o["tenantId"].(string)
	if !ok && o["tenantId"] != nil {
		return nil, model.FieldError("user.tenantId", "invalid", "[user.tenantId] must be a UUID.")
	}
	tenantID, err := s.RequestTenant(ctx, s.store.Read(), scope, given, "user.tenantId")
	if err != nil {
		return nil, err
	}
	pol, err := s.passwordPolicyOf(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	p, verrs := normalizeUser(o, nil)
	if p != nil && p.password != "" {
		pol.check(userField+".password", p.password, verrs)
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	nu := &NewUser{id: id, tenantID: tenantID, p: p,
		verified: skip || !pol.verifyMail.VerifyEmail, sendSetPassword: sendSetPassword}
	if p.password != "" {
		if nu.hash, err = pol.hash(ctx, p.password); err != nil {
			return nil, err
		}
	}
	return nu, nil
}

// boolMember reads an optional boolean member of a request body.
func boolMember(body kit.Object, name string, verrs *model.Errors) bool {
	switch v := body[name].(type) {
	case nil:
		return false
	case bool:
		return v
	default:
		verrs.Field(name, "invalid", "["+name+"] must be true or false.")
		return false
	}
}

// InsertNewUser stores a prepared user and audits it, in the caller's
// transaction, and returns the user as FusionAuth's create answers it.
func (s *Service) InsertNewUser(ctx context.Context, tx *store.Tx, actor kit.Actor, nu *NewUser) (*model.User, error) {
	p := nu.p
	if exists, err := tx.TenantExists(ctx, nu.tenantID); err != nil {
		return nil, err
	} else if !exists {
		return nil, model.FieldError("user.tenantId", "invalid", "The tenant does not exist.")
	}
	if _, err := tx.UserRowByID(ctx, nu.id); err == nil {
		return nil, model.FieldError("userId", "duplicate", "A user with this id already exists.")
	} else if !errors.Is(err, store.ErrNoRows) {
		return nil, err
	}
	if err := checkUserUnique(ctx, tx, nu.tenantID, nu.id, p.email, p.username); err != nil {
		return nil, err
	}
	now := s.now()
	row := &store.UserRow{ID: nu.id, TenantID: nu.tenantID, Email: p.email, Username: p.username, FullName: p.fullName,
		FirstName: p.firstName, LastName: p.lastName, PasswordHash: nu.hash, PasswordChangeRequired: p.passwordChangeRequired,
		Active: true, Verified: nu.verified, InsertInstant: now, LastUpdateInstant: now}
	if nu.hash != "" {
		row.PasswordLastUpdateInstant = now
	}
	if err := s.fillUserRow(row, p); err != nil {
		return nil, err
	}
	if err := tx.InsertUserRow(ctx, row); err != nil {
		return nil, userWriteError(err)
	}
	members, err := s.groups.AddUserMemberships(ctx, tx, actor, row.ID, row.TenantID, p.memberships, "user.memberships")
	if err != nil {
		return nil, err
	}
	o, err := s.UserObject(row, nil, members)
	if err != nil {
		return nil, err
	}
	if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Created user " + kit.UserLabel(row), TargetID: row.ID, New: o,
		Data: map[string]any{"tenantId": row.TenantID}, Events: kit.UserEventsOf(o, row, nil, model.EventUserCreate, model.EventUserCreateComplete)}); err != nil {
		return nil, err
	}
	if s.mail != nil {
		return o, s.mail.UserCreated(ctx, tx, row, nu.sendSetPassword)
	}
	return o, nil
}

// fillUserRow puts a prepared object's data and sealed secrets into row.
func (s *Service) fillUserRow(row *store.UserRow, p *preparedUser) error {
	data, err := kit.EncodeObject(p.data)
	if err != nil {
		return err
	}
	row.Data = data
	row.SecretsSealed, err = kit.SealSecrets(s.master, p.secrets, UserSecretAD(row.ID))
	return err
}

// CreateUser creates a user from a UserRequest body; id may be "" or a UUID
// the caller chose.
func (s *Service) CreateUser(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, body kit.Object) (*model.User, error) {
	nu, err := s.PrepareNewUser(ctx, scope, id, body)
	if err != nil {
		return nil, err
	}
	var out *model.User
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.InsertNewUser(ctx, tx, actor, nu)
		return err
	})
	if err != nil {
		s.emitDuplicate(ctx, actor, model.EventUserLoginIDDuplicateCreate, nu.attempted(), err)
	}
	return out, err
}

// attempted is the user as asked for (see emitDuplicate).
func (nu *NewUser) attempted() *store.UserRow {
	return nu.p.onto(store.UserRow{ID: nu.id, TenantID: nu.tenantID, Active: true, Verified: nu.verified})
}

func checkUserUnique(ctx context.Context, tx *store.Tx, tenantID, id, email, username string) error {
	verrs := &model.Errors{}
	asEmail := func(v string) (bool, error) { return tx.UserEmailTaken(ctx, tenantID, v, id) }
	asUsername := func(v string) (bool, error) { return tx.UserUsernameTaken(ctx, tenantID, v, id) }
	asLookalike := func(v string) (bool, error) { return tx.UserLookalikeTaken(ctx, tenantID, v, id) }
	type check struct {
		value string
		taken func(string) (bool, error)
		msg   string
	}
	// A login id names one user: a username may not be another user's
	// email, nor an email another user's username, nor either a look-alike
	// in other scripts of someone's (LookalikeKey). The first hit is told.
	for _, f := range []struct {
		field  string
		checks []check
	}{
		{"user.email", []check{{email, asEmail, "A user with this email already exists in the tenant."},
			{email, asUsername, "Another user of the tenant has this as their username."}}},
		{"user.username", []check{{username, asUsername, "A user with this username already exists in the tenant."},
			{username, asEmail, "Another user of the tenant has this as their email address."}}},
	} {
		const msg = "Another user of the tenant has a login id that looks the same in other letters."
		if like, ok := store.LookalikeKey(f.checks[0].value); ok {
			f.checks = append(f.checks, check{like, asEmail, msg}, check{like, asUsername, msg})
		}
		// And the other way: someone's look-alike of this value (an
		// imitation registered before the real name).
		f.checks = append(f.checks, check{f.checks[0].value, asLookalike, msg})
		for _, c := range f.checks {
			if c.value == "" {
				break
			}
			taken, err := c.taken(c.value)
			if err != nil {
				return err
			}
			if taken {
				verrs.Field(f.field, "duplicate", c.msg)
				break
			}
		}
	}
	return verrs.Err()
}

// userWriteError turns a unique violation that slipped past the checks (a
// concurrent writer) into the matching duplicate error.
func userWriteError(err error) error {
	switch store.UserUniqueField(err) {
	case "email":
		return model.FieldError("user.email", "duplicate", "A user with this email already exists in the tenant.")
	case "username":
		return model.FieldError("user.username", "duplicate", "A user with this username already exists in the tenant.")
	case "id":
		return model.FieldError("userId", "duplicate", "A user with this id already exists.")
	}
	return fmt.Errorf("store user: %w", err)
}

// UpdateUser replaces a user with the object of a UserRequest body. The
// password changes only when the object carries one.
func (s *Service) UpdateUser(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, body kit.Object) (*model.User, error) {
	verrs := &model.Errors{}
	if body[userField] == nil {
		verrs.Field(userField, "missing", "A user object is required.")
	}
	o := kit.RequestObject(body, userRequestFields, userField, verrs)
	skip := boolMember(body, "skipVerification", verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	return s.changeUser(ctx, actor, scope, id, skip, func(kit.Object) (kit.Object, error) { return model.DeepCopyJSON(o).(kit.Object), nil })
}

// PatchUser applies a patch in one of FusionAuth's three forms to the user in
// request form ({"user":{…}}), then validates the result as an update.
func (s *Service) PatchUser(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, form model.PatchForm, patch []byte) (*model.User, error) {
	return s.changeUser(ctx, actor, scope, id, false, func(cur kit.Object) (kit.Object, error) {
		patched, err := model.ApplyPatch(form, kit.Object{userField: cur}, patch)
		if err != nil {
			return nil, err
		}
		body, ok := patched.(kit.Object)
		if !ok {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The patched request is not a JSON object.")
		}
		verrs := &model.Errors{}
		if body[userField] == nil {
			verrs.Field(userField, "missing", "A user object is required.")
		}
		o := kit.RequestObject(body, userRequestFields, userField, verrs)
		return o, verrs.Err()
	})
}

// ChangeAttempts bounds the retries of an update that raced another writer.
const ChangeAttempts = 3

// changeUser computes, validates and hashes a user's new state outside any
// transaction (hashing is slow; SQLite has one writer), then stores it in a
// transaction that first checks the user did not change meanwhile, retrying
// when it did.
func (s *Service) changeUser(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, skipVerification bool,
	next func(cur kit.Object) (kit.Object, error)) (*model.User, error) {
	for attempt := 0; ; attempt++ {
		out, err := s.tryChangeUser(ctx, actor, scope, id, skipVerification, next)
		if !errors.Is(err, ErrUserChanged) {
			return out, err
		}
		if attempt+1 >= ChangeAttempts {
			return nil, fmt.Errorf("%w: user %s changed during the update %d times", model.ErrConflict, id, ChangeAttempts)
		}
	}
}

var ErrUserChanged = errors.New("user changed concurrently")

// sameUserRow reports whether a row is unchanged since it was read.
func sameUserRow(a, b *store.UserRow) bool {
	return a.Data == b.Data && a.Email == b.Email && a.Username == b.Username && a.FullName == b.FullName &&
		a.PasswordHash == b.PasswordHash && a.SecretsSealed == b.SecretsSealed && a.Active == b.Active &&
		a.Verified == b.Verified && a.PasswordChangeRequired == b.PasswordChangeRequired &&
		a.LastUpdateInstant == b.LastUpdateInstant
}

func (s *Service) tryChangeUser(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, skipVerification bool,
	next func(cur kit.Object) (kit.Object, error)) (*model.User, error) {
	rd := s.store.Read()
	cur, err := kit.LoadUser(ctx, rd, scope, id)
	if err != nil {
		return nil, err
	}
	curObj, err := s.UserObject(cur, nil, nil)
	if err != nil {
		return nil, err
	}
	curTree, err := curObj.Tree()
	if err != nil {
		return nil, err
	}
	o, err := next(curTree)
	if err != nil {
		return nil, err
	}
	prev, err := kit.OpenSecrets(s.master, cur.SecretsSealed, UserSecretAD(cur.ID))
	if err != nil {
		return nil, err
	}
	pol, err := s.passwordPolicyOf(ctx, cur.TenantID)
	if err != nil {
		return nil, err
	}
	p, verrs := normalizeUser(o, &storedUser{secrets: prev, email: cur.Email, username: cur.Username})
	if p != nil && p.password != "" {
		pol.check(userField+".password", p.password, verrs)
		if verrs.Empty() {
			if used, err := pol.reused(ctx, rd, cur, p.password); err != nil {
				return nil, err
			} else if used {
				verrs.Field(userField+".password", "previouslyUsed", "The password was used recently; choose another.")
			}
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	hash := ""
	var tenantCfg *model.TenantConfig
	if p.password != "" {
		if hash, err = pol.hash(ctx, p.password); err != nil {
			return nil, err
		}
		if tenantCfg, err = s.tenancy.LoginTenantConfig(ctx, cur.TenantID); err != nil {
			return nil, err
		}
	}
	var out *model.User
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		again, err := tx.UserRowByID(ctx, cur.ID)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("user %s", cur.ID)
		}
		if err != nil {
			return err
		}
		if !sameUserRow(cur, again) {
			return ErrUserChanged
		}
		if err := checkUserUnique(ctx, tx, cur.TenantID, cur.ID, p.email, p.username); err != nil {
			return err
		}
		// The entry and the events show the whole user before and after,
		// registrations and memberships included (as FusionAuth's events).
		original, err := s.FullUserObject(ctx, tx, cur)
		if err != nil {
			return err
		}
		row := *cur
		row.Email, row.Username, row.FullName = p.email, p.username, p.fullName
		row.FirstName, row.LastName = p.firstName, p.lastName
		row.PasswordChangeRequired = p.passwordChangeRequired
		row.LastUpdateInstant = now
		reverify := false
		if !strings.EqualFold(cur.Email, p.email) {
			switch {
			case p.email == "":
			case skipVerification:
				row.Verified = true
			case pol.verifyMail.VerifyEmail && pol.verifyMail.VerifyEmailWhenChanged:
				row.Verified, reverify = false, true
			}
		}
		if hash != "" {
			if err := s.rememberPassword(ctx, tx, pol, cur, now); err != nil {
				return err
			}
			row.PasswordHash, row.PasswordLastUpdateInstant = hash, now
		}
		if err := s.fillUserRow(&row, p); err != nil {
			return err
		}
		if err := tx.UpdateUserRow(ctx, &row); err != nil {
			return userWriteError(err)
		}
		if _, err := s.groups.AddUserMemberships(ctx, tx, actor, row.ID, row.TenantID, p.memberships, "user.memberships"); err != nil {
			return err
		}
		if out, err = s.FullUserObject(ctx, tx, &row); err != nil {
			return err
		}
		data := map[string]any{}
		if hash != "" {
			data["passwordChanged"] = true
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Updated user " + kit.UserLabel(&row), TargetID: row.ID,
			Old: original, New: out, Data: data, Events: kit.UserUpdateEvents(out, original, &row, cur.Email, hash != "")}); err != nil {
			return err
		}
		if reverify && s.mail != nil {
			// The new address is verified as a new user's is: FusionAuth
			// mails it a verification id.
			if err := s.mail.EmailChanged(ctx, tx, &row); err != nil {
				return err
			}
		}
		if hash != "" {
			return s.tokens.RevokeOnPasswordChange(ctx, tx, tenantCfg, actor, &row)
		}
		return nil
	})
	if err != nil {
		s.emitDuplicate(ctx, actor, model.EventUserLoginIDDuplicateUpdate, p.onto(*cur), err)
		return nil, err
	}
	return out, nil
}

// rememberPassword keeps the user's current hash in its history when the
// tenant remembers previous passwords.
func (s *Service) rememberPassword(ctx context.Context, tx *store.Tx, pol *passwordPolicy, cur *store.UserRow, now int64) error {
	n := pol.remembered()
	if n == 0 || cur.PasswordHash == "" {
		return nil
	}
	return tx.AddPasswordHistory(ctx, cur.ID, cur.PasswordHash, now, n)
}

// DeactivateUser soft-deletes a user (DELETE without hardDelete).
func (s *Service) DeactivateUser(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) error {
	_, err := s.setUserActive(ctx, actor, scope, id, false, false)
	return err
}

// ReactivateUser undoes a deactivation and returns the user.
func (s *Service) ReactivateUser(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) (*model.User, error) {
	return s.setUserActive(ctx, actor, scope, id, true, true)
}

func (s *Service) setUserActive(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, respond, active bool) (*model.User, error) {
	var out *model.User
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := kit.LoadUser(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.SetUserActive(ctx, cur.ID, active, now); err != nil {
			return err
		}
		verb, evType := "Deactivated", model.EventUserDeactivate
		if active {
			verb, evType = "Reactivated", model.EventUserReactivate
		}
		next := *cur
		next.Active, next.LastUpdateInstant = active, now
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: verb + " user " + kit.UserLabel(cur), TargetID: cur.ID,
			Data: map[string]any{"active": active}, Events: []model.Event{kit.LazyUserEvent(ctx, tx, evType, s.FullUserObject, &next, nil)}}); err != nil {
			return err
		}
		if !active {
			if _, err := s.tokens.RevokeUserTokens(ctx, tx, actor, cur.ID, kit.UserLabel(cur), tokens.RevokedDeactivated); err != nil {
				return err
			}
		}
		if !respond {
			return nil
		}
		out, err = s.FullUserObject(ctx, tx, &next)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUser hard-deletes a user with its registrations, memberships and codes.
func (s *Service) DeleteUser(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := kit.LoadUser(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		return s.deleteUserRow(ctx, tx, actor, cur)
	})
}

func (s *Service) deleteUserRow(ctx context.Context, tx *store.Tx, actor kit.Actor, cur *store.UserRow) error {
	snapshot, err := s.FullUserObject(ctx, tx, cur)
	if err != nil {
		return err
	}
	// The rows would go with the user anyway; revoking first audits them.
	if _, err := s.tokens.RevokeUserTokens(ctx, tx, actor, cur.ID, kit.UserLabel(cur), tokens.RevokedDeleted); err != nil {
		return err
	}
	if err := tx.DeleteUserRow(ctx, cur.ID); err != nil {
		if errors.Is(err, store.ErrNotOne) {
			return model.NotFoundf("user %s", cur.ID)
		}
		return fmt.Errorf("delete user %s: %w", cur.ID, err)
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deleted user " + kit.UserLabel(cur) + " with its registrations",
		TargetID: cur.ID, Old: snapshot, Events: kit.UserEventsOf(snapshot, cur, nil, model.EventUserDelete, model.EventUserDeleteComplete)})
}
