package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezones are checked by name; a static binary may run where no zoneinfo is installed

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Registrations, FusionAuth's /api/user/registration. A registration is a
// model.Registration: Latch owns id, applicationId, roles, the instants,
// verified/verifiedInstant, lastLoginInstant and usernameStatus (its columns),
// and keeps every other member as sent, in the stored document. Roles are role names of the
// application. The authentication token is a credential: only its SHA-256 is
// stored, and it is returned by the call that set it, never again.

const registrationField = "registration"

// registrationOwnedFields are cut from a registration before it is stored.
// "tokens" held identity-provider tokens until FusionAuth 1.28 removed them;
// they are credentials and are not kept.
var registrationOwnedFields = []string{"id", "applicationId", "roles", "insertInstant", "lastUpdateInstant",
	"lastLoginInstant", "verified", "verifiedInstant", "usernameStatus", "authenticationToken", "tokens"}

// registrationFields are the member names of a registration object, matched
// exactly: the typed registration's (the owned ones and those Latch checks),
// its data, and the tokens it cuts.
var registrationFields = model.FieldsOf(model.Registration{}, "data", "tokens")

// registrationRequestFields are the members of FusionAuth's RegistrationRequest.
var registrationRequestFields = model.FieldsOf(nil, registrationField, userField, "disableDomainBlock", "eventInfo",
	"generateAuthenticationToken", "sendSetPasswordEmail", "sendSetPasswordIdentityType", "skipRegistrationVerification",
	"skipVerification", "verificationIds")

// maxPreferredLanguages is FusionAuth's bound on preferredLanguages.
const maxPreferredLanguages = 20

// localePattern accepts the locale spellings FusionAuth reads (en, en_US,
// fr-CA, zh_Hant_TW).
var localePattern = regexp.MustCompile(`^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$`)

// RegistrationResult is FusionAuth's RegistrationResponse: the registration
// and, for a combined registration, the user created with it.
type RegistrationResult struct {
	Registration *model.Registration `json:"registration"`
	User         *model.User         `json:"user,omitempty"`
}

// preparedRegistration is a validated registration object ready to store.
type preparedRegistration struct {
	id         string   // "" when not given
	appID      string   // "" when not given
	roles      []string // nil when not given
	rolesGiven bool
	token      string // a token to set ("" keeps the current one)
}

