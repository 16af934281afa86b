package access

import (
	"context"
	"errors"
	"strconv"
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
)

// InitialKeyName names the key that setup creates.
const InitialKeyName = "Initial API key"

// Admin password bounds. Passwords are never truncated: a longer one is refused.
const (
	MinAdminPassword = 8
	MaxAdminPassword = 256
)

// SetupInput is what the wizard and `latch setup` collect.
type SetupInput struct {
	Email    string
	FullName string
	Password string
}

// SetupResult is what setup made. Key is shown once and never stored.
type SetupResult struct {
	UserID string
	KeyID  string
	Key    secrets.Secret
}

// SetupDone reports whether first-run setup has completed (by the wizard,
// `latch setup` or a kickstart).
func (s *Service) SetupDone(ctx context.Context) (bool, error) {
	_, done, err := s.store.Read().Setting(ctx, store.SettingSetupCompleted)
	return done, err
}

// NewSetupToken replaces any earlier wizard token with a fresh one valid for
// ttl and returns it. Only its hash is stored; any node accepts it until it
// expires or setup completes. One token at a time: a link printed before
// (by this node's last start or another node's) stops working.
func (s *Service) NewSetupToken(ctx context.Context, ttl time.Duration) (secrets.Secret, error) {
	token := secrets.Token(24) // 192 bits
	now := s.now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSetupTokens(ctx); err != nil {
			return err
		}
		return tx.InsertSetupToken(ctx, secrets.HashToken(token), now, now+ttl.Milliseconds())
	})
	return secrets.Secret(token), err
}

// SetupTokenValid reports whether token is the recorded, unexpired wizard token.
func (s *Service) SetupTokenValid(ctx context.Context, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	return s.store.Read().SetupTokenExists(ctx, secrets.HashToken(token), s.now())
}

// ValidateSetup checks the wizard's input; it returns *model.Errors.
func ValidateSetup(in SetupInput) error {
	errs := new(model.Errors)
	email := strings.TrimSpace(in.Email)
	switch {
	case email == "":
		errs.Field("user.email", "blank", "An email address is required.")
	case !kit.IsEmail(email):
		errs.Field("user.email", "notEmail", "This is not a valid email address.")
	}
	n := utf8.RuneCountInString(in.Password)
	switch {
	case in.Password == "":
		errs.Field("user.password", "blank", "A password is required.")
	case n < MinAdminPassword:
		errs.Field("user.password", "tooShort", "The password must be at least 8 characters long.")
	case n > MaxAdminPassword:
		errs.Field("user.password", "tooLong", "The password must be at most 256 characters long.")
	case strings.EqualFold(in.Password, email):
		errs.Field("user.password", "equalsEmail", "The password must not be the email address.")
	case password.Common(in.Password): // always, for the account that holds every right
		errs.Field("user.password", "common", "The password is one of the most common leaked passwords; choose another.")
	}
	if utf8.RuneCountInString(in.FullName) > 255 {
		errs.Field("user.fullName", "tooLong", "The name must be at most 255 characters long.")
	}
	return errs.Err()
}

// Setup performs first-run setup in one transaction: the admin user, its admin
// registration, and the initial key-manager key with access to every endpoint,
// stored as a hash only. A second setup, however it races, gets ErrSetupDone.
func (s *Service) Setup(ctx context.Context, actor kit.Actor, in SetupInput) (*SetupResult, error) {
	in.Email = strings.TrimSpace(in.Email)
	in.FullName = strings.TrimSpace(in.FullName)
	if err := ValidateSetup(in); err != nil {
		return nil, err
	}
	if done, err := s.SetupDone(ctx); err != nil {
		return nil, err
	} else if done {
		return nil, model.ErrSetupDone
	}
	hash, err := s.hasher.Hash(ctx, "", password.DefaultScheme, password.DefaultFactor(password.DefaultScheme), in.Password) // slow: outside the transaction
	if err != nil {
		return nil, err
	}
	now := s.now()
	res := &SetupResult{UserID: uuid.NewString()}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		// First write: the loser of a race fails here on the primary key.
		if err := tx.InsertSetting(ctx, store.SettingSetupCompleted, strconv.FormatInt(now, 10)); err != nil {
			if store.IsUnique(err) {
				return model.ErrSetupDone
			}
			return err
		}
		tenantID, err := adminTenantID(ctx, tx)
		if err != nil {
			return err
		}
		user := &model.UserRecord{ID: res.UserID, TenantID: tenantID, Email: in.Email, FullName: in.FullName,
			Active: true, Verified: true, InsertInstant: now, LastUpdateInstant: now, PasswordLastUpdateInstant: now}
		if err := tx.InsertUser(ctx, user, hash.Encode()); err != nil {
			return err
		}
		if err := tx.InsertRegistration(ctx, &model.UserRegistration{ID: uuid.NewString(), UserID: user.ID,
			ApplicationID: model.AdminApplicationID, Roles: []string{"admin"}, InsertInstant: now, LastUpdateInstant: now}); err != nil {
			return err
		}
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Created the first admin user " + in.Email, TargetID: user.ID}); err != nil {
			return err
		}
		key, value, err := s.mintKey(ctx, tx, actor, &model.APIKey{Name: InitialKeyName, KeyManager: true}, "")
		if err != nil {
			return err
		}
		res.KeyID, res.Key = key.ID, value
		return tx.DeleteSetupTokens(ctx)
	})
	if store.IsUnique(err) {
		err = model.ErrSetupDone
	}
	if err != nil {
		return nil, err
	}
	s.Keys.Refresh(ctx)
	return res, nil
}

// adminTenantID is the tenant of the built-in admin application (the Default tenant).
func adminTenantID(ctx context.Context, tx *store.Tx) (string, error) {
	id, err := tx.ApplicationTenantID(ctx, model.AdminApplicationID)
	if errors.Is(err, store.ErrNoRows) {
		return "", errors.New("the admin application is missing: the database was not bootstrapped")
	}
	return id, err
}
