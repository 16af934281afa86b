package userimport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Limits of one import request.
const (
	MaxImportUsers  = 100_000
	maxImportErrors = 1000 // field errors reported before validation stops
)

// importUser is one user of the request, validated.
type importUser struct {
	index     int
	row       *store.UserRow
	plaintext string // a password to hash here; "" when none or pre-hashed
	scheme    string // how to hash plaintext
	factor    int
	regs      []*store.RegistrationRow
	members   []*store.GroupMemberRow
}

// importer carries one request's state through validation.
type importer struct {
	s       *Service
	now     int64
	scope   kit.TenantScope
	tenants map[string]bool // every tenant id
	only    string          // the only tenant, when there is exactly one
	// scopeTenant is the one tenant the API key or X-FusionAuth-TenantId
	// names ("" when none); needTenant records a [TenantIdRequired].
	scopeTenant string
	needTenant  bool
	// Request-wide scheme and factor for plaintext passwords ("" and 0: each
	// tenant's configured ones).
	scheme string
	factor int

	verrs  *model.Errors
	nerrs  int
	users  []*importUser
	logins map[string]loginOwner // tenant + "\x00" + login key of an email or username → its user
	// lookalikes: tenant + "\x00" + look-alike form of an email or
	// username that has one (store.LookalikeKey) → its user.
	lookalikes map[string]loginOwner
	ids        map[string]int // user id → index
	regIDs     map[string]string
	memIDs     map[string]string
	apps       map[string]bool // application ids named by registrations
	groups     map[string]bool // group ids named by memberships
}

func (im *importer) fieldError(field, kind, message string) {
	im.verrs.Field(field, kind, message)
	im.nerrs++
}

func (im *importer) full() bool { return im.nerrs >= maxImportErrors }

// MaxImportUserBytes bounds one user of an import as encoded in the request:
// the body limit of a user create, so that an import holds no user (and no
// user.data) that the User API would refuse.
const MaxImportUserBytes = 1 << 20

// ImportUsersFrom imports the users of an ImportRequest read from r as a
// stream: each user is validated as it is read, and only its validated row
// is kept, so memory grows with the stored size of the users, not with the
// decoded request. A read or JSON error is an error wrapping
// kit.ErrStreamJSON.
func (s *Service) ImportUsersFrom(ctx context.Context, actor kit.Actor, scope kit.TenantScope, r io.Reader) (int, error) {
	started := time.Now()
	im := &importer{s: s, now: s.now(), scope: scope, verrs: &model.Errors{}, logins: map[string]loginOwner{}, lookalikes: map[string]loginOwner{},
		ids: map[string]int{}, regIDs: map[string]string{}, memIDs: map[string]string{}, apps: map[string]bool{}, groups: map[string]bool{}}
	ids, err := s.store.Read().TenantIDs(ctx)
	if err != nil {
		return 0, err
	}
	im.tenants = map[string]bool{}
	for _, id := range ids {
		im.tenants[id] = true
	}
	if len(ids) == 1 {
		im.only = ids[0]
	}
	if t := scope.Tenant(); t != "" {
		cid, ok := kit.CanonicalID(t)
		if !ok || !im.tenants[cid] {
			return 0, model.FieldError("tenantId", "invalid", "The tenant of the API key or X-FusionAuth-TenantId does not exist.")
		}
		im.scopeTenant = cid
	}
	tooMany := false
	head, err := kit.StreamObject(r, "users", func(i int, raw any, size int64) (bool, error) {
		switch {
		case i >= MaxImportUsers:
			tooMany = true // request() reports it
			return true, nil
		case im.full():
			im.verrs.General("TooManyErrors", fmt.Sprintf("Validation stopped at users[%d] after %d errors.", i, im.nerrs))
			return true, nil
		case size > MaxImportUserBytes:
			im.fieldError(fmt.Sprintf("users[%d]", i), "tooLarge", fmt.Sprintf("[users[%d]] must encode in at most %d bytes, as a user the User API creates.", i, MaxImportUserBytes))
			return false, nil
		}
		return false, im.user(i, raw)
	})
	if err != nil {
		return 0, err
	}
	// The request's own members, read after the users: their errors alone
	// answer, as when nothing else could be checked.
	userErrs, userErrCount := im.verrs, im.nerrs
	im.verrs, im.nerrs = &model.Errors{}, 0
	if tooMany {
		head["users"] = make([]any, MaxImportUsers+1)
	}
	validateDB := im.request(head)
	if err := im.verrs.Err(); err != nil {
		return 0, err
	}
	im.verrs, im.nerrs = userErrs, userErrCount
	if im.needTenant {
		var tr *model.Errors
		if errors.As(tenancy.TenantIDRequired(), &tr) {
			im.verrs.GeneralErrors = append(im.verrs.GeneralErrors, tr.GeneralErrors...)
		}
	}
	if err := im.verrs.Err(); err != nil {
		return 0, err
	}
	if err := im.checkReferences(ctx, s.store.Read()); err != nil {
		return 0, err
	}
	if err := im.hashPlaintext(ctx); err != nil {
		return 0, err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		// Without validateDbConstraints the unique indexes catch an id, email
		// or username stored twice; no index sees a username that is another
		// user's email, so that is checked always.
		if err := im.checkStored(ctx, tx, !validateDB); err != nil {
			return err
		}
		return im.write(ctx, tx, actor)
	})
	if errors.Is(err, errImportConflict) {
		// The transaction is rolled back; find out which rows collided.
		if verr := im.checkStored(ctx, s.store.Read(), false); verr != nil {
			return 0, verr
		}
		return 0, model.GeneralError("DuplicateUsers", "A unique value of the import is already stored (it may have been written "+
			"concurrently). Nothing was imported; retry with validateDbConstraints for details.")
	}
	if err != nil {
		return 0, err
	}
	s.log.InfoContext(ctx, "imported users", "count", len(im.users), "ms", time.Since(started).Milliseconds())
	return len(im.users), nil
}

