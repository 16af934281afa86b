package model

import (
	"slices"
	"sort"
	"strings"
)

// APIKey is FusionAuth's APIKey object. Key is filled only when the value may be
// shown: on create, and on read for retrievable keys.
type APIKey struct {
	ID                    string            `json:"id,omitempty"`
	Key                   string            `json:"key,omitempty"`
	Name                  string            `json:"name,omitempty"`
	KeyManager            bool              `json:"keyManager"`
	Permissions           APIKeyPermissions `json:"permissions"`
	TenantID              string            `json:"tenantId,omitempty"`
	TenantIDs             []string          `json:"tenantIds,omitempty"` // extension: several tenants
	IPAccessControlListID string            `json:"ipAccessControlListId,omitempty"`
	MetaData              *APIKeyMetaData   `json:"metaData,omitempty"`
	ExpirationInstant     *int64            `json:"expirationInstant,omitempty"`
	Retrievable           bool              `json:"retrievable"`
	InsertInstant         int64             `json:"insertInstant,omitempty"`
	LastUpdateInstant     int64             `json:"lastUpdateInstant,omitempty"`
	LastUsedInstant       *int64            `json:"lastUsedInstant,omitempty"` // extension
	UseCount              int64             `json:"useCount"`                  // extension
}

// APIKeyPermissions lists endpoint families and their methods. An empty map
// means every endpoint, as in FusionAuth.
type APIKeyPermissions struct {
	Endpoints map[string][]string `json:"endpoints"`
}

// APIKeyMetaData carries free-form string attributes.
type APIKeyMetaData struct {
	Attributes map[string]string `json:"attributes,omitempty"`
}

// AllEndpoints reports whether the key may call every endpoint.
func (k *APIKey) AllEndpoints() bool { return len(k.Permissions.Endpoints) == 0 }

// Tenants returns the tenants the key is limited to; nil means all tenants.
func (k *APIKey) Tenants() []string {
	if len(k.TenantIDs) > 0 {
		return k.TenantIDs
	}
	if k.TenantID != "" {
		return []string{k.TenantID}
	}
	return nil
}

// Global reports whether the key may act on every tenant.
func (k *APIKey) Global() bool { return len(k.Tenants()) == 0 }

// Allows reports whether the key's permissions admit method on endpoint family.
// HEAD counts as GET.
func (k *APIKey) Allows(family, method string) bool {
	if k.AllEndpoints() {
		return true
	}
	if method == "HEAD" {
		method = "GET"
	}
	return slices.Contains(k.Permissions.Endpoints[family], method)
}

// Expired reports whether the key has expired at nowMillis. There is no leeway.
func (k *APIKey) Expired(nowMillis int64) bool {
	return k.ExpirationInstant != nil && *k.ExpirationInstant <= nowMillis
}

// Covers reports whether k has at least the authority of other: endpoint and
// method set, tenants, IP access control list and key-manager status.
func (k *APIKey) Covers(other *APIKey) bool {
	if other.KeyManager && !k.KeyManager {
		return false
	}
	// Where a key may be used from is authority too. Lists are not compared
	// entry by entry (they change after the fact): a bound key covers only
	// keys bound to the very same list.
	if k.IPAccessControlListID != "" && other.IPAccessControlListID != k.IPAccessControlListID {
		return false
	}
	if !k.AllEndpoints() {
		if other.AllEndpoints() {
			return false
		}
		for ep, methods := range other.Permissions.Endpoints {
			for _, m := range methods {
				if !slices.Contains(k.Permissions.Endpoints[ep], m) {
					return false
				}
			}
		}
	}
	mine := k.Tenants()
	if mine != nil {
		theirs := other.Tenants()
		if theirs == nil {
			return false
		}
		for _, t := range theirs {
			if !slices.Contains(mine, t) {
				return false
			}
		}
	}
	return true
}

// NormalizePermissions sorts and upper-cases methods and drops empty entries,
// so that equal permission sets compare and store the same way.
func NormalizePermissions(p map[string][]string) map[string][]string {
	out := map[string][]string{}
	for ep, methods := range p {
		var ms []string
		for _, m := range methods {
			m = strings.ToUpper(strings.TrimSpace(m))
			if m != "" && !slices.Contains(ms, m) {
				ms = append(ms, m)
			}
		}
		sort.Strings(ms)
		if len(ms) > 0 {
			out[ep] = ms
		}
	}
	return out
}