// normalizeRegistration checks a registration object as sent and prepares it
// in place: owned fields cut out, the types of the fields FusionAuth defines
// checked. generate asks for a new authentication token.
func normalizeRegistration(o kit.Object, generate bool, verrs *model.Errors) *preparedRegistration {
	f := func(s string) string { return registrationField + "." + s }
	p := &preparedRegistration{}
	registrationFields.Check(o, registrationField, verrs)
	p.id = kit.OptionalIDAt(o, "id", f("id"), verrs)
	p.appID = kit.OptionalIDAt(o, "applicationId", f("applicationId"), verrs)
	switch v := o["roles"].(type) {
	case nil:
	case []any:
		p.rolesGiven = true
		p.roles = []string{}
		for _, item := range v {
			name, ok := item.(string)
			if !ok {
				verrs.Field(f("roles"), "invalid", "[registration.roles] must be an array of role names.")
				break
			}
			if !slices.Contains(p.roles, name) {
				p.roles = append(p.roles, name)
			}
		}
		slices.Sort(p.roles) // FusionAuth keeps roles as a sorted set
	default:
		verrs.Field(f("roles"), "invalid", "[registration.roles] must be an array of role names.")
	}
	if generate {
		p.token = secrets.Token(32)
	} else {
		switch v := o["authenticationToken"].(type) {
		case nil:
		case string:
			p.token = v
			if len(v) > 1024 {
				verrs.Field(f("authenticationToken"), "tooLong", "[registration.authenticationToken] must be at most 1024 characters.")
			}
		default:
			verrs.Field(f("authenticationToken"), "invalid", "[registration.authenticationToken] must be a string.")
		}
	}
	for _, k := range registrationOwnedFields {
		delete(o, k)
	}
	if v, ok := o["data"]; ok && v != nil {
		if _, ok := v.(kit.Object); !ok {
			verrs.Field(f("data"), "invalid", "[registration.data] must be a JSON object.")
		}
	}
	switch v := o["preferredLanguages"].(type) {
	case nil:
	case []any:
		if len(v) > maxPreferredLanguages {
			verrs.Field(f("preferredLanguages"), "tooMany", fmt.Sprintf("[registration.preferredLanguages] may hold at most %d locales.", maxPreferredLanguages))
		}
		for _, item := range v {
			if s, ok := item.(string); !ok || !localePattern.MatchString(s) {
				verrs.Field(f("preferredLanguages"), "invalid", "[registration.preferredLanguages] must be an array of locales such as en or fr_CA.")
				break
			}
		}
	default:
		verrs.Field(f("preferredLanguages"), "invalid", "[registration.preferredLanguages] must be an array of locales such as en or fr_CA.")
	}
	switch v := o["timezone"].(type) {
	case nil:
	case string:
		if !ValidTimezone(v) {
			verrs.Field(f("timezone"), "invalid", "[registration.timezone] must be an IANA time zone such as America/Denver.")
		}
	default:
		verrs.Field(f("timezone"), "invalid", "[registration.timezone] must be an IANA time zone such as America/Denver.")
	}
	switch v := o["username"].(type) {
	case nil:
	case string:
		if len(v) > kit.MaxNameLength {
			verrs.Field(f("username"), "tooLong", fmt.Sprintf("[registration.username] must be at most %d characters.", kit.MaxNameLength))
		}
	default:
		verrs.Field(f("username"), "invalid", "[registration.username] must be a string.")
	}
	return p
}

