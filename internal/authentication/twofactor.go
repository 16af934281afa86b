package authentication

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// Two-factor authentication with an authenticator app (TOTP, RFC 6238), as
// FusionAuth's two-factor APIs do it:
//   - GET /api/two-factor/secret: a fresh secret. FusionAuth's "secret" is a
//     string whose bytes are the TOTP key; secretBase32Encoded is those bytes
//     in base32, for authenticator apps.
//   - POST /api/user/two-factor/{userId}: enable a method; the code must verify
//     against the secret. The first method enabled brings 10 recovery codes,
//     shown once; only their SHA-256 (with the user id) is stored, as one-time
//     codes. The method's secret is sealed with the user's other secrets.
//   - DELETE /api/user/two-factor/{userId}: disable a method with a code of
//     the user's authenticator or a recovery code (a recovery code disables
//     every method, as FusionAuth does: it is the way out for a user who lost
//     the device). The last method gone, the recovery codes go too.
//   - POST /api/two-factor/login: complete a login that answered 242. The
//     twoFactorId (a one-time code, stored hashed) works until a login
//     succeeds with it, its tenant's twoFactorIdTimeToLiveInSeconds pass, or
//     maxTwoFactorAttempts wrong codes were tried with it. A wrong code is
//     421 and counts as a failed login (the same counter and lockout as
//     passwords), which only a completed login clears: a new password step
//     does not (login.go). A TOTP code is accepted once: its use is claimed
//     as a one-time code that lives as long as the code could still
//     verify, so a replay on any node fails. A recovery code works once.
//
// The email method (twofactoremail.go): a code mailed by POST
// /api/two-factor/send proves the address at enrolment and the user at
// login. SMS is refused: Latch sends no text messages.

// Kinds of one-time codes of two-factor authentication.
const (
	CodeTwoFactorRecovery = "twoFactorRecoveryCode"
	CodeTwoFactorUsed     = "twoFactorCodeUsed" // a TOTP code that verified, claimed against replay
)

const (
	recoveryCodeCount    = 10
	recoveryCodeLength   = 10 // characters, shown as two groups of five
	maxTwoFactorAttempts = 5  // wrong codes per twoFactorId
	maxTwoFactorCode     = 64 // longer codes are not tried
	// neverExpires is the expiry of recovery codes: they last until used or
	// replaced.
	neverExpires int64 = 1 << 62
)

// ErrTwoFactorCodeInvalid is a wrong two-factor code: FusionAuth's 421 with
// an empty body.
var ErrTwoFactorCodeInvalid = errors.New("two-factor code invalid")

// TwoFactorSecret is FusionAuth's SecretResponse.
type TwoFactorSecret struct {
	Secret              string `json:"secret"`
	SecretBase32Encoded string `json:"secretBase32Encoded"`
}

// MinTwoFactorSecretBytes is the shortest authenticator key accepted.
const MinTwoFactorSecretBytes = identity.MinTwoFactorSecretBytes

// GenerateTwoFactorSecret makes a fresh authenticator secret: 21 random
// bytes (168 bits) in base64 (28 characters; FusionAuth's are 20 with 120
// bits), whose text is the key.
func GenerateTwoFactorSecret() TwoFactorSecret {
	b := make([]byte, 21)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	secret := base64.StdEncoding.EncodeToString(b)
	return TwoFactorSecret{Secret: secret, SecretBase32Encoded: base32.StdEncoding.EncodeToString([]byte(secret))}
}

// TwoFactorRequest is FusionAuth's TwoFactorRequest (enable a method).
type TwoFactorRequest struct {
	ApplicationID       string `json:"applicationId"`
	AuthenticatorID     string `json:"authenticatorId"`
	Code                string `json:"code"`
	Email               string `json:"email"`
	Method              string `json:"method"`
	MobilePhone         string `json:"mobilePhone"`
	Name                string `json:"name"`
	Secret              string `json:"secret"`
	SecretBase32Encoded string `json:"secretBase32Encoded"`
	TwoFactorID         string `json:"twoFactorId"`
	// CurrentPassword or CurrentCode (a code of a method the user already
	// has) prove a recent authentication: a user adding a method with only
	// an access token needs one once a method exists (Latch extensions).
	CurrentPassword string `json:"currentPassword,omitempty"`
	CurrentCode     string `json:"currentCode,omitempty"`
}

// TwoFactorResponse is FusionAuth's TwoFactorResponse.
type TwoFactorResponse struct {
	Code          string   `json:"code,omitempty"`
	RecoveryCodes []string `json:"recoveryCodes,omitempty"`
}

// TwoFactorDisableRequest is FusionAuth's TwoFactorDisableRequest.
type TwoFactorDisableRequest struct {
	ApplicationID string `json:"applicationId"`
	Code          string `json:"code"`
	MethodID      string `json:"methodId"`
}

