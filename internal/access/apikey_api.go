package access

// The API key API (/api/api-key), FusionAuth's contract with Latch's rules on
// top: no escalation, keyManager never granted, tenant and retrievability
// fixed at creation, the #2811 trap refused, and the last-key guard.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Limits of the key API.
const (
	// MinGivenKeyLength is the shortest key value a caller may choose.
	// FusionAuth's own examples use "super-secret-key" (16 characters).
	MinGivenKeyLength = 16
	apiKeyNameMax     = 255
	// DefaultKeyPageSize and MaxKeyPageSize bound list and search pages.
	DefaultKeyPageSize = 25
	MaxKeyPageSize     = 1000
)

// RecoverKeyCommand is the command the last-key guard's message points to.
const RecoverKeyCommand = "latch recover api-key"

// ErrKeyAuthority means the calling key does not cover (have at least the
// authority of) the key it acts on or would make. It renders as 401, or as the
// configured "authenticated but not permitted" status.
var ErrKeyAuthority = fmt.Errorf("%w: the calling key does not cover the target key", model.ErrUnauthorized)

// KeyCaller is who calls the key API: the authenticated key and the audit actor.
type KeyCaller struct {
	Key   *model.APIKey
	Actor kit.Actor
	// Admin: a signed-in admin of the admin UI, not a key. It has the
	// authority of a global, all-endpoints key manager and may grant
	// keyManager; the last-key guard applies to it as to any caller.
	Admin bool
}

// AdminCaller is the key API's caller for an admin UI action by actor (the
// admin UI checks the admin's roles before it calls).
func AdminCaller(actor kit.Actor) KeyCaller {
	return KeyCaller{Key: &model.APIKey{KeyManager: true}, Actor: actor, Admin: true}
}

// APIKeyRequest is FusionAuth's APIKeyRequest plus our allowAllEndpoints flag.
// APIKey stays raw so that absent, null and given fields can be told apart.
type APIKeyRequest struct {
	APIKey      json.RawMessage `json:"apiKey"`
	SourceKeyID string          `json:"sourceKeyId"`
	// AllowAllEndpoints confirms an update that empties a restricted key's
	// endpoint map, which makes it an all-endpoints key (FusionAuth #2811).
	AllowAllEndpoints bool `json:"allowAllEndpoints"`
}

// KeyChangeOptions adjust an update or delete.
type KeyChangeOptions struct {
	// Patch, when non-nil, is a PATCH body applied in PatchForm to the stored
	// key in request form, {"apiKey":{…}}; the result is then validated as a
	// PUT. allowAllEndpoints may ride along in it.
	Patch     []byte
	PatchForm model.PatchForm
	Force     bool // override the last-key guard (?force=true), with a critical audit entry
}

// keyInput is the apiKey object as sent; nil pointers are absent fields.
// Read-only fields (insertInstant, useCount…) are not listed and so ignored.
type keyInput struct {
	ID                    *string               `json:"id"`
	Key                   *string               `json:"key"`
	Name                  *string               `json:"name"`
	KeyManager            *bool                 `json:"keyManager"`
	Permissions           *keyPermissionsInput  `json:"permissions"`
	TenantID              *string               `json:"tenantId"`
	TenantIDs             []string              `json:"tenantIds"`
	IPAccessControlListID *string               `json:"ipAccessControlListId"`
	MetaData              *model.APIKeyMetaData `json:"metaData"`
	ExpirationInstant     *int64                `json:"expirationInstant"`
	Retrievable           *bool                 `json:"retrievable"`
	present               map[string]bool       // top-level fields given, null or not
	patched               bool                  // the result of a PATCH: every field is as meant
}

type keyPermissionsInput struct {
	Endpoints map[string][]string `json:"endpoints"`
}