// ValidTimezone reports whether name is an IANA time zone FusionAuth accepts
// (a region name; "" and "Local" are not zones a client can mean).
func ValidTimezone(name string) bool {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// RegistrationObject is registrationObject, for the flows that mail.
func RegistrationObject(row *store.RegistrationRow) (*model.Registration, error) {
	return registrationObject(row)
}

// registrationObject builds the registration a client sees from a stored row.
func registrationObject(row *store.RegistrationRow) (*model.Registration, error) {
	o, err := registrationTree(row)
	if err != nil {
		return nil, err
	}
	return kit.StoredTree[model.Registration](o, registrationField, "registration "+row.ID)
}

// registrationTree is the stored document with the owned members overlaid,
// as a document tree (model.NormalizeTree), the caller's own.
func registrationTree(row *store.RegistrationRow) (kit.Object, error) {
	o, err := kit.StoredObject(row.Data, registrationFields)
	if err != nil {
		return nil, fmt.Errorf("registration %s data: %w", row.ID, err)
	}
	if o["data"] == nil {
		o["data"] = kit.Object{}
	}
	num := func(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }
	o["id"] = row.ID
	o["applicationId"] = row.ApplicationID
	roles := make([]any, len(row.Roles))
	for i, r := range row.Roles {
		roles[i] = r
	}
	o["roles"] = roles
	o["insertInstant"] = num(row.InsertInstant)
	o["lastUpdateInstant"] = num(row.LastUpdateInstant)
	o["verified"] = row.Verified
	if row.VerifiedInstant != nil {
		o["verifiedInstant"] = num(*row.VerifiedInstant)
	}
	if row.LastLoginInstant != nil {
		o["lastLoginInstant"] = num(*row.LastLoginInstant)
	}
	// Latch moderates no usernames: every one is active.
	o["usernameStatus"] = "ACTIVE"
	// The strings come from the row, valid UTF-8 as written from JSON.
	return o, nil
}

func registrationLabel(userID, appID string) string {
	return fmt.Sprintf("of user %s for application %s", userID, appID)
}

// loadUserTenant returns the tenant of a user visible in the scope, or
// model.ErrNotFound.
func loadUserTenant(ctx context.Context, tx *store.Tx, scope kit.TenantScope, userID string) (string, string, error) {
	id, ok := kit.CanonicalID(userID)
	if !ok {
		return "", "", model.NotFoundf("user %s", userID)
	}
	tenants, err := tx.UserTenantIDs(ctx, []string{id})
	if err != nil {
		return "", "", err
	}
	tenant, found := tenants[id]
	if !found || !scope.CanSee(tenant) {
		return "", "", model.NotFoundf("user %s", id)
	}
	return id, tenant, nil
}

// registrationApplication loads the application a registration names and
// checks that the user may be registered to it: it exists, is in the user's
// tenant and is active. It returns the application and its role names.
func registrationApplication(ctx context.Context, tx *store.Tx, appID, userTenant string, mustBeActive bool) (*store.ApplicationRow, []model.ApplicationRole, error) {
	invalid := func(msg string) error { return model.FieldError(registrationField+".applicationId", "invalid", msg) }
	app, err := tx.ApplicationByID(ctx, appID)
	if errors.Is(err, store.ErrNoRows) || (err == nil && app.TenantID != userTenant) {
		return nil, nil, invalid(fmt.Sprintf("No application with id [%s] exists in the user's tenant.", appID))
	}
	if err != nil {
		return nil, nil, err
	}
	if mustBeActive && !app.Active {
		return nil, nil, invalid(fmt.Sprintf("The application with id [%s] is not active.", appID))
	}
	roles, err := tx.RolesOfApplications(ctx, []string{app.ID})
	if err != nil {
		return nil, nil, err
	}
	return app, roles[app.ID], nil
}

// checkRegistrationRoles reports role names the application does not define.
func checkRegistrationRoles(names []string, roles []model.ApplicationRole) error {
	var unknown []string
	for _, n := range names {
		if !slices.ContainsFunc(roles, func(r model.ApplicationRole) bool { return r.Name == n }) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return model.FieldError(registrationField+".roles", "invalid",
			fmt.Sprintf("The application does not define the roles %s.", strings.Join(unknown, ", ")))
	}
	return nil
}

// defaultRoleNames are the names of the roles a registration gets when it
// names none, sorted.
func defaultRoleNames(roles []model.ApplicationRole) []string {
	out := []string{}
	for _, r := range roles {
		if r.IsDefault {
			out = append(out, r.Name)
		}
	}
	slices.Sort(out)
	return out
}

// applicationVerifiesRegistrations reads the application's verifyRegistration.
func applicationVerifiesRegistrations(app *store.ApplicationRow) bool {
	o, err := kit.StoredObject(app.Data, tenancy.ApplicationFields)
	if err != nil {
		return false
	}
	v, _ := o["verifyRegistration"].(bool)
	return v
}

// Register is FusionAuth's POST /api/user/registration[/{userId}[/{applicationId}]].
// Without a "user" member it registers the existing user userID; with one it
// creates the user (userID is then the optional id of the new user) and the
// registration in one transaction, so that a failing registration leaves no
// user behind. applicationID, when given in the path, wins over the body's.
func (s *Service) Register(ctx context.Context, actor kit.Actor, scope kit.TenantScope, userID, applicationID string, body kit.Object) (*RegistrationResult, error) {
	verrs := &model.Errors{}
	o := kit.RequestObject(body, registrationRequestFields, registrationField, verrs)
	generate := boolMember(body, "generateAuthenticationToken", verrs)
	skipVerification := boolMember(body, "skipRegistrationVerification", verrs)
	userObj, combined := body["user"]
	if combined && userObj == nil {
		combined = false
	}
	if applicationID != "" {
		id, ok := kit.CanonicalID(applicationID)
		if !ok {
			return nil, model.NotFoundf("application %s", applicationID)
		}
		o["applicationId"] = id
	}
	p := normalizeRegistration(o, generate, verrs)
	if p.appID == "" && verrs.FieldErrors[registrationField+".applicationId"] == nil {
		verrs.Field(registrationField+".applicationId", "missing", "You must specify the [registration.applicationId] property.")
	}
	if !combined && userID == "" {
		verrs.Field("userId", "missing", "A user id in the path, or a user object to create, is required.")
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	// The new user is validated and its password hashed before the
	// transaction (hashing is slow); it is inserted in the registration's.
	var nu *NewUser
	if combined {
		userScope := scope
		// The application names the tenant when the request does not:
		// FusionAuth registers a new user in the application's tenant.
		if uo, ok := userObj.(kit.Object); ok && uo["tenantId"] == nil && scope.Tenant() == "" {
			if app, err := s.store.Read().ApplicationByID(ctx, p.appID); err == nil && scope.CanSee(app.TenantID) {
				userScope = kit.TenantScope{Tenants: []string{app.TenantID}}
			}
		}
		var err error
		if nu, err = s.PrepareNewUser(ctx, userScope, userID, body); err != nil {
			return nil, err
		}
	}
	var out *RegistrationResult
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		out = &RegistrationResult{}
		uid, tenant := "", ""
		if nu != nil {
			user, err := s.InsertNewUser(ctx, tx, actor, nu)
			if err != nil {
				return err
			}
			out.User, uid, tenant = user, nu.ID(), nu.TenantID()
		} else {
			var err error
			if uid, tenant, err = loadUserTenant(ctx, tx, scope, userID); err != nil {
				return err
			}
		}
		reg, err := s.insertRegistration(ctx, tx, actor, uid, tenant, p, o, skipVerification)
		if err != nil {
			return err
		}
		out.Registration = reg
		return nil
	})
	if err != nil {
		if nu != nil {
			s.emitDuplicate(ctx, actor, model.EventUserLoginIDDuplicateCreate, nu.attempted(), err)
		}
		return nil, err
	}
	return out, nil
}

