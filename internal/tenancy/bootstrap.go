package tenancy

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Bootstrap creates, once per database and in one transaction, what every
// instance has: the Default tenant and the built-in admin application with its
// roles. Concurrent starters race on a unique setting; the loser does nothing.
func (s *Service) Bootstrap(ctx context.Context) error {
	_, done, err := s.store.Read().Setting(ctx, store.SettingBootstrapped)
	if err != nil || done {
		return err
	}
	now := s.now()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		// First statement: on PostgreSQL a concurrent starter blocks here until
		// the winner commits, then fails on the key and rolls back.
		if err := tx.InsertSetting(ctx, store.SettingBootstrapped, strconv.FormatInt(now, 10)); err != nil {
			return err
		}
		tenant := &model.Tenant{ID: uuid.NewString(), Name: "Default", InsertInstant: now, LastUpdateInstant: now}
		// It names FusionAuth's default email templates (internal/email
		// creates them right after).
		data := fmt.Sprintf(`{"emailConfiguration":{"verificationEmailTemplateId":%q,"forgotPasswordEmailTemplateId":%q,`+
			`"passwordlessEmailTemplateId":%q,"setPasswordEmailTemplateId":%q}}`, model.DefaultVerificationEmailTemplateID,
			model.DefaultForgotPasswordEmailTemplateID, model.DefaultPasswordlessEmailTemplateID, model.DefaultSetPasswordEmailTemplateID)
		if err := tx.InsertTenant(ctx, tenant, data); err != nil {
			return fmt.Errorf("create default tenant: %w", err)
		}
		app := &model.Application{ID: model.AdminApplicationID, TenantID: tenant.ID, Name: "FusionAuth",
			Active: true, InsertInstant: now, LastUpdateInstant: now}
		for _, r := range model.AdminRoles {
			app.Roles = append(app.Roles, model.ApplicationRole{ID: r.ID, Name: r.Name, Description: r.Description,
				IsSuperRole: r.Name == "admin", InsertInstant: now, LastUpdateInstant: now})
		}
		if err := tx.InsertApplication(ctx, app, "{}"); err != nil {
			return fmt.Errorf("create admin application: %w", err)
		}
		return s.audit.Write(ctx, tx, kit.Actor{Type: kit.ActorSystem}, audit.Change{
			Message:  "Created the Default tenant and the admin application",
			TargetID: tenant.ID,
		})
	})
	if store.IsUnique(err) {
		return nil // another node bootstrapped first
	}
	return err
}
