package authentication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Passwordless login (FusionAuth's /api/passwordless/*): a key holder starts
// one for a user and gets a code; the code is mailed (send) or handed over
// some other way; whoever holds it logs in once with it, before the tenant's
// passwordlessLoginTimeToLiveInSeconds. Codes are stored as hashes only.

// CodePasswordless is the one-time code kind of a passwordless login; its
// data names the application and carries the caller's state.
const CodePasswordless = "passwordless"

// AuthTypePasswordless is FusionAuth's authenticationType of such a login.
const AuthTypePasswordless = "PASSWORDLESS"

// PasswordlessMail renders the passwordless email before the flow's
// transaction; the flow queues it there (internal/mailflows). One that
// cannot be built is a *model.MailNotBuilt.
type PasswordlessMail interface {
	Passwordless(ctx context.Context, row *store.UserRow, code, applicationID string, state map[string]any) (identity.QueuedMail, error)
}

// UsePasswordlessMail sets what mails passwordless codes; call it while wiring.
func (s *Service) UsePasswordlessMail(m PasswordlessMail) { s.passwordlessMail = m }

// PasswordlessStartRequest is FusionAuth's PasswordlessStartRequest.
type PasswordlessStartRequest struct {
	ApplicationID string         `json:"applicationId"`
	LoginID       string         `json:"loginId"`
	LoginIDTypes  []string       `json:"loginIdTypes"`
	LoginStrategy string         `json:"loginStrategy"`
	State         map[string]any `json:"state"`
}

// PasswordlessStartResult is FusionAuth's PasswordlessStartResponse.
type PasswordlessStartResult struct {
	Code string `json:"code"`
}

// StartPasswordless issues a passwordless code for the user with loginId in
// the application's tenant (a key call: caller.Authenticated). 404 when no
// such user; 400 for a missing application or login id.
func (s *Service) StartPasswordless(ctx context.Context, actor kit.Actor, caller LoginCaller, req PasswordlessStartRequest) (*PasswordlessStartResult, error) {
	if !caller.Authenticated {
		return nil, model.ErrUnauthorized
	}
	verrs := &model.Errors{}
	if strings.TrimSpace(req.ApplicationID) == "" {
		verrs.Field("applicationId", "blank", "You must specify the [applicationId].")
	}
	if strings.TrimSpace(req.LoginID) == "" {
		verrs.Field("loginId", "blank", "You must specify the [loginId].")
	}
	if req.LoginStrategy != "" && req.LoginStrategy != "ClickableLink" && req.LoginStrategy != "FormField" {
		verrs.Field("loginStrategy", "invalid", "The [loginStrategy] must be ClickableLink or FormField.")
	}
	if !verrs.Empty() {
		return nil, verrs
	}
	lt, err := s.loginTarget(ctx, caller, req.ApplicationID)
	if err != nil {
		return nil, err
	}
	var code string
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		row, err := s.findLoginUserIn(ctx, tx, lt.tenant.ID, strings.TrimSpace(req.LoginID), req.LoginIDTypes)
		if err != nil {
			return err
		}
		if row == nil {
			return model.NotFoundf("user with login id")
		}
		code = kit.GenerateCode(lt.tenant.ExternalIdentifierConfiguration.PasswordlessLoginGenerator)
		return s.insertPasswordlessCode(ctx, tx, actor, lt, row, code, req.State)
	})
	if err != nil {
		return nil, err
	}
	return &PasswordlessStartResult{Code: code}, nil
}

// insertPasswordlessCode stores code (of the tenant's
// passwordlessLoginGenerator) for row and the login target, with the
// caller's state, and its audit entry.
func (s *Service) insertPasswordlessCode(ctx context.Context, tx *store.Tx, actor kit.Actor, lt *loginTarget, row *store.UserRow, code string, st map[string]any) error {
	state, err := kit.EncodeObject(kit.Object{"applicationId": lt.appID(), "state": st})
	if err != nil {
		return model.FieldError("state", "invalid", "The [state] cannot be stored.")
	}
	ei := lt.tenant.ExternalIdentifierConfiguration
	now := s.now()
	if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(code), Kind: CodePasswordless, UserID: row.ID,
		TenantID: row.TenantID, Data: state, ExpiresInstant: now + int64(ei.PasswordlessLoginTimeToLiveInSeconds)*1000, InsertInstant: now}); err != nil {
		return fmt.Errorf("store passwordless code: %w", err)
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Started a passwordless login for user " + kit.UserLabel(row),
		TargetID: row.ID, Data: map[string]any{"applicationId": lt.appID()}})
}

// ErrPasswordlessUnavailable: the tenant has no passwordless email
// template, so no sign-in link can be mailed.
var ErrPasswordlessUnavailable = errors.New("the tenant has no passwordless email template")