// insertRegistration validates a prepared registration against the user and
// the application, stores it and audits it, in tx. o is the normalized
// object (owned fields cut). It returns the registration as the client sees
// it, with the authentication token when one was set.
func (s *Service) insertRegistration(ctx context.Context, tx *store.Tx, actor kit.Actor, userID, userTenant string, p *preparedRegistration, o kit.Object, skipVerification bool) (*model.Registration, error) {
	app, roles, err := registrationApplication(ctx, tx, p.appID, userTenant, true)
	if err != nil {
		return nil, err
	}
	names := p.roles
	if len(names) == 0 {
		names = defaultRoleNames(roles)
	} else if err := checkRegistrationRoles(names, roles); err != nil {
		return nil, err
	}
	if _, err := tx.RegistrationOf(ctx, userID, app.ID); err == nil {
		return nil, model.FieldError(registrationField, "duplicate", "The user is already registered for this application.")
	} else if !errors.Is(err, store.ErrNoRows) {
		return nil, err
	}
	id := p.id
	if id == "" {
		id = kit.NewOrGivenID("", "", &model.Errors{})
	} else if taken, err := tx.RegistrationIDTaken(ctx, id); err != nil {
		return nil, err
	} else if taken {
		return nil, model.FieldError(registrationField+".id", "duplicate", "A registration with this id already exists.")
	}
	data, err := kit.EncodeObject(o)
	if err != nil {
		return nil, err
	}
	now := s.now()
	row := &store.RegistrationRow{ID: id, UserID: userID, ApplicationID: app.ID, Roles: names, Data: data,
		InsertInstant: now, LastUpdateInstant: now}
	// One the application wants verified stays so until verify-registration.
	if skipVerification || !applicationVerifiesRegistrations(app) {
		row.Verified, row.VerifiedInstant = true, &now
	}
	if p.token != "" {
		row.AuthTokenHash = secrets.HashToken(p.token)
	}
	if err := tx.InsertRegistrationRow(ctx, row); err != nil {
		if store.IsUnique(err) {
			return nil, model.FieldError(registrationField, "duplicate", "The user is already registered for this application.")
		}
		return nil, fmt.Errorf("store registration: %w", err)
	}
	snapshot, err := registrationObject(row)
	if err != nil {
		return nil, err
	}
	if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Created registration " + registrationLabel(userID, app.ID),
		TargetID: userID, New: snapshot, Data: map[string]any{"userId": userID, "applicationId": app.ID, "registrationId": id}, Events: kit.RegistrationEvent(ctx, tx, s.FullUserObject, model.EventUserRegistrationCreate, userID, userTenant, app.ID, snapshot, nil)}); err != nil {
		return nil, err
	}
	if !row.Verified && s.mail != nil {
		if err := s.mail.RegistrationCreated(ctx, tx, app, row); err != nil {
			return nil, err
		}
	}
	return withToken(snapshot, p.token), nil
}

