package core

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Actor is who made a change, and through which request. Every change is
// attributed to one.
type Actor struct {
	Type   string // ActorAPIKey, ActorUser, ActorCLI, ActorKickstart, ActorSetup, ActorSystem
	ID     string // key id, user id, OS user…
	Name   string // key name, email, "user@host"…
	IP     string
	Method string
	Path   string
}

// Actor types recorded in the audit log.
const (
	ActorAPIKey    = "apiKey"
	ActorUser      = "user"
	ActorCLI       = "cli"
	ActorKickstart = "kickstart"
	ActorSetup     = "setup"
	ActorSystem    = "system"
)

// Label is what FusionAuth calls insertUser: a readable name for the actor.
func (a Actor) Label() string {
	switch {
	case a.Type == ActorAPIKey && a.Name != "":
		return fmt.Sprintf("API key %s (%s)", a.Name, a.ID)
	case a.Type == ActorAPIKey:
		return "API key " + a.ID
	case a.Name != "":
		return a.Name
	case a.ID != "":
		return a.Type + " " + a.ID
	default:
		return a.Type
	}
}

// Change describes one audited state change.
type Change struct {
	Message  string
	TargetID string
	Reason   string
	Critical bool
	Old, New any // snapshots; must not contain secrets
	Data     map[string]any
}

// audit is the one place audit entries are written (and, later, where events
// are emitted). It must run in the transaction that makes the change.
func (s *Service) audit(ctx context.Context, tx *store.Tx, actor Actor, c Change) error {
	entry := &model.AuditLog{
		InsertInstant: s.now(),
		InsertUser:    actor.Label(),
		Message:       c.Message,
		Reason:        c.Reason,
		ActorType:     actor.Type,
		ActorID:       actor.ID,
		Method:        actor.Method,
		Path:          actor.Path,
		TargetID:      c.TargetID,
		IPAddress:     actor.IP,
		Severity:      "info",
	}
	if c.Critical {
		entry.Severity = "critical"
	}
	var err error
	if entry.OldValue, err = marshalOrNil(c.Old); err != nil {
		return err
	}
	if entry.NewValue, err = marshalOrNil(c.New); err != nil {
		return err
	}
	if c.Data != nil {
		if entry.Data, err = json.Marshal(c.Data); err != nil {
			return err
		}
	}
	if _, err := tx.InsertAudit(ctx, entry); err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	if c.Critical {
		s.log.WarnContext(ctx, "critical audit entry", "message", c.Message, "actor", actor.Label(), "target", c.TargetID)
	}
	return nil
}

func marshalOrNil(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}
