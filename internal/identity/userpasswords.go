package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/throttle"
)

// Forgot and change password, FusionAuth's /api/user/forgot-password and
// /api/user/change-password. A change-password id is a one-time code: only
// its SHA-256 is stored, it expires after the tenant's
// changePasswordIdTimeToLiveInSeconds, and it is used by one DELETE …
// RETURNING, so that exactly one request succeeds with it on any node.

// ForgotPasswordRequest is FusionAuth's ForgotPasswordRequest.
type ForgotPasswordRequest struct {
	LoginID                   string         `json:"loginId"`
	Email                     string         `json:"email"`    // older spelling of loginId
	Username                  string         `json:"username"` // older spelling of loginId
	ApplicationID             string         `json:"applicationId"`
	ChangePasswordID          string         `json:"changePasswordId"`
	SendForgotPasswordEmail   *bool          `json:"sendForgotPasswordEmail"`
	SendForgotPasswordMessage *bool          `json:"sendForgotPasswordMessage"`
	State                     map[string]any `json:"state"`
	LoginIDTypes              []string       `json:"loginIdTypes"`
	// Anonymous calls (no key) only send the email: unknown users get the
	// same answer as known ones.
	Anonymous bool `json:"-"`
}

// ChangePasswordRequest is FusionAuth's ChangePasswordRequest.
type ChangePasswordRequest struct {
	ApplicationID    string   `json:"applicationId"`
	ChangePasswordID string   `json:"changePasswordId"`
	CurrentPassword  string   `json:"currentPassword"`
	LoginID          string   `json:"loginId"`
	LoginIDTypes     []string `json:"loginIdTypes"`
	Password         string   `json:"password"`
	RefreshToken     string   `json:"refreshToken"`
	TrustChallenge   string   `json:"trustChallenge"`
	TrustToken       string   `json:"trustToken"`
}

// ChangePasswordResult is FusionAuth's ChangePasswordResponse.
type ChangePasswordResult struct {
	OneTimePassword string `json:"oneTimePassword,omitempty"`
}

// changePasswordKinds are the codes a change-password id may be.
var changePasswordKinds = []string{CodeChangePassword, CodeSetupPassword}

// MaxGivenCodeLength bounds a change-password id a caller chooses.
const MaxGivenCodeLength = 255

// GenerateCode makes a one-time code as a tenant's SecureGenerator says.
var GenerateCode = kit.GenerateCode

// CodeHash is how a one-time code is stored.
func CodeHash(code string) string { return secrets.HashToken(code) }

// resolveApplication checks an optional applicationId of a request and
// returns it (canonical) with its tenant; both "" when none is given.
func resolveApplication(ctx context.Context, tx *store.Tx, scope kit.TenantScope, raw string) (string, string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", "", nil
	}
	id, ok := kit.CanonicalID(raw)
	if !ok {
		return "", "", model.FieldError("applicationId", "invalid", "[applicationId] must be a UUID.")
	}
	tenantID, err := tx.ApplicationTenantID(ctx, id)
	if errors.Is(err, store.ErrNoRows) || (err == nil && !scope.CanSee(tenantID)) {
		return "", "", model.FieldError("applicationId", "invalid", "The application does not exist.")
	}
	if err != nil {
		return "", "", err
	}
	return id, tenantID, nil
}

// anonymousForgotAnswer is how long an anonymous forgot-password call takes
// at least, whether or not the address has an account: see ForgotPassword.
const anonymousForgotAnswer = 200 * time.Millisecond

