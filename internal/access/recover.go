package access

// Break-glass recovery: regaining API or UI access with shell and database
// access only (`latch recover`). Nothing here is reachable over HTTP; whoever
// can run it can already read and write the database, so the safeguards are
// about limiting the blast radius (the key expires, the password must be
// changed) and leaving a loud trail (critical audit entries).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// Recovery key lifetimes. A recovery key always expires: it is meant to get an
// operator through an incident, not to become a forgotten all-powerful key.
const (
	DefaultRecoveryKeyTTL = time.Hour
	MinRecoveryKeyTTL     = time.Second
	MaxRecoveryKeyTTL     = 24 * time.Hour
)

// RecoveryKeyNamePrefix starts the default name of a recovery key.
const RecoveryKeyNamePrefix = "Recovery key "

// maxKeyNameLength bounds a key's name.
const maxKeyNameLength = 255

// tempPasswordBytes is the entropy of a temporary admin password: 144 bits,
// 24 URL-safe characters.
const tempPasswordBytes = 18

// ErrNotSetUp means first-run setup has not been done, so there is no admin to
// recover: `latch setup` or the setup wizard creates the first one.
var ErrNotSetUp = errors.New("setup has not been done")

// RecoveryKeyInput is what `latch recover api-key` asks for.
type RecoveryKeyInput struct {
	Name      string        // empty: RecoveryKeyNamePrefix + the UTC time
	ExpiresIn time.Duration // MinRecoveryKeyTTL..MaxRecoveryKeyTTL
}

// RecoveryKeyResult is the minted key; Value is shown once and never stored.
type RecoveryKeyResult struct {
	Key   *model.APIKey
	Value secrets.Secret
}

// ValidateRecoveryKey checks the input; it returns *model.Errors.
func ValidateRecoveryKey(in RecoveryKeyInput) error {
	errs := new(model.Errors)
	if in.ExpiresIn < MinRecoveryKeyTTL || in.ExpiresIn > MaxRecoveryKeyTTL {
		errs.Field("apiKey.expirationInstant", "invalid",
			fmt.Sprintf("A recovery key must expire within %s to %s; %s is out of range.", MinRecoveryKeyTTL, formatTTL(MaxRecoveryKeyTTL), in.ExpiresIn))
	}
	if utf8.RuneCountInString(strings.TrimSpace(in.Name)) > maxKeyNameLength {
		errs.Field("apiKey.name", "tooLong", fmt.Sprintf("The name must be at most %d characters long.", maxKeyNameLength))
	}
	return errs.Err()
}

