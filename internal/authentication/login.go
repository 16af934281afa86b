package authentication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/throttle"
	"github.com/latchid/latch/internal/tokens"
)

// FusionAuth's Login API (POST /api/login), login ping (PUT /api/login) and
// the throttling of failed logins.
//
// Outcomes (as the HTTP surface renders them), in the order they are decided:
//   - 401: the application (or, without one, the tenant) requires an API key
//     (loginConfiguration.requireAuthentication) and none that may call the
//     Login API came with the request.
//   - 409: the login id is locked after too many failed authentications
//     (failedAuthenticationConfiguration): wrong passwords, here and in change
//     password, and wrong second factors, in one count that only a whole
//     login clears (a right password clears nothing while a second factor is
//     due). While locked, the password is not checked at all, so that a
//     lockout is not a password oracle.
//   - 404: no such user, or a wrong password: the same empty answer and the
//     same work (one password hash with the tenant's scheme and factor, and
//     one counted failure), so that neither the status, the body nor the time
//     tells the two apart. Failures of unknown login ids are counted too, so
//     that a lockout does not tell them apart either.
//   - With the right password: 423 deactivated user, 410 expired user, 242
//     two-factor authentication required (the user has two-factor methods: a
//     twoFactorId and the methods; completing it is the two-factor login API's
//     job, so a password alone never gets past it), 203 password change
//     required (with a changePasswordId), 212 email not verified (tenant
//     verifyEmail), 202 not registered for the application, 213 registration
//     not verified, else 200. FusionAuth answers 423 even to a wrong password
//     (its issue #2524); Latch tells a user's state only to whoever knows the
//     password.
//
// Logins are not audit entries (as in FusionAuth): a login writes a login
// record and the user's (and registration's) lastLoginInstant.

// LoginRequest is FusionAuth's LoginRequest.
type LoginRequest struct {
	ApplicationID    string         `json:"applicationId"`
	LoginID          string         `json:"loginId"`
	Email            string         `json:"email"`    // older spelling of loginId
	Username         string         `json:"username"` // older spelling of loginId
	Password         string         `json:"password"`
	OneTimePassword  string         `json:"oneTimePassword"`
	LoginIDTypes     []string       `json:"loginIdTypes"`
	IPAddress        string         `json:"ipAddress"`
	NoJWT            bool           `json:"noJWT"`
	NewDevice        bool           `json:"newDevice"`
	TwoFactorTrustID string         `json:"twoFactorTrustId"`
	MetaData         map[string]any `json:"metaData"`
	EventInfo        struct {
		IPAddress string `json:"ipAddress"`
	} `json:"eventInfo"`
}

// LoginPingRequest is FusionAuth's LoginPingRequest.
type LoginPingRequest struct {
	UserID        string `json:"userId"`
	ApplicationID string `json:"applicationId"`
	IPAddress     string `json:"ipAddress"`
}

// LoginCaller is who calls the Login API.
type LoginCaller struct {
	// Authenticated: an API key that may call this Login API method came
	// with the request.
	Authenticated bool
	// Scope is the tenants the request may touch (the key's, narrowed by
	// X-FusionAuth-TenantId).
	Scope kit.TenantScope
	// IP is the client's address, the login record's when the request
	// gives no ipAddress.
	IP string
	// EndUser: the request comes from the user's own device (the hosted
	// pages, a public client) although no API key is asked of it, so it is
	// rate limited per address like an anonymous call.
	EndUser bool
	// OutcomeOnly: the caller reads the outcome and LoginResult.UserID, not
	// the answer's user object (the hosted pages), which is then not built.
	OutcomeOnly bool
}

// throttled is how the caller's attempts count toward the rate limits.
func (c LoginCaller) throttled(tenantID string) throttle.Request {
	return throttle.Request{Address: c.IP, Tenant: tenantID, Authenticated: c.Authenticated && !c.EndUser}
}

