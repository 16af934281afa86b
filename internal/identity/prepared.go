package identity

import (
	"context"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// What the user import (internal/identity/userimport) shares with the User
// and Registration APIs: an imported user object and registration are
// checked exactly as those APIs check theirs.

// PreparedUser is a user object checked as the User API checks one, its
// owned members cut out, ready to store with FillUserRow.
type PreparedUser struct {
	Email, Username, FullName string
	FirstName, LastName       string
	PasswordChangeRequired    bool
	p                         *preparedUser
}

// PrepareUser checks a new user object in place as the User API does. Its
// errors are named user.<member>; the answer is nil when the object could not
// be read at all.
func PrepareUser(o kit.Object) (*PreparedUser, *model.Errors) {
	p, verrs := normalizeUser(o, nil)
	if p == nil {
		return nil, verrs
	}
	return &PreparedUser{Email: p.email, Username: p.username, FullName: p.fullName, FirstName: p.firstName, LastName: p.lastName,
		PasswordChangeRequired: p.passwordChangeRequired, p: p}, verrs
}

// FillUserRow puts a prepared user's data and sealed secrets into row (its
// ID set: the secrets are sealed to it).
func (s *Service) FillUserRow(row *store.UserRow, u *PreparedUser) error {
	return s.fillUserRow(row, u.p)
}

// PreparedRegistration is a registration object checked as the Registration
// API checks one.
type PreparedRegistration struct {
	ID            string   // "" when not given
	ApplicationID string   // "" when not given
	Roles         []string // sorted, nil when not given
	Token         string   // the authentication token given, "" when none
}

// PrepareRegistration checks a registration object in place (owned members
// cut out) as the Registration API does, adding its errors, named
// registration.<member>, to verrs.
func PrepareRegistration(o kit.Object, verrs *model.Errors) PreparedRegistration {
	p := normalizeRegistration(o, false, verrs)
	return PreparedRegistration{ID: p.id, ApplicationID: p.appID, Roles: p.roles, Token: p.token}
}

// HashingOf is the scheme and factor the tenant hashes new passwords with.
func (s *Service) HashingOf(ctx context.Context, tenantID string) (string, int, error) {
	pol, err := s.passwordPolicyOf(ctx, tenantID)
	if err != nil {
		return "", 0, err
	}
	return pol.scheme, pol.factor, nil
}