// ForgotPassword starts FusionAuth's forgot-password flow for an API caller:
// it issues a change-password id for the user and returns it. Sending the
// email (sendForgotPasswordEmail, true unless false) needs a forgot-password
// template on the tenant; without one the feature is disabled (403), as in
// FusionAuth. Deactivated users, like unknown ones, are 404.
//
// An anonymous call (req.Anonymous) answers the same for every address: no
// id, nothing for unknown, deactivated or address-less users, and an email
// that cannot be built is logged and written to the event log, not told.
// Its answer also takes the same time: a known address costs writes and a
// rendering (about 10 ms) that an unknown one does not, so every anonymous
// call answers no sooner than anonymousForgotAnswer after it started. The
// work is done before the answer rather than after it, so that what the
// call changed is committed when it answers; doing comparable work for
// unknown addresses instead would have to imitate writes that cannot be
// made. A known address whose work outlasts the floor (a stalled database)
// still answers later; the floor is wall time, not the service's clock.
func (s *Service) ForgotPassword(ctx context.Context, actor kit.Actor, scope kit.TenantScope, req ForgotPasswordRequest) (string, error) {
	if req.Anonymous {
		defer kit.WaitUntil(ctx, time.Now().Add(anonymousForgotAnswer))
	}
	loginID := strings.TrimSpace(req.LoginID)
	if loginID == "" {
		loginID = strings.TrimSpace(req.Email)
	}
	if loginID == "" {
		loginID = strings.TrimSpace(req.Username)
	}
	if loginID == "" {
		return "", model.FieldError("loginId", "blank", "A login id (email or username) is required.")
	}
	given := req.ChangePasswordID
	if given != "" && (len(given) > MaxGivenCodeLength || strings.IndexFunc(given, unicode.IsSpace) >= 0 || strings.IndexFunc(given, unicode.IsControl) >= 0) {
		return "", model.FieldError("changePasswordId", "invalid", fmt.Sprintf("changePasswordId must be at most %d characters without spaces.", MaxGivenCodeLength))
	}
	send := true
	switch {
	case req.SendForgotPasswordMessage != nil:
		send = *req.SendForgotPasswordMessage
	case req.SendForgotPasswordEmail != nil:
		send = *req.SendForgotPasswordEmail
	}
	rd := s.store.Read()
	appID, appTenant, err := resolveApplication(ctx, rd, scope, req.ApplicationID)
	if err != nil {
		return "", err
	}
	tenantID, err := s.RequestTenant(ctx, rd, scope, appTenant, "tenantId")
	if err != nil {
		return "", err
	}
	if err := s.throttle.Allow(ctx, throttle.ForActor(actor, tenantID)); err != nil {
		return "", err
	}
	cfg, err := s.tenancy.TenantConfig(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if send && cfg.EmailConfiguration.ForgotPasswordEmailTemplateID == "" {
		return "", fmt.Errorf("%w: the tenant has no forgot-password email template", model.ErrForbidden)
	}
	row, err := lookupUser(ctx, rd, tenantID, LookupLoginID, loginID)
	if err == nil && !row.Active {
		err = model.NotFoundf("user %s is deactivated", row.ID)
	} else if err == nil && send && row.Email == "" {
		err = model.FieldError("loginId", "noEmail", "The user has no email address to send the forgot password email to.")
	}
	if err != nil && req.Anonymous {
		return "", nil // the same answer as for a user the email went to
	}
	if err != nil {
		return "", err
	}
	code := given
	if code == "" {
		code = GenerateCode(cfg.ExternalIdentifierConfiguration.ChangePasswordIDGenerator)
	}
	ttl := int64(cfg.ExternalIdentifierConfiguration.ChangePasswordIDTimeToLiveInSeconds) * 1000
	data := kit.Object{}
	if appID != "" {
		data["applicationId"] = appID
	}
	if req.State != nil {
		data["state"] = req.State
	}
	enc, err := kit.EncodeObject(data)
	if err != nil {
		return "", err
	}
	var mail QueuedMail
	if send && s.mail != nil {
		mail, err = s.mail.ForgotPassword(ctx, row, code, appID, req.State)
		var notBuilt *model.MailNotBuilt
		if errors.As(err, &notBuilt) && req.Anonymous {
			s.audit.MailNotBuilt(ctx, "forgot password", row.ID, notBuilt)
			return "", nil // the same answer as for a user the email went to
		}
		if err != nil {
			return "", err
		}
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		// A new id replaces the user's earlier ones; expired codes of anyone
		// go while we are here.
		if err := tx.DeleteUserCodes(ctx, row.ID, []string{CodeChangePassword}); err != nil {
			return err
		}
		if _, err := tx.DeleteExpiredCodes(ctx, now); err != nil {
			return err
		}
		if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: CodeHash(code), Kind: CodeChangePassword, UserID: row.ID,
			TenantID: row.TenantID, Data: enc, ExpiresInstant: now + ttl, InsertInstant: now}); err != nil {
			if store.IsUnique(err) {
				return model.FieldError("changePasswordId", "duplicate", "This changePasswordId is in use.")
			}
			return fmt.Errorf("store change-password id: %w", err)
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Started the forgot password flow of user " + kit.UserLabel(row),
			TargetID: row.ID, Data: map[string]any{"sendForgotPasswordEmail": send, "expiresInstant": now + ttl},
			Events: []model.Event{kit.LazyUserEvent(ctx, tx, model.EventUserPasswordResetStart, s.FullUserObject, row, nil)}}); err != nil {
			return err
		}
		if mail == nil {
			return nil
		}
		return mail(ctx, tx, actor) // user.password.reset.send follows .start
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// CheckChangePasswordID reports (nil) whether a change-password id is valid
// now, without using it; ErrNotFound otherwise.
// A user with a second factor needs a trust token: ErrTrustTokenRequired.
func (s *Service) CheckChangePasswordID(ctx context.Context, code string) error {
	row, err := s.peekChangePasswordID(ctx, code)
	if err != nil {
		return err
	}
	return CheckTrust(row)
}

