// Package mailflows is the user flows that send mail: the forgot-password
// and set-password emails, and email verification (FusionAuth's
// /api/user/verify-email). Mail is queued with internal/email in the
// transaction of the change that asks for it, so a change and its mail
// commit together and no request waits on an SMTP server. One-time ids are
// stored as SHA-256 hashes only (one_time_codes) and used by one atomic
// statement, as change-password ids are.
package mailflows

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// CodeEmailVerification is the one-time code kind of a verificationId.
const CodeEmailVerification = "emailVerification"

// Service sends the flows' mail and verifies email addresses.
type Service struct {
	store    *store.Store
	clock    kit.Clock
	log      *slog.Logger
	audit    *audit.Log
	tenancy  *tenancy.Service
	email    *email.Service
	identity *identity.Service
}

// New wires the service and registers it as identity's mail.
func New(st *store.Store, clock kit.Clock, log *slog.Logger, a *audit.Log, t *tenancy.Service, e *email.Service, id *identity.Service) *Service {
	s := &Service{store: st, clock: clock, log: log, audit: a, tenancy: t, email: e, identity: id}
	id.UseMail(s)
	return s
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// templateData is what every flow's template sees of the user and tenant,
// with the flow's own values (data), and the user's preferred languages.
func templateData(cfg *model.TenantConfig, row *store.UserRow, data map[string]any) ([]string, error) {
	u, langs, err := email.UserData(row)
	if err != nil {
		return nil, err
	}
	data["user"] = u
	data["tenant"] = map[string]any{"id": cfg.ID, "name": cfg.Name}
	return langs, nil
}

// queue renders a template for the user and queues it in tx.
func (s *Service) queue(ctx context.Context, tx *store.Tx, templateID string, cfg *model.TenantConfig, row *store.UserRow, data map[string]any) error {
	langs, err := templateData(cfg, row, data)
	if err != nil {
		return err
	}
	return s.email.Queue(ctx, tx, templateID, langs, row.TenantID, model.EmailAddress{Address: row.Email, Display: row.FullName}, data)
}

// application is what templates see of the flow's application.
func (s *Service) application(ctx context.Context, id string) map[string]any {
	app := map[string]any{"id": id}
	if cfg, err := s.tenancy.LoginApplicationConfig(ctx, id); err == nil {
		app["name"] = cfg.Name
	}
	return app
}

// ForgotPassword renders the forgot-password email (identity.Mail) before
// the flow's transaction; what it returns queues it there, with its
// user.password.reset.send event (after the flow's .start) from the
// flow's actor.
func (s *Service) ForgotPassword(ctx context.Context, row *store.UserRow, code, applicationID string, state map[string]any) (identity.QueuedMail, error) {
	cfg, err := s.tenancy.TenantConfig(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"changePasswordId": code, "state": state}
	if applicationID != "" {
		data["application"] = s.application(ctx, applicationID)
	}
	langs, err := templateData(cfg, row, data)
	if err != nil {
		return nil, err
	}
	msg, err := s.email.Build(ctx, cfg.EmailConfiguration.ForgotPasswordEmailTemplateID, langs, row.TenantID,
		model.EmailAddress{Address: row.Email, Display: row.FullName}, data)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *store.Tx, actor kit.Actor) error {
		if err := s.email.Enqueue(ctx, tx, msg); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Queued the forgot password email of user " + kit.UserLabel(row),
			TargetID: row.ID, Events: []model.Event{kit.LazyUserEvent(ctx, tx, model.EventUserPasswordResetSend, s.identity.FullUserObject, row, nil)}})
	}, nil
}

// EmailChanged sends the verification email to a user's new address
// (identity.Mail), which the update left unverified under the tenant's
// verifyEmailWhenChanged; earlier verification ids stop working.
func (s *Service) EmailChanged(ctx context.Context, tx *store.Tx, row *store.UserRow) error {
	cfg, err := s.tenancy.TenantConfig(ctx, row.TenantID)
	if err != nil {
		return err
	}
	_, err = s.startVerification(ctx, tx, cfg, row, true)
	return err
}