// errImportConflict marks a write refused by a unique index.
var errImportConflict = errors.New("import conflicts with stored rows")

// importRequestFields are the members of FusionAuth's ImportRequest; each
// user is a user object (identity.UserFields) with its password hash.
var importRequestFields = model.FieldsOf(nil, "encryptionScheme", "eventInfo", "factor", "users", "validateDbConstraints")

// request reads the ImportRequest members other than the users (of which
// body holds only as many placeholders).
func (im *importer) request(body kit.Object) bool {
	if !importRequestFields.Check(body, "", im.verrs) {
		im.nerrs++
		return false
	}
	validateDB := false
	switch v := body["validateDbConstraints"].(type) {
	case nil:
	case bool:
		validateDB = v
	default:
		im.fieldError("validateDbConstraints", "invalid", "[validateDbConstraints] must be true or false.")
	}
	if v, ok := body["encryptionScheme"]; ok && v != nil {
		name, isString := v.(string)
		if canon, supported := password.Canonical(strings.TrimSpace(name)); isString && supported {
			im.scheme = canon
		} else if !isString || strings.TrimSpace(name) != "" {
			im.fieldError("encryptionScheme", "invalid", "[encryptionScheme] must be one of "+strings.Join(password.Schemes(), ", ")+".")
		}
	}
	if v, ok := body["factor"]; ok && v != nil {
		f, ok := kit.FactorValue(v)
		switch {
		case !ok:
			im.fieldError("factor", "invalid", "[factor] must be a non-negative integer.")
		case im.scheme != "":
			if lo, hi, ranged := im.s.hasher.Limits().FactorRange(im.scheme); ranged && (f < lo || f > hi) {
				im.fieldError("factor", "invalid", fmt.Sprintf("[factor] must be between %d and %d for %s.", lo, hi, im.scheme))
			}
		}
		im.factor = f
	}
	switch list := body["users"].(type) {
	case []any:
		if len(list) == 0 {
			im.fieldError("users", "blank", "[users] must list at least one user.")
		}
		if len(list) > MaxImportUsers {
			im.fieldError("users", "tooMany", fmt.Sprintf("[users] may hold at most %d users a request; split the import.", MaxImportUsers))
		}
	case nil:
		im.fieldError("users", "missing", "[users] is required: the list of users to import.")
	default:
		im.fieldError("users", "invalid", "[users] must be an array of users.")
	}
	return validateDB
}