// TwoFactorLoginRequest is FusionAuth's TwoFactorLoginRequest.
type TwoFactorLoginRequest struct {
	ApplicationID string         `json:"applicationId"`
	Code          string         `json:"code"`
	TrustComputer bool           `json:"trustComputer"`
	TwoFactorID   string         `json:"twoFactorId"`
	UserID        string         `json:"userId"`
	IPAddress     string         `json:"ipAddress"`
	NoJWT         *bool          `json:"noJWT"`
	MetaData      map[string]any `json:"metaData"`
	EventInfo     struct {
		IPAddress string `json:"ipAddress"`
	} `json:"eventInfo"`
}

// TOTP.

// totpParams are an authenticator method's algorithm, code length and time
// step (FusionAuth's AuthenticatorConfiguration).
type totpParams struct {
	hash   func() hash.Hash
	digits int
	step   int64 // seconds
}

var defaultTOTP = totpParams{hash: sha1.New, digits: 6, step: 30}

// totpParamsOf reads a method's authenticator configuration; anything absent
// or unusable is the default.
func totpParamsOf(m *model.TwoFactorMethod) totpParams {
	p := defaultTOTP
	cfg := m.Authenticator
	if cfg == nil {
		return p
	}
	switch cfg.Algorithm {
	case "HmacSHA256":
		p.hash = sha256.New
	case "HmacSHA512":
		p.hash = sha512.New
	}
	if n := cfg.CodeLength; n >= 6 && n <= 8 {
		p.digits = n
	}
	if n := cfg.TimeStep; n >= 1 && n <= 300 {
		p.step = int64(n)
	}
	return p
}

// totpCode is the code of a key at a counter (RFC 4226 truncation).
func totpCode(key []byte, counter int64, p totpParams) string {
	mac := hmac.New(p.hash, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range p.digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", p.digits, v%mod)
}

// totpMatch finds the counter within one step of now (epoch ms) whose code
// is the given one.
func totpMatch(key []byte, code string, now int64, p totpParams) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != p.digits || len(key) == 0 {
		return 0, false
	}
	cur := now / 1000 / p.step
	for _, c := range []int64{cur, cur - 1, cur + 1} {
		if subtle.ConstantTimeCompare([]byte(totpCode(key, c, p)), []byte(code)) == 1 {
			return c, true
		}
	}
	return 0, false
}

// totpKey is the key of a sealed secret.
func totpKey(secret string) []byte { return identity.TwoFactorKey(secret) }

// Recovery codes.

// recoveryCodeHash is how a recovery code is stored: with its user, so that
// a code names one user's row only.
func recoveryCodeHash(userID, code string) string {
	return identity.CodeHash("recovery\x00" + userID + "\x00" + normalizeRecoveryCode(code))
}

func normalizeRecoveryCode(code string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

// newRecoveryCodes makes a user's recovery codes (XXXXX-XXXXX, 50 bits each).
func newRecoveryCodes() []string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	out := make([]string, recoveryCodeCount)
	b := make([]byte, recoveryCodeLength)
	for i := range out {
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		c := make([]byte, 0, recoveryCodeLength+1)
		for j, x := range b {
			if j == recoveryCodeLength/2 {
				c = append(c, '-')
			}
			c = append(c, alphabet[int(x)%len(alphabet)])
		}
		out[i] = string(c)
	}
	return out
}

// storeRecoveryCodes replaces a user's recovery codes with new ones and
// returns them.
func storeRecoveryCodes(ctx context.Context, tx *store.Tx, row *store.UserRow, now int64) ([]string, error) {
	if err := tx.DeleteUserCodes(ctx, row.ID, []string{CodeTwoFactorRecovery}); err != nil {
		return nil, err
	}
	codes := newRecoveryCodes()
	for _, c := range codes {
		if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: recoveryCodeHash(row.ID, c), Kind: CodeTwoFactorRecovery,
			UserID: row.ID, TenantID: row.TenantID, ExpiresInstant: neverExpires, InsertInstant: now}); err != nil {
			return nil, fmt.Errorf("store recovery code: %w", err)
		}
	}
	return codes, nil
}

// The user's methods.

// userTwoFactor is a user's two-factor methods, decoded once from the
// stored document (kept to be written back with the methods changed), and
// the user's secrets, open.
type userTwoFactor struct {
	data    kit.Object // the stored document, as persisted
	methods []model.TwoFactorMethod
	rest    model.UserTwoFactor // what the twoFactor member holds besides the methods
	secrets map[string]string
}

