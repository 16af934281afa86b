package kit

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
)

// Tenants and applications are whole JSON objects: Latch keeps every field a
// client sends and returns it unchanged, overlaying only the fields it owns.
// This file holds the helpers every package that keeps such documents uses
// (tenancy, groups, identity): documents, defaults, secrets, ids, and the
// tenant scope of a request.

// Object is a JSON object as DecodeJSONValue decodes it (numbers are
// json.Number, so that they round-trip exactly).
type Object = map[string]any

// TenantScope is the set of tenants a request may touch: the API key's
// tenants, narrowed by X-FusionAuth-TenantId. Nil Tenants means every tenant.
type TenantScope struct {
	Tenants []string
}

// AllTenants is the scope of callers that are not limited (CLI, system).
var AllTenants = TenantScope{}

// CanSee reports whether objects of tenantID are visible in the scope.
func (sc TenantScope) CanSee(tenantID string) bool {
	return sc.Tenants == nil || slices.Contains(sc.Tenants, tenantID)
}

// Tenant is the one tenant the scope names, or "".
func (sc TenantScope) Tenant() string {
	if len(sc.Tenants) == 1 {
		return sc.Tenants[0]
	}
	return ""
}

// ParseObject decodes a stored data column.
func ParseObject(text string) (Object, error) {
	if strings.TrimSpace(text) == "" {
		return Object{}, nil
	}
	v, err := model.DecodeJSONValue([]byte(text))
	if err != nil {
		return nil, err
	}
	o, ok := v.(Object)
	if !ok {
		return nil, errors.New("stored object is not a JSON object")
	}
	return o, nil
}