// LoginResponse is FusionAuth's LoginResponse (the parts Latch fills).
type LoginResponse struct {
	Token                  string                  `json:"token,omitempty"`
	TokenExpirationInstant int64                   `json:"tokenExpirationInstant,omitempty"`
	RefreshToken           string                  `json:"refreshToken,omitempty"`
	RefreshTokenID         string                  `json:"refreshTokenId,omitempty"`
	User                   *model.User             `json:"user,omitempty"`
	ChangePasswordID       string                  `json:"changePasswordId,omitempty"`
	ChangePasswordReason   string                  `json:"changePasswordReason,omitempty"`
	TwoFactorID            string                  `json:"twoFactorId,omitempty"`
	Methods                []model.TwoFactorMethod `json:"methods,omitempty"`
	Actions                []LoginPreventedAction  `json:"actions,omitempty"`
	// TrustToken: a two-factor login's proof of the second factor, for a
	// change of password (identity.CodeTrustToken).
	TrustToken string         `json:"trustToken,omitempty"`
	State      map[string]any `json:"state,omitempty"`
	// TwoFactorTrustID: earned by a two-factor login with trustComputer;
	// a later login presenting it skips the second factor (trust.go).
	TwoFactorTrustID string `json:"twoFactorTrustId,omitempty"`
}

// LoginPreventedAction is FusionAuth's LoginPreventedResponse: why a login
// is refused, and until when.
type LoginPreventedAction struct {
	ActionID      string `json:"actionId,omitempty"`
	Expiry        int64  `json:"expiry"`
	LocalizedName string `json:"localizedName"`
	Name          string `json:"name"`
	Reason        string `json:"reason"`
	ReasonCode    string `json:"reasonCode"`
}

// LoginResult is a Login API answer: an outcome and its body (nil: empty).
// The TTLs (seconds) are those of the token and refresh token in the body,
// for the cookies the API sets.
type LoginResult struct {
	Outcome    Outcome
	Response   *LoginResponse
	TokenTTL   int64
	RefreshTTL int64
	// UserID: who logged in, when the login got past the password (or
	// other proof) and the user's state.
	UserID string
	// AuthType is FusionAuth's authenticationType of a login that got past
	// its proofs (PASSWORD, PASSWORDLESS …), for the hosted pages' session.
	AuthType string
	// Row, Roles and Registered: the user as the login read it, and its
	// roles in the login's application, so that a caller that goes on
	// (the hosted sign-in) need not read them again.
	Row        *store.UserRow
	Roles      []string
	Registered bool
}

// Outcome is how a login ended; the HTTP surface maps it to FusionAuth's
// status codes (in brackets).
type Outcome int

// Outcomes of the Login API.
const (
	Success                 Outcome = iota // [200]
	NotRegistered                          // [202] not registered for the application
	PasswordChangeRequired                 // [203] with a changePasswordId
	EmailNotVerified                       // [212] tenant verifyEmail
	RegistrationNotVerified                // [213]
	TwoFactorRequired                      // [242] with a twoFactorId and the methods
	LoginPrevented                         // [409] locked after too many failed logins
	UserExpired                            // [410]
	UserLocked                             // [423] deactivated
)

const (
	maxMetaDataBytes  = 4096                             // a refresh token's metaData, encoded
	maxLoginIDLength  = 1024                             // longer ids cannot exist; refused unread
	maxPasswordLength = 4096                             // bounds the hashing work a request can ask for
	lockoutName       = "Too many failed login attempts" // ditto
)

// loginTarget is what a Login API request logs into: a tenant, and an
// application when the request names one.
type loginTarget struct {
	tenant *model.TenantConfig
	app    *model.ApplicationConfig // nil without applicationId
	ts     tokens.Settings
}

func (lt *loginTarget) appID() string {
	if lt.app == nil {
		return ""
	}
	return lt.app.ID
}

// loginTarget resolves the application (or tenant) of a request and applies
// requireAuthentication. An application the caller cannot resolve demands a
// key first: without one the answer is 401, so that an anonymous caller
// learns nothing about which applications exist.
func (s *Service) loginTarget(ctx context.Context, caller LoginCaller, rawAppID string) (*loginTarget, error) {
	return s.loginTargetIn(ctx, s.store.Read(), caller, rawAppID)
}