func isAbsent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// parseKeyInput decodes the apiKey object. Wrong types are field errors.
func parseKeyInput(raw json.RawMessage) (*keyInput, error) {
	in := &keyInput{present: map[string]bool{}}
	if isAbsent(raw) {
		return in, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, model.FieldError("apiKey", "invalid", "The apiKey must be a JSON object.")
	}
	for name := range fields {
		in.present[name] = true
	}
	if err := model.UnmarshalExact(raw, in, "apiKey"); err != nil {
		var verrs *model.Errors
		if errors.As(err, &verrs) {
			return nil, err
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return nil, model.FieldError("apiKey."+typ.Field, "invalid",
				fmt.Sprintf("The value of [apiKey.%s] must be of type %s.", typ.Field, apiKeyTypeName(typ.Type)))
		}
		return nil, model.FieldError("apiKey", "invalid", "The apiKey object could not be read.")
	}
	return in, nil
}

// apiKeyTypeName is the JSON type of an API key field for errors; the only
// numbers an API key holds are epoch-millisecond instants.
func apiKeyTypeName(t reflect.Type) string {
	if n := kit.JSONTypeName(t); n != "integer" {
		return n
	}
	return "number (epoch milliseconds)"
}

// patchedRequest applies a PATCH body to the stored key in request form and
// reads the result as a full replacement (PUT) request.
func patchedRequest(before *model.APIKey, form model.PatchForm, body []byte) (*keyInput, bool, error) {
	doc, err := json.Marshal(map[string]any{"apiKey": before})
	if err != nil {
		return nil, false, err
	}
	tree, err := model.DecodeJSONValue(doc)
	if err != nil {
		return nil, false, err
	}
	patched, err := model.ApplyPatch(form, tree, body)
	if err != nil {
		return nil, false, err
	}
	out, err := json.Marshal(patched)
	if err != nil {
		return nil, false, err
	}
	var req APIKeyRequest
	if err := model.UnmarshalExact(out, &req, ""); err != nil {
		var verrs *model.Errors
		if errors.As(err, &verrs) {
			return nil, false, err
		}
		return nil, false, model.FieldError("apiKey", "invalid", "The patched request is not an API key request: "+err.Error())
	}
	in, err := parseKeyInput(req.APIKey)
	if err != nil {
		return nil, false, err
	}
	in.patched = true
	return in, req.AllowAllEndpoints, nil
}

// publicKey is a stored key as the API shows it: no value, never null maps.
func publicKey(row *store.APIKeyRow) *model.APIKey {
	k := row.APIKey
	k.Key = ""
	if k.Permissions.Endpoints == nil {
		k.Permissions.Endpoints = map[string][]string{}
	}
	return &k
}

// keyVisible reports whether target lies within the caller's tenants; keys
// outside them are answered with 404, as if they did not exist.
func keyVisible(caller, target *model.APIKey) bool {
	mine := caller.Tenants()
	if mine == nil {
		return true
	}
	theirs := target.Tenants()
	if theirs == nil {
		return false
	}
	for _, t := range theirs {
		if !slices.Contains(mine, t) {
			return false
		}
	}
	return true
}

// normalizeTenants turns tenantIds of one into tenantId and drops repeats, so
// that a key has one spelling of its tenants.
func normalizeTenants(k *model.APIKey) {
	if len(k.TenantIDs) == 0 {
		return
	}
	var ids []string
	for _, id := range k.TenantIDs {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	k.TenantIDs = nil
	switch len(ids) {
	case 0:
	case 1:
		k.TenantID = ids[0]
	default:
		k.TenantIDs = ids
	}
}

func canonicalUUID(s string) (string, bool) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", false
	}
	return u.String(), true
}

// validateGivenKey checks a caller-chosen key value.
func validateGivenKey(v string, errs *model.Errors) {
	n := utf8.RuneCountInString(v)
	switch {
	case n < MinGivenKeyLength:
		errs.Field("apiKey.key", "tooShort", fmt.Sprintf("A given key must be at least %d characters long; leave it out to get a random 64-character key.", MinGivenKeyLength))
	case len(v) > maxKeyLength:
		errs.Field("apiKey.key", "tooLong", fmt.Sprintf("A key must be at most %d bytes long.", maxKeyLength))
	case !utf8.ValidString(v) || strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		errs.Field("apiKey.key", "invalid", "A key must not contain spaces or control characters: it travels in the Authorization header.")
	}
}

// MaxKeyLifetime bounds how far ahead a key's expirationInstant may be.
const MaxKeyLifetime = 100 * 365 * 24 * time.Hour