// storedTwoFactor reads a user's stored document and its twoFactor member.
func storedTwoFactor(row *store.UserRow) (kit.Object, model.UserTwoFactor, error) {
	data, err := identity.StoredUserData(row.Data)
	if err != nil {
		return nil, model.UserTwoFactor{}, fmt.Errorf("user %s data: %w", row.ID, err)
	}
	tf, err := model.TwoFactorOf(data)
	if err != nil {
		return nil, model.UserTwoFactor{}, fmt.Errorf("user %s twoFactor: %w", row.ID, err)
	}
	return data, tf, nil
}

func (s *Service) openTwoFactor(row *store.UserRow) (*userTwoFactor, error) {
	data, tf, err := storedTwoFactor(row)
	if err != nil {
		return nil, err
	}
	sec, err := kit.OpenSecrets(s.master, row.SecretsSealed, identity.UserSecretAD(row.ID))
	if err != nil {
		return nil, err
	}
	u := &userTwoFactor{data: data, methods: tf.Methods, rest: tf, secrets: sec}
	u.rest.Methods = nil
	return u, nil
}

// document is the stored document with the methods as they now are.
func (u *userTwoFactor) document() (string, error) {
	tf := u.rest
	tf.Methods = u.methods
	t, err := tf.Tree()
	if err != nil {
		return "", err
	}
	// The methods are written as a list of the methods read, whatever the
	// member held before (null, absent, or a list with more than objects).
	listed, err := (&model.UserTwoFactor{Methods: u.methods}).Tree()
	if err != nil {
		return "", err
	}
	t["methods"] = listed["methods"]
	u.data["twoFactor"] = t
	return kit.EncodeObject(u.data)
}

func (u *userTwoFactor) n() int    { return len(u.methods) }
func (u *userTwoFactor) has() bool { return len(u.methods) > 0 }

// totpFor checks a code against the user's authenticator methods (only the
// one named, when methodID is not ""): the method and counter it matched.
func (u *userTwoFactor) totpFor(code, onlyMethod string, now int64) (string, int64, bool) {
	if len(code) > maxTwoFactorCode {
		return "", 0, false
	}
	for i := range u.methods {
		m := &u.methods[i]
		id := m.ID
		if m.Method != "authenticator" || (onlyMethod != "" && id != onlyMethod) {
			continue
		}
		secret := u.secrets[identity.TwoFactorSecretKey(id)]
		if secret == "" {
			continue
		}
		if c, ok := totpMatch(totpKey(secret), code, now, totpParamsOf(m)); ok {
			return id, c, true
		}
	}
	return "", 0, false
}

// encode writes the methods back into the object and seals the secrets.
func (s *Service) encodeTwoFactor(row *store.UserRow, u *userTwoFactor) (data, sealed string, err error) {
	if data, err = u.document(); err != nil {
		return "", "", err
	}
	sealed, err = kit.SealSecrets(s.master, u.secrets, identity.UserSecretAD(row.ID))
	return data, sealed, err
}

// claimTOTP records the use of a TOTP code so that it is not accepted again
// while it could still verify; false when it was used already.
func claimTOTP(ctx context.Context, tx *store.Tx, row *store.UserRow, method string, counter int64, p totpParams, now int64) (bool, error) {
	if err := tx.DeleteExpiredUserCodes(ctx, row.ID, CodeTwoFactorUsed, now); err != nil {
		return false, err
	}
	return tx.ClaimOneTimeCode(ctx, &store.OneTimeCode{
		Hash: identity.CodeHash("totp\x00" + row.ID + "\x00" + method + "\x00" + strconv.FormatInt(counter, 10)),
		Kind: CodeTwoFactorUsed, UserID: row.ID, TenantID: row.TenantID,
		ExpiresInstant: (counter + 2) * p.step * 1000, InsertInstant: now})
}

// methodParams is the TOTP settings of a user's method by id.
func (u *userTwoFactor) methodParams(id string) totpParams {
	for i := range u.methods {
		if u.methods[i].ID == id {
			return totpParamsOf(&u.methods[i])
		}
	}
	return defaultTOTP
}

// changeTwoFactor runs fn on a user's two-factor state inside a transaction
// and stores the result only if the user did not change meanwhile (retrying
// when it did). fn returns whether to store.
func (s *Service) changeTwoFactor(ctx context.Context, scope kit.TenantScope, userID string,
	fn func(tx *store.Tx, row *store.UserRow, u *userTwoFactor, now int64) (bool, error)) error {
	for attempt := 0; ; attempt++ {
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			row, err := kit.LoadUser(ctx, tx, scope, userID)
			if err != nil {
				return err
			}
			u, err := s.openTwoFactor(row)
			if err != nil {
				return err
			}
			now := s.now()
			write, err := fn(tx, row, u, now)
			if err != nil || !write {
				return err
			}
			// Methods changed: what a trust vouched for is gone.
			if err := endTwoFactorTrusts(ctx, tx, row.ID); err != nil {
				return err
			}
			data, sealed, err := s.encodeTwoFactor(row, u)
			if err != nil {
				return err
			}
			ok, err := tx.UpdateUserTwoFactor(ctx, row.ID, row.Data, row.SecretsSealed, data, sealed, now)
			if err != nil {
				return err
			}
			if !ok {
				return identity.ErrUserChanged
			}
			return nil
		})
		if !errors.Is(err, identity.ErrUserChanged) {
			return err
		}
		if attempt+1 >= identity.ChangeAttempts {
			return fmt.Errorf("%w: user %s changed during the update %d times", model.ErrConflict, userID, identity.ChangeAttempts)
		}
	}
}