// loginTargetIn is loginTarget reading through rd (a login's read group).
// It must come first in a read group: the settings cache's snapshot is
// loaded before rd reads anything (tenancy/configcache.go).
func (s *Service) loginTargetIn(ctx context.Context, rd *store.Tx, caller LoginCaller, rawAppID string) (*loginTarget, error) {
	sn := s.tenancy.Configs.Current()
	lt := &loginTarget{}
	if strings.TrimSpace(rawAppID) != "" {
		invalid := func() error {
			if !caller.Authenticated {
				return model.ErrUnauthorized
			}
			return model.FieldError("applicationId", "invalid", "The application does not exist or is not active.")
		}
		id, ok := kit.CanonicalID(rawAppID)
		if !ok {
			return nil, invalid()
		}
		app, err := s.tenancy.LoginApplicationConfigIn(ctx, rd, sn, id)
		if errors.Is(err, model.ErrNotFound) || (err == nil && (!app.Active || !caller.Scope.CanSee(app.TenantID))) {
			return nil, invalid()
		}
		if err != nil {
			return nil, err
		}
		if app.LoginConfiguration.RequireAuthentication && !caller.Authenticated {
			return nil, model.ErrUnauthorized
		}
		lt.app = app
		if lt.tenant, err = s.tenancy.LoginTenantConfigIn(ctx, rd, sn, app.TenantID); err != nil {
			return nil, err
		}
	} else {
		tenantID, err := s.identity.RequestTenant(ctx, rd, caller.Scope, "", "tenantId")
		if err != nil {
			if !caller.Authenticated {
				return nil, model.ErrUnauthorized
			}
			return nil, err
		}
		if lt.tenant, err = s.tenancy.LoginTenantConfigIn(ctx, rd, sn, tenantID); err != nil {
			return nil, err
		}
		if lt.tenant.LoginConfiguration.RequireAuthentication && !caller.Authenticated {
			return nil, model.ErrUnauthorized
		}
	}
	lt.ts = s.tokens.SettingsIn(ctx, rd, sn, lt.tenant, lt.app)
	return lt, nil
}

// unknownLoginSubject names the failure counter of a login id no user has:
// a hash, so that the table holds no login ids.
func unknownLoginSubject(tenantID, loginID string) string {
	return lockout.SubjectPrefix + secrets.HashToken(tenantID+"\x00"+store.LoginKey(loginID))
}

// lockedResult is the 409 of a locked login id.
func lockedResult(fa model.FailedAuthenticationConfiguration, until int64) *LoginResult {
	return &LoginResult{Outcome: LoginPrevented, Response: &LoginResponse{Actions: []LoginPreventedAction{{
		ActionID: fa.UserActionID, Expiry: until, LocalizedName: lockoutName, Name: lockoutName,
		Reason: lockoutName, ReasonCode: lockout.ReasonCode,
	}}}}
}

// Login is FusionAuth's POST /api/login. It returns a result for every
// answer with a status of its own, and an error for 400 (model.Errors), 401
// (model.ErrUnauthorized), 404 (model.ErrNotFound) and 500.
func (s *Service) Login(ctx context.Context, caller LoginCaller, req LoginRequest) (*LoginResult, error) {
	res, _, err := s.login(ctx, caller, req)
	return res, err
}