// user validates users[i] and adds it to the batch.
func (im *importer) user(i int, raw any) error {
	path := fmt.Sprintf("users[%d]", i)
	o, ok := raw.(kit.Object)
	if !ok {
		im.fieldError(path, "invalid", "["+path+"] must be a JSON object.")
		return nil
	}
	mark := im.nerrs
	u := &importUser{index: i, row: &store.UserRow{}}

	// Members FusionAuth's import reads that the user API owns.
	id := ""
	switch v := o["id"].(type) {
	case nil:
	case string:
		if strings.TrimSpace(v) != "" {
			cid, ok := kit.CanonicalID(v)
			if !ok {
				im.fieldError(path+".id", "invalid", "["+path+".id] must be a UUID.")
			}
			id = cid
		}
	default:
		im.fieldError(path+".id", "invalid", "["+path+".id] must be a UUID.")
	}
	if id == "" {
		id = kit.NewOrGivenID("", "", &model.Errors{})
	} else if j, dup := im.ids[id]; dup {
		im.fieldError(path+".id", "duplicate", fmt.Sprintf("[%s.id] is also the id of users[%d].", path, j))
	}
	im.ids[id] = i
	u.row.ID = id
	tenantID := im.tenantOf(path, o["tenantId"])

	flag := func(name string) bool {
		switch v := o[name].(type) {
		case nil:
			return false // FusionAuth's import defaults active and verified to false
		case bool:
			return v
		default:
			im.fieldError(path+"."+name, "invalid", "["+path+"."+name+"] must be true or false.")
			return false
		}
	}
	u.row.Active, u.row.Verified = flag("active"), flag("verified")
	instant := func(name string, def int64) int64 {
		v := o[name]
		if v == nil {
			return def
		}
		n, ok := kit.InstantValue(v)
		if !ok {
			im.fieldError(path+"."+name, "invalid", "["+path+"."+name+"] must be an instant (epoch milliseconds).")
		}
		return n
	}
	u.row.InsertInstant = instant("insertInstant", im.now)
	u.row.LastUpdateInstant = im.now
	if _, given := o["lastLoginInstant"]; given {
		n := instant("lastLoginInstant", 0)
		u.row.LastLoginInstant = &n
	}
	pwLast := instant("passwordLastUpdateInstant", im.now)
	im.password(path, o, u, pwLast)
	regsRaw, membersRaw := o["registrations"], o["memberships"]
	// Read above; identity.PrepareUser need not decode (and report) them again.
	for _, k := range []string{"registrations", "memberships", "password", "salt", "encryptionScheme", "factor"} {
		delete(o, k)
	}

	// Recovery codes are credentials; until Latch has two-factor login it has
	// nowhere safe to keep them, and it will not keep them in the user object.
	if tf, ok := o["twoFactor"].(kit.Object); ok && tf["recoveryCodes"] != nil {
		im.fieldError(path+".twoFactor.recoveryCodes", "invalid", "["+path+".twoFactor.recoveryCodes] cannot be imported yet; "+
			"import the users without them.")
	}
	// The rest is a user object like the user API's.
	p, uerrs := identity.PrepareUser(o)
	im.merge(uerrs, userField, path)
	if p != nil {
		u.row.Email, u.row.Username, u.row.FullName = p.Email, p.Username, p.FullName
		u.row.FirstName, u.row.LastName = p.FirstName, p.LastName
		u.row.PasswordChangeRequired = p.PasswordChangeRequired
		if tenantID != "" {
			im.unique(i, path, "email", tenantID, p.Email)
			im.unique(i, path, "username", tenantID, p.Username)
		}
	}
	u.row.TenantID = tenantID
	u.regs = im.registrations(path, id, regsRaw)
	u.members = im.memberships(path, id, membersRaw)
	if im.nerrs > mark || p == nil {
		return nil
	}
	if err := im.s.users.FillUserRow(u.row, p); err != nil {
		return err
	}
	im.users = append(im.users, u)
	return nil
}

// tenantOf decides a user's tenant as FusionAuth documents it: the request's
// one tenant (API key or X-FusionAuth-TenantId) wins and user.tenantId is then
// ignored; else user.tenantId, which must be a tenant the request may touch;
// else the only tenant there is; else [TenantIdRequired].
func (im *importer) tenantOf(path string, given any) string {
	if im.scopeTenant != "" {
		return im.scopeTenant
	}
	field := path + ".tenantId"
	switch v := given.(type) {
	case nil:
	case string:
		if strings.TrimSpace(v) == "" {
			break
		}
		id, ok := kit.CanonicalID(v)
		if !ok || !im.tenants[id] || !im.scope.CanSee(id) {
			im.fieldError(field, "invalid", fmt.Sprintf("[%s] is not a tenant this request may import into.", field))
			return ""
		}
		return id
	default:
		im.fieldError(field, "invalid", "["+field+"] must be a UUID.")
		return ""
	}
	if im.scope.Tenants == nil && im.only != "" {
		return im.only
	}
	if !im.needTenant {
		im.needTenant = true
		im.nerrs++
	}
	return ""
}

// loginOwner is the batch's user of a login id, and which field it is.
type loginOwner struct {
	index int
	field string
}