// UserCreated queues a new user's mail (identity.Mail): the verification
// email when the tenant verifies email and the user is not verified, and
// the set-password email when the request asked for it.
func (s *Service) UserCreated(ctx context.Context, tx *store.Tx, row *store.UserRow, sendSetPassword bool) error {
	if row.Email == "" {
		if sendSetPassword {
			return model.FieldError("sendSetPasswordEmail", "invalid", "The user has no email address to send the set password email to.")
		}
		return nil
	}
	cfg, err := s.tenancy.TenantConfig(ctx, row.TenantID)
	if err != nil {
		return err
	}
	if !row.Verified && cfg.EmailConfiguration.VerifyEmail {
		if _, err := s.startVerification(ctx, tx, cfg, row, true); err != nil {
			return err
		}
	}
	if !sendSetPassword {
		return nil
	}
	tplID := cfg.EmailConfiguration.SetPasswordEmailTemplateID
	if tplID == "" {
		return model.FieldError("sendSetPasswordEmail", "invalid", "The tenant has no set password email template (emailConfiguration.setPasswordEmailTemplateId).")
	}
	ei := cfg.ExternalIdentifierConfiguration
	code := kit.GenerateCode(ei.SetupPasswordIDGenerator)
	now := s.now()
	if err := tx.DeleteUserCodes(ctx, row.ID, []string{identity.CodeSetupPassword}); err != nil {
		return err
	}
	if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(code), Kind: identity.CodeSetupPassword, UserID: row.ID,
		TenantID: row.TenantID, ExpiresInstant: now + int64(ei.SetupPasswordIDTimeToLiveInSeconds)*1000, InsertInstant: now}); err != nil {
		return fmt.Errorf("store set-password id: %w", err)
	}
	return s.queue(ctx, tx, tplID, cfg, row, map[string]any{"changePasswordId": code})
}

// VerifyEmailResult is FusionAuth's VerifyEmailResponse.
type VerifyEmailResult struct {
	OneTimeCode    string `json:"oneTimeCode,omitempty"`
	VerificationID string `json:"verificationId"`
}

// startVerification issues a verificationId (and its short code), replacing
// the user's earlier ones, and queues the verification email when send.
func (s *Service) startVerification(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, row *store.UserRow, send bool) (*VerifyEmailResult, error) {
	ei := cfg.ExternalIdentifierConfiguration
	res := &VerifyEmailResult{VerificationID: kit.GenerateCode(ei.EmailVerificationIDGenerator),
		OneTimeCode: kit.GenerateCode(ei.EmailVerificationOneTimeCodeGenerator)}
	now := s.now()
	data, err := kit.EncodeObject(kit.Object{"email": row.Email, "oneTimeCode": secrets.HashToken(res.OneTimeCode)})
	if err != nil {
		return nil, err
	}
	if err := tx.DeleteUserCodes(ctx, row.ID, []string{CodeEmailVerification}); err != nil {
		return nil, err
	}
	if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(res.VerificationID), Kind: CodeEmailVerification, UserID: row.ID,
		TenantID: row.TenantID, Data: data, ExpiresInstant: now + int64(ei.EmailVerificationIDTimeToLiveInSeconds)*1000, InsertInstant: now}); err != nil {
		return nil, fmt.Errorf("store verification id: %w", err)
	}
	if !send {
		return res, nil
	}
	tplID := cfg.EmailConfiguration.VerificationEmailTemplateID
	if tplID == "" {
		return nil, model.GeneralError("VerificationTemplateMissing", "The tenant has no verification email template (emailConfiguration.verificationEmailTemplateId).")
	}
	return res, s.queue(ctx, tx, tplID, cfg, row, map[string]any{"verificationId": res.VerificationID, "verificationOneTimeCode": res.OneTimeCode})
}