// checkExpiry refuses an expiry beyond MaxKeyLifetime from now, so that no
// arithmetic on it can overflow.
func checkExpiry(k *model.APIKey, now int64, errs *model.Errors) {
	if k.ExpirationInstant != nil && *k.ExpirationInstant > now+MaxKeyLifetime.Milliseconds() {
		errs.Field("apiKey.expirationInstant", "invalid", "The expiration instant must be at most 100 years from now.")
	}
}

// applyInput writes the given fields of in onto k. With replace (PUT) absent
// fields are cleared; otherwise (create, where k may be a copy's source) they
// are kept. Fields fixed at creation are handled by the callers.
func applyInput(k *model.APIKey, in *keyInput, replace bool, errs *model.Errors) {
	if in.Name != nil || replace {
		k.Name = ""
		if in.Name != nil {
			k.Name = strings.TrimSpace(*in.Name)
		}
	}
	if in.Permissions != nil || replace {
		k.Permissions.Endpoints = nil
		if in.Permissions != nil {
			k.Permissions.Endpoints = in.Permissions.Endpoints
		}
	}
	if in.IPAccessControlListID != nil || replace {
		k.IPAccessControlListID = ""
		if in.IPAccessControlListID != nil {
			k.IPAccessControlListID = strings.TrimSpace(*in.IPAccessControlListID)
		}
	}
	if in.MetaData != nil || replace {
		k.MetaData = in.MetaData
	}
	if in.ExpirationInstant != nil || replace {
		k.ExpirationInstant = in.ExpirationInstant
	}
	if k.ExpirationInstant != nil && *k.ExpirationInstant < 0 {
		errs.Field("apiKey.expirationInstant", "invalid", "The expiration instant must be epoch milliseconds, not negative.")
	}
	if utf8.RuneCountInString(k.Name) > apiKeyNameMax {
		errs.Field("apiKey.name", "tooLong", fmt.Sprintf("The name must be at most %d characters long.", apiKeyNameMax))
	}
	if k.IPAccessControlListID != "" {
		if id, ok := canonicalUUID(k.IPAccessControlListID); ok {
			k.IPAccessControlListID = id
		} else {
			errs.Field("apiKey.ipAccessControlListId", "invalid", "The IP access control list id must be a UUID.")
		}
	}
}

// inputTenants reads tenantId / tenantIds from the request.
func inputTenants(in *keyInput, errs *model.Errors) (tenantID string, tenantIDs []string) {
	if in.TenantID != nil {
		tenantID = strings.TrimSpace(*in.TenantID)
	}
	tenantIDs = in.TenantIDs
	if tenantID != "" && len(tenantIDs) > 0 {
		errs.Field("apiKey.tenantIds", "invalid", "Give either tenantId (one tenant) or tenantIds (several), not both.")
	}
	return tenantID, tenantIDs
}

// validatePermissions checks endpoint families and methods, then normalises.
// wantsAll reports a non-empty map that names no method at all, which would
// silently mean "every endpoint".
func validatePermissions(k *model.APIKey, errs *model.Errors) (wantsAll bool) {
	given := len(k.Permissions.Endpoints) > 0
	bad := false
	eps := make([]string, 0, len(k.Permissions.Endpoints))
	for ep := range k.Permissions.Endpoints {
		eps = append(eps, ep)
	}
	slices.Sort(eps)
	for _, ep := range eps {
		if !IsPermissionEndpoint(ep) {
			errs.Field("apiKey.permissions", "invalid", fmt.Sprintf("[%s] is not an endpoint an API key's permissions can name.", ep))
			bad = true
			continue
		}
		for _, m := range k.Permissions.Endpoints[ep] {
			if !slices.Contains(keyPermissionMethods, strings.ToUpper(strings.TrimSpace(m))) {
				errs.Field("apiKey.permissions", "invalid", fmt.Sprintf("[%s] is not a valid method for [%s]; use DELETE, GET, PATCH, POST or PUT.", m, ep))
				bad = true
			}
		}
	}
	if bad {
		return false
	}
	k.Permissions.Endpoints = model.NormalizePermissions(k.Permissions.Endpoints)
	return given && len(k.Permissions.Endpoints) == 0
}