// EnableTwoFactor is FusionAuth's POST /api/user/two-factor/{userId}.
func (s *Service) EnableTwoFactor(ctx context.Context, actor kit.Actor, scope kit.TenantScope, userID string, req TwoFactorRequest) (*TwoFactorResponse, error) {
	verrs := &model.Errors{}
	method := strings.TrimSpace(req.Method)
	switch method {
	case "":
		verrs.Field("method", "blank", "A method is required: authenticator.")
	case "authenticator":
	case "email":
		if a := strings.TrimSpace(req.Email); a == "" || !strings.Contains(a, "@") {
			verrs.Field("email", "invalid", "The method email needs the [email] the code was sent to (POST /api/two-factor/send).")
		}
	case "sms":
		verrs.Field("method", "invalid", "Two-factor by sms needs text messages, which Latch does not send yet; use authenticator or email.")
	default:
		verrs.Field("method", "invalid", "[method] must be authenticator or email (sms is not available yet).")
	}
	if strings.TrimSpace(req.Code) == "" {
		verrs.Field("code", "blank", "A code from the authenticator is required.")
	}
	secret := req.Secret
	if method == "authenticator" {
		switch {
		case secret == "" && strings.TrimSpace(req.SecretBase32Encoded) == "":
			verrs.Field("secret", "blank", "A secret or secretBase32Encoded is required.")
		case secret == "":
			var ok bool
			if secret, ok = identity.SecretFromBase32(req.SecretBase32Encoded); !ok {
				verrs.Field("secretBase32Encoded", "invalid", "[secretBase32Encoded] is not base32.")
			}
		case len(secret) > 256:
			verrs.Field("secret", "tooLong", "[secret] must be at most 256 characters.")
		}
		if secret != "" && len(totpKey(secret)) < MinTwoFactorSecretBytes {
			field := "secret"
			if req.Secret == "" {
				field = "secretBase32Encoded"
			}
			verrs.Field(field, "tooShort", fmt.Sprintf("[%s] must hold at least %d bytes (160 bits).", field, MinTwoFactorSecretBytes))
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	// The tenant's settings are read before the transaction (the user's
	// tenant does not change).
	cur, err := kit.LoadUser(ctx, s.store.Read(), scope, userID)
	if err != nil {
		return nil, err
	}
	tenant, err := s.tenancy.LoginTenantConfig(ctx, cur.TenantID)
	if err != nil {
		return nil, err
	}
	// The user acting with only an access token proves a recent
	// authentication once a method exists; the slow password check runs
	// before the transaction. An API key (an administrator) is not asked.
	selfService := actor.Type == kit.ActorUser
	passwordOK := false
	locked, err := s.store.Read().LockedUntil(ctx, cur.ID, s.now())
	if err != nil {
		return nil, err
	}
	// A locked user's password is not checked at all (recentAuthentication
	// refuses them): answering it would make an oracle that ignores the lock.
	if selfService && req.CurrentPassword != "" && locked == 0 {
		// Through the hash pool at the tenant's cost, as a login: a
		// direct check would let a token holder burn cores unthrottled.
		h, derr := password.Decode(cur.PasswordHash)
		ok, err := identity.CheckPasswordAs(ctx, s.hasher, tenant, cur.TenantID, h, derr == nil && s.hasher.Limits().Validate(h) == nil, req.CurrentPassword)
		if err != nil {
			return nil, err
		}
		passwordOK = ok
	}
	res := &TwoFactorResponse{}
	err = s.changeTwoFactor(ctx, scope, userID, func(tx *store.Tx, row *store.UserRow, u *userTwoFactor, now int64) (bool, error) {
		if selfService && u.has() {
			if err := s.recentAuthentication(ctx, tx, row, u, req, passwordOK, now); err != nil {
				return false, err
			}
		}
		m := model.TwoFactorMethod{ID: identity.NewTwoFactorID(), Method: method, Name: strings.TrimSpace(req.Name)}
		for _, other := range u.methods { // method ids are short: keep them unique
			if other.ID == m.ID {
				m.ID = identity.NewTwoFactorID()
			}
		}
		id := m.ID
		if method == "email" {
			// The code sent to this address for this user (two-factor/send).
			address := strings.TrimSpace(req.Email)
			if ok, err := consumeEmailCode(ctx, tx, enrolKey(row.ID, address), req.Code, now); err != nil {
				return false, err
			} else if !ok {
				return false, ErrTwoFactorCodeInvalid
			}
			m.Email = address
		} else {
			m.Authenticator = model.DefaultAuthenticator()
			counter, ok := totpMatch(totpKey(secret), req.Code, now, defaultTOTP)
			if !ok {
				return false, ErrTwoFactorCodeInvalid
			}
			if claimed, err := claimTOTP(ctx, tx, row, id, counter, defaultTOTP, now); err != nil {
				return false, err
			} else if !claimed {
				return false, ErrTwoFactorCodeInvalid
			}
			u.secrets[identity.TwoFactorSecretKey(id)] = secret
		}
		first := !u.has()
		u.methods = append(u.methods, m)
		res.RecoveryCodes = nil
		if first {
			codes, err := storeRecoveryCodes(ctx, tx, row, now)
			if err != nil {
				return false, err
			}
			res.RecoveryCodes = codes
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Enabled two-factor method %s (%s) of user %s", id, method, kit.UserLabel(row)),
			TargetID: row.ID, Data: map[string]any{"methodId": id, "method": method, "recoveryCodesGenerated": first},
			Events: []model.Event{kit.LazyUserEvent(ctx, tx, model.EventUserTwoFactorAdd, s.identity.FullUserObject, row, map[string]any{"method": m.View()})}}); err != nil {
			return false, err
		}
		// Each application's tokens under its onMultiFactorEnable in force.
		if _, err := s.tokens.RevokeByPolicy(ctx, tx, tenant, actor, row.ID, kit.UserLabel(row), tokens.RevokedTwoFactorEnable); err != nil {
			return false, err
		}
		return true, nil
	})
	if errors.Is(err, ErrTwoFactorCodeInvalid) && selfService && (req.CurrentPassword != "" || req.CurrentCode != "") {
		// A wrong proof counts as a failed login, as at disable: a stolen
		// token must not make a password or code oracle.
		if _, cerr := s.countFailure(ctx, tenant, cur.ID); cerr != nil && !errors.Is(cerr, model.ErrNotFound) {
			return nil, cerr
		}
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// recentAuthentication checks the proof a self-service enrolment gives
// besides its token when a method exists already: a current code of an
// existing method (claimed, so it works once), or the password, which the
// caller checked (passwordOK). Nothing given is a 400; a wrong proof, or
// any proof of a locked user, is a wrong code (421), counted toward the
// lockout by the caller.
func (s *Service) recentAuthentication(ctx context.Context, tx *store.Tx, row *store.UserRow, u *userTwoFactor, req TwoFactorRequest, passwordOK bool, now int64) error {
	code := strings.TrimSpace(req.CurrentCode)
	if code == "" && req.CurrentPassword == "" {
		return model.FieldError("currentPassword", "blank",
			"Adding a two-factor method to a user who has one needs the current password (currentPassword) or a current code of an existing method (currentCode).")
	}
	if until, err := tx.LockedUntil(ctx, row.ID, now); err != nil || until > 0 {
		return cmp.Or(err, ErrTwoFactorCodeInvalid)
	}
	if passwordOK {
		return nil
	}
	if code == "" {
		return ErrTwoFactorCodeInvalid // the password was wrong
	}
	id, counter, ok := u.totpFor(code, "", now)
	if !ok {
		return ErrTwoFactorCodeInvalid
	}
	claimed, err := claimTOTP(ctx, tx, row, id, counter, u.methodParams(id), now)
	if err != nil {
		return err
	}
	if !claimed {
		return ErrTwoFactorCodeInvalid
	}
	return nil
}

// DisableTwoFactor is FusionAuth's DELETE /api/user/two-factor/{userId}: a
// method goes with a code of the user's authenticator; every method goes
// with a recovery code (methodId may then be left out).
func (s *Service) DisableTwoFactor(ctx context.Context, actor kit.Actor, scope kit.TenantScope, userID string, req TwoFactorDisableRequest) error {
	code := strings.TrimSpace(req.Code)
	if code == "" {
		return model.FieldError("code", "blank", "A code from the authenticator, or a recovery code, is required.")
	}
	methodWanted := strings.TrimSpace(req.MethodID)
	// A wrong code counts as a failed login of the user, and a locked user
	// cannot disable: otherwise whoever holds a stolen JWT could guess
	// codes here without limit.
	tenantID := ""
	err := s.changeTwoFactor(ctx, scope, userID, func(tx *store.Tx, row *store.UserRow, u *userTwoFactor, now int64) (bool, error) {
		tenantID = row.TenantID
		if until, err := tx.LockedUntil(ctx, row.ID, now); err != nil || until > 0 {
			return false, cmp.Or(err, ErrTwoFactorCodeInvalid)
		}
		found := false
		for _, m := range u.methods {
			found = found || m.ID == methodWanted
		}
		if methodWanted != "" && !found {
			return false, model.FieldError("methodId", "invalid", "The user has no two-factor method with this id.")
		}
		all := false
		if id, counter, ok := u.totpFor(code, methodWanted, now); ok { // a code of the method disabled
			claimed, err := claimTOTP(ctx, tx, row, id, counter, u.methodParams(id), now)
			if err != nil {
				return false, err
			}
			if !claimed {
				return false, ErrTwoFactorCodeInvalid
			}
		} else if ok, err := u.emailMethodCode(ctx, tx, row.ID, methodWanted, code, now); err != nil {
			return false, err
		} else if ok { // a code mailed for the email method disabled
		} else if len(code) <= maxTwoFactorCode {
			_, err := tx.ConsumeOneTimeCode(ctx, recoveryCodeHash(row.ID, code), []string{CodeTwoFactorRecovery}, now)
			if errors.Is(err, store.ErrNoRows) {
				return false, ErrTwoFactorCodeInvalid
			}
			if err != nil {
				return false, err
			}
			all = true
		} else {
			return false, ErrTwoFactorCodeInvalid
		}
		if !all && methodWanted == "" {
			return false, model.FieldError("methodId", "blank", "A methodId is required (a recovery code disables every method).")
		}
		var removed []string
		var events []model.Event
		kept := u.methods[:0]
		for _, m := range u.methods {
			if all || m.ID == methodWanted {
				removed = append(removed, m.ID)
				events = append(events, kit.LazyUserEvent(ctx, tx, model.EventUserTwoFactorRemove, s.identity.FullUserObject, row, map[string]any{"method": m.View()}))
				delete(u.secrets, identity.TwoFactorSecretKey(m.ID))
				continue
			}
			kept = append(kept, m)
		}
		u.methods = kept
		if !u.has() {
			if err := tx.DeleteUserCodes(ctx, row.ID, []string{CodeTwoFactorRecovery}); err != nil {
				return false, err
			}
		}
		msg := fmt.Sprintf("Disabled two-factor method %s of user %s", strings.Join(removed, ", "), kit.UserLabel(row))
		if all {
			msg = fmt.Sprintf("Disabled every two-factor method (%s) of user %s with a recovery code", strings.Join(removed, ", "), kit.UserLabel(row))
		}
		return true, s.audit.Write(ctx, tx, actor, audit.Change{Message: msg, TargetID: row.ID,
			Data: map[string]any{"methodIds": removed, "recoveryCode": all, "remaining": u.n()}, Events: events})
	})
	if errors.Is(err, ErrTwoFactorCodeInvalid) && tenantID != "" {
		cfg, cerr := s.tenancy.LoginTenantConfig(ctx, tenantID)
		if cerr != nil {
			return cerr
		}
		// countFailure answers as a login would (404, or 409 when this
		// failure locked the user): only a database error matters here.
		if _, cerr := s.countFailure(ctx, cfg, userID); cerr != nil && !errors.Is(cerr, model.ErrNotFound) {
			return cerr
		}
	}
	return err
}

// RemoveTwoFactorMethod removes one of a user's two-factor methods without a
// code: an administrator's action (the admin UI) for a user who lost the
// device; its audit entry names the administrator.
func (s *Service) RemoveTwoFactorMethod(ctx context.Context, actor kit.Actor, scope kit.TenantScope, userID, methodWanted string) error {
	return s.changeTwoFactor(ctx, scope, userID, func(tx *store.Tx, row *store.UserRow, u *userTwoFactor, now int64) (bool, error) {
		kept := u.methods[:0]
		removed := ""
		for _, m := range u.methods {
			if m.ID == methodWanted {
				removed = m.ID
				delete(u.secrets, identity.TwoFactorSecretKey(removed))
				continue
			}
			kept = append(kept, m)
		}
		if removed == "" {
			return false, model.FieldError("methodId", "invalid", "The user has no two-factor method with this id.")
		}
		u.methods = kept
		if !u.has() {
			if err := tx.DeleteUserCodes(ctx, row.ID, []string{CodeTwoFactorRecovery}); err != nil {
				return false, err
			}
		}
		return true, s.audit.Write(ctx, tx, actor, audit.Change{
			Message:  fmt.Sprintf("Removed two-factor method %s of user %s", removed, kit.UserLabel(row)),
			TargetID: row.ID, Data: map[string]any{"methodIds": []string{removed}, "remaining": u.n()}})
	})
}

// twoFactorPending is what a twoFactorId holds: the login it continues.
type twoFactorPending struct {
	ApplicationID      string         `json:"applicationId"`
	IPAddress          string         `json:"ipAddress"`
	NoJWT              bool           `json:"noJWT"`
	LoginID            string         `json:"loginId"`
	MetaData           map[string]any `json:"metaData"`
	AuthenticationType string         `json:"authenticationType"`
	Attempts           int            `json:"attempts"`
	// Of a step-up begun with /api/two-factor/start: the challenge its
	// trust token is bound to, the hash of the code it returned (which
	// completes it as a second factor's code would), the caller's state.
	TrustChallenge string         `json:"trustChallenge,omitempty"`
	StartCodeHash  string         `json:"startCodeHash,omitempty"`
	State          map[string]any `json:"state,omitempty"`
}

// secondFactorCode checks code against row's methods in tx, spending what
// it uses: a current authenticator code (claimed against replay), a code
// emailed for twoFactorID, or a recovery code (audited, naming purpose).
// It answers the kind of method that verified (FusionAuth's authenticator,
// email, recoveryCode), "" for a wrong code.
func (s *Service) secondFactorCode(ctx context.Context, tx *store.Tx, row *store.UserRow, u *userTwoFactor, twoFactorID, code, purpose string, now int64) (string, error) {
	verifiedBy := func(method string, ok bool, err error) (string, error) {
		if !ok || err != nil {
			return "", err
		}
		return method, nil
	}
	if id, counter, ok := u.totpFor(code, "", now); ok {
		ok, err := claimTOTP(ctx, tx, row, id, counter, u.methodParams(id), now)
		return verifiedBy("authenticator", ok, err)
	}
	if twoFactorID != "" {
		if ok, err := consumeEmailCode(ctx, tx, twoFactorID, code, now); err != nil || ok {
			return verifiedBy("email", ok, err)
		}
	}
	if len(code) > maxTwoFactorCode {
		return "", nil
	}
	_, err := tx.ConsumeOneTimeCode(ctx, recoveryCodeHash(row.ID, code), []string{CodeTwoFactorRecovery}, now)
	if errors.Is(err, store.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	left, err := tx.CountUserCodes(ctx, row.ID, CodeTwoFactorRecovery, now)
	if err != nil {
		return "", err
	}
	return "recoveryCode", s.audit.Write(ctx, tx, kit.Actor{Type: kit.ActorUser, ID: row.ID, Name: firstNonBlank(row.Email, row.Username)}, audit.Change{
		Message:  fmt.Sprintf("User %s used a two-factor recovery code to %s (%d left)", kit.UserLabel(row), purpose, left),
		TargetID: row.ID, Data: map[string]any{"recoveryCodesLeft": left}})
}

// TwoFactorLogin is FusionAuth's POST /api/two-factor/login: the second step
// of a login that answered 242. Its answers are the Login API's (200 with
// the token, refresh token and user, or 202, 203, 212, 213, 409, 410, 423),
// 404 for an unknown, used or expired twoFactorId, and 421
// (ErrTwoFactorCodeInvalid) for a wrong code.
func (s *Service) TwoFactorLogin(ctx context.Context, caller LoginCaller, req TwoFactorLoginRequest) (*LoginResult, error) {
	verrs := &model.Errors{}
	if strings.TrimSpace(req.TwoFactorID) == "" {
		verrs.Field("twoFactorId", "blank", "A twoFactorId is required.")
	}
	if strings.TrimSpace(req.Code) == "" {
		verrs.Field("code", "blank", "A code is required.")
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	if req.MetaData != nil {
		if b, err := json.Marshal(req.MetaData); err != nil || len(b) > maxMetaDataBytes {
			return nil, model.FieldError("metaData", "tooLarge", fmt.Sprintf("[metaData] must encode in at most %d bytes.", maxMetaDataBytes))
		}
	}
	if len(req.TwoFactorID) > identity.MaxGivenCodeLength {
		return nil, model.NotFoundf("twoFactorId too long")
	}
	idHash := identity.CodeHash(req.TwoFactorID)
	rd := s.store.Read()
	pending, err := rd.OneTimeCodeByHash(ctx, idHash, []string{CodeTwoFactorLogin}, s.now())
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("twoFactorId unknown, used or expired")
	}
	if err != nil {
		return nil, err
	}
	var p twoFactorPending
	if err := json.Unmarshal([]byte(pending.Data), &p); err != nil {
		return nil, fmt.Errorf("twoFactorId data: %w", err)
	}
	lt, err := s.loginTarget(ctx, caller, firstNonBlank(req.ApplicationID, p.ApplicationID))
	if err != nil {
		return nil, err
	}
	if lt.tenant.ID != pending.TenantID {
		return nil, model.NotFoundf("twoFactorId of another tenant")
	}
	if err := s.throttle.Allow(ctx, caller.throttled(lt.tenant.ID)); err != nil {
		return nil, err
	}
	if uid := strings.TrimSpace(req.UserID); uid != "" {
		if id, ok := kit.CanonicalID(uid); !ok || id != pending.UserID {
			return nil, model.NotFoundf("twoFactorId of another user")
		}
	}
	row, err := rd.UserRowByID(ctx, pending.UserID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("user of a twoFactorId")
	}
	if err != nil {
		return nil, err
	}
	if until, err := rd.LockedUntil(ctx, row.ID, s.now()); err != nil {
		return nil, err
	} else if until != 0 {
		return lockedResult(lt.tenant.FailedAuthenticationConfiguration, until), nil
	}
	u, err := s.openTwoFactor(row)
	if err != nil {
		return nil, err
	}

	code := strings.TrimSpace(req.Code)
	verified, gone, method := false, false, ""
	trust := secrets.Token(32)
	computerTrust := ""
	if req.TrustComputer {
		computerTrust = newTwoFactorTrustID()
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		verified, gone, method = false, false, "" // the transaction may run again
		now := s.now()
		c, err := tx.ConsumeOneTimeCode(ctx, idHash, []string{CodeTwoFactorLogin}, now)
		if errors.Is(err, store.ErrNoRows) {
			gone = true // used (or tried) meanwhile
			return nil
		}
		if err != nil {
			return err
		}
		if p.StartCodeHash != "" && len(code) <= maxTwoFactorCode &&
			subtle.ConstantTimeCompare([]byte(identity.CodeHash(code)), []byte(p.StartCodeHash)) == 1 {
			verified = true
		} else if method, err = s.secondFactorCode(ctx, tx, row, u, req.TwoFactorID, code, "log in", now); err != nil {
			return err
		} else {
			verified = method != ""
		}
		if verified {
			if computerTrust != "" {
				if err := s.issueTwoFactorTrust(ctx, tx, lt.tenant, row, lt.appID(), computerTrust, now); err != nil {
					return err
				}
			}
			return s.issueTrust(ctx, tx, lt.tenant, row, trust, p.TrustChallenge)
		}
		// A wrong code: the twoFactorId stays for another try, up to a bound,
		// counted on the row just consumed (not on the one read before: of
		// concurrent wrong codes each would add one to the same count).
		var used twoFactorPending
		if err := json.Unmarshal([]byte(c.Data), &used); err != nil {
			return fmt.Errorf("twoFactorId data: %w", err)
		}
		used.Attempts++
		if used.Attempts >= maxTwoFactorAttempts {
			return nil
		}
		data, err := json.Marshal(used)
		if err != nil {
			return err
		}
		c.Data = string(data)
		return tx.InsertOneTimeCode(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	if gone {
		return nil, model.NotFoundf("twoFactorId used meanwhile")
	}
	ip := firstNonBlank(req.IPAddress, req.EventInfo.IPAddress, p.IPAddress, caller.IP)
	if !verified {
		s.emitSecondFactor(ctx, model.EventUserTwoFactorFailedAttempt, lt.appID(), row, ip, "")
		res, err := s.countFailure(ctx, lt.tenant, row.ID)
		if res != nil || (err != nil && !errors.Is(err, model.ErrNotFound)) {
			return res, err
		}
		return nil, ErrTwoFactorCodeInvalid
	}
	noJWT := p.NoJWT
	if req.NoJWT != nil {
		noJWT = *req.NoJWT
	}
	metaData := p.MetaData
	if req.MetaData != nil {
		metaData = req.MetaData
	}
	s.emitSecondFactor(ctx, model.EventUserTwoFactorSuccess, lt.appID(), row, ip, method)
	authType := firstNonBlank(p.AuthenticationType, tokens.AuthTypePassword)
	res, err := s.authenticated(ctx, lt, row, authenticatedLogin{authType: authType, loginID: p.LoginID, ip: ip,
		noJWT: noJWT, metaData: metaData, secondFactor: true, outcomeOnly: caller.OutcomeOnly})
	if err == nil && res.Response != nil && res.Outcome <= RegistrationNotVerified {
		res.Response.TrustToken, res.Response.State = trust, p.State
		res.Response.TwoFactorTrustID = computerTrust
	}
	if err == nil && res.Outcome == Success {
		// The login completes here; its password step (242) emitted nothing.
		s.emitLogin(ctx, model.EventUserLoginSuccess, lt, row, nil, ip, authType)
	}
	return res, err
}