func (s *Service) peekChangePasswordID(ctx context.Context, code string) (*store.UserRow, error) {
	if code == "" {
		return nil, model.NotFoundf("blank change-password id")
	}
	rd := s.store.Read()
	c, err := rd.OneTimeCodeByHash(ctx, CodeHash(code), changePasswordKinds, s.now())
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("change-password id unknown, used or expired")
	}
	if err != nil {
		return nil, err
	}
	row, err := rd.UserRowByID(ctx, c.UserID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("user %s of a change-password id", c.UserID)
	}
	if err != nil {
		return nil, err
	}
	if !row.Active {
		return nil, model.NotFoundf("user %s is deactivated", row.ID)
	}
	return row, nil
}

// UserByChangePasswordID is FusionAuth's retrieve by change-password id; it
// does not use the id.
func (s *Service) UserByChangePasswordID(ctx context.Context, scope kit.TenantScope, code string) (*model.User, error) {
	row, err := s.peekChangePasswordID(ctx, code)
	if err != nil {
		return nil, err
	}
	if !scope.CanSee(row.TenantID) {
		return nil, model.NotFoundf("user %s", row.ID)
	}
	return s.FullUserObject(ctx, s.store.Read(), row)
}

// newPasswordFor validates a new password for a user under its tenant's
// rules (errors on the field password) and hashes it. userChange says the
// user changes its own password (minimumPasswordAge applies); a reset with a
// change-password id is not held back by it.
func (s *Service) newPasswordFor(ctx context.Context, row *store.UserRow, pw string, userChange bool) (string, *passwordPolicy, error) {
	pol, err := s.passwordPolicyOf(ctx, row.TenantID)
	if err != nil {
		return "", nil, err
	}
	verrs := &model.Errors{}
	pol.check("password", pw, verrs)
	if err := verrs.Err(); err != nil {
		return "", nil, err
	}
	if userChange && pol.minAge.Enabled && s.now()-row.PasswordLastUpdateInstant < int64(pol.minAge.Seconds)*1000 {
		return "", nil, model.FieldError("password", "tooYoung", fmt.Sprintf("The password was changed less than %d seconds ago.", pol.minAge.Seconds))
	}
	used, err := pol.reused(ctx, s.store.Read(), row, pw)
	if err != nil {
		return "", nil, err
	}
	if used {
		return "", nil, model.FieldError("password", "previouslyUsed", "The password was used recently; choose another.")
	}
	hash, err := pol.hash(ctx, pw)
	if err != nil {
		return "", nil, err
	}
	return hash, pol, nil
}

