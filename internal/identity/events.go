package identity

import (
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

func (s *Service) bareUserObject(row *store.UserRow) (kit.Object, error) {
	return s.UserObject(row, nil, nil)
}

// userEvent is a user event built only when a webhook wants it.
func (s *Service) userEvent(typ string, row *store.UserRow) model.Event {
	return kit.LazyUserEvent(typ, s.bareUserObject, row, nil)
}