const allEndpointsMessage = "This would leave the key's permissions without any endpoint, and a key without endpoints may call every endpoint. " +
	"If that is what you want, send \"allowAllEndpoints\": true next to \"apiKey\" in the request body; otherwise list the endpoints the key needs."

// checkReferences refuses unknown tenants and IP ACLs as field errors.
func checkReferences(ctx context.Context, tx *store.Tx, k *model.APIKey, checkTenants bool, errs *model.Errors) error {
	if checkTenants {
		field := "apiKey.tenantId"
		if len(k.TenantIDs) > 0 {
			field = "apiKey.tenantIds"
		}
		for _, t := range k.Tenants() {
			ok, err := tx.TenantExists(ctx, t)
			if err != nil {
				return err
			}
			if !ok {
				errs.Field(field, "invalid", fmt.Sprintf("No tenant has the id [%s].", t))
			}
		}
	}
	if k.IPAccessControlListID != "" {
		_, err := tx.IPACLByID(ctx, k.IPAccessControlListID)
		if errors.Is(err, store.ErrNoRows) {
			errs.Field("apiKey.ipAccessControlListId", "invalid", fmt.Sprintf("No IP access control list has the id [%s].", k.IPAccessControlListID))
		} else if err != nil {
			return err
		}
	}
	return nil
}

// storeError turns constraint violations into the field errors a client can act on.
func storeError(err error) error {
	switch store.APIKeyUniqueField(err) {
	case "name":
		return model.FieldError("apiKey.name", "duplicate", "Another API key already has this name.")
	case "key":
		return model.FieldError("apiKey.key", "duplicate", "Another API key already has this value; choose another or leave it out.")
	case "id":
		return model.FieldError("apiKey.id", "duplicate", "An API key with this id already exists.")
	}
	if store.IsForeignKey(err) {
		return model.FieldError("apiKey.ipAccessControlListId", "invalid", "The IP access control list does not exist.")
	}
	return err
}

// revealed returns k with its value when it is retrievable.
func (s *Service) revealed(row *store.APIKeyRow) (*model.APIKey, error) {
	k := publicKey(row)
	if row.Retrievable && row.KeySealed != "" {
		v, err := s.master.Open(row.KeySealed, row.ID)
		if err != nil {
			return nil, fmt.Errorf("open retrievable api key %s: %w", row.ID, err)
		}
		k.Key = v
	}
	return k, nil
}

// CreateAPIKey makes a key, or copies sourceKeyId's settings into a new one.
// The result carries the value: the only time a non-retrievable key shows it.
func (s *Service) CreateAPIKey(ctx context.Context, c KeyCaller, id string, req APIKeyRequest) (*model.APIKey, error) {
	in, err := parseKeyInput(req.APIKey)
	if err != nil {
		return nil, err
	}
	errs := new(model.Errors)
	if id == "" && in.ID != nil {
		id = strings.TrimSpace(*in.ID)
	}
	if id != "" {
		canon, ok := canonicalUUID(id)
		if !ok {
			errs.Field("apiKey.id", "invalid", "The id must be a UUID.")
		}
		id = canon
	}
	var value string
	if in.Key != nil && *in.Key != "" {
		value = *in.Key
		validateGivenKey(value, errs)
	}
	if in.KeyManager != nil && *in.KeyManager && !c.Admin {
		errs.Field("apiKey.keyManager", "invalid", "The key manager setting cannot be granted through the API; use the admin UI, a kickstart file or "+RecoverKeyCommand+".")
	}
	tenantID, tenantIDs := inputTenants(in, errs)
	sourceID := strings.TrimSpace(req.SourceKeyID)

	var out *model.APIKey
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		k := &model.APIKey{ID: id, Retrievable: true} // retrievable by default, as in FusionAuth
		if sourceID != "" {
			src, err := s.copySource(ctx, tx, c, sourceID)
			if err != nil {
				return err
			}
			if src == nil {
				errs.Field("sourceKeyId", "invalid", "No API key with this id exists.")
			} else {
				k.Permissions.Endpoints = src.Permissions.Endpoints
				k.TenantID, k.TenantIDs = src.TenantID, src.TenantIDs
				k.IPAccessControlListID = src.IPAccessControlListID
				k.MetaData = src.MetaData
				k.Retrievable = src.Retrievable
			}
		}
		applyInput(k, in, false, errs)
		checkExpiry(k, s.now(), errs)
		if tenantID != "" || len(tenantIDs) > 0 {
			k.TenantID, k.TenantIDs = tenantID, tenantIDs
		}
		if in.Retrievable != nil {
			k.Retrievable = *in.Retrievable
		}
		k.KeyManager = c.Admin && in.KeyManager != nil && *in.KeyManager
		normalizeTenants(k)
		if validatePermissions(k, errs) && !req.AllowAllEndpoints {
			errs.Field("apiKey.permissions", "invalid", allEndpointsMessage)
		}
		if err := errs.Err(); err != nil {
			return err
		}
		// Authority before existence: a tenant-scoped caller learns nothing
		// about other tenants from the answer.
		if !c.Key.Covers(k) {
			return ErrKeyAuthority
		}
		if err := checkReferences(ctx, tx, k, true, errs); err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		made, secret, err := s.mintKey(ctx, tx, c.Actor, k, value)
		if err != nil {
			return err
		}
		out = made
		if out.Permissions.Endpoints == nil {
			out.Permissions.Endpoints = map[string][]string{}
		}
		out.Key = secret.Reveal()
		return nil
	})
	if err != nil {
		return nil, storeError(err)
	}
	s.Keys.Refresh(ctx)
	return out, nil
}