// login is Login, also reporting how many password hashes it computed to
// check the password (tests compare the paths by it).
func (s *Service) login(ctx context.Context, caller LoginCaller, req LoginRequest) (*LoginResult, int, error) {
	// Every read before the password check in one read group: the
	// application and tenant, the user, and its lockout.
	var (
		lt              *loginTarget
		row             *store.UserRow
		ip, loginID     string
		subject         string
		lockedUntil     int64
		failures        bool // a failed-login row to clear on success
		ud              *loginUserData
		trusted         *store.OneTimeCode // a valid twoFactorTrustId of the user
		oneTimePassword = req.OneTimePassword != ""
	)
	err := s.store.ReadTx(ctx, func(rd *store.Tx) error {
		var err error
		if lt, err = s.loginTargetIn(ctx, rd, caller, req.ApplicationID); err != nil {
			return err
		}
		ip = firstNonBlank(req.IPAddress, req.EventInfo.IPAddress, caller.IP)
		if req.MetaData != nil {
			if b, err := json.Marshal(req.MetaData); err != nil || len(b) > maxMetaDataBytes {
				return model.FieldError("metaData", "tooLarge", fmt.Sprintf("[metaData] must encode in at most %d bytes.", maxMetaDataBytes))
			}
		}
		if oneTimePassword {
			return nil // consumed (a write) after the read group
		}
		loginID = firstNonBlank(req.LoginID, req.Email, req.Username)
		verrs := &model.Errors{}
		if strings.TrimSpace(loginID) == "" {
			verrs.Field("loginId", "blank", "A login id (email or username) is required.")
		}
		if req.Password == "" {
			verrs.Field("password", "blank", "A password is required.")
		}
		if err := verrs.Err(); err != nil {
			return err
		}
		if len(loginID) > maxLoginIDLength || len(req.Password) > maxPasswordLength {
			return model.NotFoundf("login id or password too long")
		}
		if row, err = s.findLoginUserIn(ctx, rd, lt.tenant.ID, loginID, req.LoginIDTypes); err != nil {
			return err
		}
		subject = unknownLoginSubject(lt.tenant.ID, loginID)
		if row != nil {
			subject = row.ID
		}
		if lockedUntil, failures, err = rd.LoginFailureState(ctx, subject, s.now()); err != nil || lockedUntil != 0 {
			return err
		}
		// What a successful login answers, read here rather than in a read
		// group of its own after the hash. An unknown login id runs the same
		// reads (finding nothing), so that they cost it the same.
		userID := ""
		if row != nil {
			userID = row.ID
		}
		if ud, err = s.loginUserDataIn(ctx, rd, userID, lt.app); err != nil {
			return err
		}
		trusted, err = twoFactorTrustOf(ctx, rd, row, req.TwoFactorTrustID, s.now())
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if err := s.throttle.Allow(ctx, caller.throttled(lt.tenant.ID)); err != nil {
		return nil, 0, err
	}
	if oneTimePassword {
		res, err := s.loginWithOneTimePassword(ctx, lt, req, ip)
		return res, 0, err
	}
	if lockedUntil != 0 {
		return lockedResult(lt.tenant.FailedAuthenticationConfiguration, lockedUntil), 0, nil
	}

	// A hash on every path: the stored hash's check, or, for an unknown
	// user (or one without a usable hash), the tenant's scheme and factor
	// over the given password (identity.CheckPasswordAs). A full hash pool
	// refuses the login (ErrBusy) before anything is counted.
	var stored password.Hash
	decoded := false
	if row != nil {
		if h, err := password.Decode(row.PasswordHash); err == nil && s.hasher.Limits().Validate(h) == nil {
			stored, decoded = h, true
		}
	}
	ok, err := identity.CheckPasswordAs(ctx, s.hasher, lt.tenant, lt.tenant.ID, stored, decoded, req.Password)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		res, err := s.countFailure(ctx, lt.tenant, subject)
		s.emitLogin(ctx, model.EventUserLoginFailed, lt, row, ud, ip, tokens.AuthTypePassword)
		return res, 1, err
	}
	res, err := s.authenticated(ctx, lt, row, authenticatedLogin{
		authType: tokens.AuthTypePassword, loginID: loginID, ip: ip, password: req.Password, stored: stored,
		noJWT: req.NoJWT, metaData: req.MetaData, noFailures: !failures, userData: ud, secondFactor: trusted != nil,
		outcomeOnly: caller.OutcomeOnly,
	})
	if err == nil && trusted != nil && res.Response != nil && res.Outcome <= RegistrationNotVerified {
		res.Response.TwoFactorTrustID = strings.TrimSpace(req.TwoFactorTrustID)
	}
	if err == nil && res.Outcome == Success {
		s.emitLogin(ctx, model.EventUserLoginSuccess, lt, row, ud, ip, tokens.AuthTypePassword)
	}
	return res, 1, err
}

// findLoginUserIn looks a login id up in a tenant as loginIdTypes allow
// (email and username when not given), reading through rd; nil when no user
// has it.
func (s *Service) findLoginUserIn(ctx context.Context, rd *store.Tx, tenantID, loginID string, types []string) (*store.UserRow, error) {
	byEmail := len(types) == 0 || slices.Contains(types, "email")
	byUsername := len(types) == 0 || slices.Contains(types, "username")
	var row *store.UserRow
	var err error
	switch {
	case byEmail && byUsername:
		row, err = rd.UserRowByLoginID(ctx, tenantID, loginID)
	case byEmail:
		row, err = rd.UserRowByEmail(ctx, tenantID, loginID)
	case byUsername:
		row, err = rd.UserRowByUsername(ctx, tenantID, loginID)
	default:
		return nil, nil
	}
	if errors.Is(err, store.ErrNoRows) {
		return nil, nil
	}
	return row, err
}

// countFailure counts a failed password check (or a wrong second factor:
// the same count) and answers it as a login: 404, or 409 when a lockout is
// on (see lockout.Counter).
func (s *Service) countFailure(ctx context.Context, tenant *model.TenantConfig, subject string) (*LoginResult, error) {
	until, err := s.lockout.CountFailure(ctx, tenant, subject)
	if until != 0 {
		return lockedResult(tenant.FailedAuthenticationConfiguration, until), nil
	}
	return nil, err
}

// authenticatedLogin is how a user proved who it is, for the statuses and
// tokens that follow.
type authenticatedLogin struct {
	authType string
	loginID  string
	ip       string
	password string        // the password checked ("" for other proofs)
	stored   password.Hash // its stored hash (for re-hashing)
	noJWT    bool
	metaData map[string]any
	// secondFactor: the two-factor login API checked the second factor, or
	// the login presented a valid twoFactorTrustId.
	secondFactor bool
	// noFailures: the login's read group found no failed-login row of the
	// user (nothing to clear). Proofs that do not say so clear in a write
	// transaction, which also refuses a lockout begun meanwhile.
	noFailures bool
	// userData: the user's loginUserData when the caller read it already.
	userData *loginUserData
	// outcomeOnly: LoginCaller.OutcomeOnly.
	outcomeOnly bool
}

// CodeTwoFactorLogin is the kind of a twoFactorId: a login waiting for its
// second factor (data: the login's applicationId, ipAddress, noJWT, metaData).
const CodeTwoFactorLogin = "twoFactorLogin"

// twoFactorMethodsOf lists a user's two-factor methods as a 242 shows them:
// id, method and their settings (authenticator, email, mobilePhone…; secrets
// are not in the data column; View leaves them out anyway).
func twoFactorMethodsOf(row *store.UserRow) []model.TwoFactorMethod {
	_, tf, err := storedTwoFactor(row)
	if err != nil {
		return nil
	}
	var out []model.TwoFactorMethod
	for i := range tf.Methods {
		if m := &tf.Methods[i]; m.ID != "" && m.Method != "" {
			out = append(out, m.View())
		}
	}
	return out
}

// changePasswordReason is why a user must change its password before
// logging in ("" when it need not): FusionAuth's Administrative, Expired
// (maximumPasswordAge) or Validation (validateOnLogin).
func changePasswordReason(cfg *model.TenantConfig, row *store.UserRow, pw string, now int64) string {
	switch {
	case row.PasswordChangeRequired:
		return "Administrative"
	case cfg.MaximumPasswordAge.Enabled && cfg.MaximumPasswordAge.Days > 0 && pw != "" &&
		now-row.PasswordLastUpdateInstant > int64(cfg.MaximumPasswordAge.Days)*24*3600*1000:
		return "Expired"
	case cfg.PasswordValidationRules.ValidateOnLogin && pw != "":
		verrs := &model.Errors{}
		identity.CheckPasswordRules(cfg, "password", pw, verrs)
		if !verrs.Empty() {
			return "Validation"
		}
	}
	return ""
}

// authenticated decides the answer for a user who proved who it is, and
// writes what the login changes in one transaction: failures cleared, the
// password re-hashed to the tenant's scheme, lastLoginInstant and a login
// record, a refresh token, or a change-password id.
func (s *Service) authenticated(ctx context.Context, lt *loginTarget, row *store.UserRow, how authenticatedLogin) (*LoginResult, error) {
	now := s.now()
	if !row.Active {
		return &LoginResult{Outcome: UserLocked}, nil
	}
	if exp := kit.UserExpiry(row); exp != 0 && exp <= now {
		return &LoginResult{Outcome: UserExpired}, nil
	}
	if methods := twoFactorMethodsOf(row); len(methods) > 0 && !how.secondFactor {
		return s.twoFactorRequired(ctx, lt, row, how, methods)
	}
	reason := changePasswordReason(lt.tenant, row, how.password, now)

	// Slow work before the transaction: a re-hash, and finding the key
	// (signing itself follows the commit: the claims need the roles, read
	// in the transaction, and the write lock is not held for a signature).
	var rehash string
	if how.password != "" {
		// The tenant's choice to move every password to its scheme, or a
		// stored hash weaker than the tenant's: that one is always upgraded.
		scheme, factor := identity.TenantHashing(lt.tenant, s.hasher.Limits())
		modify := lt.tenant.PasswordEncryptionConfiguration.ModifyEncryptionSchemeOnLogin
		if modify && password.NeedsRehash(how.stored, scheme, factor) || password.Weaker(how.stored, scheme, factor) {
			if h, err := s.hasher.Hash(ctx, row.TenantID, scheme, factor, how.password); err == nil {
				rehash = h.Encode()
			} else {
				s.log.WarnContext(ctx, "password not re-hashed on login", "user", row.ID, "scheme", scheme, "err", err)
			}
		}
	}
	signer, signerErr := s.tokens.SignerFor(lt.ts)

	// One read group reads what the answer needs (registrations, roles,
	// memberships); then the login writes what it changes.
	ud := how.userData
	if ud == nil {
		if err := s.store.ReadTx(ctx, func(rd *store.Tx) error {
			var err error
			ud, err = s.loginUserDataIn(ctx, rd, row.ID, lt.app)
			return err
		}); err != nil {
			return nil, err
		}
	}
	email := lt.tenant.EmailConfiguration
	outcome := Success
	switch {
	case reason != "":
		outcome = PasswordChangeRequired
	case email.VerifyEmail && !row.Verified:
		outcome = EmailNotVerified
	case lt.app != nil && !ud.registered:
		outcome = NotRegistered
	case lt.app != nil && !ud.regVerified:
		outcome = RegistrationNotVerified
	}
	gated := (outcome == EmailNotVerified || outcome == RegistrationNotVerified) && email.Unverified.Behavior == "Gated"
	withToken := outcome != PasswordChangeRequired && !how.noJWT && !gated
	withRefresh := withToken && ud.registered && lt.app.LoginConfiguration.GenerateRefreshTokens
	if withToken && signerErr != nil {
		return nil, signerErr // nothing written
	}
	res := &LoginResult{Outcome: outcome, Response: &LoginResponse{}, AuthType: how.authType}
	record := store.LoginRecord{UserID: row.ID, ApplicationID: lt.appID(), IPAddress: how.ip, LoginID: how.loginID, Instant: now}

	// A login that only records itself is buffered (loginbuffer.go): no
	// write transaction of its own.
	buffered := how.noFailures && rehash == "" && !withRefresh && outcome != PasswordChangeRequired && s.Logins.add(record)
	var (
		lockedUntil int64
		err         error
	)
	if !buffered {
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			cleared, err := tx.ClearLoginFailures(ctx, row.ID, now)
			if err != nil {
				return err
			}
			if !cleared { // a lockout began while the password was checked
				lockedUntil, err = tx.LockedUntil(ctx, row.ID, now)
				return err
			}
			if rehash != "" {
				if _, err := tx.RehashUserPassword(ctx, row.ID, row.PasswordHash, rehash); err != nil {
					return fmt.Errorf("re-hash password: %w", err)
				}
			}
			if outcome == PasswordChangeRequired {
				changeID := identity.GenerateCode(lt.tenant.ExternalIdentifierConfiguration.ChangePasswordIDGenerator)
				res.Response.ChangePasswordID, res.Response.ChangePasswordReason = changeID, reason
				if err := tx.DeleteUserCodes(ctx, row.ID, []string{identity.CodeChangePassword}); err != nil {
					return err
				}
				data := "{}"
				if lt.app != nil {
					data = `{"applicationId":"` + lt.app.ID + `"}`
				}
				ttl := int64(lt.tenant.ExternalIdentifierConfiguration.ChangePasswordIDTimeToLiveInSeconds) * 1000
				return tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(changeID), Kind: identity.CodeChangePassword, UserID: row.ID,
					TenantID: row.TenantID, Data: data, ExpiresInstant: now + ttl, InsertInstant: now})
			}
			if err := s.recordLogin(ctx, tx, row.ID, lt.appID(), how.loginID, how.ip, now); err != nil {
				return err
			}
			if withRefresh {
				refreshValue := tokens.NewRefreshTokenValue()
				start, expires := lt.ts.RefreshWindow(now, now, 0, 0)
				refresh := &store.RefreshTokenRow{ID: uuid.NewString(), TokenHash: secrets.HashToken(refreshValue), UserID: row.ID,
					ApplicationID: lt.app.ID, TenantID: row.TenantID, AuthInstant: now, StartInstant: start, ExpiresInstant: expires,
					LastAccessedAddress: how.ip, InsertInstant: now}
				refresh.FamilyID = refresh.ID
				refresh.Data = tokens.MetaDataJSON(how.metaData)
				if err := tx.DeleteExpiredRefreshTokens(ctx, row.ID, now); err != nil {
					return err
				}
				if err := tx.InsertRefreshToken(ctx, refresh); err != nil {
					return fmt.Errorf("store refresh token: %w", err)
				}
				res.Response.RefreshToken, res.Response.RefreshTokenID = refreshValue, refresh.ID
				res.RefreshTTL = (expires - now) / 1000
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	if lockedUntil != 0 {
		return lockedResult(lt.tenant.FailedAuthenticationConfiguration, lockedUntil), nil
	}
	if withToken {
		c := tokens.UserClaims(row, lt.ts, lt.appID(), ud.registered, ud.roles, how.authType, now, now, res.Response.RefreshTokenID)
		token, err := tokens.SignClaimsWith(signer, c)
		if err != nil {
			return nil, err
		}
		res.Response.Token, res.Response.TokenExpirationInstant, res.TokenTTL = token, c.Exp*1000, lt.ts.TTLSeconds
	}
	if outcome == PasswordChangeRequired {
		return res, nil
	}
	res.UserID, res.Row, res.Roles, res.Registered = row.ID, row, ud.roles, ud.registered
	if how.outcomeOnly {
		return res, nil
	}
	if res.Response.User, err = s.loggedInUserObject(row, ud, lt.appID(), now); err != nil {
		return nil, err
	}
	return res, nil
}

// twoFactorRequired answers 242: the password was right, the second factor
// is still due. The twoFactorId is a one-time code (stored hashed) holding
// what the login asked for, so that the two-factor login API can finish it.
//
// It leaves the failure count alone: only a whole login (the second factor
// too) clears it. Clearing it here would let whoever holds the password
// guess codes without end (password, 242, a few wrong codes, again).
func (s *Service) twoFactorRequired(ctx context.Context, lt *loginTarget, row *store.UserRow, how authenticatedLogin, methods []model.TwoFactorMethod) (*LoginResult, error) {
	id := secrets.Token(32)
	data, err := kit.EncodeObject(kit.Object{"applicationId": lt.appID(), "ipAddress": how.ip, "noJWT": how.noJWT,
		"loginId": how.loginID, "metaData": how.metaData, "authenticationType": how.authType})
	if err != nil {
		return nil, err
	}
	now := s.now()
	ttl := int64(lt.tenant.ExternalIdentifierConfiguration.TwoFactorIDTimeToLiveInSeconds) * 1000
	var lockedUntil int64
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		// A lockout begun while the password was checked.
		if lockedUntil, err = tx.LockedUntil(ctx, row.ID, now); err != nil || lockedUntil != 0 {
			return err
		}
		return tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(id), Kind: CodeTwoFactorLogin, UserID: row.ID,
			TenantID: row.TenantID, Data: data, ExpiresInstant: now + ttl, InsertInstant: now})
	})
	if err != nil {
		return nil, err
	}
	if lockedUntil != 0 {
		return lockedResult(lt.tenant.FailedAuthenticationConfiguration, lockedUntil), nil
	}
	s.emitUser(ctx, model.EventUserTwoFactorChallenge, lt.appID(), row, how.userData, how.ip, nil)
	return &LoginResult{Outcome: TwoFactorRequired, Response: &LoginResponse{TwoFactorID: id, Methods: methods}}, nil
}

