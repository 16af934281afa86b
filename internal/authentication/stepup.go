package authentication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/throttle"
)

// TwoFactorStartRequest is FusionAuth's TwoFactorStartRequest.
type TwoFactorStartRequest struct {
	ApplicationID  string         `json:"applicationId"`
	Code           string         `json:"code"`
	LoginID        string         `json:"loginId"`
	LoginIDTypes   []string       `json:"loginIdTypes"`
	State          map[string]any `json:"state"`
	TrustChallenge string         `json:"trustChallenge"`
	UserID         string         `json:"userId"`
}

// TwoFactorStartResponse is FusionAuth's TwoFactorStartResponse.
type TwoFactorStartResponse struct {
	Code        string                  `json:"code"`
	Methods     []model.TwoFactorMethod `json:"methods"`
	TwoFactorID string                  `json:"twoFactorId"`
}

const (
	maxTrustChallenge     = 255
	defaultTrustTokenTTLs = 180 // FusionAuth's trustTokenTimeToLiveInSeconds
)

// StartTwoFactor is FusionAuth's POST /api/two-factor/start (a key call): a
// two-factor login begun outside the Login API, for a step-up. Its
// twoFactorId is finished by the two-factor login API with a code of one of
// the user's methods or with the code answered here (for the caller to send
// out of band); that login's answer carries a trust token bound to
// trustChallenge, which a change of password of such a user needs.
func (s *Service) StartTwoFactor(ctx context.Context, actor kit.Actor, scope kit.TenantScope, req TwoFactorStartRequest) (*TwoFactorStartResponse, error) {
	verrs := &model.Errors{}
	if strings.TrimSpace(req.UserID) == "" && strings.TrimSpace(req.LoginID) == "" {
		verrs.Field("loginId", "blank", "A loginId or a userId is required.")
	}
	code := strings.TrimSpace(req.Code)
	if len(code) > maxTwoFactorCode || strings.IndexFunc(code, unicode.IsControl) >= 0 {
		verrs.Field("code", "invalid", fmt.Sprintf("[code] must be at most %d printable characters.", maxTwoFactorCode))
	}
	if len(req.TrustChallenge) > maxTrustChallenge {
		verrs.Field("trustChallenge", "tooLong", fmt.Sprintf("[trustChallenge] must be at most %d characters.", maxTrustChallenge))
	}
	if req.State != nil {
		if b, err := json.Marshal(req.State); err != nil || len(b) > maxMetaDataBytes {
			verrs.Field("state", "tooLarge", fmt.Sprintf("[state] must encode in at most %d bytes.", maxMetaDataBytes))
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	row, appID, err := s.identity.RequestUser(ctx, scope, req.ApplicationID, strings.TrimSpace(req.UserID), req.LoginID)
	if err != nil {
		return nil, err
	}
	cfg, err := s.tenancy.LoginTenantConfig(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	if code == "" {
		// FusionAuth's twoFactorOneTimeCodeIdGenerator (six digits by default).
		code = identity.GenerateCode(cfg.ExternalIdentifierConfiguration.TwoFactorOneTimeCodeIDGenerator)
	}
	id := secrets.Token(32)
	data, err := json.Marshal(twoFactorPending{ApplicationID: appID, LoginID: firstNonBlank(req.LoginID, row.Email, row.Username),
		TrustChallenge: req.TrustChallenge, StartCodeHash: identity.CodeHash(code), State: req.State})
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		ttl := int64(cfg.ExternalIdentifierConfiguration.TwoFactorIDTimeToLiveInSeconds) * 1000
		if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(id), Kind: CodeTwoFactorLogin, UserID: row.ID,
			TenantID: row.TenantID, Data: string(data), ExpiresInstant: now + ttl, InsertInstant: now}); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Started a two-factor step-up of user " + kit.UserLabel(row),
			TargetID: row.ID, Data: map[string]any{"applicationId": appID, "trustChallenge": req.TrustChallenge != ""},
			Events: []model.Event{kit.LazyUserEvent(ctx, tx, model.EventUserTwoFactorChallenge, s.identity.FullUserObject, row, withApplication(appID))}})
	})
	if err != nil {
		return nil, err
	}
	methods := twoFactorMethodsOf(row)
	if methods == nil {
		methods = []model.TwoFactorMethod{}
	}
	return &TwoFactorStartResponse{Code: code, Methods: methods, TwoFactorID: id}, nil
}