// ChangePasswordByID changes a user's password with a change-password id (the
// anonymous form of FusionAuth's change password). The id works once; the
// answer carries a one-time password for FusionAuth's Login API.
func (s *Service) ChangePasswordByID(ctx context.Context, actor kit.Actor, code string, req ChangePasswordRequest) (*ChangePasswordResult, error) {
	if req.Password == "" {
		return nil, model.FieldError("password", "blank", "A new password is required.")
	}
	// Before the code is looked up, so that guessing codes is throttled
	// too; the code names no tenant until it is found.
	if err := s.throttle.Allow(ctx, throttle.ForActor(actor, "")); err != nil {
		return nil, err
	}
	row, err := s.peekChangePasswordID(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := trustGiven(ctx, s.store.Read(), row, req, s.now()); err != nil {
		return nil, err
	}
	hash, pol, err := s.newPasswordFor(ctx, row, req.Password, false)
	if err != nil {
		return nil, err
	}
	cfg, err := s.tenancy.TenantConfig(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	otp := secrets.Token(32)
	// The change is the user's own, made with the id it was given.
	actor.Type, actor.ID, actor.Name = kit.ActorUser, row.ID, row.Email
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		c, err := tx.ConsumeOneTimeCode(ctx, CodeHash(code), changePasswordKinds, now)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("change-password id used or expired meanwhile")
		}
		if err != nil {
			return err
		}
		cur, err := tx.UserRowByID(ctx, c.UserID)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("user %s", c.UserID)
		}
		if err != nil {
			return err
		}
		trusted, err := spendTrust(ctx, tx, cur, req, now)
		if err != nil {
			return err
		}
		if err := s.rememberPassword(ctx, tx, pol, cur, now); err != nil {
			return err
		}
		if err := tx.SetUserPasswordHash(ctx, cur.ID, hash, false, now); err != nil {
			return err
		}
		if err := s.tokens.RevokeOnPasswordChange(ctx, tx, cfg, actor, cur); err != nil {
			return err
		}
		if err := s.liftLockoutOnReset(ctx, tx, cfg, actor, cur, now); err != nil {
			return err
		}
		if err := tx.DeleteUserCodes(ctx, cur.ID, changePasswordKinds); err != nil {
			return err
		}
		if err := insertOneTimePassword(ctx, tx, cfg, cur, otp, c.Data, trusted, now); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Changed the password of user " + kit.UserLabel(cur) + " with a change-password id",
			TargetID: cur.ID, Data: map[string]any{"kind": c.Kind}, Events: []model.Event{kit.LazyUserEvent(ctx, tx, model.EventUserPasswordResetSucess, s.FullUserObject, cur, nil), kit.LazyUserEvent(ctx, tx, model.EventUserPasswordUpdate, s.FullUserObject, cur, nil)}})
	})
	if err != nil {
		return nil, err
	}
	return &ChangePasswordResult{OneTimePassword: otp}, nil
}

// ChangePasswordByLoginID changes a user's password given its login id and
// current password (FusionAuth's changePasswordByIdentity; an API key call).
func (s *Service) ChangePasswordByLoginID(ctx context.Context, actor kit.Actor, scope kit.TenantScope, req ChangePasswordRequest) error {
	if err := ownChangeGiven(req); err != nil {
		return err
	}
	rd := s.store.Read()
	_, appTenant, err := resolveApplication(ctx, rd, scope, req.ApplicationID)
	if err != nil {
		return err
	}
	tenantID, err := s.RequestTenant(ctx, rd, scope, appTenant, "tenantId")
	if err != nil {
		return err
	}
	if err := s.throttle.Allow(ctx, throttle.ForActor(actor, tenantID)); err != nil {
		return err
	}
	row, err := lookupUser(ctx, rd, tenantID, LookupLoginID, req.LoginID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && !row.Active) {
		return model.FieldError("loginId", "invalid", "No active user has this login id.")
	}
	if err != nil {
		return err
	}
	_, err = s.changeOwnPassword(ctx, actor, row, req, false)
	return err
}

