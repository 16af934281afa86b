package authentication

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// Two-factor trust ("trust this computer"): a two-factor login with
// trustComputer earns a twoFactorTrustId; a later password login of the same
// user that presents it skips the second factor until the id expires (the
// tenant's twoFactorTrustIdTimeToLiveInSeconds). The id is a one-time-codes
// row (kind CodeTwoFactorTrust, stored hashed) that is read, not consumed.
//
// A trust holds only while what it vouched for holds: a change of password
// (an id issued before the password's last update is void) or of the
// two-factor methods (the user's ids are deleted) ends it.

// CodeTwoFactorTrust is the kind of a twoFactorTrustId.
const CodeTwoFactorTrust = "twoFactorTrust"

// defaultTwoFactorTrustTTL is FusionAuth's default lifetime (30 days).
const defaultTwoFactorTrustTTL = 2592000

// twoFactorTrustData is what a twoFactorTrustId row holds.
type twoFactorTrustData struct {
	ApplicationID string `json:"applicationId,omitempty"`
}

// issueTwoFactorTrust stores a new twoFactorTrustId of row in tx.
func (s *Service) issueTwoFactorTrust(ctx context.Context, tx *store.Tx, tenant *model.TenantConfig, row *store.UserRow, appID, id string, now int64) error {
	data, err := json.Marshal(twoFactorTrustData{ApplicationID: appID})
	if err != nil {
		return err
	}
	ttl := int64(tenant.ExternalIdentifierConfiguration.TwoFactorTrustIDTimeToLiveInSeconds)
	if ttl <= 0 {
		ttl = defaultTwoFactorTrustTTL
	}
	return tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: identity.CodeHash(id), Kind: CodeTwoFactorTrust, UserID: row.ID,
		TenantID: row.TenantID, Data: string(data), ExpiresInstant: now + ttl*1000, InsertInstant: now})
}

// twoFactorTrustOf reads the trust id of row through rd; nil when the id is
// unknown, expired, another user's, or older than the user's password.
func twoFactorTrustOf(ctx context.Context, rd *store.Tx, row *store.UserRow, id string, now int64) (*store.OneTimeCode, error) {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > identity.MaxGivenCodeLength || row == nil {
		return nil, nil
	}
	c, err := rd.OneTimeCodeByHash(ctx, identity.CodeHash(id), []string{CodeTwoFactorTrust}, now)
	if errors.Is(err, store.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.UserID != row.ID || c.InsertInstant <= row.PasswordLastUpdateInstant {
		return nil, nil
	}
	return c, nil
}

// endTwoFactorTrusts voids every twoFactorTrustId of a user (its two-factor
// methods changed).
func endTwoFactorTrusts(ctx context.Context, tx *store.Tx, userID string) error {
	return tx.DeleteUserCodes(ctx, userID, []string{CodeTwoFactorTrust})
}

// TwoFactorStatusRequest is FusionAuth's TwoFactorStatusRequest (the parts
// Latch reads; accessToken and action are accepted and ignored).
type TwoFactorStatusRequest struct {
	UserID           string `json:"userId"`
	ApplicationID    string `json:"applicationId"`
	TwoFactorTrustID string `json:"twoFactorTrustId"`
	AccessToken      string `json:"accessToken"`
	Action           string `json:"action"`
}

// TwoFactorStatusResponse is FusionAuth's TwoFactorStatusResponse.
type TwoFactorStatusResponse struct {
	Trusts           []TwoFactorTrust `json:"trusts,omitempty"`
	TwoFactorTrustID string           `json:"twoFactorTrustId,omitempty"`
}

// TwoFactorTrust is FusionAuth's TwoFactorTrust.
type TwoFactorTrust struct {
	ApplicationID string `json:"applicationId,omitempty"`
	Expiration    int64  `json:"expiration"`
	StartInstant  int64  `json:"startInstant"`
}

// TwoFactorStatus tells whether a password login of the user would have to
// pass a second factor: required is false when the user has no two-factor
// method, or when the given twoFactorTrustId is valid (the response then
// describes it). An applicationId, when given, must name an application the
// scope can see; a trust holds in every application of the tenant.
func (s *Service) TwoFactorStatus(ctx context.Context, scope kit.TenantScope, req TwoFactorStatusRequest) (*TwoFactorStatusResponse, bool, error) {
	verrs := &model.Errors{}
	userID, ok := kit.CanonicalID(strings.TrimSpace(req.UserID))
	if !ok {
		verrs.Field("userId", "invalid", "A valid userId is required.")
	}
	if app := strings.TrimSpace(req.ApplicationID); app != "" {
		if _, ok := kit.CanonicalID(app); !ok {
			verrs.Field("applicationId", "invalid", "The applicationId is not a valid id.")
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, false, err
	}
	var (
		row   *store.UserRow
		trust *store.OneTimeCode
	)
	err := s.store.ReadTx(ctx, func(rd *store.Tx) error {
		var err error
		if row, err = kit.LoadUser(ctx, rd, scope, userID); err != nil {
			return err
		}
		trust, err = twoFactorTrustOf(ctx, rd, row, req.TwoFactorTrustID, s.now())
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if app := strings.TrimSpace(req.ApplicationID); app != "" {
		cfg, err := s.tenancy.LoginApplicationConfig(ctx, app)
		if errors.Is(err, model.ErrNotFound) || (err == nil && cfg.TenantID != row.TenantID) {
			return nil, false, model.FieldError("applicationId", "invalid", "No application with this id in the user's tenant.")
		}
		if err != nil {
			return nil, false, err
		}
	}
	if trust == nil {
		return &TwoFactorStatusResponse{}, len(twoFactorMethodsOf(row)) > 0, nil
	}
	var d twoFactorTrustData
	_ = json.Unmarshal([]byte(trust.Data), &d) // written by issueTwoFactorTrust; an unreadable one names no application
	return &TwoFactorStatusResponse{
		Trusts:           []TwoFactorTrust{{ApplicationID: d.ApplicationID, StartInstant: trust.InsertInstant, Expiration: trust.ExpiresInstant}},
		TwoFactorTrustID: strings.TrimSpace(req.TwoFactorTrustID),
	}, false, nil
}

// newTwoFactorTrustID makes a twoFactorTrustId (256 bits).
func newTwoFactorTrustID() string { return secrets.Token(32) }