// copySource loads the key to copy; nil when it does not exist for the caller.
func (s *Service) copySource(ctx context.Context, tx *store.Tx, c KeyCaller, sourceID string) (*model.APIKey, error) {
	canon, ok := canonicalUUID(sourceID)
	if !ok {
		return nil, nil
	}
	row, err := tx.APIKeyByID(ctx, canon)
	if errors.Is(err, store.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	src := publicKey(row)
	if !keyVisible(c.Key, src) {
		return nil, nil
	}
	if !c.Key.Covers(src) {
		return nil, ErrKeyAuthority
	}
	return src, nil
}

// RetrieveAPIKey returns a key the caller covers; the value only when retrievable.
func (s *Service) RetrieveAPIKey(ctx context.Context, c KeyCaller, id string) (*model.APIKey, error) {
	canon, ok := canonicalUUID(id)
	if !ok {
		return nil, model.NotFoundf("api key %q", id)
	}
	row, err := s.store.Read().APIKeyByID(ctx, canon)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("api key %s", canon)
	}
	if err != nil {
		return nil, err
	}
	if err := authorizeTarget(c, &row.APIKey); err != nil {
		return nil, err
	}
	return s.revealed(row)
}

func authorizeTarget(c KeyCaller, target *model.APIKey) error {
	if !keyVisible(c.Key, target) {
		return model.NotFoundf("api key %s is outside the caller's tenants", target.ID)
	}
	if !c.Key.Covers(target) {
		return ErrKeyAuthority
	}
	return nil
}

// lockedTarget locks key changes, reads every key (for the last-key guard) and
// finds the target, checking the caller may act on it. The caller's authority
// is re-read from the same snapshot: a key narrowed or deleted by a change
// that committed after it authenticated acts with what it has now.
func lockedTarget(ctx context.Context, tx *store.Tx, c *KeyCaller, id string, now int64) (*store.APIKeyRow, []*store.APIKeyRow, error) {
	canon, ok := canonicalUUID(id)
	if !ok {
		return nil, nil, model.NotFoundf("api key %q", id)
	}
	if err := tx.LockAPIKeys(ctx); err != nil {
		return nil, nil, err
	}
	all, err := tx.AllAPIKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	if c.Admin { // not a key: nothing to re-read
		i := slices.IndexFunc(all, func(r *store.APIKeyRow) bool { return r.ID == canon })
		if i < 0 {
			return nil, nil, model.NotFoundf("api key %s", canon)
		}
		return all[i], all, nil
	}
	ci := slices.IndexFunc(all, func(r *store.APIKeyRow) bool { return r.ID == c.Key.ID })
	if ci < 0 || !all[ci].KeyManager || all[ci].Expired(now) {
		return nil, nil, fmt.Errorf("%w: the calling key changed while its request ran", model.ErrUnauthorized)
	}
	c.Key = &all[ci].APIKey
	i := slices.IndexFunc(all, func(r *store.APIKeyRow) bool { return r.ID == canon })
	if i < 0 {
		return nil, nil, model.NotFoundf("api key %s", canon)
	}
	if err := authorizeTarget(*c, &all[i].APIKey); err != nil {
		return nil, nil, err
	}
	return all[i], all, nil
}