// ResendVerification is PUT /api/user/verify-email?email=…: a new
// verificationId for the user with that address, emailed unless send is
// false. The answer carries the ids (the caller holds an API key).
func (s *Service) ResendVerification(ctx context.Context, actor kit.Actor, scope kit.TenantScope, address string, send bool) (*VerifyEmailResult, error) {
	address = strings.TrimSpace(address)
	if address == "" {
		return nil, model.FieldError("email", "blank", "You must specify the [email] parameter.")
	}
	var res *VerifyEmailResult
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		row, err := s.userByEmail(ctx, tx, scope, address)
		if err != nil {
			return err
		}
		cfg, err := s.tenancy.TenantConfig(ctx, row.TenantID)
		if err != nil {
			return err
		}
		if !cfg.EmailConfiguration.VerifyEmail {
			return model.GeneralError("VerifyEmailDisabled", "The tenant does not verify email addresses (emailConfiguration.verifyEmail).")
		}
		if res, err = s.startVerification(ctx, tx, cfg, row, send); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Issued an email verification id for user " + kit.UserLabel(row),
			TargetID: row.ID, Data: map[string]any{"sendVerifyEmail": send}})
	})
	return res, err
}

// userByEmail finds the user with an address among the scope's tenants.
func (s *Service) userByEmail(ctx context.Context, tx *store.Tx, scope kit.TenantScope, address string) (*store.UserRow, error) {
	tenants := scope.Tenants
	if tenants == nil {
		rows, err := tx.ListTenants(ctx, nil)
		if err != nil {
			return nil, err
		}
		for _, t := range rows {
			tenants = append(tenants, t.ID)
		}
	}
	var found *store.UserRow
	for _, t := range tenants {
		row, err := tx.UserRowByEmail(ctx, t, address)
		if errors.Is(err, store.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if found != nil {
			return nil, model.GeneralError("TenantIdRequired", "More than one tenant has a user with this email: send X-FusionAuth-TenantId.")
		}
		found = row
	}
	if found == nil {
		return nil, model.NotFoundf("user with email %s", address)
	}
	return found, nil
}

// VerifyEmailRequest is FusionAuth's VerifyEmailRequest.
type VerifyEmailRequest struct {
	OneTimeCode    string `json:"oneTimeCode"`
	UserID         string `json:"userId"`
	VerificationID string `json:"verificationId"`
}

// VerifyEmail is POST /api/user/verify-email. With a verificationId (anyone
// holding it, no key) it is used once; under the tenant's FormField
// strategy the short oneTimeCode from the email must come with it. With a
// userId (keyScope non-nil: an API key) the user is marked verified.
// Unknown, used and expired ids are 404.
func (s *Service) VerifyEmail(ctx context.Context, actor kit.Actor, keyScope *kit.TenantScope, req VerifyEmailRequest) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		var row *store.UserRow
		var err error
		switch {
		case req.UserID != "" && keyScope != nil:
			if row, err = kit.LoadUser(ctx, tx, *keyScope, req.UserID); err != nil {
				return err
			}
		case req.UserID != "":
			return model.ErrUnauthorized
		case req.VerificationID == "":
			return model.FieldError("verificationId", "blank", "You must specify the [verificationId].")
		default:
			if row, err = s.useVerificationID(ctx, tx, req.VerificationID, req.OneTimeCode); err != nil {
				return err
			}
		}
		if row.Verified {
			return nil
		}
		row.Verified, row.LastUpdateInstant = true, s.now()
		if err := tx.UpdateUserRow(ctx, row); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Verified the email address of user " + kit.UserLabel(row), TargetID: row.ID,
			Events: []model.Event{kit.LazyUserEvent(ctx, tx, model.EventUserEmailVerified, s.identity.FullUserObject, row, nil)}})
	})
}

