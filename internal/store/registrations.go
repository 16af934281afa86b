package store

import (
	"context"
	"database/sql"
	"encoding/json"
)

// RegistrationRow is a registration as stored. Data is its whole JSON object
// without the fields that have columns (id, applicationId, roles, the
// instants, verified) and without its authentication token, of which only
// the SHA-256 is kept (AuthTokenHash, empty when it has none).
type RegistrationRow struct {
	ID                string
	UserID            string
	ApplicationID     string
	Roles             []string
	Data              string
	Verified          bool
	VerifiedInstant   *int64
	LastLoginInstant  *int64
	AuthTokenHash     string
	InsertInstant     int64
	LastUpdateInstant int64
}

const registrationColumns = `id, user_id, application_id, roles, data, verified, verified_instant, last_login_instant,
	authentication_token_hash, insert_instant, last_update_instant`

func scanRegistration(row scanner) (*RegistrationRow, error) {
	var r RegistrationRow
	var roles string
	var verifiedAt, lastLogin sql.NullInt64
	var hash sql.NullString
	if err := row.Scan(&r.ID, &r.UserID, &r.ApplicationID, &roles, &r.Data, &r.Verified, &verifiedAt, &lastLogin,
		&hash, &r.InsertInstant, &r.LastUpdateInstant); err != nil {
		return nil, err
	}
	r.Roles = decodeStrings(roles)
	if verifiedAt.Valid {
		r.VerifiedInstant = &verifiedAt.Int64
	}
	if lastLogin.Valid {
		r.LastLoginInstant = &lastLogin.Int64
	}
	r.AuthTokenHash = hash.String
	return &r, nil
}

func rolesJSON(roles []string) string {
	if roles == nil {
		roles = []string{}
	}
	return toJSON(roles)
}

// InsertRegistrationRow stores a new registration.
func (tx *Tx) InsertRegistrationRow(ctx context.Context, r *RegistrationRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO registrations (id, user_id, application_id, roles, data, verified,
		verified_instant, last_login_instant, authentication_token_hash, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.UserID, r.ApplicationID, rolesJSON(r.Roles), r.Data, r.Verified, nullInt(r.VerifiedInstant),
		nullInt(r.LastLoginInstant), nullString(r.AuthTokenHash), r.InsertInstant, r.LastUpdateInstant)
	return err
}

// UpdateRegistrationRow rewrites a registration's roles, data and token hash.
// Its ids, verification and instants other than the last update stay.
func (tx *Tx) UpdateRegistrationRow(ctx context.Context, r *RegistrationRow) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE registrations SET roles = $2, data = $3, authentication_token_hash = $4,
		last_update_instant = $5 WHERE id = $1`, r.ID, rolesJSON(r.Roles), r.Data, nullString(r.AuthTokenHash), r.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// MarkRegistrationVerified marks a registration verified at an instant.
func (tx *Tx) MarkRegistrationVerified(ctx context.Context, id string, at int64) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE registrations SET verified = $2, verified_instant = $3, last_update_instant = $3
		WHERE id = $1`, id, true, at)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// RegistrationOf finds a user's registration for an application; ErrNoRows
// when there is none.
func (tx *Tx) RegistrationOf(ctx context.Context, userID, applicationID string) (*RegistrationRow, error) {
	return scanRegistration(tx.q.QueryRowContext(ctx, "SELECT "+registrationColumns+
		" FROM registrations WHERE user_id = $1 AND application_id = $2", userID, applicationID))
}

// RegistrationIDTaken reports whether a registration has this id.
func (tx *Tx) RegistrationIDTaken(ctx context.Context, id string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM registrations WHERE id = $1", id).Scan(&n)
	return n > 0, err
}

// RegistrationsOfUsers returns the registrations of each user, oldest first.
// Users without registrations are absent from the map.
func (tx *Tx) RegistrationsOfUsers(ctx context.Context, userIDs []string) (map[string][]*RegistrationRow, error) {
	out := map[string][]*RegistrationRow{}
	for start := 0; start < len(userIDs); start += inBatch {
		ids := userIDs[start:min(start+inBatch, len(userIDs))]
		in, args := idInList(1, ids)
		rows, err := scanAll(scanRegistration)(tx.q.QueryContext(ctx, "SELECT "+registrationColumns+
			" FROM registrations WHERE user_id IN ("+in+") ORDER BY insert_instant, id", args...))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.UserID] = append(out[r.UserID], r)
		}
	}
	return out, nil
}

// DeleteRegistrationRow removes a user's registration for an application.
func (tx *Tx) DeleteRegistrationRow(ctx context.Context, userID, applicationID string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM registrations WHERE user_id = $1 AND application_id = $2", userID, applicationID)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// RegistrationsWithRole returns the registrations of an application that hold
// the role name.
func (tx *Tx) RegistrationsWithRole(ctx context.Context, applicationID, role string) ([]*RegistrationRow, error) {
	// Roles are a JSON array of strings: the LIKE on the encoded name narrows
	// the rows, the decoded list decides.
	enc, err := json.Marshal(role)
	if err != nil {
		return nil, err
	}
	rows, err := scanAll(scanRegistration)(tx.q.QueryContext(ctx, "SELECT "+registrationColumns+
		` FROM registrations WHERE application_id = $1 AND roles LIKE $2 ESCAPE '\' ORDER BY id`,
		applicationID, "%"+escapeLike(string(enc))+"%"))
	if err != nil {
		return nil, err
	}
	var out []*RegistrationRow
	for _, r := range rows {
		for _, name := range r.Roles {
			if name == role {
				out = append(out, r)
				break
			}
		}
	}
	return out, nil
}

// SetRegistrationRoleNames replaces the roles of a registration by id without
// touching its last update instant (a role renamed or deleted on the
// application is not a change the user made).
func (tx *Tx) SetRegistrationRoleNames(ctx context.Context, id string, roles []string) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE registrations SET roles = $2 WHERE id = $1", id, rolesJSON(roles))
	if err != nil {
		return err
	}
	return expectOne(res)
}

// UserTenantIDs maps each existing user id to its tenant; unknown ids are
// absent.
func (tx *Tx) UserTenantIDs(ctx context.Context, userIDs []string) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; start < len(userIDs); start += inBatch {
		ids := userIDs[start:min(start+inBatch, len(userIDs))]
		in, args := idInList(1, ids)
		rows, err := tx.q.QueryContext(ctx, "SELECT id, tenant_id FROM users WHERE id IN ("+in+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, tenant string
			if err := rows.Scan(&id, &tenant); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = tenant
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GroupRoleNames returns the names of the roles of an application that the
// user's groups grant, sorted and without repeats.
func (tx *Tx) GroupRoleNames(ctx context.Context, userID, applicationID string) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT DISTINCT r.name FROM group_members m
		JOIN group_roles gr ON gr.group_id = m.group_id
		JOIN application_roles r ON r.id = gr.role_id
		WHERE m.user_id = $1 AND r.application_id = $2 ORDER BY r.name`, userID, applicationID)
	return scanAll(scanString)(rows, err)
}

// inBatch bounds the ids of one IN list, under every driver's parameter limit.
const inBatch = 500
