package email

import (
	"context"
	"fmt"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// TestRequest is Latch's test-send call, what FusionAuth's admin UI offers
// as "Send test email": one message to ToAddress through the tenant's SMTP
// settings, or through EmailConfiguration when given (its password, when
// left out, is the tenant's stored one), so settings can be tried before
// they are saved.
type TestRequest struct {
	TenantID           string                    `json:"tenantId"`
	ToAddress          string                    `json:"toAddress"`
	EmailConfiguration *model.EmailConfiguration `json:"emailConfiguration"`
}

// ErrTestSendFailed is the general error code of a test message the SMTP
// server did not take.
const ErrTestSendFailed = "EmailSendFailed"

// TestSend sends the test message now, in the request: its point is to show
// the SMTP server's answer.
func (s *Service) TestSend(ctx context.Context, scope kit.TenantScope, req TestRequest) error {
	if !kit.IsEmail(req.ToAddress) {
		return model.FieldError("toAddress", "invalid", "You must specify the [toAddress] to send the test message to.")
	}
	tenantID := req.TenantID
	if tenantID == "" {
		tenantID = scope.Tenant()
	}
	if tenantID == "" {
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			tenantID, err = tx.SoleTenantID(ctx)
			return err
		})
		if err != nil {
			return err
		}
		if tenantID == "" {
			return model.GeneralError("TenantIdRequired", "Send the X-FusionAuth-TenantId header or a [tenantId]: whose SMTP settings to try.")
		}
	}
	if !scope.CanSee(tenantID) {
		return model.FieldError("tenantId", "invalid", "The tenant does not exist.")
	}
	cfg, err := s.tenancy.TenantConfig(ctx, tenantID)
	if err != nil {
		return model.FieldError("tenantId", "invalid", "The tenant does not exist.")
	}
	c := cfg.EmailConfiguration
	if req.EmailConfiguration != nil {
		stored := c.Password
		c = *req.EmailConfiguration
		if c.Password.Reveal() == "" {
			c.Password = stored
		}
		var verrs model.Errors
		kit.OneOf(&verrs, "emailConfiguration.security", c.Security, "NONE", "SSL", "TLS")
		if c.Port < 0 || c.Port > 65535 {
			verrs.Field("emailConfiguration.port", "invalid", "[emailConfiguration.port] must be between 0 and 65535.")
		}
		if err := verrs.Err(); err != nil {
			return err
		}
	}
	msg := &model.Email{To: []model.EmailAddress{{Address: req.ToAddress}}, Subject: "Latch test email",
		Text: "This is a test message from Latch: the SMTP settings of tenant " + cfg.Name + " work."}
	if err := sendSMTP(ctx, &c, msg); err != nil {
		s.log.InfoContext(ctx, "test email not sent", "tenant", tenantID, "err", err)
		return model.GeneralError(ErrTestSendFailed, fmt.Sprintf("The test message was not sent: %v", err))
	}
	return nil
}