// EncodeObject encodes an object for a data column.
func EncodeObject(o Object) (string, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// ToTree turns any JSON-encodable value into a document tree.
func ToTree(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return model.DecodeJSONValue(b)
}

// StoredObject parses a stored data column and drops what a request can no
// longer put there: members that differ from a known field only in letter
// case (see model.Fields), which rows written before they were refused may
// hold. Every read of an object's data column goes through it, so that such a
// member is never returned, and the next write of the object leaves it out.
func StoredObject(text string, fields *model.Fields) (Object, error) {
	o, err := ParseObject(text)
	if err != nil {
		return nil, err
	}
	fields.Drop(o)
	return o, nil
}

// DecodeStored decodes a stored data column into a typed view, matching
// field names exactly (see StoredObject).
func DecodeStored(text string, fields *model.Fields, into any) error {
	o, err := StoredObject(text, fields)
	if err != nil {
		return err
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// RequestObject checks the member names of a request body against request
// (a case variant of one is a field error) and reads member name as an
// object. Absent or null is an empty object (validation then reports the
// missing fields).
func RequestObject(body Object, request *model.Fields, name string, verrs *model.Errors) Object {
	request.Check(body, "", verrs)
	switch v := body[name].(type) {
	case nil:
		return Object{}
	case Object:
		return model.CopyObject(v)
	default:
		verrs.Field(name, "invalid", "["+name+"] must be a JSON object.")
		return Object{}
	}
}

// OptionalID reads an optional UUID member of a request body ("" when absent).
func OptionalID(body Object, name string, verrs *model.Errors) string {
	return OptionalIDAt(body, name, name, verrs)
}

// OptionalIDAt reads the optional UUID member name of o, in its canonical
// form ("" when absent, blank or invalid); field is its path in errors
// ("registration.id").
func OptionalIDAt(o Object, name, field string, verrs *model.Errors) string {
	return OptionalIDValue(o[name], field, verrs)
}

// OptionalIDValue is OptionalIDAt for a member already read.
func OptionalIDValue(v any, field string, verrs *model.Errors) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		if strings.TrimSpace(v) == "" {
			return ""
		}
		id, ok := CanonicalID(v)
		if !ok {
			verrs.Field(field, "invalid", "["+field+"] must be a UUID.")
		}
		return id
	default:
		verrs.Field(field, "invalid", "["+field+"] must be a UUID.")
		return ""
	}
}

// CanonicalID parses a UUID in any of its spellings and returns the lower-case
// hyphenated form.
func CanonicalID(s string) (string, bool) {
	u, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// NewOrGivenID returns a fresh UUID for "", the canonical form of a given one,
// or a field error.
func NewOrGivenID(given, field string, verrs *model.Errors) string {
	if given == "" {
		return uuid.NewString()
	}
	id, ok := CanonicalID(given)
	if !ok {
		verrs.Field(field, "invalid", "The id must be a UUID.")
	}
	return id
}

// ObjectMember returns the object at key, creating it when absent or null.
// ok is false when the member holds something else.
func ObjectMember(o Object, key string) (Object, bool) {
	switch v := o[key].(type) {
	case nil:
		m := Object{}
		o[key] = m
		return m, true
	case Object:
		return v, true
	default:
		return nil, false
	}
}

// FillDefaults sets each member of defaults that o lacks (or holds as null),
// descending into objects both hold. Values the client sent are never changed,
// even of the wrong type: validation reports those.
func FillDefaults(o, defaults Object) {
	for k, dv := range defaults {
		cur, present := o[k]
		if !present || cur == nil {
			o[k] = model.DeepCopyJSON(dv)
			continue
		}
		if dm, ok := dv.(Object); ok {
			if cm, ok := cur.(Object); ok {
				FillDefaults(cm, dm)
			}
		}
	}
}

// MustObject parses a constant JSON object; a bad constant is a programming error.
func MustObject(text string) Object {
	o, err := ParseObject(text)
	if err != nil {
		panic(fmt.Sprintf("bad constant JSON: %v", err))
	}
	return o
}

// StoredConfig decodes a stored tenant or application object (what names
// it in errors: "tenant 123") into its typed settings. A stored object that
// does not decode is a server error, never the caller's.
func StoredConfig[T any](o Object, field, what string) (*T, error) {
	var cfg T
	var verrs model.Errors
	if !DecodeTyped(o, field, &cfg, &verrs) {
		return nil, fmt.Errorf("stored %s does not decode: %w", what, &verrs)
	}
	return &cfg, nil
}

// StoredTree is StoredConfig for an object that is already a document tree
// (model.NormalizeTree), which the typed object keeps: o must be the
// caller's own and not be modified afterwards.
func StoredTree[T any, PT interface {
	*T
	treeDecoder
}](o Object, field, what string) (*T, error) {
	var cfg T
	var verrs model.Errors
	if !typedError(PT(&cfg).UnmarshalTree(o), field, &verrs) {
		return nil, fmt.Errorf("stored %s does not decode: %w", what, &verrs)
	}
	return &cfg, nil
}

// DecodeTyped decodes o into a typed view. A member of the wrong type is a
// field error "[invalid]<prefix>.<path>", never a 500. encoding/json matches
// names regardless of letter case: o comes from a checked request or from
// StoredObject, so that no case variant of a field is left to match.
func DecodeTyped(o Object, prefix string, into any, verrs *model.Errors) bool {
	var err error
	if td, ok := into.(treeDecoder); ok {
		// A typed object with a raw bag decodes from the tree itself rather
		// than from its text, which it would parse back into a tree.
		var t Object
		if t, err = model.NormalizeObject(o); err != nil {
			verrs.Field(prefix, "invalid", "The object could not be read.")
			return false
		}
		err = td.UnmarshalTree(t)
	} else {
		b, merr := json.Marshal(o)
		if merr != nil {
			verrs.Field(prefix, "invalid", "The object could not be read.")
			return false
		}
		err = json.Unmarshal(b, into)
	}
	return typedError(err, prefix, verrs)
}

// typedError reports a decoding error as DecodeTyped does; false if err.
func typedError(err error, prefix string, verrs *model.Errors) bool {
	if err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			verrs.Field(prefix+"."+typ.Field, "invalid", fmt.Sprintf("[%s.%s] must be of type %s.", prefix, typ.Field, JSONTypeName(typ.Type)))
		} else {
			verrs.Field(prefix, "invalid", "The object could not be read: "+err.Error())
		}
		return false
	}
	return true
}

// treeDecoder is a typed object that decodes from a document tree.
type treeDecoder interface{ UnmarshalTree(Object) error }

// JSONTypeName is the JSON name of a Go type, for "must be of type" errors.
func JSONTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	default:
		return t.Kind().String()
	}
}

// Secrets inside objects are kept out of the data column: they are cut out
// before storing and sealed together under the master key, bound to the row.

type SecretPath []string

func (p SecretPath) String() string { return strings.Join(p, ".") }

// SecretPathNames are paths as model.FieldsOf takes them.
func SecretPathNames(paths []SecretPath) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p.String()
	}
	return out
}