// unique records an email or username and reports an earlier user of the
// batch with the same one in the same tenant, as email or as username: a
// login id names one user.
func (im *importer) unique(i int, path, name, tenantID, value string) {
	if value == "" {
		return
	}
	key := tenantID + "\x00" + store.LoginKey(value)
	if o, dup := im.logins[key]; dup && o.index != i {
		im.fieldError(path+"."+name, "duplicate", fmt.Sprintf("[%s.%s] is also the %s of users[%d].", path, name, o.field, o.index))
		return
	} else if dup {
		return // the user's own email and username may be equal
	}
	im.logins[key] = loginOwner{i, name}
	// A look-alike either way: this id imitates an earlier one, or an
	// earlier one imitates it (both keyed by the look-alike form).
	like := tenantID + "\x00" + store.LookalikeForm(value)
	if o, dup := im.logins[like]; dup && o.index != i {
		im.fieldError(path+"."+name, "duplicate", fmt.Sprintf("[%s.%s] looks like the %s of users[%d] in other letters.", path, name, o.field, o.index))
		return
	}
	if o, dup := im.lookalikes[like]; dup && o.index != i {
		im.fieldError(path+"."+name, "duplicate", fmt.Sprintf("[%s.%s] looks like the %s of users[%d] in other letters.", path, name, o.field, o.index))
		return
	}
	if _, ok := store.LookalikeKey(value); ok {
		im.lookalikes[like] = loginOwner{i, name}
	}
}

// password reads encryptionScheme, factor, salt and password.
func (im *importer) password(path string, o kit.Object, u *importUser, lastUpdate int64) {
	str := func(name string) (string, bool) {
		switch v := o[name].(type) {
		case nil:
			return "", false
		case string:
			return v, true
		default:
			im.fieldError(path+"."+name, "invalid", "["+path+"."+name+"] must be a string.")
			return "", true
		}
	}
	scheme, hasScheme := str("encryptionScheme")
	salt, _ := str("salt")
	value, _ := str("password")
	scheme = strings.TrimSpace(scheme)
	if !hasScheme || scheme == "" {
		// Plaintext, hashed with the request's scheme or the tenant's.
		if value == "" {
			return // FusionAuth 1.59 made the password optional
		}
		u.plaintext = value // its scheme is decided by hashPlaintext: the request's may follow the users
		return
	}
	name, ok := password.Canonical(scheme)
	if !ok {
		im.fieldError(path+".encryptionScheme", "invalid", fmt.Sprintf("[%s.encryptionScheme] must be one of %s.", path,
			strings.Join(password.Schemes(), ", ")))
		return
	}
	if value == "" {
		im.fieldError(path+".password", "blank", "["+path+".password] must hold the password hash when encryptionScheme is given.")
		return
	}
	factor, factorGiven := 0, false
	if v, present := o["factor"]; present && v != nil {
		if factor, factorGiven = kit.FactorValue(v); !factorGiven {
			im.fieldError(path+".factor", "invalid", "["+path+".factor] must be a non-negative integer.")
			return
		}
	}
	// A whole bcrypt string is split as FusionAuth's documentation tells
	// importers to do by hand.
	if name == password.SchemeBcrypt && salt == "" {
		if bs, bv, cost, ok := password.SplitBcrypt(value); ok {
			if factorGiven && factor != cost {
				im.fieldError(path+".factor", "invalid", fmt.Sprintf("[%s.factor] is %d but the bcrypt hash has cost %d.", path, factor, cost))
				return
			}
			salt, value, factor, factorGiven = bs, bv, cost, true
		}
	}
	if !factorGiven {
		factor = password.DefaultFactor(name)
	}
	h := password.Hash{Scheme: name, Factor: factor, Salt: salt, Value: value}
	if err := im.s.hasher.Limits().Validate(h); err != nil {
		var ie *password.InvalidError
		if errors.As(err, &ie) {
			field := path + "." + ie.Field
			im.fieldError(field, "invalid", fmt.Sprintf("[%s] %s.", field, ie.Reason))
			return
		}
		im.fieldError(path+".password", "invalid", "["+path+".password] is not a valid hash.")
		return
	}
	u.row.PasswordHash = h.Encode()
	u.row.PasswordLastUpdateInstant = lastUpdate
}

