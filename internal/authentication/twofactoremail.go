package authentication

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Two-factor by email: POST /api/two-factor/send mails a short code (the
// tenant's twoFactorOneTimeCodeIdGenerator, valid for its
// twoFactorOneTimeCodeIdTimeToLiveInSeconds). A code is bound to what it
// proves, hashed with it: a twoFactorId (a login waiting for its second
// factor) or a user and address (enrolment), so that short codes of
// different logins never meet, and works once.

// CodeTwoFactorEmail is the one-time code kind of a mailed two-factor code.
const CodeTwoFactorEmail = "twoFactorEmailCode"

// TwoFactorMail mails a two-factor code (internal/mailflows).
type TwoFactorMail interface {
	TwoFactorCode(ctx context.Context, tx *store.Tx, row *store.UserRow, address, code string) error
}

// UseTwoFactorMail sets what mails two-factor codes; call it while wiring.
func (s *Service) UseTwoFactorMail(m TwoFactorMail) { s.twoFactorMail = m }

// errNotMailed rolls back a code whose email could not be built.
var errNotMailed = errors.New("two-factor code not mailed")

// enrolKey binds an enrolment code to the user and the address it went to.
func enrolKey(userID, address string) string {
	return "enrol:" + userID + ":" + strings.ToLower(strings.TrimSpace(address))
}

// methodKey binds a code to one email method of a user (disable).
func methodKey(userID, methodID string) string { return "method:" + userID + ":" + methodID }

// emailMethodCode uses a code mailed for the user's email method id; false
// when id is no email method or the code is not one.
func (u *userTwoFactor) emailMethodCode(ctx context.Context, tx *store.Tx, userID, id, code string, now int64) (bool, error) {
	for _, m := range u.methods {
		if m.ID == id && m.Method == "email" {
			return consumeEmailCode(ctx, tx, methodKey(userID, id), code, now)
		}
	}
	return false, nil
}

func emailCodeHash(key, code string) string { return identity.CodeHash(key + "\x00" + code) }

// consumeEmailCode uses the mailed code bound to key, once; false when it is
// not one (wrong, used or expired).
func consumeEmailCode(ctx context.Context, tx *store.Tx, key, code string, now int64) (bool, error) {
	if code == "" || len(code) > maxTwoFactorCode {
		return false, nil
	}
	_, err := tx.ConsumeOneTimeCode(ctx, emailCodeHash(key, code), []string{CodeTwoFactorEmail}, now)
	if errors.Is(err, store.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// TwoFactorSendRequest is FusionAuth's TwoFactorSendRequest.
type TwoFactorSendRequest struct {
	Email       string `json:"email"`
	Method      string `json:"method"`
	MethodID    string `json:"methodId"`
	MobilePhone string `json:"mobilePhone"`
	UserID      string `json:"userId"`
}

// SendTwoFactorCode is POST /api/two-factor/send[/{twoFactorId}]. With a
// twoFactorId (anonymous: holding it is the authority) it mails a code to
// the login's email method methodId. Without one (keyScope: an API key) it
// mails a code for userId's email method methodId (to disable it), or an
// enrolment code for userId to email (method email).
func (s *Service) SendTwoFactorCode(ctx context.Context, actor kit.Actor, keyScope *kit.TenantScope, twoFactorID string, req TwoFactorSendRequest) error {
	if s.twoFactorMail == nil {
		return fmt.Errorf("two-factor email: not wired")
	}
	if req.Method == "sms" || (req.MobilePhone != "" && req.Email == "") {
		return model.FieldError("method", "invalid", "Latch sends no text messages: two-factor codes go by email only.")
	}
	var notBuilt *model.MailNotBuilt
	var userID string
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		var row *store.UserRow
		var key, address string
		switch {
		case twoFactorID != "":
			if len(twoFactorID) > identity.MaxGivenCodeLength {
				return model.NotFoundf("twoFactorId too long")
			}
			pending, err := tx.OneTimeCodeByHash(ctx, identity.CodeHash(twoFactorID), []string{CodeTwoFactorLogin}, now)
			if errors.Is(err, store.ErrNoRows) {
				return model.NotFoundf("twoFactorId unknown, used or expired")
			}
			if err != nil {
				return err
			}
			if row, err = tx.UserRowByID(ctx, pending.UserID); err != nil {
				return err
			}
			u, err := s.openTwoFactor(row)
			if err != nil {
				return err
			}
			for _, m := range u.methods {
				if m.Method == "email" && (req.MethodID == "" || m.ID == req.MethodID) {
					address = m.Email
					break
				}
			}
			if address == "" {
				return model.FieldError("methodId", "invalid", "The user has no email method with this [methodId].")
			}
			key = twoFactorID
		case keyScope == nil:
			return model.ErrUnauthorized
		case req.MethodID != "":
			var err error
			if row, err = kit.LoadUser(ctx, tx, *keyScope, req.UserID); err != nil {
				return err
			}
			u, err := s.openTwoFactor(row)
			if err != nil {
				return err
			}
			for _, m := range u.methods {
				if m.Method == "email" && m.ID == req.MethodID {
					address = m.Email
				}
			}
			if address == "" {
				return model.FieldError("methodId", "invalid", "The user has no email method with this [methodId].")
			}
			key = methodKey(row.ID, req.MethodID)
		default:
			verrs := &model.Errors{}
			if req.UserID == "" {
				verrs.Field("userId", "blank", "You must specify the [userId].")
			}
			if address = strings.TrimSpace(req.Email); address == "" || !strings.Contains(address, "@") {
				verrs.Field("email", "invalid", "You must specify the [email] to send the code to.")
			}
			if !verrs.Empty() {
				return verrs
			}
			var err error
			if row, err = kit.LoadUser(ctx, tx, *keyScope, req.UserID); err != nil {
				return err
			}
			key = enrolKey(row.ID, address)
		}
		err := s.mailCode(ctx, tx, actor, row, key, address, map[string]any{"login": twoFactorID != ""})
		if errors.As(err, &notBuilt) && twoFactorID != "" {
			userID = row.ID
			return errNotMailed
		}
		return err
	})
	if errors.Is(err, errNotMailed) {
		// The holder of a twoFactorId is anonymous: the template's fault
		// is the operator's to read (log, event log), and answered as sent.
		s.audit.MailNotBuilt(ctx, "two-factor code", userID, notBuilt)
		return nil
	}
	return err
}

// mailCode stores a new code bound to key and mails it to address, with
// its audit entry (data), in tx.
func (s *Service) mailCode(ctx context.Context, tx *store.Tx, actor kit.Actor, row *store.UserRow, key, address string, data map[string]any) error {
	cfg, err := s.tenancy.LoginTenantConfig(ctx, row.TenantID)
	if err != nil {
		return err
	}
	now := s.now()
	ei := cfg.ExternalIdentifierConfiguration
	code := kit.GenerateCode(ei.TwoFactorOneTimeCodeIDGenerator)
	for tries := 0; ; tries++ { // a short code may repeat an unused one for the same key
		err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: emailCodeHash(key, code), Kind: CodeTwoFactorEmail, UserID: row.ID,
			TenantID: row.TenantID, ExpiresInstant: now + int64(ei.TwoFactorOneTimeCodeIDTimeToLiveInSeconds)*1000, InsertInstant: now})
		if err == nil {
			break
		}
		if !store.IsUnique(err) || tries > 5 {
			return fmt.Errorf("store two-factor code: %w", err)
		}
		code = kit.GenerateCode(ei.TwoFactorOneTimeCodeIDGenerator)
	}
	if err := s.twoFactorMail.TwoFactorCode(ctx, tx, row, address, code); err != nil {
		return err
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Queued a two-factor code email for user " + kit.UserLabel(row),
		TargetID: row.ID, Data: data})
}
