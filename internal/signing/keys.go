package signing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Signing keys, FusionAuth's /api/key (Key Master). The cryptography lives in
// internal/keys; this file stores keys (private material sealed under the
// master key), audits every change and tells every node's Cache
// through the signing_keys cache version, bumped in the same transaction.

// keyField prefixes validation fields, as FusionAuth names them.
const keyField = "key"

// DefaultKeyName is the name of the key every instance starts with.
const DefaultKeyName = "Default signing key"

// defaultSigningKeyAlgorithm is the algorithm of the default signing key
// (see EnsureDefaultSigningKey for why).
const defaultSigningKeyAlgorithm = "ES256"

// settingDefaultSigningKey records that the default key was made, so that it
// is made once per database even if an operator later deletes it.
const settingDefaultSigningKey = "default_signing_key_instant"

// defaultIssuer is FusionAuth's default tenant issuer, used when the Default
// tenant names none.
const defaultIssuer = "acme.com"

// maxSigningKeyNameLength bounds key names.
const maxSigningKeyNameLength = 191

// KeyLength reads FusionAuth's key.length, which clients send as a number or
// (as its docs type it) a numeric string.
type KeyLength int

// UnmarshalJSON accepts 2048 and "2048".
func (l *KeyLength) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*l = KeyLength(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("length must be a number")
	}
	if strings.TrimSpace(s) == "" {
		*l = 0
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("length must be a number")
	}
	*l = KeyLength(n)
	return nil
}

// KeyInput is FusionAuth's Key as a request sends it. Private material only
// ever travels inward: the response type, model.Key, has no field for it, and
// the secrets here redact themselves if printed.
type KeyInput struct {
	Algorithm   string         `json:"algorithm"`
	Certificate string         `json:"certificate"`
	Issuer      string         `json:"issuer"`
	Kid         string         `json:"kid"`
	Length      KeyLength      `json:"length"`
	Name        string         `json:"name"`
	PrivateKey  secrets.Secret `json:"privateKey"`
	PublicKey   string         `json:"publicKey"`
	Secret      secrets.Secret `json:"secret"`
	Type        string         `json:"type"`
}