// withToken is the answer of a call that set a registration's authentication
// token: the registration with the token, which its snapshots never hold.
func withToken(reg *model.Registration, token string) *model.Registration {
	out := *reg
	out.AuthenticationToken = secrets.Secret(token)
	return &out
}

// Registration returns a user's registration for an application, or
// model.ErrNotFound (also for users of tenants outside the scope).
func (s *Service) Registration(ctx context.Context, scope kit.TenantScope, userID, applicationID string) (*model.Registration, error) {
	rd := s.store.Read()
	uid, _, err := loadUserTenant(ctx, rd, scope, userID)
	if err != nil {
		return nil, err
	}
	appID, ok := kit.CanonicalID(applicationID)
	if !ok {
		return nil, model.NotFoundf("application %s", applicationID)
	}
	row, err := rd.RegistrationOf(ctx, uid, appID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("registration of user %s for application %s", uid, appID)
	}
	if err != nil {
		return nil, err
	}
	return registrationObject(row)
}

// registrationAppID reads the application of an update: the path's, else the
// body's registration.applicationId.
func registrationAppID(applicationID string, body kit.Object) (string, error) {
	if applicationID == "" {
		if reg, ok := body[registrationField].(kit.Object); ok {
			applicationID, _ = reg["applicationId"].(string)
		}
	}
	if strings.TrimSpace(applicationID) == "" {
		return "", model.FieldError(registrationField+".applicationId", "missing", "You must specify the [registration.applicationId] property.")
	}
	id, ok := kit.CanonicalID(applicationID)
	if !ok {
		return "", model.NotFoundf("application %s", applicationID)
	}
	return id, nil
}

