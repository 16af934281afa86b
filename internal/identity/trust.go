package identity

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// CodeTrustToken is the kind of a trust token: proof, for a few minutes
// (the tenant's trustTokenTimeToLiveInSeconds), that a user just passed its
// second factor (FusionAuth's two-factor step-up). A change of password of a
// user with two-factor methods spends one, so that neither a password nor a
// reset link alone takes over an account the second factor protects.
const CodeTrustToken = "trustToken"

// TrustData is what a trust token holds: the challenge it was started with
// (the change of password must repeat it).
type TrustData struct {
	TrustChallenge string `json:"trustChallenge,omitempty"`
}

// ErrTrustTokenRequired is FusionAuth's answer to a change of password of a
// user with two-factor methods without a valid trust token.
var ErrTrustTokenRequired = model.GeneralError("TrustTokenRequired",
	"This request requires a Trust Token. Use the Start Two-Factor API to obtain a Trust Token required to complete this request.")

// TwoFactorOn reports whether a user has at least one two-factor method.
func TwoFactorOn(row *store.UserRow) (bool, error) {
	data, err := StoredUserData(row.Data)
	if err != nil {
		return false, fmt.Errorf("user %s data: %w", row.ID, err)
	}
	tf, err := model.TwoFactorOf(data)
	if err != nil {
		return false, fmt.Errorf("user %s twoFactor: %w", row.ID, err)
	}
	return len(tf.Methods) > 0, nil
}

// CheckTrust is GET /api/user/change-password's question for a user: nil
// when a change may proceed without a trust token, ErrTrustTokenRequired
// when the user has a second factor.
func CheckTrust(row *store.UserRow) error {
	on, err := TwoFactorOn(row)
	if err != nil {
		return err
	}
	if on {
		return ErrTrustTokenRequired
	}
	return nil
}

// trustGiven checks, without spending it, that a request carries a live
// trust token for row when the user needs one: refused before any password
// is hashed.
func trustGiven(ctx context.Context, rd *store.Tx, row *store.UserRow, req ChangePasswordRequest, now int64) error {
	on, err := TwoFactorOn(row)
	if err != nil || !on {
		return err
	}
	c, err := trustCode(ctx, rd, req, now, false)
	if err != nil {
		return err
	}
	return trustMatches(c, row, req)
}

// spendTrust spends the request's trust token in tx, when row's user needs
// one (spent reports it): a token works once, for its own user and challenge.
func spendTrust(ctx context.Context, tx *store.Tx, row *store.UserRow, req ChangePasswordRequest, now int64) (spent bool, err error) {
	on, err := TwoFactorOn(row)
	if err != nil || !on {
		return false, err
	}
	c, err := trustCode(ctx, tx, req, now, true)
	if err != nil {
		return false, err
	}
	return true, trustMatches(c, row, req)
}

// otpData is what the one-time password of a change holds: the
// change-password id's data, and whether the change spent a trust token, in
// which case a login with it needs no second factor again
// (OneTimePasswordPassedSecondFactor).
func otpData(base string, secondFactor bool) (string, error) {
	o := kit.Object{}
	if base != "" {
		if err := json.Unmarshal([]byte(base), &o); err != nil {
			return "", fmt.Errorf("change-password id data: %w", err)
		}
	}
	if secondFactor {
		o["secondFactor"] = true
	}
	return kit.EncodeObject(o)
}

// OneTimePasswordPassedSecondFactor reads a one-time password's data: did
// the change that made it spend a trust token (a second factor passed
// minutes ago)?
func OneTimePasswordPassedSecondFactor(data string) bool {
	var d struct {
		SecondFactor bool `json:"secondFactor"`
	}
	return json.Unmarshal([]byte(data), &d) == nil && d.SecondFactor
}

func trustCode(ctx context.Context, tx *store.Tx, req ChangePasswordRequest, now int64, spend bool) (*store.OneTimeCode, error) {
	if req.TrustToken == "" || len(req.TrustToken) > MaxGivenCodeLength {
		return nil, ErrTrustTokenRequired
	}
	var c *store.OneTimeCode
	var err error
	if spend {
		c, err = tx.ConsumeOneTimeCode(ctx, CodeHash(req.TrustToken), []string{CodeTrustToken}, now)
	} else {
		c, err = tx.OneTimeCodeByHash(ctx, CodeHash(req.TrustToken), []string{CodeTrustToken}, now)
	}
	if errors.Is(err, store.ErrNoRows) {
		return nil, ErrTrustTokenRequired
	}
	return c, err
}

func trustMatches(c *store.OneTimeCode, row *store.UserRow, req ChangePasswordRequest) error {
	var d TrustData
	if err := json.Unmarshal([]byte(c.Data), &d); err != nil {
		return fmt.Errorf("trust token data: %w", err)
	}
	if c.UserID != row.ID || subtle.ConstantTimeCompare([]byte(d.TrustChallenge), []byte(req.TrustChallenge)) != 1 {
		return ErrTrustTokenRequired
	}
	return nil
}

// RequestUser finds the active user a key call names by userId or loginId,
// in the tenant of its applicationId or the key's (FusionAuth's requests that
// take either). It answers the application's canonical id too ("" without).
func (s *Service) RequestUser(ctx context.Context, scope kit.TenantScope, applicationID, userID, loginID string) (*store.UserRow, string, error) {
	rd := s.store.Read()
	appID, appTenant, err := resolveApplication(ctx, rd, scope, applicationID)
	if err != nil {
		return nil, "", err
	}
	var row *store.UserRow
	if userID != "" {
		id, ok := kit.CanonicalID(userID)
		if !ok {
			return nil, "", model.FieldError("userId", "invalid", "[userId] must be a UUID.")
		}
		row, err = rd.UserRowByID(ctx, id)
		if errors.Is(err, store.ErrNoRows) || (err == nil && (!scope.CanSee(row.TenantID) || appTenant != "" && row.TenantID != appTenant)) {
			return nil, "", model.NotFoundf("user %s", id)
		}
	} else {
		var tenantID string
		if tenantID, err = s.RequestTenant(ctx, rd, scope, appTenant, "tenantId"); err != nil {
			return nil, "", err
		}
		row, err = lookupUser(ctx, rd, tenantID, LookupLoginID, loginID)
	}
	if err == nil && !row.Active {
		return nil, "", model.NotFoundf("user %s is deactivated", row.ID)
	}
	return row, appID, err
}

// CheckTrustOf is CheckTrust for the user with id userID (an access token's
// subject): ErrUnauthorized when no such active user is left.
func (s *Service) CheckTrustOf(ctx context.Context, userID string) error {
	row, err := s.store.Read().UserRowByID(ctx, userID)
	if errors.Is(err, store.ErrNoRows) || (err == nil && !row.Active) {
		return model.ErrUnauthorized
	}
	if err != nil {
		return err
	}
	return CheckTrust(row)
}