// issueTrust stores a trust token for row: the proof, for the tenant's
// trustTokenTimeToLiveInSeconds, that the user passed its second factor.
func (s *Service) issueTrust(ctx context.Context, tx *store.Tx, tenant *model.TenantConfig, row *store.UserRow, token, challenge string) error {
	data, err := json.Marshal(identity.TrustData{TrustChallenge: challenge})
	if err != nil {
		return err
	}
	ttl := int64(tenant.ExternalIdentifierConfiguration.TrustTokenTimeToLiveInSeconds)
	if ttl <= 0 {
		ttl = defaultTrustTokenTTLs
	}
	now := s.now()
	return tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(token), Kind: identity.CodeTrustToken, UserID: row.ID,
		TenantID: row.TenantID, Data: string(data), ExpiresInstant: now + ttl*1000, InsertInstant: now})
}

// StepUpWithCode is the hosted pages' step-up: a current code of one of the
// user's authenticator methods, or a recovery code, earns a trust token (no
// trust challenge) for a change of password. A wrong code counts as a failed
// login (ErrTwoFactorCodeInvalid); a locked user is refused unchecked.
func (s *Service) StepUpWithCode(ctx context.Context, actor kit.Actor, userID, code string) (string, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return "", ErrTwoFactorCodeInvalid
	}
	row, err := s.store.Read().UserRowByID(ctx, userID)
	if errors.Is(err, store.ErrNoRows) {
		return "", model.NotFoundf("user %s", userID)
	}
	if err != nil {
		return "", err
	}
	cfg, err := s.tenancy.LoginTenantConfig(ctx, row.TenantID)
	if err != nil {
		return "", err
	}
	if err := s.throttle.Allow(ctx, throttle.ForActor(actor, row.TenantID)); err != nil {
		return "", err
	}
	if until, err := s.store.Read().LockedUntil(ctx, row.ID, s.now()); err != nil {
		return "", err
	} else if until != 0 {
		return "", lockout.Error(until)
	}
	u, err := s.openTwoFactor(row)
	if err != nil {
		return "", err
	}
	trust := secrets.Token(32)
	verified := false
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		method, err := s.secondFactorCode(ctx, tx, row, u, "", code, "change the password", now)
		if err != nil {
			return err
		}
		verified = method != ""
		if !verified && u.emailAddress() != "" { // a code SendStepUpCode mailed
			if verified, err = consumeEmailCode(ctx, tx, stepUpKey(row.ID), code, now); err != nil || !verified {
				return err
			}
		}
		if !verified {
			return nil
		}
		return s.issueTrust(ctx, tx, cfg, row, trust, "")
	})
	if err != nil {
		return "", err
	}
	if !verified {
		if res, err := s.countFailure(ctx, cfg, row.ID); res != nil && res.Response != nil && len(res.Response.Actions) > 0 {
			return "", lockout.Error(res.Response.Actions[0].Expiry) // this failure locked the user
		} else if err != nil && !errors.Is(err, model.ErrNotFound) {
			return "", err
		}
		return "", ErrTwoFactorCodeInvalid
	}
	return trust, nil
}

// stepUpKey binds a mailed step-up code to its user.
func stepUpKey(userID string) string { return "stepup:" + userID }

// emailAddress is the address of the user's first email method ("" when
// it has none).
func (u *userTwoFactor) emailAddress() string {
	for _, m := range u.methods {
		if m.Method == "email" && m.Email != "" {
			return m.Email
		}
	}
	return ""
}

// StepUpByEmail reports whether the user has an email two-factor method,
// whose code SendStepUpCode can mail.
func (s *Service) StepUpByEmail(ctx context.Context, userID string) (bool, error) {
	row, err := s.store.Read().UserRowByID(ctx, userID)
	if errors.Is(err, store.ErrNoRows) {
		return false, model.NotFoundf("user %s", userID)
	}
	if err != nil {
		return false, err
	}
	u, err := s.openTwoFactor(row)
	if err != nil {
		return false, err
	}
	return u.emailAddress() != "", nil
}

// SendStepUpCode mails a code to the user's email two-factor method, which
// StepUpWithCode takes: the hosted reset page's "email me a code", for a
// user who has no authenticator at hand. Rate limited like the code's
// check; a user without an email method is a 400.
func (s *Service) SendStepUpCode(ctx context.Context, actor kit.Actor, userID string) error {
	if s.twoFactorMail == nil {
		return fmt.Errorf("two-factor email: not wired")
	}
	row, err := s.store.Read().UserRowByID(ctx, userID)
	if errors.Is(err, store.ErrNoRows) {
		return model.NotFoundf("user %s", userID)
	}
	if err != nil {
		return err
	}
	if err := s.throttle.Allow(ctx, throttle.ForActor(actor, row.TenantID)); err != nil {
		return err
	}
	u, err := s.openTwoFactor(row)
	if err != nil {
		return err
	}
	address := u.emailAddress()
	if address == "" {
		return model.FieldError("method", "invalid", "The user has no email two-factor method.")
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.mailCode(ctx, tx, actor, row, stepUpKey(row.ID), address, map[string]any{"stepUp": true})
	})
}