// UpdateRegistration replaces a registration with the object of a
// RegistrationRequest body. Roles not given are none; verification and the
// instants stay.
func (s *Service) UpdateRegistration(ctx context.Context, actor kit.Actor, scope kit.TenantScope, userID, applicationID string, body kit.Object) (*RegistrationResult, error) {
	verrs := &model.Errors{}
	o := kit.RequestObject(body, registrationRequestFields, registrationField, verrs)
	generate := boolMember(body, "generateAuthenticationToken", verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	appID, err := registrationAppID(applicationID, body)
	if err != nil {
		return nil, err
	}
	return s.changeRegistration(ctx, actor, scope, userID, appID, generate, func(*model.Registration) (kit.Object, error) { return o, nil })
}

// PatchRegistration applies a patch in one of FusionAuth's three forms to the
// registration in request form ({"registration":{…}}) and validates the result
// as an update.
func (s *Service) PatchRegistration(ctx context.Context, actor kit.Actor, scope kit.TenantScope, userID, applicationID string, form model.PatchForm, patch []byte) (*RegistrationResult, error) {
	if applicationID == "" && form != model.PatchJSON {
		// The application may be named in the patch itself.
		if v, err := model.DecodeJSONValue(patch); err == nil {
			if body, ok := v.(kit.Object); ok {
				appID, err := registrationAppID("", body)
				if err != nil {
					return nil, err
				}
				applicationID = appID
			}
		}
	}
	appID, err := registrationAppID(applicationID, nil)
	if err != nil {
		return nil, err
	}
	return s.changeRegistration(ctx, actor, scope, userID, appID, false, func(cur *model.Registration) (kit.Object, error) {
		doc, err := cur.Tree()
		if err != nil {
			return nil, err
		}
		patched, err := model.ApplyPatch(form, kit.Object{registrationField: doc}, patch)
		if err != nil {
			return nil, err
		}
		body, ok := patched.(kit.Object)
		if !ok {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The patched request is not a JSON object.")
		}
		verrs := &model.Errors{}
		o := kit.RequestObject(body, registrationRequestFields, registrationField, verrs)
		return o, verrs.Err()
	})
}

func (s *Service) changeRegistration(ctx context.Context, actor kit.Actor, scope kit.TenantScope, userID, appID string, generate bool, next func(cur *model.Registration) (kit.Object, error)) (*RegistrationResult, error) {
	var out *RegistrationResult
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		uid, tenant, err := loadUserTenant(ctx, tx, scope, userID)
		if err != nil {
			return err
		}
		cur, err := tx.RegistrationOf(ctx, uid, appID)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("registration of user %s for application %s", uid, appID)
		}
		if err != nil {
			return err
		}
		curObj, err := registrationObject(cur)
		if err != nil {
			return err
		}
		o, err := next(curObj)
		if err != nil {
			return err
		}
		verrs := &model.Errors{}
		p := normalizeRegistration(o, generate, verrs)
		// The registration's id and application do not change here: what
		// the body says about them is ignored, as FusionAuth does.
		delete(verrs.FieldErrors, registrationField+".id")
		delete(verrs.FieldErrors, registrationField+".applicationId")
		if err := verrs.Err(); err != nil {
			return err
		}
		// A deactivated application keeps its registrations editable.
		_, roles, err := registrationApplication(ctx, tx, appID, tenant, false)
		if err != nil {
			return err
		}
		names := p.roles
		if names == nil {
			names = []string{}
		}
		if err := checkRegistrationRoles(names, roles); err != nil {
			return err
		}
		data, err := kit.EncodeObject(o)
		if err != nil {
			return err
		}
		row := *cur
		row.Roles, row.Data, row.LastUpdateInstant = names, data, s.now()
		if p.token != "" {
			row.AuthTokenHash = secrets.HashToken(p.token)
		}
		if err := tx.UpdateRegistrationRow(ctx, &row); err != nil {
			return fmt.Errorf("update registration: %w", err)
		}
		snapshot, err := registrationObject(&row)
		if err != nil {
			return err
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Updated registration " + registrationLabel(uid, appID),
			TargetID: uid, Old: curObj, New: snapshot, Data: map[string]any{"userId": uid, "applicationId": appID, "registrationId": cur.ID}, Events: kit.RegistrationEvent(ctx, tx, s.FullUserObject, model.EventUserRegistrationUpdate, uid, tenant, appID, snapshot, curObj)}); err != nil {
			return err
		}
		out = &RegistrationResult{Registration: withToken(snapshot, p.token)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRegistration removes a user's registration for an application.
func (s *Service) DeleteRegistration(ctx context.Context, actor kit.Actor, scope kit.TenantScope, userID, applicationID string) error {
	appID, ok := kit.CanonicalID(applicationID)
	if !ok {
		return model.NotFoundf("application %s", applicationID)
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		uid, tenant, err := loadUserTenant(ctx, tx, scope, userID)
		if err != nil {
			return err
		}
		cur, err := tx.RegistrationOf(ctx, uid, appID)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("registration of user %s for application %s", uid, appID)
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteRegistrationRow(ctx, uid, appID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("registration %s", cur.ID)
			}
			return err
		}
		if err := s.tokens.EndRegistrationSessions(ctx, tx, actor, uid, uid, appID); err != nil {
			return err
		}
		snapshot, err := registrationObject(cur)
		if err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deleted registration " + registrationLabel(uid, appID),
			TargetID: uid, Old: snapshot, Data: map[string]any{"userId": uid, "applicationId": appID, "registrationId": cur.ID}, Events: kit.RegistrationEvent(ctx, tx, s.FullUserObject, model.EventUserRegistrationDelete, uid, tenant, appID, snapshot, nil)})
	})
}