// UpdateAPIKey replaces (PUT) or patches (PATCH) a key's changeable fields.
func (s *Service) UpdateAPIKey(ctx context.Context, c KeyCaller, id string, req APIKeyRequest, opt KeyChangeOptions) (*model.APIKey, error) {
	if opt.Patch == nil && isAbsent(req.APIKey) {
		return nil, model.FieldError("apiKey", "missing", "The request must contain an apiKey object.")
	}
	var out *store.APIKeyRow
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		row, all, err := lockedTarget(ctx, tx, &c, id, s.now())
		if err != nil {
			return err
		}
		before := publicKey(row)
		in, allowAll := (*keyInput)(nil), req.AllowAllEndpoints
		if opt.Patch != nil {
			in, allowAll, err = patchedRequest(before, opt.PatchForm, opt.Patch)
		} else {
			in, err = parseKeyInput(req.APIKey)
		}
		if err != nil {
			return err
		}
		after := *before
		after.Permissions.Endpoints = cloneEndpoints(before.Permissions.Endpoints)
		errs := new(model.Errors)
		applyInput(&after, in, true, errs)
		checkExpiry(&after, s.now(), errs)

		// keyManager: may be kept or dropped, never granted. Absent means
		// false, as in FusionAuth's PUT.
		after.KeyManager = in.KeyManager != nil && *in.KeyManager
		if after.KeyManager && !before.KeyManager && !c.Admin {
			errs.Field("apiKey.keyManager", "invalid", "The key manager setting cannot be granted through the API; use the admin UI, a kickstart file or "+RecoverKeyCommand+".")
		}
		// Fixed at creation. Absent keeps them; the Go client always sends
		// "retrievable": false, so false is never read as a change request.
		if in.Retrievable != nil && *in.Retrievable && !before.Retrievable {
			errs.Field("apiKey.retrievable", "immutable", "Whether a key is retrievable is fixed when it is created; create a new key instead.")
		}
		if in.patched || in.present["tenantId"] || in.present["tenantIds"] {
			tenantID, tenantIDs := inputTenants(in, errs)
			probe := model.APIKey{TenantID: tenantID, TenantIDs: tenantIDs}
			normalizeTenants(&probe)
			if !slices.Equal(probe.Tenants(), before.Tenants()) && errs.FieldErrors["apiKey.tenantIds"] == nil {
				field := "apiKey.tenantId"
				if len(before.TenantIDs) > 0 || len(tenantIDs) > 0 {
					field = "apiKey.tenantIds"
				}
				errs.Field(field, "immutable", "A key's tenant is fixed when it is created; create a new key for another tenant.")
			}
		}
		if in.Key != nil && *in.Key != "" && hashKey(*in.Key) != row.KeyHash {
			errs.Field("apiKey.key", "immutable", "A key's value cannot be changed; create a new key instead.")
		}
		wantsAll := validatePermissions(&after, errs)
		if (wantsAll || (after.AllEndpoints() && !before.AllEndpoints())) && !allowAll {
			errs.Field("apiKey.permissions", "invalid", allEndpointsMessage)
		}
		if err := errs.Err(); err != nil {
			return err
		}
		if !c.Key.Covers(&after) {
			return ErrKeyAuthority
		}
		if err := checkReferences(ctx, tx, &after, false, errs); err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		now := s.now()
		guard := lastKeyGuard(all, before, &after, c.Key.ID, now)
		if guard != "" && !opt.Force {
			return model.GeneralError("LastKeyManagerKey", guard)
		}
		after.LastUpdateInstant = now
		next := &store.APIKeyRow{APIKey: after, KeyHash: row.KeyHash, KeySealed: row.KeySealed}
		next.Key = ""
		if err := tx.UpdateAPIKey(ctx, next); err != nil {
			return fmt.Errorf("update api key: %w", err)
		}
		change := audit.Change{Message: "Updated API key " + kit.KeyLabel(&after), TargetID: after.ID, Old: before, New: publicKey(next)}
		if guard != "" {
			change.Critical = true
			change.Reason = "forced past the last-key guard"
			change.Message = "Forced past the last-key guard: updated API key " + kit.KeyLabel(&after) + " (" + guard + ")"
		}
		if err := s.audit.Write(ctx, tx, c.Actor, change); err != nil {
			return err
		}
		if err := tx.BumpCacheVersion(ctx, store.CacheAPIKeys); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, storeError(err)
	}
	s.Keys.Refresh(ctx)
	return s.revealed(out)
}