// ChangePasswordByJWT is FusionAuth's changePasswordUsingJWT: the user of a
// valid access token changes its own password. Latch asks for the current
// password too, so that a stolen access token alone cannot take the account
// over. The answer carries a one-time password, as the id form's does, for
// signing in again once the password change has ended the user's sessions.
func (s *Service) ChangePasswordByJWT(ctx context.Context, actor kit.Actor, userID string, req ChangePasswordRequest) (*ChangePasswordResult, error) {
	if err := ownChangeGiven(req); err != nil {
		return nil, err
	}
	row, err := s.store.Read().UserRowByID(ctx, userID)
	if errors.Is(err, store.ErrNoRows) || (err == nil && !row.Active) {
		return nil, model.ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if err := s.throttle.Allow(ctx, throttle.ForActor(actor, row.TenantID)); err != nil {
		return nil, err
	}
	return s.changeOwnPassword(ctx, actor, row, req, true)
}

// ownChangeGiven checks a change by the user itself names both passwords.
func ownChangeGiven(req ChangePasswordRequest) error {
	verrs := &model.Errors{}
	if req.Password == "" {
		verrs.Field("password", "blank", "A new password is required.")
	}
	if req.CurrentPassword == "" {
		verrs.Field("currentPassword", "blank", "The current password is required.")
	}
	return verrs.Err()
}

// changeOwnPassword changes row's password given its current one (and a
// trust token when the user has a second factor); withOTP adds a one-time
// password to the answer.
func (s *Service) changeOwnPassword(ctx context.Context, actor kit.Actor, row *store.UserRow, req ChangePasswordRequest, withOTP bool) (*ChangePasswordResult, error) {
	rd := s.store.Read()
	verrs := &model.Errors{}
	cfg, err := s.tenancy.LoginTenantConfig(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	// The current password is a login's password: wrong ones count toward
	// the user's lockout, and while locked it is not checked at all, so
	// that this is no password oracle beside the Login API. A right one
	// clears nothing (the user may have a second factor).
	if until, err := rd.LockedUntil(ctx, row.ID, s.now()); err != nil {
		return nil, err
	} else if until != 0 {
		return nil, lockout.Error(until)
	}
	if err := trustGiven(ctx, rd, row, req, s.now()); err != nil {
		return nil, err
	}
	pol, err := s.passwordPolicyOf(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	pol.check("password", req.Password, verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	if ok, err := s.currentPasswordMatches(ctx, cfg, row, req.CurrentPassword); err != nil {
		return nil, err
	} else if !ok {
		until, err := s.lockout.CountFailure(ctx, cfg, row.ID)
		switch {
		case until != 0: // locked meanwhile
			return nil, lockout.Error(until)
		case err != nil && !errors.Is(err, model.ErrNotFound):
			return nil, err
		}
		return nil, model.FieldError("currentPassword", "invalid", "The current password is not correct.")
	}
	hash, pol, err := s.newPasswordFor(ctx, row, req.Password, true)
	if err != nil {
		return nil, err
	}
	res := &ChangePasswordResult{}
	if withOTP {
		res.OneTimePassword = secrets.Token(32)
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		cur, err := tx.UserRowByID(ctx, row.ID)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("user %s", row.ID)
		}
		if err != nil {
			return err
		}
		if until, err := tx.LockedUntil(ctx, cur.ID, now); err != nil {
			return err
		} else if until != 0 { // locked while the password was checked
			return lockout.Error(until)
		}
		if cur.PasswordHash != row.PasswordHash {
			// Another change won meanwhile; the current password checked
			// above may no longer be current.
			return model.FieldError("currentPassword", "invalid", "The password changed during this request; try again.")
		}
		trusted, err := spendTrust(ctx, tx, cur, req, now)
		if err != nil {
			return err
		}
		if err := s.rememberPassword(ctx, tx, pol, cur, now); err != nil {
			return err
		}
		if err := tx.SetUserPasswordHash(ctx, cur.ID, hash, false, now); err != nil {
			return err
		}
		if err := s.tokens.RevokeOnPasswordChange(ctx, tx, cfg, actor, cur); err != nil {
			return err
		}
		if err := tx.DeleteUserCodes(ctx, cur.ID, changePasswordKinds); err != nil {
			return err
		}
		if withOTP {
			if err := insertOneTimePassword(ctx, tx, cfg, cur, res.OneTimePassword, "", trusted, now); err != nil {
				return err
			}
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Changed the password of user " + kit.UserLabel(cur) + " with its current password",
			TargetID: cur.ID})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// insertOneTimePassword stores a change of password's one-time password
// (FusionAuth's oneTimePassword, for the Login API), replacing any earlier.
func insertOneTimePassword(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, row *store.UserRow, otp, base string, secondFactor bool, now int64) error {
	if err := tx.DeleteUserCodes(ctx, row.ID, []string{CodeOneTimePassword}); err != nil {
		return err
	}
	data, err := otpData(base, secondFactor)
	if err != nil {
		return err
	}
	ttl := int64(cfg.ExternalIdentifierConfiguration.OneTimePasswordTimeToLiveInSeconds) * 1000
	return tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: CodeHash(otp), Kind: CodeOneTimePassword, UserID: row.ID,
		TenantID: row.TenantID, Data: data, ExpiresInstant: now + ttl, InsertInstant: now})
}

// currentPasswordMatches checks pw against the user's stored hash (see CheckPasswordAs).
func (s *Service) currentPasswordMatches(ctx context.Context, cfg *model.TenantConfig, row *store.UserRow, pw string) (bool, error) {
	h, err := password.Decode(row.PasswordHash)
	return CheckPasswordAs(ctx, s.hasher, cfg, row.TenantID, h, err == nil, pw)
}

// CheckPasswordAs checks pw against a user's stored hash h (usable false when
// the user has none Latch can read) with the tenant's scheme and factor as
// the least a failure costs (password.Hasher.Verify).
func CheckPasswordAs(ctx context.Context, hasher *password.Hasher, cfg *model.TenantConfig, tenantID string, h password.Hash, usable bool, pw string) (bool, error) {
	scheme, factor := TenantHashing(cfg, hasher.Limits())
	return hasher.Verify(ctx, tenantID, h, usable, pw, scheme, factor)
}
