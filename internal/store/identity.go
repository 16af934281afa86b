package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// InsertTenant stores a tenant; data is its full JSON settings object.
func (tx *Tx) InsertTenant(ctx context.Context, t *model.Tenant, data string) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO tenants (id, name, name_lower, data, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6)`, t.ID, t.Name, strings.ToLower(t.Name), data, t.InsertInstant, t.LastUpdateInstant)
	return err
}

// TenantExists reports whether a tenant id is known.
func (tx *Tx) TenantExists(ctx context.Context, id string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM tenants WHERE id = $1", id).Scan(&n)
	return n > 0, err
}

// TenantIDs lists every tenant id, oldest first.
func (tx *Tx) TenantIDs(ctx context.Context) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT id FROM tenants ORDER BY insert_instant, id")
	return scanAll(scanString)(rows, err)
}

// InsertApplication stores an application and its roles.
func (tx *Tx) InsertApplication(ctx context.Context, a *model.Application, data string) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO applications (id, tenant_id, name, active, data, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.ID, a.TenantID, a.Name, a.Active, data, a.InsertInstant, a.LastUpdateInstant); err != nil {
		return err
	}
	for _, r := range a.Roles {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO application_roles (id, application_id, name, description,
			is_default, is_super_role, insert_instant, last_update_instant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.ID, a.ID, r.Name, r.Description, r.IsDefault, r.IsSuperRole, r.InsertInstant, r.LastUpdateInstant); err != nil {
			return err
		}
	}
	return nil
}

// InsertUser stores a user with an encoded password hash (may be empty). It
// fills the search keys like every user write (see InsertUserRows).
func (tx *Tx) InsertUser(ctx context.Context, u *model.UserRecord, passwordHash string) error {
	return tx.InsertUserRow(ctx, &UserRow{ID: u.ID, TenantID: u.TenantID, Email: u.Email, Username: u.Username,
		FullName: u.FullName, PasswordHash: passwordHash, PasswordChangeRequired: u.PasswordChangeRequired,
		Active: u.Active, Verified: u.Verified, InsertInstant: u.InsertInstant, LastUpdateInstant: u.LastUpdateInstant,
		LastLoginInstant: u.LastLoginInstant, PasswordLastUpdateInstant: u.PasswordLastUpdateInstant})
}

// UserByEmail finds a user by email in a tenant, case-insensitively.
func (tx *Tx) UserByEmail(ctx context.Context, tenantID, email string) (*model.UserRecord, string, error) {
	var u model.UserRecord
	var em, un sql.NullString
	var lastLogin sql.NullInt64
	var hash string
	err := tx.q.QueryRowContext(ctx, `SELECT id, tenant_id, email, username, full_name, password_hash,
		password_change_required, active, verified, insert_instant, last_update_instant, last_login_instant,
		password_last_update_instant FROM users WHERE tenant_id = $1 AND email_lower = $2`,
		tenantID, LoginKey(email)).Scan(&u.ID, &u.TenantID, &em, &un, &u.FullName, &hash,
		&u.PasswordChangeRequired, &u.Active, &u.Verified, &u.InsertInstant, &u.LastUpdateInstant, &lastLogin,
		&u.PasswordLastUpdateInstant)
	if err != nil {
		return nil, "", err
	}
	u.Email, u.Username = em.String, un.String
	if lastLogin.Valid {
		u.LastLoginInstant = &lastLogin.Int64
	}
	return &u, hash, nil
}

// SetUserPassword replaces a user's password hash and the change-required flag.
func (tx *Tx) SetUserPassword(ctx context.Context, userID, hash string, changeRequired bool, now int64) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET password_hash = $2, password_change_required = $3,
		password_last_update_instant = $4, last_update_instant = $4, active = TRUE WHERE id = $1`, userID, hash, changeRequired, now)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// InsertRegistration stores a registration with its role names.
func (tx *Tx) InsertRegistration(ctx context.Context, r *model.UserRegistration) error {
	roles := r.Roles
	if roles == nil {
		roles = []string{}
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO registrations (id, user_id, application_id, roles, insert_instant,
		last_update_instant) VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, r.UserID, r.ApplicationID, toJSON(roles),
		r.InsertInstant, r.LastUpdateInstant)
	return err
}

// RegistrationRoles returns the role names of a user's registration, ok false when none exists.
func (tx *Tx) RegistrationRoles(ctx context.Context, userID, applicationID string) (roles []string, ok bool, err error) {
	var text string
	err = tx.q.QueryRowContext(ctx, "SELECT roles FROM registrations WHERE user_id = $1 AND application_id = $2",
		userID, applicationID).Scan(&text)
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return decodeStrings(text), true, nil
}

// SetRegistrationRoles replaces the roles of a registration.
func (tx *Tx) SetRegistrationRoles(ctx context.Context, userID, applicationID string, roles []string, now int64) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE registrations SET roles = $3, last_update_instant = $4
		WHERE user_id = $1 AND application_id = $2`, userID, applicationID, toJSON(roles), now)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// CountAdmins counts users holding the admin role on the admin application.
func (tx *Tx) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM registrations WHERE application_id = $1 AND roles LIKE $2`,
		model.AdminApplicationID, `%"admin"%`).Scan(&n)
	return n, err
}

// ApplicationTenantID returns an application's tenant; ErrNoRows when absent.
func (tx *Tx) ApplicationTenantID(ctx context.Context, id string) (string, error) {
	var t string
	err := tx.q.QueryRowContext(ctx, "SELECT tenant_id FROM applications WHERE id = $1", id).Scan(&t)
	return t, err
}