// EmailPasswordlessLink is the hosted sign-in page's "email me a sign-in
// link": a code for the user with loginId in the application's tenant,
// mailed in the same transaction. It answers nil whether or not such a
// user (with an email address) exists, so that the page tells nobody
// which addresses have accounts; it is rate limited like a login.
func (s *Service) EmailPasswordlessLink(ctx context.Context, actor kit.Actor, caller LoginCaller, req PasswordlessStartRequest) error {
	if s.passwordlessMail == nil {
		return fmt.Errorf("passwordless email: not wired")
	}
	loginID := strings.TrimSpace(req.LoginID)
	if loginID == "" || len(loginID) > maxLoginIDLength {
		return model.FieldError("loginId", "blank", "You must specify the [loginId].")
	}
	if req.State != nil {
		if b, err := json.Marshal(req.State); err != nil || len(b) > maxMetaDataBytes {
			return model.FieldError("state", "tooLarge", fmt.Sprintf("[state] must encode in at most %d bytes.", maxMetaDataBytes))
		}
	}
	lt, err := s.loginTarget(ctx, caller, req.ApplicationID)
	if err != nil {
		return err
	}
	if err := s.throttle.Allow(ctx, caller.throttled(lt.tenant.ID)); err != nil {
		return err
	}
	// Checked before the user is looked up: the answer must not depend on
	// whether the login id exists.
	if lt.tenant.EmailConfiguration.PasswordlessEmailTemplateID == "" {
		return ErrPasswordlessUnavailable
	}
	// Whether the login id exists shows neither in the answer nor in its
	// time: as for an anonymous forgot-password call, the answer comes no
	// sooner than a fixed floor after this point, the known user's work
	// (a code, a rendering, writes) done within it.
	defer kit.WaitUntil(ctx, time.Now().Add(anonymousLinkAnswer))
	row, err := s.findLoginUserIn(ctx, s.store.Read(), lt.tenant.ID, loginID, nil)
	if err != nil || row == nil || row.Email == "" {
		return err
	}
	// The email is rendered before the transaction: a template's run never
	// holds the write lock.
	code := kit.GenerateCode(lt.tenant.ExternalIdentifierConfiguration.PasswordlessLoginGenerator)
	mail, err := s.renderPasswordlessMail(ctx, row, code, lt.appID(), req.State)
	if err != nil || mail == nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.insertPasswordlessCode(ctx, tx, actor, lt, row, code, req.State); err != nil {
			return err
		}
		return mail(ctx, tx, actor)
	})
}

// anonymousLinkAnswer is the least time the hosted page's "email me a
// sign-in link" takes, known login id or not.
const anonymousLinkAnswer = 200 * time.Millisecond

// PasswordlessCodeInfo is what a live code was started for.
type PasswordlessCodeInfo struct {
	TenantID      string
	ApplicationID string
	State         map[string]any
}

// PeekPasswordless reads a live code without using it (the hosted link
// page shows it before the user confirms); ErrNotFound when it is unknown,
// used or expired.
func (s *Service) PeekPasswordless(ctx context.Context, code string) (*PasswordlessCodeInfo, error) {
	if code == "" || len(code) > identity.MaxGivenCodeLength {
		return nil, model.NotFoundf("passwordless code")
	}
	c, err := s.store.Read().OneTimeCodeByHash(ctx, identity.CodeHash(code), []string{CodePasswordless}, s.now())
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("passwordless code unknown, used or expired")
	}
	if err != nil {
		return nil, err
	}
	data, err := kit.ParseObject(c.Data)
	if err != nil {
		return nil, err
	}
	info := &PasswordlessCodeInfo{TenantID: c.TenantID}
	info.ApplicationID, _ = data["applicationId"].(string)
	info.State, _ = data["state"].(map[string]any)
	return info, nil
}

// passwordlessCode finds a live code; a 400 [invalid]code when there is
// none (unknown, used or expired).
func (s *Service) passwordlessCode(ctx context.Context, tx *store.Tx, code string) (*store.OneTimeCode, kit.Object, error) {
	invalid := model.FieldError("code", "invalid", "The [code] is unknown, used or expired.")
	if code == "" {
		return nil, nil, model.FieldError("code", "blank", "You must specify the [code].")
	}
	if len(code) > identity.MaxGivenCodeLength {
		return nil, nil, invalid
	}
	c, err := tx.OneTimeCodeByHash(ctx, identity.CodeHash(code), []string{CodePasswordless}, s.now())
	if errors.Is(err, store.ErrNoRows) {
		return nil, nil, invalid
	}
	if err != nil {
		return nil, nil, err
	}
	data, err := kit.ParseObject(c.Data)
	return c, data, err
}

// PasswordlessSendRequest is FusionAuth's PasswordlessSendRequest; only the
// code form is taken (a login id would let anyone mail anyone).
type PasswordlessSendRequest struct {
	Code string `json:"code"`
}