// merge moves the errors of a per-object validation (fields "user.email")
// under the import's path ("users[3].email").
func (im *importer) merge(src *model.Errors, from, to string) {
	if src == nil {
		return
	}
	rename := func(s string) string {
		s = strings.ReplaceAll(s, "["+from+".", "["+to+".")
		s = strings.ReplaceAll(s, "["+from+"]", "["+to+"]")
		return strings.ReplaceAll(s, "]"+from+".", "]"+to+".")
	}
	for field, items := range src.FieldErrors {
		nf := field
		if field == from || strings.HasPrefix(field, from+".") || strings.HasPrefix(field, from+"[") {
			nf = to + strings.TrimPrefix(field, from)
		}
		for _, it := range items {
			kind := strings.TrimPrefix(strings.SplitN(it.Code, "]", 2)[0], "[") // "[blank]user.email" → blank
			im.fieldError(nf, kind, rename(it.Message))
		}
	}
	for _, g := range src.GeneralErrors {
		im.verrs.GeneralErrors = append(im.verrs.GeneralErrors, g)
		im.nerrs++
	}
}

// registrations validates users[i].registrations.
func (im *importer) registrations(path, userID string, raw any) []*store.RegistrationRow {
	if raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		im.fieldError(path+".registrations", "invalid", "["+path+".registrations] must be an array of registrations.")
		return nil
	}
	var out []*store.RegistrationRow
	apps := map[string]int{}
	for j, item := range list {
		rp := fmt.Sprintf("%s.registrations[%d]", path, j)
		o, ok := item.(kit.Object)
		if !ok {
			im.fieldError(rp, "invalid", "["+rp+"] must be a JSON object.")
			continue
		}
		verified := false
		switch v := o["verified"].(type) {
		case nil:
		case bool:
			verified = v
		default:
			im.fieldError(rp+".verified", "invalid", "["+rp+".verified] must be true or false.")
		}
		instant := func(name string) *int64 {
			v := o[name]
			if v == nil {
				return nil
			}
			n, ok := kit.InstantValue(v)
			if !ok {
				im.fieldError(rp+"."+name, "invalid", "["+rp+"."+name+"] must be an instant (epoch milliseconds).")
			}
			return &n
		}
		inserted, verifiedAt, lastLogin := instant("insertInstant"), instant("verifiedInstant"), instant("lastLoginInstant")
		verrs := &model.Errors{}
		p := identity.PrepareRegistration(o, verrs)
		im.merge(verrs, registrationField, rp)
		if p.ApplicationID == "" {
			if _, given := verrs.FieldErrors[registrationField+".applicationId"]; !given {
				im.fieldError(rp+".applicationId", "blank", "["+rp+".applicationId] is required.")
			}
			continue
		}
		if k, dup := apps[p.ApplicationID]; dup {
			im.fieldError(rp+".applicationId", "duplicate", fmt.Sprintf("[%s.applicationId] is also the application of %s.registrations[%d].", rp, path, k))
			continue
		}
		apps[p.ApplicationID] = j
		row := &store.RegistrationRow{ID: p.ID, UserID: userID, ApplicationID: p.ApplicationID, Roles: p.Roles,
			Verified: verified, LastLoginInstant: lastLogin, InsertInstant: im.now, LastUpdateInstant: im.now}
		if row.Roles == nil {
			row.Roles = []string{}
		}
		if inserted != nil {
			row.InsertInstant = *inserted
		}
		if verified {
			row.VerifiedInstant = verifiedAt
			if row.VerifiedInstant == nil {
				now := im.now
				row.VerifiedInstant = &now
			}
		}
		if row.ID == "" {
			row.ID = kit.NewOrGivenID("", "", &model.Errors{})
		} else if other, dup := im.regIDs[row.ID]; dup {
			im.fieldError(rp+".id", "duplicate", fmt.Sprintf("[%s.id] is also the id of %s.", rp, other))
		}
		im.regIDs[row.ID] = rp
		if p.Token != "" {
			row.AuthTokenHash = secrets.HashToken(p.Token)
		}
		data, err := kit.EncodeObject(o)
		if err != nil {
			im.fieldError(rp, "invalid", "["+rp+"] could not be stored.")
			continue
		}
		row.Data = data
		im.apps[p.ApplicationID] = true
		out = append(out, row)
	}
	return out
}