// recordLogin writes a login's record and last-login instants.
func (s *Service) recordLogin(ctx context.Context, tx *store.Tx, userID, appID, loginID, ip string, now int64) error {
	if err := tx.SetLastLogin(ctx, userID, appID, now); err != nil {
		return fmt.Errorf("last login: %w", err)
	}
	if err := tx.InsertLoginRecord(ctx, &store.LoginRecord{UserID: userID, ApplicationID: appID, IPAddress: ip,
		LoginID: loginID, Instant: now}); err != nil {
		return fmt.Errorf("login record: %w", err)
	}
	return nil
}

// codeUser reads the user a one-time code names, which must be of the
// login's tenant (ErrNotFound otherwise), and answers a lockout in force as
// the login's result.
func (s *Service) codeUser(ctx context.Context, lt *loginTarget, userID, what string) (*store.UserRow, *LoginResult, error) {
	row, err := s.store.Read().UserRowByID(ctx, userID)
	if errors.Is(err, store.ErrNoRows) || (err == nil && row.TenantID != lt.tenant.ID) {
		return nil, nil, model.NotFoundf("user of a %s", what)
	}
	if err != nil {
		return nil, nil, err
	}
	if until, err := s.store.Read().LockedUntil(ctx, row.ID, s.now()); err != nil {
		return nil, nil, err
	} else if until != 0 {
		return nil, lockedResult(lt.tenant.FailedAuthenticationConfiguration, until), nil
	}
	return row, nil, nil
}