func cloneEndpoints(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

// DeleteAPIKey removes a key, unless the last-key guard refuses and force is
// not given.
func (s *Service) DeleteAPIKey(ctx context.Context, c KeyCaller, id string, opt KeyChangeOptions) error {
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		row, all, err := lockedTarget(ctx, tx, &c, id, s.now())
		if err != nil {
			return err
		}
		before := publicKey(row)
		guard := lastKeyGuard(all, before, nil, c.Key.ID, s.now())
		if guard != "" && !opt.Force {
			return model.GeneralError("LastKeyManagerKey", guard)
		}
		if err := tx.DeleteAPIKey(ctx, row.ID); err != nil {
			return fmt.Errorf("delete api key: %w", err)
		}
		change := audit.Change{Message: "Deleted API key " + kit.KeyLabel(before), TargetID: before.ID, Old: before}
		if guard != "" {
			change.Critical = true
			change.Reason = "forced past the last-key guard"
			change.Message = "Forced past the last-key guard: deleted API key " + kit.KeyLabel(before) + " (" + guard + ")"
		}
		if err := s.audit.Write(ctx, tx, c.Actor, change); err != nil {
			return err
		}
		return tx.BumpCacheVersion(ctx, store.CacheAPIKeys)
	})
	if err != nil {
		return err
	}
	s.Keys.Refresh(ctx)
	return nil
}

// managementSpan is how long full key management stays possible: forever
// while a durable manager exists, else until the last full manager expires.
// The zero value means no full manager at all.
type managementSpan struct {
	forever bool
	until   int64 // epoch ms; meaningful when !forever
}

// spanOf is the span key k alone gives: none unless it is a full manager.
func spanOf(k *model.APIKey, now int64) managementSpan {
	switch {
	case !IsFullManager(k, now):
		return managementSpan{}
	case k.ExpirationInstant == nil:
		return managementSpan{forever: true}
	default:
		return managementSpan{until: *k.ExpirationInstant}
	}
}

// lifetime is how long k can be used at all, whatever its authority.
func lifetime(k *model.APIKey) managementSpan {
	if k.ExpirationInstant == nil {
		return managementSpan{forever: true}
	}
	return managementSpan{until: *k.ExpirationInstant}
}

func (a managementSpan) join(b managementSpan) managementSpan {
	return managementSpan{forever: a.forever || b.forever, until: max(a.until, b.until)}
}

// lasts reports whether a lasts at least as long as b.
func (a managementSpan) lasts(b managementSpan) bool {
	return a.forever || (!b.forever && a.until >= b.until)
}

// lastKeyGuard says why a change must be refused, or "" when it may go ahead.
// after is nil for a delete. A change needs force when it shortens how long
// full key management stays possible: when it leaves no durable manager (see
// IsDurableManager) where there was one, since expiring managers only postpone
// the lockout; or, where every full manager already expires, when it brings
// the last expiry forward. A key may also not delete itself unless full
// managers remain that last at least as long as it would have.
func lastKeyGuard(all []*store.APIKeyRow, before, after *model.APIKey, callerID string, now int64) string {
	var rest managementSpan
	for _, k := range all {
		if k.ID != before.ID {
			rest = rest.join(spanOf(&k.APIKey, now))
		}
	}
	was, will := rest.join(spanOf(before, now)), rest
	if after != nil {
		will = rest.join(spanOf(after, now))
	}
	if !will.lasts(was) {
		return lossMessage(before, after, was, will, now)
	}
	if after == nil && before.ID == callerID && !rest.lasts(lifetime(before)) {
		return "A key cannot delete itself unless another key-manager key with access to every endpoint and tenant remains " +
			"that lasts at least as long (without an expiry, or expiring later). To delete it anyway, repeat the request with ?force=true; " +
			"to regain access later, run `" + RecoverKeyCommand + "` on the server."
	}
	return ""
}

