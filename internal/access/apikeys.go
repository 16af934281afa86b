package access

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// newKeyValue makes a key value with 384 bits of entropy (64 characters).
func newKeyValue() string { return secrets.Token(48) }

// mintKey stores a new key in tx, audits it and tells every node's cache. When
// value is empty a random one is made. The returned key has no value in it.
func (s *Service) mintKey(ctx context.Context, tx *store.Tx, actor kit.Actor, k *model.APIKey, value string) (*model.APIKey, secrets.Secret, error) {
	if value == "" {
		value = newKeyValue()
	}
	now := s.now()
	row := &store.APIKeyRow{APIKey: *k}
	if row.ID == "" {
		row.ID = uuid.NewString()
	}
	row.Key = ""
	row.InsertInstant, row.LastUpdateInstant = now, now
	row.Permissions.Endpoints = model.NormalizePermissions(row.Permissions.Endpoints)
	row.KeyHash = hashKey(value)
	if row.Retrievable {
		row.KeySealed = s.master.Seal(value, row.ID)
	}
	if err := tx.InsertAPIKey(ctx, row); err != nil {
		return nil, "", fmt.Errorf("store api key: %w", err)
	}
	out := row.APIKey
	if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: "Created API key " + kit.KeyLabel(&out), TargetID: out.ID, New: &out}); err != nil {
		return nil, "", err
	}
	if err := tx.BumpCacheVersion(ctx, store.CacheAPIKeys); err != nil {
		return nil, "", err
	}
	return &out, secrets.Secret(value), nil
}

// IsFullManager reports whether k is a usable key-manager key with access to
// every endpoint and every tenant from every address: the kind of key whose
// loss locks operators out.
func IsFullManager(k *model.APIKey, nowMillis int64) bool {
	return k.KeyManager && k.AllEndpoints() && k.Global() && k.IPAccessControlListID == "" && !k.Expired(nowMillis)
}

// IsDurableManager reports whether k is a full manager without an expiration
// instant. The last-key guard keeps at least one of these: a full manager that
// expires only postpones the lockout.
func IsDurableManager(k *model.APIKey, nowMillis int64) bool {
	return IsFullManager(k, nowMillis) && k.ExpirationInstant == nil
}

// PermissionEndpoint is one endpoint family a key's permissions may name,
// with the methods it takes.
type PermissionEndpoint struct {
	Endpoint string
	Methods  []string
}

// PermissionEndpoints lists the endpoint families, sorted, for the admin
// UI's permission grid; PermissionMethods is the grid's columns.
func PermissionEndpoints() []PermissionEndpoint {
	out := make([]PermissionEndpoint, 0, len(keyPermissionEndpoints))
	for ep, ms := range keyPermissionEndpoints {
		out = append(out, PermissionEndpoint{Endpoint: ep, Methods: slices.Clone(ms)})
	}
	slices.SortFunc(out, func(a, b PermissionEndpoint) int { return strings.Compare(a.Endpoint, b.Endpoint) })
	return out
}

// PermissionMethods are the methods a key's permissions may name.
func PermissionMethods() []string { return slices.Clone(keyPermissionMethods) }