// loginWithOneTimePassword logs in with a one-time password (from a
// password change): it works once, within its lifetime, in its tenant.
func (s *Service) loginWithOneTimePassword(ctx context.Context, lt *loginTarget, req LoginRequest, ip string) (*LoginResult, error) {
	if len(req.OneTimePassword) > identity.MaxGivenCodeLength {
		return nil, model.NotFoundf("one-time password too long")
	}
	c, err := s.store.Read().ConsumeOneTimeCode(ctx, identity.CodeHash(req.OneTimePassword), []string{identity.CodeOneTimePassword}, s.now())
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("one-time password unknown, used or expired")
	}
	if err != nil {
		return nil, err
	}
	row, locked, err := s.codeUser(ctx, lt, c.UserID, "one-time password")
	if locked != nil || err != nil {
		return locked, err
	}
	loginID := row.Email
	if loginID == "" {
		loginID = row.Username
	}
	// A change that spent a trust token passed the second factor minutes
	// ago: its one-time password does not ask for it again.
	return s.authenticated(ctx, lt, row, authenticatedLogin{authType: tokens.AuthTypeOneTimePassword, loginID: loginID, ip: ip,
		noJWT: req.NoJWT, metaData: req.MetaData, secondFactor: identity.OneTimePasswordPassedSecondFactor(c.Data)})
}