// SendPasswordless queues the passwordless email of a started code
// (anonymous, as FusionAuth: holding the code is the authority).
func (s *Service) SendPasswordless(ctx context.Context, actor kit.Actor, req PasswordlessSendRequest) error {
	if s.passwordlessMail == nil {
		return fmt.Errorf("passwordless email: not wired")
	}
	// The email is rendered before the transaction (a template's run never
	// holds the write lock), which checks again that the code is live.
	rd := s.store.Read()
	c, data, err := s.passwordlessCode(ctx, rd, req.Code)
	if err != nil {
		return err
	}
	row, err := rd.UserRowByID(ctx, c.UserID)
	if err != nil {
		return err
	}
	if row.Email == "" {
		return model.FieldError("code", "invalid", "The user of this code has no email address.")
	}
	appID, _ := data["applicationId"].(string)
	state, _ := data["state"].(map[string]any)
	mail, err := s.renderPasswordlessMail(ctx, row, req.Code, appID, state)
	if err != nil || mail == nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, _, err := s.passwordlessCode(ctx, tx, req.Code); err != nil {
			return err
		}
		if err := mail(ctx, tx, actor); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Queued the passwordless login email of user " + kit.UserLabel(row),
			TargetID: row.ID, Data: map[string]any{"applicationId": appID}})
	})
}

// PasswordlessLoginRequest is FusionAuth's PasswordlessLoginRequest.
type PasswordlessLoginRequest struct {
	Code          string         `json:"code"`
	ApplicationID string         `json:"applicationId"`
	IPAddress     string         `json:"ipAddress"`
	NoJWT         bool           `json:"noJWT"`
	MetaData      map[string]any `json:"metaData"`
}

// PasswordlessLogin logs in with a code, once: answered as /api/login would
// (200, 202, 203, 212, 213, 242, 409, 410, 423); 404 for an unknown, used or
// expired code. The application is the request's, else the one the code
// was started for.
func (s *Service) PasswordlessLogin(ctx context.Context, caller LoginCaller, req PasswordlessLoginRequest) (*LoginResult, error) {
	if req.Code == "" {
		return nil, model.FieldError("code", "blank", "You must specify the [code].")
	}
	if len(req.Code) > identity.MaxGivenCodeLength {
		return nil, model.NotFoundf("passwordless code too long")
	}
	if req.MetaData != nil {
		if b, err := json.Marshal(req.MetaData); err != nil || len(b) > maxMetaDataBytes {
			return nil, model.FieldError("metaData", "tooLarge", fmt.Sprintf("[metaData] must encode in at most %d bytes.", maxMetaDataBytes))
		}
	}
	ip := firstNonBlank(req.IPAddress, caller.IP)
	c, err := s.store.Read().ConsumeOneTimeCode(ctx, identity.CodeHash(req.Code), []string{CodePasswordless}, s.now())
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("passwordless code unknown, used or expired")
	}
	if err != nil {
		return nil, err
	}
	appID := req.ApplicationID
	if appID == "" {
		if data, err := kit.ParseObject(c.Data); err == nil {
			appID, _ = data["applicationId"].(string)
		}
	}
	lt, err := s.loginTarget(ctx, LoginCaller{IP: caller.IP, Authenticated: true, Scope: kit.TenantScope{Tenants: []string{c.TenantID}}}, appID)
	if err != nil {
		return nil, err
	}
	if err := s.throttle.Allow(ctx, caller.throttled(lt.tenant.ID)); err != nil {
		return nil, err
	}
	row, locked, err := s.codeUser(ctx, lt, c.UserID, "passwordless code")
	if locked != nil || err != nil {
		return locked, err
	}
	loginID := firstNonBlank(row.Email, row.Username)
	res, err := s.authenticated(ctx, lt, row, authenticatedLogin{authType: AuthTypePasswordless, loginID: loginID, ip: ip,
		noJWT: req.NoJWT, metaData: req.MetaData})
	if err == nil && res.Outcome == Success {
		s.emitLogin(ctx, model.EventUserLoginSuccess, lt, row, nil, ip, AuthTypePasswordless)
	}
	return res, err
}

// renderPasswordlessMail renders a code's email before any transaction (a
// template's run never holds the write lock). An email that cannot be built
// (a template gone or failing) is the operator's to read, in the log and
// the event log; the caller, anonymous, is answered as if it was sent: nil
// mail and nil error, whether the user exists or not.
func (s *Service) renderPasswordlessMail(ctx context.Context, row *store.UserRow, code, appID string, state map[string]any) (identity.QueuedMail, error) {
	mail, err := s.passwordlessMail.Passwordless(ctx, row, code, appID, state)
	var notBuilt *model.MailNotBuilt
	if errors.As(err, &notBuilt) {
		s.audit.MailNotBuilt(ctx, "passwordless login", row.ID, notBuilt)
		return nil, nil
	}
	return mail, err
}