// memberships validates users[i].memberships.
func (im *importer) memberships(path, userID string, raw any) []*store.GroupMemberRow {
	if raw == nil {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		im.fieldError(path+".memberships", "invalid", "["+path+".memberships] must be an array of memberships.")
		return nil
	}
	var out []*store.GroupMemberRow
	groups := map[string]int{}
	for j, item := range list {
		mp := fmt.Sprintf("%s.memberships[%d]", path, j)
		o, ok := item.(kit.Object)
		if !ok {
			im.fieldError(mp, "invalid", "["+mp+"] must be a JSON object.")
			continue
		}
		gs, _ := o["groupId"].(string)
		gid, ok := kit.CanonicalID(gs)
		if !ok {
			im.fieldError(mp+".groupId", "invalid", "["+mp+".groupId] must be the id of a group.")
			continue
		}
		if k, dup := groups[gid]; dup {
			im.fieldError(mp+".groupId", "duplicate", fmt.Sprintf("[%s.groupId] is also the group of %s.memberships[%d].", mp, path, k))
			continue
		}
		groups[gid] = j
		row := &store.GroupMemberRow{GroupID: gid, UserID: userID, InsertInstant: im.now}
		switch v := o["id"].(type) {
		case nil:
		case string:
			if strings.TrimSpace(v) != "" {
				if row.ID, ok = kit.CanonicalID(v); !ok {
					im.fieldError(mp+".id", "invalid", "["+mp+".id] must be a UUID.")
				}
			}
		default:
			im.fieldError(mp+".id", "invalid", "["+mp+".id] must be a UUID.")
		}
		if row.ID == "" {
			row.ID = kit.NewOrGivenID("", "", &model.Errors{})
		} else if other, dup := im.memIDs[row.ID]; dup {
			im.fieldError(mp+".id", "duplicate", fmt.Sprintf("[%s.id] is also the id of %s.", mp, other))
		}
		im.memIDs[row.ID] = mp
		data := kit.Object{}
		switch v := o["data"].(type) {
		case nil:
		case kit.Object:
			data = v
		default:
			im.fieldError(mp+".data", "invalid", "["+mp+".data] must be a JSON object.")
		}
		text, err := kit.EncodeObject(data)
		if err != nil {
			im.fieldError(mp+".data", "invalid", "["+mp+".data] could not be stored.")
			continue
		}
		row.Data = text
		im.groups[gid] = true
		out = append(out, row)
	}
	return out
}