// lossMessage says in plain words what a refused change would lose.
func lossMessage(before, after *model.APIKey, was, will managementSpan, now int64) string {
	var what string
	switch {
	case after == nil:
		what = "Deleting this key"
	case !after.KeyManager:
		what = "Demoting this key"
	case after.Expired(now):
		what = "Expiring this key"
	case !IsFullManager(after, now):
		what = "Restricting this key"
	case before.ExpirationInstant == nil:
		what = "Giving this key an expiry"
	default:
		what = "Bringing this key's expiry forward"
	}
	var loss string
	switch {
	case !will.forever && will.until == 0:
		loss = "would leave no key-manager key with access to every endpoint and tenant, which locks out API key management."
	case was.forever:
		loss = "would leave only key-manager keys with access to every endpoint and tenant that expire, the last at " +
			rfc3339(will.until) + "; after that no key could manage API keys."
	default:
		loss = "would make the last key-manager key with access to every endpoint and tenant expire sooner, at " +
			rfc3339(will.until) + " instead of " + rfc3339(was.until) + "."
	}
	return what + " " + loss + " To go ahead anyway, repeat the request with ?force=true; to regain access later, run `" +
		RecoverKeyCommand + "` on the server."
}

func rfc3339(millis int64) string { return time.UnixMilli(millis).UTC().Format(time.RFC3339) }

// APIKeySearch is the criteria of GET /api/api-key and POST /api/api-key/search.
type APIKeySearch struct {
	Name            string `json:"name"`
	TenantID        string `json:"tenantId"`
	KeyManager      *bool  `json:"keyManager"`
	Expired         *bool  `json:"expired"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// SearchAPIKeys lists the keys the caller covers, without their values.
func (s *Service) SearchAPIKeys(ctx context.Context, c KeyCaller, q APIKeySearch, field string) ([]*model.APIKey, int, error) {
	errs := new(model.Errors)
	if q.StartRow < 0 {
		errs.Field(field+"startRow", "invalid", "startRow must not be negative.")
	}
	if q.NumberOfResults == 0 {
		q.NumberOfResults = DefaultKeyPageSize
	}
	if q.NumberOfResults < 0 || q.NumberOfResults > MaxKeyPageSize {
		errs.Field(field+"numberOfResults", "invalid", fmt.Sprintf("numberOfResults must be between 1 and %d.", MaxKeyPageSize))
	}
	if err := errs.Err(); err != nil {
		return nil, 0, err
	}
	f := store.APIKeyFilter{Name: strings.Trim(strings.TrimSpace(q.Name), "*"), TenantID: strings.TrimSpace(q.TenantID),
		KeyManager: q.KeyManager, Expired: q.Expired, Now: s.now()}
	rd := s.store.Read()
	everything := &model.APIKey{KeyManager: true}
	if c.Key.Covers(everything) { // a global, all-endpoints manager sees every key: page in SQL
		rows, total, err := rd.ListAPIKeys(ctx, f, q.StartRow, q.NumberOfResults)
		if err != nil {
			return nil, 0, err
		}
		out := make([]*model.APIKey, 0, len(rows))
		for _, r := range rows {
			out = append(out, publicKey(r))
		}
		return out, total, nil
	}
	rows, _, err := rd.ListAPIKeys(ctx, f, 0, math.MaxInt32)
	if err != nil {
		return nil, 0, err
	}
	var seen []*model.APIKey
	for _, r := range rows {
		if k := publicKey(r); keyVisible(c.Key, k) && c.Key.Covers(k) {
			seen = append(seen, k)
		}
	}
	total := len(seen)
	start := min(q.StartRow, total)
	end := min(start+q.NumberOfResults, total)
	return append([]*model.APIKey{}, seen[start:end]...), total, nil
}