// KeySearch is FusionAuth's KeySearchCriteria.
type KeySearch struct {
	Algorithm       string `json:"algorithm"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// publicSigningKey is what the API shows of a stored key: never its private
// key or secret; for an HMAC key, nothing but its names.
func publicSigningKey(r *store.SigningKeyRow) *model.Key {
	k := &model.Key{ID: r.ID, Algorithm: r.Algorithm, Kid: r.Kid, Name: r.Name, Type: r.Type,
		InsertInstant: r.InsertInstant, LastUpdateInstant: r.LastUpdateInstant}
	if r.Type == model.KeyTypeHMAC {
		return k
	}
	has := r.PrivateSealed != ""
	k.HasPrivateKey = &has
	k.PublicKey, k.Certificate, k.Length, k.Issuer, k.ExpirationInstant = r.PublicKey, r.Certificate, r.Length, r.Issuer, r.ExpirationInstant
	if r.Certificate != "" {
		if info, err := keys.DescribeCertificate(r.Certificate); err == nil {
			k.CertificateInformation = info
		}
	}
	return k
}

func signingKeyLabel(name, id string) string { return fmt.Sprintf("[%s] (%s)", name, id) }

// List returns every key, oldest first.
func (s *Service) List(ctx context.Context) ([]*model.Key, error) {
	rows, err := s.store.Read().AllSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	out := make([]*model.Key, 0, len(rows))
	for _, r := range rows {
		out = append(out, publicSigningKey(r))
	}
	return out, nil
}

// Key returns one key, or model.ErrNotFound.
func (s *Service) Key(ctx context.Context, id string) (*model.Key, error) {
	row, err := s.row(ctx, s.store.Read(), id)
	if err != nil {
		return nil, err
	}
	return publicSigningKey(row), nil
}

func (s *Service) row(ctx context.Context, tx *store.Tx, id string) (*store.SigningKeyRow, error) {
	u, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return nil, model.NotFoundf("signing key %q", id)
	}
	row, err := tx.SigningKeyByID(ctx, u.String())
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("signing key %s", u)
	}
	return row, err
}

// Search finds keys by name (FusionAuth's "*" wildcards; a value
// without one matches anywhere), algorithm and type.
func (s *Service) Search(ctx context.Context, q KeySearch) ([]*model.Key, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.SigningKeyOrderColumns)
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be one of algorithm, expiration, id, insertInstant, name or type, optionally followed by ASC or DESC.")
	}
	sq := store.SigningKeyQuery{OrderBy: col, Descending: desc}
	if strings.TrimSpace(q.Name) != "" {
		sq.Name = store.LikePattern(strings.TrimSpace(q.Name))
	}
	if a := strings.TrimSpace(q.Algorithm); a != "" {
		if sq.Algorithm, ok = keys.CanonicalAlgorithm(a); !ok {
			verrs.Field("search.algorithm", "invalid", "The algorithm must be one of "+strings.Join(keys.Algorithms(), ", ")+".")
		}
	}
	if t := strings.TrimSpace(q.Type); t != "" {
		if sq.Type, ok = keys.CanonicalType(t); !ok {
			verrs.Field("search.type", "invalid", "The type must be one of "+strings.Join(keys.Types(), ", ")+".")
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	rows, total, err := s.store.Read().SearchSigningKeys(ctx, sq, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search signing keys: %w", err)
	}
	out := make([]*model.Key, 0, len(rows))
	for _, r := range rows {
		out = append(out, publicSigningKey(r))
	}
	return out, total, nil
}

// checkNewKey validates what generate and import share: the request object,
// the id in the path (a UUID, or empty for a fresh one) and the name.
func checkNewKey(id string, in *KeyInput, verrs *model.Errors) (string, string) {
	if in == nil {
		verrs.Field(keyField, "missing", "The request must have a key object.")
		return "", ""
	}
	if id == "" {
		id = uuid.NewString()
	} else if u, err := uuid.Parse(id); err != nil {
		verrs.Field(keyField+".id", "invalid", "The id must be a UUID.")
	} else {
		id = u.String()
	}
	name := checkKeyName(in.Name, verrs)
	return id, name
}

func checkKeyName(name string, verrs *model.Errors) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		verrs.Field(keyField+".name", "blank", "The name is required.")
	case len(name) > maxSigningKeyNameLength:
		verrs.Field(keyField+".name", "tooLong", fmt.Sprintf("The name must be at most %d characters long.", maxSigningKeyNameLength))
	}
	return name
}

// Generate makes a key pair (with a self-signed certificate) or an
// HMAC secret. id may be empty (one is generated) or a UUID the caller chose.
func (s *Service) Generate(ctx context.Context, actor kit.Actor, id string, in *KeyInput) (*model.Key, error) {
	verrs := &model.Errors{}
	id, name := checkNewKey(id, in, verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	// Cheap checks before the expensive part: an RSA 4096 key takes seconds.
	if err := s.checkKeyFree(ctx, s.store.Read(), id, name, ""); err != nil {
		return nil, err
	}
	issuer := strings.TrimSpace(in.Issuer)
	if issuer == "" {
		issuer = s.defaultIssuer(ctx, s.store.Read())
	}
	serial, _ := uuid.Parse(id)
	m, err := keys.Generate(keys.GenerateRequest{Algorithm: in.Algorithm, Length: int(in.Length), Issuer: issuer,
		Serial: serial[:], Now: s.clock.Now()})
	if err != nil {
		return nil, err
	}
	return s.storeSigningKey(ctx, actor, id, name, m, "Generated")
}

// Import stores a key brought in from elsewhere: a certificate, a
// public key, a private key (or several of them that belong together), or an
// HMAC secret.
func (s *Service) Import(ctx context.Context, actor kit.Actor, id string, in *KeyInput) (*model.Key, error) {
	verrs := &model.Errors{}
	id, name := checkNewKey(id, in, verrs)
	var m *keys.Material
	if in != nil {
		var err error
		m, err = keys.Import(keys.ImportRequest{Algorithm: in.Algorithm, Type: in.Type, Kid: strings.TrimSpace(in.Kid),
			PublicKey: in.PublicKey, PrivateKey: in.PrivateKey.Reveal(), Certificate: in.Certificate, Secret: in.Secret.Reveal()})
		var kerrs *model.Errors
		switch {
		case errors.As(err, &kerrs):
			mergeErrors(verrs, kerrs)
		case err != nil:
			return nil, err
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	return s.storeSigningKey(ctx, actor, id, name, m, "Imported")
}

func mergeErrors(into, from *model.Errors) {
	for f, items := range from.FieldErrors {
		if into.FieldErrors == nil {
			into.FieldErrors = map[string][]model.ErrorItem{}
		}
		into.FieldErrors[f] = append(into.FieldErrors[f], items...)
	}
	into.GeneralErrors = append(into.GeneralErrors, from.GeneralErrors...)
}

// storeSigningKey writes a new key, sealed, audits it and bumps the cache
// version, in one transaction; then this node's cache sees it at once.
func (s *Service) storeSigningKey(ctx context.Context, actor kit.Actor, id, name string, m *keys.Material, verb string) (*model.Key, error) {
	row := s.signingKeyRow(id, name, m)
	out := publicSigningKey(row)
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.checkKeyFree(ctx, tx, id, name, m.Kid); err != nil {
			return err
		}
		if err := tx.InsertSigningKey(ctx, row); err != nil {
			return signingKeyWriteError(err)
		}
		return s.changed(ctx, tx, actor, audit.Change{Message: verb + " signing key " + signingKeyLabel(name, id),
			TargetID: id, New: out})
	})
	if err != nil {
		return nil, err
	}
	s.Cache.Refresh(ctx)
	return out, nil
}

// signingKeyRow is the row of new key material, its private part sealed.
func (s *Service) signingKeyRow(id, name string, m *keys.Material) *store.SigningKeyRow {
	now := s.now()
	row := &store.SigningKeyRow{ID: id, Name: name, Algorithm: m.Algorithm, Type: m.Type, Length: m.Length, Kid: m.Kid,
		PublicKey: m.PublicKey, Certificate: m.Certificate, Issuer: m.Issuer, ExpirationInstant: m.ExpirationMillis(),
		InsertInstant: now, LastUpdateInstant: now}
	if m.Private != "" {
		row.PrivateSealed = s.master.Seal(m.Private, signingKeyAD(id))
	}
	return row
}

// checkKeyFree reports a taken id, name or kid (kid "" is not checked).
func (s *Service) checkKeyFree(ctx context.Context, tx *store.Tx, id, name, kid string) error {
	verrs := &model.Errors{}
	if _, err := tx.SigningKeyByID(ctx, id); err == nil {
		verrs.Field(keyField+".id", "duplicate", "A key with this id already exists.")
	} else if !errors.Is(err, store.ErrNoRows) {
		return err
	}
	if taken, err := tx.SigningKeyNameTaken(ctx, name, id); err != nil {
		return err
	} else if taken {
		verrs.Field(keyField+".name", "duplicate", "A key with this name already exists.")
	}
	if kid != "" {
		if taken, err := tx.SigningKeyKidTaken(ctx, kid); err != nil {
			return err
		} else if taken {
			verrs.Field(keyField+".kid", "duplicate", "A key with this kid already exists.")
		}
	}
	return verrs.Err()
}

// signingKeyWriteError turns a unique violation that slipped past the checks
// (a concurrent writer) into the matching duplicate error.
func signingKeyWriteError(err error) error {
	switch store.SigningKeyUniqueField(err) {
	case "name":
		return model.FieldError(keyField+".name", "duplicate", "A key with this name already exists.")
	case "kid":
		return model.FieldError(keyField+".kid", "duplicate", "A key with this kid already exists.")
	case "id":
		return model.FieldError(keyField+".id", "duplicate", "A key with this id already exists.")
	}
	return err
}

// changed audits a change to a key, with its jwt.public-key.update events,
// and tells every node's signing key cache, inside tx.
func (s *Service) changed(ctx context.Context, tx *store.Tx, actor kit.Actor, c audit.Change) error {
	evs, err := s.publicKeyEvents(ctx, tx, c.TargetID)
	if err != nil {
		return err
	}
	c.Events = append(c.Events, evs...)
	if err := s.audit.Write(ctx, tx, actor, c); err != nil {
		return err
	}
	return tx.BumpCacheVersion(ctx, store.CacheSigningKeys)
}

// Update renames a key: as in FusionAuth, the name is all that
// changes; a new certificate or algorithm is a new key (import it).
func (s *Service) Update(ctx context.Context, actor kit.Actor, id string, in *KeyInput) (*model.Key, error) {
	var out *model.Key
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := s.row(ctx, tx, id)
		if err != nil {
			return err
		}
		verrs := &model.Errors{}
		if in == nil {
			verrs.Field(keyField, "missing", "The request must have a key object.")
			return verrs
		}
		name := checkKeyName(in.Name, verrs)
		if err := verrs.Err(); err != nil {
			return err
		}
		if taken, err := tx.SigningKeyNameTaken(ctx, name, cur.ID); err != nil {
			return err
		} else if taken {
			return model.FieldError(keyField+".name", "duplicate", "A key with this name already exists.")
		}
		now := s.now()
		if err := tx.RenameSigningKey(ctx, cur.ID, name, now); err != nil {
			return signingKeyWriteError(err)
		}
		before := publicSigningKey(cur)
		next := *cur
		next.Name, next.LastUpdateInstant = name, now
		out = publicSigningKey(&next)
		return s.changed(ctx, tx, actor, audit.Change{Message: "Updated signing key " + signingKeyLabel(name, cur.ID),
			TargetID: cur.ID, Old: before, New: out})
	})
	if err != nil {
		return nil, err
	}
	s.Cache.Refresh(ctx)
	return out, nil
}

// maxHoldersNamed bounds how many users of a key an "in use" error lists.
const maxHoldersNamed = 5

// Delete removes a key. A key a tenant or an application is
// configured with (its JWT signing keys, or any other *KeyId setting) is
// refused with a 400 that says where it is used.
func (s *Service) Delete(ctx context.Context, actor kit.Actor, id string) error {
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := s.row(ctx, tx, id)
		if err != nil {
			return err
		}
		// Lock first: a tenant or application naming the key meanwhile
		// either commits before we read the holders or finds it gone.
		if _, err := tx.LockSigningKey(ctx, cur.ID); err != nil {
			return err
		}
		uses, err := signingKeyUses(ctx, tx, cur.ID)
		if err != nil {
			return err
		}
		if len(uses) > 0 {
			return keyInUse(uses)
		}
		if err := tx.DeleteSigningKey(ctx, cur.ID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("signing key %s", cur.ID)
			}
			return err
		}
		return s.changed(ctx, tx, actor, audit.Change{Message: "Deleted signing key " + signingKeyLabel(cur.Name, cur.ID),
			TargetID: cur.ID, Old: publicSigningKey(cur)})
	})
	if err != nil {
		return err
	}
	s.Cache.Refresh(ctx)
	return nil
}

// signingKeyUses lists where tenants and applications name the key: any
// setting whose name ends in "KeyId" (jwtConfiguration.accessTokenKeyId and
// idTokenKeyId today; SAML, identity provider and webhook keys as they come)
// holding the key's id. The store finds candidates by text; this confirms
// them, so a key id that merely appears in some other field does not count.
func signingKeyUses(ctx context.Context, tx *store.Tx, id string) ([]string, error) {
	found, err := keyUses(ctx, tx, id)
	var uses []string
	for _, u := range found {
		uses = append(uses, fmt.Sprintf("%s [%s] (%s) as %s", u.Kind, u.Name, u.ID, u.Path))
	}
	return uses, err
}

// KeyUse is one setting that names a signing key: Kind is "tenant",
// "application" or "entity type", Path the setting's dotted name
// (jwtConfiguration.accessTokenKeyId).
type KeyUse struct{ Kind, ID, Name, Path string }

// Uses lists where tenants, applications and entity types name the key.
func (s *Service) Uses(ctx context.Context, id string) ([]KeyUse, error) {
	return keyUses(ctx, s.store.Read(), id)
}

func keyUses(ctx context.Context, tx *store.Tx, id string) ([]KeyUse, error) {
	holders, err := tx.Holders(ctx, id)
	if err != nil {
		return nil, err
	}
	var uses []KeyUse
	for _, h := range holders {
		var doc any
		if err := json.Unmarshal([]byte(h.Data), &doc); err != nil {
			continue // not ours to judge; the owner's reads report it
		}
		for _, path := range keyIDPaths(doc, "", id) {
			uses = append(uses, KeyUse{Kind: h.Kind, ID: h.ID, Name: h.Name, Path: path})
		}
	}
	return uses, nil
}

// keyIDPaths finds the dotted paths under v whose member name ends in "KeyId"
// (or is "keyId") and whose value is id.
func keyIDPaths(v any, prefix, id string) []string {
	var out []string
	switch t := v.(type) {
	case map[string]any:
		names := make([]string, 0, len(t))
		for k := range t {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			if sv, ok := t[k].(string); ok {
				if (k == "keyId" || strings.HasSuffix(k, "KeyId")) && strings.EqualFold(strings.TrimSpace(sv), id) {
					out = append(out, path)
				}
				continue
			}
			out = append(out, keyIDPaths(t[k], path, id)...)
		}
	case []any:
		for i, e := range t {
			out = append(out, keyIDPaths(e, fmt.Sprintf("%s[%d]", prefix, i), id)...)
		}
	}
	return out
}

func keyInUse(uses []string) error {
	more := ""
	if len(uses) > maxHoldersNamed {
		more = fmt.Sprintf(" and %d more", len(uses)-maxHoldersNamed)
		uses = uses[:maxHoldersNamed]
	}
	return model.GeneralError("KeyInUse", "The key is in use by "+strings.Join(uses, "; ")+more+
		". Configure another key there before deleting this one.")
}

// defaultIssuer is the Default tenant's issuer, FusionAuth's default for a
// generated key's certificate.
func (s *Service) defaultIssuer(ctx context.Context, tx *store.Tx) string {
	_, data, err := tx.DefaultTenantData(ctx, model.AdminApplicationID)
	if err != nil {
		return defaultIssuer
	}
	var t struct {
		Issuer string `json:"issuer"`
	}
	if kit.DecodeStored(data, tenancy.TenantFields, &t) != nil || strings.TrimSpace(t.Issuer) == "" {
		return defaultIssuer
	}
	return strings.TrimSpace(t.Issuer)
}

// EnsureDefault makes, once per database, the key every instance
// starts with: an ES256 (P-256) key pair named "Default signing key", and
// makes it the Default tenant's access and id token key where the tenant
// names none. FusionAuth starts with an HMAC key, which no third party can
// verify; a key pair is published in the JWKS so anyone can. ES256 rather
// than RS256: signing costs about 53 µs against 1.55 ms for RSA-2048 (a
// login signs one token, so RSA would cost a quarter of a login's PBKDF2
// check), and making the pair takes microseconds where RSA-2048 key
// generation takes a large, variable part of the first start. No second
// RSA key is made for id tokens: Latch issues none yet, and whoever needs
// RS256 (e.g. an OIDC client expecting the default id_token algorithm)
// generates one and names it in idTokenKeyId.
// Concurrent starters race on a unique setting inside the transaction; the
// loser rolls back and does nothing. A deleted default key is not remade.
func (s *Service) EnsureDefault(ctx context.Context) error {
	_, done, err := s.store.Read().Setting(ctx, settingDefaultSigningKey)
	if err != nil || done {
		return err
	}
	id := uuid.New()
	m, err := keys.Generate(keys.GenerateRequest{Algorithm: defaultSigningKeyAlgorithm,
		Issuer: s.defaultIssuer(ctx, s.store.Read()), Serial: id[:], Now: s.clock.Now()})
	if err != nil {
		return fmt.Errorf("generate the default signing key: %w", err)
	}
	now := s.now()
	row := &store.SigningKeyRow{ID: id.String(), Name: DefaultKeyName, Algorithm: m.Algorithm, Type: m.Type,
		Length: m.Length, Kid: m.Kid, PublicKey: m.PublicKey, Certificate: m.Certificate, Issuer: m.Issuer,
		ExpirationInstant: m.ExpirationMillis(), PrivateSealed: s.master.Seal(m.Private, signingKeyAD(id.String())),
		InsertInstant: now, LastUpdateInstant: now}
	actor := kit.Actor{Type: kit.ActorSystem}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		// First statement: on PostgreSQL a concurrent starter blocks here
		// until the winner commits, then fails on the key and rolls back.
		if err := tx.InsertSetting(ctx, settingDefaultSigningKey, strconv.FormatInt(now, 10)); err != nil {
			return err
		}
		if taken, err := tx.SigningKeyNameTaken(ctx, row.Name, row.ID); err != nil {
			return err
		} else if taken {
			s.log.WarnContext(ctx, "a key is already named like the default signing key; not making one", "name", row.Name)
			return nil
		}
		if err := tx.InsertSigningKey(ctx, row); err != nil {
			return fmt.Errorf("store the default signing key: %w", err)
		}
		if err := s.changed(ctx, tx, actor, audit.Change{Message: "Generated the default signing key " +
			signingKeyLabel(row.Name, row.ID), TargetID: row.ID, New: publicSigningKey(row)}); err != nil {
			return err
		}
		return s.useDefaultKeyInDefaultTenant(ctx, tx, actor, row.ID, now)
	})
	if store.IsUnique(err) {
		return nil // another node made it first
	}
	if err != nil {
		return err
	}
	s.Cache.Refresh(ctx)
	return nil
}

// useDefaultKeyInDefaultTenant names the key as the Default tenant's access
// and id token signing key, where the tenant names none yet.
func (s *Service) useDefaultKeyInDefaultTenant(ctx context.Context, tx *store.Tx, actor kit.Actor, keyID string, now int64) error {
	tenantID, data, err := tx.DefaultTenantData(ctx, model.AdminApplicationID)
	if errors.Is(err, store.ErrNoRows) {
		return nil // not bootstrapped: nothing to configure
	}
	if err != nil {
		return err
	}
	o, err := kit.StoredObject(data, tenancy.TenantFields)
	if err != nil {
		return fmt.Errorf("default tenant data: %w", err)
	}
	jwt, ok := kit.ObjectMember(o, "jwtConfiguration")
	if !ok {
		return nil // malformed setting: leave the tenant as it is
	}
	var set []string
	for _, f := range []string{"accessTokenKeyId", "idTokenKeyId"} {
		if v, _ := jwt[f].(string); strings.TrimSpace(v) == "" {
			jwt[f] = keyID
			set = append(set, "jwtConfiguration."+f)
		}
	}
	if len(set) == 0 {
		return nil
	}
	text, err := kit.EncodeObject(o)
	if err != nil {
		return err
	}
	if err := tx.SetTenantData(ctx, tenantID, text, now); err != nil {
		return err
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Set the Default tenant's " + strings.Join(set, " and ") +
		" to the default signing key", TargetID: tenantID, Data: map[string]any{"keyId": keyID}})
}

// AccessTokenKeyID is the key an application's access tokens are signed with:
// its own when its JWT configuration is enabled and names one, else its
// tenant's. model.ErrNotFound when the application does not exist.
func (s *Service) AccessTokenKeyID(ctx context.Context, applicationID string) (string, error) {
	u, err := uuid.Parse(strings.TrimSpace(applicationID))
	if err != nil {
		return "", model.NotFoundf("application %q", applicationID)
	}
	appData, tenantData, err := s.store.Read().ApplicationAndTenantData(ctx, u.String())
	if errors.Is(err, store.ErrNoRows) {
		return "", model.NotFoundf("application %s", u)
	}
	if err != nil {
		return "", err
	}
	var app, tenant struct {
		JWT struct {
			Enabled          bool   `json:"enabled"`
			AccessTokenKeyID string `json:"accessTokenKeyId"`
		} `json:"jwtConfiguration"`
	}
	_ = kit.DecodeStored(appData, tenancy.ApplicationFields, &app) // validated on write; a bad row reads as unset
	_ = kit.DecodeStored(tenantData, tenancy.TenantFields, &tenant)
	if app.JWT.Enabled && app.JWT.AccessTokenKeyID != "" {
		return app.JWT.AccessTokenKeyID, nil
	}
	return tenant.JWT.AccessTokenKeyID, nil
}