// checkReferences checks that registrations name applications of their
// user's tenant with roles those applications define, and memberships groups
// of the user's tenant. Applications and groups are read once each.
func (im *importer) checkReferences(ctx context.Context, tx *store.Tx) error {
	type appInfo struct {
		tenant string
		roles  map[string]bool
	}
	apps := map[string]*appInfo{}
	if len(im.apps) > 0 {
		ids := sortedKeys(im.apps)
		for _, id := range ids {
			app, err := tx.ApplicationByID(ctx, id)
			if errors.Is(err, store.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			apps[id] = &appInfo{tenant: app.TenantID, roles: map[string]bool{}}
		}
		roles, err := tx.RolesOfApplications(ctx, ids)
		if err != nil {
			return err
		}
		for id, list := range roles {
			if a := apps[id]; a != nil {
				for _, r := range list {
					a.roles[r.Name] = true
				}
			}
		}
	}
	var groups map[string]*store.GroupRow
	if len(im.groups) > 0 {
		var err error
		if groups, err = tx.GroupsByIDs(ctx, sortedKeys(im.groups)); err != nil {
			return err
		}
	}
	for _, u := range im.users {
		if im.full() {
			break
		}
		path := fmt.Sprintf("users[%d]", u.index)
		for j, r := range u.regs {
			rp := fmt.Sprintf("%s.registrations[%d]", path, j)
			a := apps[r.ApplicationID]
			if a == nil || a.tenant != u.row.TenantID {
				im.fieldError(rp+".applicationId", "invalid", fmt.Sprintf("No application with id [%s] exists in the user's tenant.", r.ApplicationID))
				continue
			}
			var unknown []string
			for _, name := range r.Roles {
				if !a.roles[name] {
					unknown = append(unknown, name)
				}
			}
			if len(unknown) > 0 {
				im.fieldError(rp+".roles", "invalid", "The application does not define the roles "+strings.Join(unknown, ", ")+".")
			}
		}
		for j, m := range u.members {
			g := groups[m.GroupID]
			if g == nil || g.TenantID != u.row.TenantID {
				im.fieldError(fmt.Sprintf("%s.memberships[%d].groupId", path, j), "invalid",
					fmt.Sprintf("No group with id [%s] exists in the user's tenant.", m.GroupID))
			}
		}
	}
	return im.verrs.Err()
}

// sortedKeys lists a set's members in order.
func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// hashPlaintext hashes the plaintext passwords of the batch, on every core:
// it is the slow part of an import that carries them (FusionAuth warns of
// the same). It runs before the transaction opens.
func (im *importer) hashPlaintext(ctx context.Context) error {
	var todo []*importUser
	type hashing struct {
		scheme string
		factor int
	}
	policies := map[string]hashing{}
	for _, u := range im.users {
		if u.plaintext == "" {
			continue
		}
		if u.scheme == "" && im.scheme != "" { // the request's scheme and factor
			u.scheme, u.factor = im.scheme, cmp.Or(im.factor, password.DefaultFactor(im.scheme))
			if max := password.MaxPasswordBytes(u.scheme); max > 0 && len(u.plaintext) > max {
				im.fieldError(fmt.Sprintf("users[%d].password", u.index), "tooLong", fmt.Sprintf("[users[%d].password] is longer than the %d bytes %s hashes; "+
					"Latch never truncates a password.", u.index, max, u.scheme))
				continue
			}
		}
		if u.scheme == "" {
			pol, ok := policies[u.row.TenantID]
			if !ok {
				var err error
				if pol.scheme, pol.factor, err = im.s.users.HashingOf(ctx, u.row.TenantID); err != nil {
					return err
				}
				policies[u.row.TenantID] = pol
			}
			u.scheme, u.factor = pol.scheme, pol.factor
			if im.factor > 0 { // the request's factor with the tenant's scheme
				if lo, hi, ranged := im.s.hasher.Limits().FactorRange(u.scheme); ranged && (im.factor < lo || im.factor > hi) {
					if _, reported := im.verrs.FieldErrors["factor"]; !reported {
						im.fieldError("factor", "invalid", fmt.Sprintf("[factor] must be between %d and %d for the tenant's %s.", lo, hi, u.scheme))
					}
					continue
				}
				u.factor = im.factor
			}
			if max := password.MaxPasswordBytes(u.scheme); max > 0 && len(u.plaintext) > max {
				f := fmt.Sprintf("users[%d].password", u.index)
				im.fieldError(f, "tooLong", fmt.Sprintf("[%s] is longer than the %d bytes the tenant's %s hashing uses; "+
					"Latch never truncates a password.", f, max, u.scheme))
				continue
			}
		}
		todo = append(todo, u)
	}
	if err := im.verrs.Err(); err != nil {
		return err
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan *importUser)
	)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(todo)))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range next {
				h, err := im.s.hasher.Hash(ctx, u.row.TenantID, u.scheme, u.factor, u.plaintext)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("hash the password of users[%d]: %w", u.index, err)
					}
					mu.Unlock()
					continue
				}
				u.row.PasswordHash = h.Encode()
				u.row.PasswordLastUpdateInstant = im.now
				u.plaintext = ""
			}
		}()
	}
	for _, u := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- u
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// checkStored reports users, registrations and memberships whose id, email or
// username is already stored; with crossedOnly, only emails stored as
// usernames and usernames stored as emails.
func (im *importer) checkStored(ctx context.Context, tx *store.Tx, crossedOnly bool) error {
	verrs := &model.Errors{}
	n := 0
	add := func(field, kind, msg string) {
		if n < maxImportErrors {
			verrs.Field(field, kind, msg)
		}
		n++
	}
	userIDs := make([]string, len(im.users))
	byTenant := map[string][]*importUser{}
	var regIDs, memIDs []string
	for i, u := range im.users {
		userIDs[i] = u.row.ID
		byTenant[u.row.TenantID] = append(byTenant[u.row.TenantID], u)
		for _, r := range u.regs {
			regIDs = append(regIDs, r.ID)
		}
		for _, m := range u.members {
			memIDs = append(memIDs, m.ID)
		}
	}
	if !crossedOnly {
		taken, err := tx.TakenUserIDs(ctx, userIDs)
		if err != nil {
			return err
		}
		for _, u := range im.users {
			if taken[u.row.ID] {
				add(fmt.Sprintf("users[%d].id", u.index), "duplicate", "A user with this id already exists.")
			}
		}
	}
	for tenant, users := range byTenant {
		var emails, names []string
		for _, u := range users {
			if u.row.Email != "" {
				emails = append(emails, u.row.Email)
			}
			if u.row.Username != "" {
				names = append(names, u.row.Username)
			}
		}
		// Both lists against both columns: a login id names one user.
		logins := append(slices.Clone(emails), names...)
		for _, v := range slices.Clone(logins) {
			if like, ok := store.LookalikeKey(v); ok {
				logins = append(logins, like)
			}
		}
		takenEmails, err := tx.TakenUserEmails(ctx, tenant, logins)
		if err != nil {
			return err
		}
		takenNames, err := tx.TakenUsernames(ctx, tenant, logins)
		if err != nil {
			return err
		}
		taken := func(v string) bool { return takenEmails[store.LoginKey(v)] || takenNames[store.LoginKey(v)] }
		// Stored imitations of the new ids (the other way round).
		imitated, err := tx.TakenLookalikes(ctx, tenant, append(slices.Clone(emails), names...))
		if err != nil {
			return err
		}
		for _, u := range users {
			for _, f := range []struct{ name, value, other string }{{"email", u.row.Email, "username"}, {"username", u.row.Username, "email address"}} {
				if f.value == "" {
					continue
				}
				key := store.LoginKey(f.value)
				same, cross := takenEmails[key], takenNames[key]
				if f.name == "username" {
					same, cross = cross, same
				}
				like, isLike := store.LookalikeKey(f.value)
				field := fmt.Sprintf("users[%d].%s", u.index, f.name)
				switch {
				case same && !crossedOnly:
					add(field, "duplicate", fmt.Sprintf("A user with this %s already exists in the tenant.", f.name))
				case cross:
					add(field, "duplicate", "Another user of the tenant has this as their "+f.other+".")
				case isLike && taken(like), imitated[store.LookalikeForm(f.value)]:
					add(field, "duplicate", "Another user of the tenant has a login id that looks the same in other letters.")
				}
			}
		}
	}
	if !crossedOnly {
		takenRegs, err := tx.TakenRegistrationIDs(ctx, regIDs)
		if err != nil {
			return err
		}
		takenMems, err := tx.MemberIDsTaken(ctx, memIDs)
		if err != nil {
			return err
		}
		for _, u := range im.users {
			for j, r := range u.regs {
				if takenRegs[r.ID] {
					add(fmt.Sprintf("users[%d].registrations[%d].id", u.index, j), "duplicate", "A registration with this id already exists.")
				}
			}
			for j, m := range u.members {
				if takenMems[m.ID] {
					add(fmt.Sprintf("users[%d].memberships[%d].id", u.index, j), "duplicate", "A group member with this id already exists.")
				}
			}
		}
	}
	if n > maxImportErrors {
		verrs.General("TooManyErrors", fmt.Sprintf("%d conflicts with stored rows; the first %d are listed.", n, maxImportErrors))
	}
	return verrs.Err()
}