// LoginPing is FusionAuth's PUT /api/login: an application reports that a
// user it authenticated itself logged in. It records the login and answers
// the user (200), or 202 when the user is not registered for the
// application; 423 and 410 for deactivated and expired users, whose logins
// are not recorded. Unlike the Login API it always needs a key (with
// /api/login PUT), whatever requireAuthentication says: it proves nothing
// about the user, and answers the whole user object to whoever names an id.
func (s *Service) LoginPing(ctx context.Context, caller LoginCaller, req LoginPingRequest) (*LoginResult, error) {
	if !caller.Authenticated {
		return nil, model.ErrUnauthorized
	}
	if strings.TrimSpace(req.ApplicationID) == "" {
		return nil, model.FieldError("applicationId", "blank", "An applicationId is required.")
	}
	lt, err := s.loginTarget(ctx, caller, req.ApplicationID)
	if err != nil {
		return nil, err
	}
	id, ok := kit.CanonicalID(req.UserID)
	if !ok {
		return nil, model.NotFoundf("user %q", req.UserID)
	}
	row, err := s.store.Read().UserRowByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) || (err == nil && row.TenantID != lt.tenant.ID) {
		return nil, model.NotFoundf("user %s", id)
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case !row.Active:
		return &LoginResult{Outcome: UserLocked}, nil
	case kit.UserExpiry(row) != 0 && kit.UserExpiry(row) <= now:
		return &LoginResult{Outcome: UserExpired}, nil
	}
	_, registered, err := kit.EffectiveRoles(ctx, s.store.Read(), row.ID, lt.app.ID)
	if err != nil {
		return nil, err
	}
	ip := firstNonBlank(req.IPAddress, caller.IP)
	loginID := firstNonBlank(row.Email, row.Username)
	if err := s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.recordLogin(ctx, tx, row.ID, lt.app.ID, loginID, ip, now)
	}); err != nil {
		return nil, err
	}
	row.LastLoginInstant = &now
	u, err := s.identity.FullUserObject(ctx, s.store.Read(), row)
	if err != nil {
		return nil, err
	}
	outcome := Success
	if !registered {
		outcome = NotRegistered
	}
	return &LoginResult{Outcome: outcome, Response: &LoginResponse{User: u}}, nil
}

func firstNonBlank(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