// CutSecrets removes the string values at paths from o and returns them by
// dotted path. Non-string values stay for validation to report.
func CutSecrets(o Object, paths []SecretPath) map[string]string {
	out := map[string]string{}
	for _, p := range paths {
		parent := o
		for _, k := range p[:len(p)-1] {
			m, ok := parent[k].(Object)
			if !ok {
				parent = nil
				break
			}
			parent = m
		}
		if parent == nil {
			continue
		}
		last := p[len(p)-1]
		switch v := parent[last].(type) {
		case string:
			if v != "" {
				out[p.String()] = v
			}
			delete(parent, last)
		case nil:
			delete(parent, last)
		}
	}
	return out
}

// PutSecrets puts secrets back at their paths.
func PutSecrets(o Object, paths []SecretPath, values map[string]string) {
	for _, p := range paths {
		v, ok := values[p.String()]
		if !ok {
			continue
		}
		parent := o
		for _, k := range p[:len(p)-1] {
			m, ok := ObjectMember(parent, k)
			if !ok {
				parent = nil
				break
			}
			parent = m
		}
		if parent != nil {
			parent[p[len(p)-1]] = v
		}
	}
}

// OneOf checks an enumerated string setting; empty means unset and passes.
func OneOf(verrs *model.Errors, field, value string, allowed ...string) {
	if value != "" && !slices.Contains(allowed, value) {
		verrs.Field(field, "invalid", fmt.Sprintf("[%s] must be one of %s.", field, strings.Join(allowed, ", ")))
	}
}

// Positive checks a setting that must be greater than zero.
func Positive(verrs *model.Errors, field string, value int64) {
	if value <= 0 {
		verrs.Field(field, "invalid", fmt.Sprintf("[%s] must be greater than 0.", field))
	}
}

// Between adds an invalid-field error unless min <= value <= max.
func Between(verrs *model.Errors, field string, value, min, max int64) {
	if value < min || value > max {
		verrs.Field(field, "invalid", fmt.Sprintf("[%s] must be between %d and %d.", field, min, max))
	}
}

// RequiredName reads, trims and checks the name member of an object.
func RequiredName(o Object, field string, verrs *model.Errors) string {
	var name string
	switch v := o["name"].(type) {
	case nil:
	case string:
		name = v
	default:
		verrs.Field(field, "invalid", "["+field+"] must be a string.")
		return ""
	}
	return CheckName(name, field, verrs)
}

// CheckName checks a required name given as a string (RequiredName's checks
// once the member is read) and returns it trimmed.
func CheckName(name, field string, verrs *model.Errors) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		verrs.Field(field, "blank", "["+field+"] is required.")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		verrs.Field(field, "invalid", "["+field+"] must not contain control characters.")
	case len(name) > MaxNameLength:
		verrs.Field(field, "tooLong", fmt.Sprintf("[%s] must be at most %d characters.", field, MaxNameLength))
	}
	return name
}

// MaxNameLength bounds tenant, application and role names.
const MaxNameLength = 191

// NarrowToTenant narrows a search's tenants (*ids: the scope's, nil for
// all) to the criteria's tenantId when it names one. It reports true when
// the scope cannot see that tenant: the search finds nothing.
func NarrowToTenant(scope TenantScope, tenantID string, ids *[]string, verrs *model.Errors) (none bool) {
	t := strings.TrimSpace(tenantID)
	if t == "" {
		return false
	}
	id, ok := CanonicalID(t)
	switch {
	case !ok:
		verrs.Field("search.tenantId", "invalid", "tenantId must be a UUID.")
	case !scope.CanSee(id):
		return true
	default:
		*ids = []string{id}
	}
	return false
}

// SealSecrets seals the secrets of one row under the master key, bound to
// associated; "" when there are none.
func SealSecrets(master *secrets.MasterKey, values map[string]string, associated string) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	b, err := json.Marshal(values)
	if err != nil {
		return "", err
	}
	return master.Seal(string(b), associated), nil
}

// OpenSecrets opens what SealSecrets made.
func OpenSecrets(master *secrets.MasterKey, sealed, associated string) (map[string]string, error) {
	if sealed == "" {
		return map[string]string{}, nil
	}
	plain, err := master.Open(sealed, associated)
	if err != nil {
		return nil, fmt.Errorf("open sealed secrets of %s: %w", associated, err)
	}
	out := map[string]string{}
	if err := json.Unmarshal([]byte(plain), &out); err != nil {
		return nil, fmt.Errorf("sealed secrets of %s: %w", associated, err)
	}
	return out, nil
}
