package authentication

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
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
	Code        string       `json:"code"`
	Methods     []kit.Object `json:"methods"`
	TwoFactorID string       `json:"twoFactorId"`
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
			TargetID: row.ID, Data: map[string]any{"applicationId": appID, "trustChallenge": req.TrustChallenge != ""}})
	})
	if err != nil {
		return nil, err
	}
	methods := twoFactorMethodsOf(row)
	if methods == nil {
		methods = []kit.Object{}
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
