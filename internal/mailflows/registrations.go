package mailflows

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
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

// Registration verification (FusionAuth's /api/user/verify-registration): a
// registration for an application with verifyRegistration starts
// unverified (login answers 213) until its verificationId is used.

// CodeRegistrationVerification is the one-time code kind of a registration
// verificationId; its data names the application.
const CodeRegistrationVerification = "registrationVerification"

// RegistrationCreated issues a new unverified registration's verificationId
// and queues its email (identity.Mail), when the user has an address.
func (s *Service) RegistrationCreated(ctx context.Context, tx *store.Tx, app *store.ApplicationRow, reg *store.RegistrationRow) error {
	row, err := tx.UserRowByID(ctx, reg.UserID)
	if err != nil {
		return err
	}
	if row.Email == "" {
		return nil
	}
	_, err = s.startRegistrationVerification(ctx, tx, row, app, true)
	return err
}

// appSettings reads the application's verification email template and
// strategy (members Latch keeps in the application's object).
func appSettings(app *store.ApplicationRow) (templateID string, formField bool) {
	o, err := kit.StoredObject(app.Data, tenancy.ApplicationFields)
	if err != nil {
		return "", false
	}
	templateID, _ = o["verificationEmailTemplateId"].(string)
	strategy, _ := o["verificationStrategy"].(string)
	return templateID, strategy == "FormField"
}

// startRegistrationVerification issues a verificationId and its short code
// for a user's registration with app, and queues the email when send. Ids of
// other applications stay valid; earlier ones of this application expire.
func (s *Service) startRegistrationVerification(ctx context.Context, tx *store.Tx, row *store.UserRow, app *store.ApplicationRow, send bool) (*VerifyEmailResult, error) {
	cfg, err := s.tenancy.TenantConfig(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	ei := cfg.ExternalIdentifierConfiguration
	res := &VerifyEmailResult{VerificationID: kit.GenerateCode(ei.RegistrationVerificationIDGenerator),
		OneTimeCode: kit.GenerateCode(ei.RegistrationVerificationOneTimeCodeGenerator)}
	now := s.now()
	data, err := kit.EncodeObject(kit.Object{"applicationId": app.ID, "oneTimeCode": secrets.HashToken(res.OneTimeCode)})
	if err != nil {
		return nil, err
	}
	if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(res.VerificationID), Kind: CodeRegistrationVerification,
		UserID: row.ID, TenantID: row.TenantID, Data: data, ExpiresInstant: now + int64(ei.RegistrationVerificationIDTimeToLiveInSeconds)*1000,
		InsertInstant: now}); err != nil {
		return nil, fmt.Errorf("store registration verification id: %w", err)
	}
	if !send {
		return res, nil
	}
	tplID, _ := appSettings(app)
	if tplID == "" {
		tplID = email.DefaultRegistrationVerificationTemplateID
	}
	return res, s.queue(ctx, tx, tplID, cfg, row, map[string]any{"verificationId": res.VerificationID,
		"verificationOneTimeCode": res.OneTimeCode, "application": map[string]any{"id": app.ID, "name": app.Name}})
}

// ResendRegistrationVerification is PUT /api/user/verify-registration?email=…&applicationId=…:
// a new verificationId for the user's registration with the application,
// emailed unless send is false.
func (s *Service) ResendRegistrationVerification(ctx context.Context, actor kit.Actor, scope kit.TenantScope, address, applicationID string, send bool) (*VerifyEmailResult, error) {
	address = strings.TrimSpace(address)
	verrs := &model.Errors{}
	if address == "" {
		verrs.Field("email", "blank", "You must specify the [email] parameter.")
	}
	if applicationID == "" {
		verrs.Field("applicationId", "blank", "You must specify the [applicationId] parameter.")
	}
	if !verrs.Empty() {
		return nil, verrs
	}
	var res *VerifyEmailResult
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		row, err := s.userByEmail(ctx, tx, scope, address)
		if err != nil {
			return err
		}
		reg, err := tx.RegistrationOf(ctx, row.ID, applicationID)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("registration of user %s with application %s", row.ID, applicationID)
		}
		if err != nil {
			return err
		}
		app, err := tx.ApplicationByID(ctx, applicationID)
		if err != nil {
			return err
		}
		if res, err = s.startRegistrationVerification(ctx, tx, row, app, send); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Issued a registration verification id for user %s and application %s",
			kit.UserLabel(row), app.ID), TargetID: reg.ID, Data: map[string]any{"sendVerifyPasswordEmail": send, "applicationId": app.ID}})
	})
	return res, err
}

// VerifyRegistrationRequest is FusionAuth's VerifyRegistrationRequest.
type VerifyRegistrationRequest struct {
	OneTimeCode    string `json:"oneTimeCode"`
	VerificationID string `json:"verificationId"`
}

// VerifyRegistration is POST /api/user/verify-registration: the id is used
// once (with the short code under the application's FormField strategy) and
// the registration marked verified, with user.registration.verified.
// Unknown, used and expired ids are 404.
func (s *Service) VerifyRegistration(ctx context.Context, actor kit.Actor, req VerifyRegistrationRequest) error {
	if req.VerificationID == "" {
		return model.FieldError("verificationId", "blank", "You must specify the [verificationId].")
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		c, err := tx.OneTimeCodeByHash(ctx, identity.CodeHash(req.VerificationID), []string{CodeRegistrationVerification}, now)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("registration verification id unknown, used or expired")
		}
		if err != nil {
			return err
		}
		data, err := kit.ParseObject(c.Data)
		if err != nil {
			return err
		}
		appID, _ := data["applicationId"].(string)
		app, err := tx.ApplicationByID(ctx, appID)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("application of a registration verification id")
		}
		if err != nil {
			return err
		}
		want, _ := data["oneTimeCode"].(string)
		if _, formField := appSettings(app); (formField || req.OneTimeCode != "") &&
			subtle.ConstantTimeCompare([]byte(secrets.HashToken(req.OneTimeCode)), []byte(want)) != 1 {
			return model.FieldError("oneTimeCode", "invalid", "The [oneTimeCode] is not the one sent with this verification id.")
		}
		if _, err := tx.ConsumeOneTimeCode(ctx, c.Hash, []string{CodeRegistrationVerification}, now); errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("registration verification id used")
		} else if err != nil {
			return err
		}
		reg, err := tx.RegistrationOf(ctx, c.UserID, appID)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("registration of a verification id")
		}
		if err != nil {
			return err
		}
		if reg.Verified {
			return nil
		}
		if err := tx.MarkRegistrationVerified(ctx, reg.ID, now); err != nil {
			return err
		}
		reg.Verified, reg.VerifiedInstant, reg.LastUpdateInstant = true, &now, now
		obj, err := identity.RegistrationObject(reg)
		if err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Verified the registration of user %s with application %s", reg.UserID, appID),
			TargetID: reg.ID, Data: map[string]any{"userId": reg.UserID, "applicationId": appID},
			Events: []model.Event{{Type: model.EventUserRegistrationVerified, TenantID: c.TenantID, UserID: reg.UserID, Build: func() (map[string]any, error) {
				row, err := tx.UserRowByID(ctx, reg.UserID)
				if err != nil {
					return nil, err
				}
				user, err := s.identity.FullUserObject(ctx, tx, row)
				return map[string]any{"user": user, "applicationId": appID, "registration": obj}, err
			}}}})
	})
}