// useVerificationID uses a verificationId once and returns its user.
func (s *Service) useVerificationID(ctx context.Context, tx *store.Tx, id, oneTimeCode string) (*store.UserRow, error) {
	now := s.now()
	c, err := tx.OneTimeCodeByHash(ctx, identity.CodeHash(id), []string{CodeEmailVerification}, now)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("verification id unknown, used or expired")
	}
	if err != nil {
		return nil, err
	}
	data, err := kit.ParseObject(c.Data)
	if err != nil {
		return nil, err
	}
	cfg, err := s.tenancy.TenantConfig(ctx, c.TenantID)
	if err != nil {
		return nil, err
	}
	want, _ := data["oneTimeCode"].(string)
	formField := cfg.EmailConfiguration.VerificationStrategy == "FormField"
	if (formField || oneTimeCode != "") && subtle.ConstantTimeCompare([]byte(secrets.HashToken(oneTimeCode)), []byte(want)) != 1 {
		return nil, model.FieldError("oneTimeCode", "invalid", "The [oneTimeCode] is not the one sent with this verification id.")
	}
	if _, err := tx.ConsumeOneTimeCode(ctx, c.Hash, []string{CodeEmailVerification}, now); errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("verification id used")
	} else if err != nil {
		return nil, err
	}
	row, err := tx.UserRowByID(ctx, c.UserID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("user of a verification id")
	}
	if err != nil {
		return nil, err
	}
	// An id sent to an address the user has since changed verifies nothing.
	if addr, _ := data["email"].(string); !strings.EqualFold(addr, row.Email) {
		return nil, model.NotFoundf("verification id of a former address")
	}
	return row, nil
}

// Passwordless renders the passwordless login email of a code
// (authentication.PasswordlessMail) before the flow's transaction: the
// tenant's passwordlessEmailTemplateId with {{.code}}, {{.application}} and
// {{.state}}; what it returns queues it there.
func (s *Service) Passwordless(ctx context.Context, row *store.UserRow, code, applicationID string, state map[string]any) (identity.QueuedMail, error) {
	cfg, err := s.tenancy.TenantConfig(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	tplID := cfg.EmailConfiguration.PasswordlessEmailTemplateID
	if tplID == "" {
		return nil, model.GeneralError("PasswordlessTemplateMissing", "The tenant has no passwordless email template (emailConfiguration.passwordlessEmailTemplateId).")
	}
	data := map[string]any{"code": code, "state": state}
	if applicationID != "" {
		data["application"] = s.application(ctx, applicationID)
	}
	langs, err := templateData(cfg, row, data)
	if err != nil {
		return nil, err
	}
	msg, err := s.email.Build(ctx, tplID, langs, row.TenantID, model.EmailAddress{Address: row.Email, Display: row.FullName}, data)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *store.Tx, _ kit.Actor) error { return s.email.Enqueue(ctx, tx, msg) }, nil
}

// TwoFactorCode queues a two-factor code to an address
// (authentication.TwoFactorMail) with the default Two Factor Authentication
// template ({{.code}}).
func (s *Service) TwoFactorCode(ctx context.Context, tx *store.Tx, row *store.UserRow, address, code string) error {
	cfg, err := s.tenancy.TenantConfig(ctx, row.TenantID)
	if err != nil {
		return err
	}
	data := map[string]any{"code": code}
	langs, err := templateData(cfg, row, data)
	if err != nil {
		return err
	}
	return s.email.Queue(ctx, tx, email.DefaultTwoFactorTemplateID, langs, row.TenantID, model.EmailAddress{Address: address, Display: row.FullName}, data)
}

// VerificationTenant is the tenant of a live email or registration
// verificationId (its page's theme); ErrNotFound when there is none.
func (s *Service) VerificationTenant(ctx context.Context, id string) (string, error) {
	if id == "" || len(id) > identity.MaxGivenCodeLength {
		return "", model.NotFoundf("verification id")
	}
	c, err := s.store.Read().OneTimeCodeByHash(ctx, identity.CodeHash(id), []string{CodeEmailVerification, CodeRegistrationVerification}, s.now())
	if errors.Is(err, store.ErrNoRows) {
		return "", model.NotFoundf("verification id unknown, used or expired")
	}
	if err != nil {
		return "", err
	}
	return c.TenantID, nil
}
