package model_test

import (
	"slices"
	"testing"

	"github.com/latchid/latch/internal/model"
)

// The types FusionAuth marks NonTransactionalEvent never veto; the others
// may, when the tenant says so. Each is one a webhook may enable.
func TestTransactionalEventTypes(t *testing.T) {
	for _, c := range []struct {
		typ  string
		want bool
	}{
		{model.EventUserCreate, true},
		{model.EventGroupMemberRemove, true},
		{"user.create.complete", false},
		{model.EventAuditLogCreate, false},
		{model.EventEventLogCreate, false},
		{model.EventUserTwoFactorChallenge, false},
		{model.EventUserTwoFactorFailedAttempt, false},
		{model.EventUserTwoFactorSuccess, false},
		{model.EventUserLoginIDDuplicateCreate, false},
		{model.EventUserLoginIDDuplicateUpdate, false}, // FusionAuth's OnUpdate event extends OnCreate
	} {
		if got := model.Transactional(c.typ); got != c.want {
			t.Errorf("Transactional(%s) = %v, want %v", c.typ, got, c.want)
		}
		if !slices.Contains(model.EventTypes, c.typ) {
			t.Errorf("%s is not among the event types a webhook may enable", c.typ)
		}
	}
}