// write stores the batch and its one audit entry.
func (im *importer) write(ctx context.Context, tx *store.Tx, actor kit.Actor) error {
	rows := make([]*store.UserRow, len(im.users))
	tenants := map[string]bool{}
	nRegs, nMembers := 0, 0
	for i, u := range im.users {
		rows[i] = u.row
		tenants[u.row.TenantID] = true
	}
	if err := tx.ImportUserRows(ctx, rows); err != nil {
		return importWriteError(err)
	}
	var regs []*store.RegistrationRow
	for _, u := range im.users {
		regs = append(regs, u.regs...)
	}
	if err := tx.InsertRegistrationRows(ctx, regs); err != nil {
		return importWriteError(err)
	}
	nRegs = len(regs)
	for _, u := range im.users {
		for _, m := range u.members {
			if err := tx.InsertGroupMember(ctx, m); err != nil {
				return importWriteError(err)
			}
			nMembers++
		}
	}
	data := map[string]any{"count": len(rows), "registrations": nRegs, "memberships": nMembers, "tenantIds": sortedKeys(tenants)}
	// The ids are listed only for small imports: an audit entry is not a
	// copy of the batch.
	const maxListedIDs = 100
	if len(rows) <= maxListedIDs {
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		data["userIds"] = ids
	}
	msg := fmt.Sprintf("Imported %d users", len(rows))
	if len(rows) == 1 {
		msg = "Imported 1 user " + kit.UserLabel(rows[0])
	}
	return im.s.audit.Write(ctx, tx, actor, audit.Change{Message: msg, Data: data, Events: kit.BulkEvent(rows, model.EventUserBulkCreate, im.eventUsers)})
}

// eventUsers are the imported users as user.bulk.create carries them: as
// the user API answers them, with their registrations and memberships.
func (im *importer) eventUsers() ([]*model.User, error) {
	out := make([]*model.User, 0, len(im.users))
	for _, u := range im.users {
		members := make([]model.GroupMember, 0, len(u.members))
		for _, m := range u.members {
			o, err := groups.MemberObject(m)
			if err != nil {
				return nil, err
			}
			members = append(members, o)
		}
		o, err := im.s.users.UserObject(u.row, u.regs, members)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// importWriteError classifies a failed insert: a unique violation is a
// conflict the caller explains; a foreign-key one means an application or
// group went away since validation.
func importWriteError(err error) error {
	switch {
	case store.IsUnique(err):
		return fmt.Errorf("%w: %v", errImportConflict, err)
	case store.IsForeignKey(err):
		return model.GeneralError("ReferenceChanged", "An application, group or tenant named by the import was deleted "+
			"while it ran. Nothing was imported.")
	}
	return fmt.Errorf("import users: %w", err)
}