// formatTTL writes whole hours as "24h" rather than time.Duration's "24h0m0s".
func formatTTL(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// maxNameAttempts bounds the retries when recoveries started in the same
// second race for the same default name.
const maxNameAttempts = 20

// RecoverAPIKey mints a key-manager key with access to every endpoint and every
// tenant from every address, non-retrievable, expiring after in.ExpiresIn, and
// writes a critical audit entry beside mintKey's own. It works whether or not
// setup was done: recovery must never be the thing that is locked.
func (s *Service) RecoverAPIKey(ctx context.Context, actor kit.Actor, in RecoveryKeyInput) (*RecoveryKeyResult, error) {
	in.Name = strings.TrimSpace(in.Name)
	if err := ValidateRecoveryKey(in); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	expires := now.Add(in.ExpiresIn).UnixMilli()
	base := in.Name
	if base == "" {
		base = RecoveryKeyNamePrefix + now.UTC().Format(time.RFC3339)
	}
	for attempt := 1; ; attempt++ {
		name := base
		if attempt > 1 {
			name = fmt.Sprintf("%s (%d)", base, attempt)
		}
		res, err := s.mintRecoveryKey(ctx, actor, name, expires)
		if err == nil {
			s.Keys.Refresh(ctx)
			return res, nil
		}
		if !store.IsUnique(err) {
			return nil, err
		}
		// Names are unique: a name the operator chose is theirs to change; a
		// default one collided with a recovery started in the same second.
		if in.Name != "" {
			return nil, model.FieldError("apiKey.name", "duplicate", "An API key named "+in.Name+" already exists; choose another --name.")
		}
		if attempt == maxNameAttempts {
			return nil, err
		}
	}
}

func (s *Service) mintRecoveryKey(ctx context.Context, actor kit.Actor, name string, expires int64) (*RecoveryKeyResult, error) {
	var res RecoveryKeyResult
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		k := &model.APIKey{Name: name, KeyManager: true, ExpirationInstant: &expires}
		key, value, err := s.mintKey(ctx, tx, actor, k, "")
		if err != nil {
			return err
		}
		res.Key, res.Value = key, value
		return s.audit.Write(ctx, tx, actor, audit.Change{
			Message: fmt.Sprintf("Break-glass: %s minted the recovery API key %s with access to every endpoint and tenant, expiring at %s",
				actor.Label(), kit.KeyLabel(key), time.UnixMilli(expires).UTC().Format(time.RFC3339)),
			TargetID: key.ID,
			Reason:   "latch recover api-key",
			Critical: true,
			Data:     map[string]any{"expirationInstant": expires, "keyManager": true},
		})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// RecoverAdminResult is what `latch recover admin` did. Password is shown once.
type RecoverAdminResult struct {
	UserID   string
	Email    string
	Created  bool // false: an existing user's password was reset
	Password secrets.Secret
}

// RecoverAdmin gives email admin access to the admin UI: it creates the user in
// the admin application's tenant with the admin role, or resets an existing
// user's password, reactivates it and ensures the role. Either way the user gets
// a random temporary password that must be changed at first sign-in. Before
// setup it fails with ErrNotSetUp: creating the first admin is setup's job.
func (s *Service) RecoverAdmin(ctx context.Context, actor kit.Actor, email string) (*RecoverAdminResult, error) {
	email = strings.TrimSpace(email)
	switch {
	case email == "":
		return nil, model.FieldError("user.email", "blank", "An email address is required.")
	case !kit.IsEmail(email):
		return nil, model.FieldError("user.email", "notEmail", "This is not a valid email address.")
	}
	if done, err := s.SetupDone(ctx); err != nil {
		return nil, err
	} else if !done {
		return nil, ErrNotSetUp
	}
	temp := secrets.Secret(secrets.Token(tempPasswordBytes))
	hash, err := s.hasher.Hash(ctx, "", password.DefaultScheme, password.DefaultFactor(password.DefaultScheme), temp.Reveal()) // slow: outside the transaction
	if err != nil {
		return nil, err
	}
	var res *RecoverAdminResult
	// A second attempt only follows a concurrent recovery that created the same
	// user first; it then resets that user instead.
	for attempt := 0; attempt < 2; attempt++ {
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			res, err = s.recoverAdminTx(ctx, tx, actor, email, hash.Encode())
			return err
		})
		if !store.IsUnique(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	res.Password = temp
	return res, nil
}

func (s *Service) recoverAdminTx(ctx context.Context, tx *store.Tx, actor kit.Actor, email, hash string) (*RecoverAdminResult, error) {
	now := s.now()
	tenantID, err := adminTenantID(ctx, tx)
	if err != nil {
		return nil, err
	}
	user, _, err := tx.UserByEmail(ctx, tenantID, email)
	if errors.Is(err, store.ErrNoRows) {
		user = &model.UserRecord{ID: uuid.NewString(), TenantID: tenantID, Email: email, Active: true, Verified: true,
			PasswordChangeRequired: true, InsertInstant: now, LastUpdateInstant: now, PasswordLastUpdateInstant: now}
		if err := tx.InsertUser(ctx, user, hash); err != nil {
			return nil, err
		}
		reg := &model.UserRegistration{ID: uuid.NewString(), UserID: user.ID, ApplicationID: model.AdminApplicationID,
			Roles: []string{"admin"}, InsertInstant: now, LastUpdateInstant: now}
		if err := tx.InsertRegistration(ctx, reg); err != nil {
			return nil, err
		}
		err = s.audit.Write(ctx, tx, actor, audit.Change{
			Message:  fmt.Sprintf("Break-glass: %s created the admin user %s with a temporary password", actor.Label(), email),
			TargetID: user.ID, Reason: "latch recover admin", Critical: true, New: user,
		})
		if err != nil {
			return nil, err
		}
		return &RecoverAdminResult{UserID: user.ID, Email: email, Created: true}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := tx.SetUserPassword(ctx, user.ID, hash, true, now); err != nil {
		return nil, err
	}
	// A reset after a compromise must end the intruder's sessions too: every
	// refresh token and SSO session, and the access tokens issued before.
	if s.sessions == nil {
		return nil, errors.New("recover admin: sessions are not wired")
	}
	if _, err := s.sessions.RevokeUserTokens(ctx, tx, actor, user.ID, user.Email, tokens.RevokedPasswordChanged); err != nil {
		return nil, err
	}
	roles, registered, err := tx.RegistrationRoles(ctx, user.ID, model.AdminApplicationID)
	if err != nil {
		return nil, err
	}
	switch {
	case !registered:
		err = tx.InsertRegistration(ctx, &model.UserRegistration{ID: uuid.NewString(), UserID: user.ID,
			ApplicationID: model.AdminApplicationID, Roles: []string{"admin"}, InsertInstant: now, LastUpdateInstant: now})
	case !slices.Contains(roles, "admin"):
		err = tx.SetRegistrationRoles(ctx, user.ID, model.AdminApplicationID, append(roles, "admin"), now)
	}
	if err != nil {
		return nil, err
	}
	after := *user
	after.Active, after.PasswordChangeRequired = true, true
	after.LastUpdateInstant, after.PasswordLastUpdateInstant = now, now
	err = s.audit.Write(ctx, tx, actor, audit.Change{
		Message: fmt.Sprintf("Break-glass: %s reset the password of %s to a temporary one and ensured the admin role",
			actor.Label(), user.Email),
		TargetID: user.ID, Reason: "latch recover admin", Critical: true, Old: user, New: &after,
		Data: map[string]any{"rolesBefore": roles, "registeredBefore": registered},
	})
	if err != nil {
		return nil, err
	}
	return &RecoverAdminResult{UserID: user.ID, Email: user.Email}, nil
}
