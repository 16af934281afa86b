// Package kickstart reads FusionAuth kickstart files and replays them on a
// fresh Latch: it parses the file, performs the replacements, checks what can
// be checked without the database, and plans the run (load.go); run.go replays
// the requests through the API handler, resumably.
package kickstart

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/model"
)

// Built-in variables, FusionAuth's names.
const (
	VarApplicationID     = "FUSIONAUTH_APPLICATION_ID"
	VarTenantID          = "FUSIONAUTH_TENANT_ID"
	VarDefaultSigningKey = "FUSIONAUTH_DEFAULT_SIGNING_KEY_ID"
	// VarDefaultTenantID, set in "variables", becomes the Default tenant's id.
	VarDefaultTenantID = "defaultTenantId"
)

// builtinNames are the built-in variables and what they are, for messages.
var builtinNames = map[string]string{
	VarApplicationID:     "the id of the built-in admin application",
	VarTenantID:          "the id of the Default tenant",
	VarDefaultSigningKey: "the id of the default signing key, which was deleted",
}

// topFields are the members a kickstart file may have.
var topFields = []string{"variables", "apiKeys", "requests", "licenseId", "license", "settings"}

// requestFields are the members of one request.
var requestFields = []string{"method", "url", "tenantId", "body", "contentType"}

// keyFields are the members of one API key.
var keyFields = []string{"id", "key", "name", "description", "keyManager", "permissions", "tenantId", "tenantIds",
	"ipAccessControlListId", "metaData", "expirationInstant", "retrievable"}

// Env is what resolution needs from outside the file.
type Env struct {
	// Getenv reads #{ENV.NAME}; the app passes its own (config is the only
	// reader of the process environment).
	Getenv func(string) string
	// Builtins are the instance's built-in variables (VarApplicationID,
	// VarTenantID, VarDefaultSigningKey when it exists).
	Builtins map[string]string
	// Generated are the #{UUID()} values of an earlier attempt, by slot.
	Generated map[string]string
	// NowMillis is the instance's time, for key expiry checks.
	NowMillis int64
	// NewUUID makes #{UUID()} values; nil means random UUIDs.
	NewUUID func() string
}

// Plan is a resolved kickstart file, ready to run.
type Plan struct {
	File string
	// DefaultTenantID is the Default tenant's id the file asks for; "" keeps it.
	DefaultTenantID string
	Keys            []access.KickstartKey
	// KeysHash identifies the keys and defaultTenantId, which take effect when
	// a run begins and may not change on a resume.
	KeysHash string
	Requests []Request
	// Generated holds every #{UUID()} value the plan uses, by slot; Fresh
	// counts those made now rather than kept from an earlier attempt.
	Generated   map[string]string
	Fresh       int
	ReadTimeout int64 // milliseconds; 0 means none
	Notes       []string
}

// Request is one API call of the plan.
type Request struct {
	Index       int // 0-based
	Method      string
	URL         string
	TenantID    string
	ContentType string
	Body        []byte // nil: no body
	// Hash identifies the request as sent, to detect a completed request that
	// changed in the file.
	Hash string
}

// Path is the request's path without its query (which may carry secrets),
// for logs.
func (r Request) Path() string {
	p, _, _ := strings.Cut(r.URL, "?")
	return p
}

// FileError is a problem with the kickstart file itself; nothing was written.
type FileError struct {
	File     string
	Problems []string
}

func (e *FileError) Error() string {
	if len(e.Problems) == 1 {
		return "kickstart file " + e.File + ": " + e.Problems[0]
	}
	return "kickstart file " + e.File + " has " + strconv.Itoa(len(e.Problems)) + " problems:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// Load reads, resolves and checks a kickstart file.
func Load(path string, env Env) (*Plan, error) {
	fail := func(problems ...string) error { return &FileError{File: path, Problems: problems} }
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fail(err.Error())
	}
	top, err := decodeJSON(data, path)
	if err != nil {
		return nil, fail(err.Error())
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, fail("the file must be a JSON object with \"apiKeys\" (and usually \"requests\"), not " + jsonType(top))
	}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(topFields, k) {
			problems = append(problems, fmt.Sprintf("unknown top-level member %q: a kickstart file has %s", k, strings.Join(topFields, ", ")))
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fail(err.Error())
	}
	r := &resolver{dir: filepath.Dir(abs), getenv: env.Getenv, builtins: map[string]string{}, vars: map[string]any{},
		userNames: map[string]bool{}, generated: maps.Clone(env.Generated), newUUID: env.NewUUID, counters: map[string]int{}}
	if r.getenv == nil {
		r.getenv = func(string) string { return "" }
	}
	if r.generated == nil {
		r.generated = map[string]string{}
	}
	if r.newUUID == nil {
		r.newUUID = uuid.NewString
	}
	for k, v := range env.Builtins {
		if v != "" {
			r.builtins[k] = v
		}
	}
	plan := &Plan{File: path}

	// Variables first, defaultTenantId before the others: it decides what
	// FUSIONAUTH_TENANT_ID means.
	if raw, present := obj["variables"]; present && raw != nil {
		vars, ok := raw.(map[string]any)
		if !ok {
			return nil, fail("\"variables\" must be an object of name → value, not " + jsonType(raw))
		}
		for name := range vars {
			r.userNames[name] = true
			if _, builtin := builtinNames[name]; builtin {
				problems = append(problems, fmt.Sprintf("variables.%s: %s is a built-in variable (%s) and cannot be redefined", name, name, builtinNames[name]))
			}
		}
		if len(problems) > 0 {
			return nil, fail(problems...)
		}
		r.inVariables = true
		names := slices.Sorted(maps.Keys(vars))
		if i := slices.Index(names, VarDefaultTenantID); i > 0 {
			names = append([]string{VarDefaultTenantID}, slices.Delete(names, i, i+1)...)
		}
		for _, name := range names {
			v, err := r.value(vars[name], "variables."+name, "variables."+name)
			if err != nil {
				return nil, fail(err.Error())
			}
			r.vars[name] = v
			if name == VarDefaultTenantID {
				id, ok := v.(string)
				canon, err := uuid.Parse(strings.TrimSpace(id))
				if !ok || err != nil || len(strings.TrimSpace(id)) != 36 {
					return nil, fail(fmt.Sprintf("variables.%s must be a UUID (the Default tenant's new id), not %v", VarDefaultTenantID, v))
				}
				plan.DefaultTenantID = canon.String()
				r.vars[name] = plan.DefaultTenantID
				r.builtins[VarTenantID] = plan.DefaultTenantID
			}
		}
		r.inVariables = false
	}

	keys, keyProblems := r.apiKeys(obj, env.NowMillis)
	problems = append(problems, keyProblems...)
	plan.Keys = keys

	reqs, reqProblems := r.requests(obj)
	problems = append(problems, reqProblems...)
	plan.Requests = reqs

	timeout, setProblems := settings(obj["settings"])
	problems = append(problems, setProblems...)
	plan.ReadTimeout = timeout

	if _, ok := obj["licenseId"]; ok {
		plan.Notes = append(plan.Notes, "licenseId is ignored: Latch needs no license")
	}
	if _, ok := obj["license"]; ok {
		plan.Notes = append(plan.Notes, "license is ignored: Latch needs no license")
	}
	if len(problems) > 0 {
		return nil, fail(problems...)
	}
	plan.Generated, plan.Fresh = r.generated, r.fresh
	plan.KeysHash = keysHash(plan.DefaultTenantID, plan.Keys)
	return plan, nil
}

// apiKeys resolves and checks the keys.
func (r *resolver) apiKeys(obj map[string]any, now int64) ([]access.KickstartKey, []string) {
	raw, present := obj["apiKeys"]
	if !present || raw == nil {
		return nil, []string{"\"apiKeys\" is missing: a kickstart file needs at least one API key, and the first, with access to every endpoint and tenant, runs the requests"}
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, []string{"\"apiKeys\" must be an array of API keys, not " + jsonType(raw)}
	}
	if len(list) == 0 {
		return nil, []string{"\"apiKeys\" is empty: a kickstart file needs at least one API key"}
	}
	var (
		keys     []access.KickstartKey
		problems []string
		values   = map[string]int{}
	)
	for i, item := range list {
		where := fmt.Sprintf("apiKeys[%d]", i)
		v, err := r.value(item, where, where)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		k, err := decodeKey(v, where)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if _, given := v.(map[string]any)["keyManager"]; i == 0 && !given {
			// The key that replays every request must be able to manage keys
			// too (kickstart files often create more); FusionAuth's files
			// leave the member out.
			k.KeyManager = true
		}
		for _, msg := range access.CheckKickstartKey(k, i == 0, now) {
			problems = append(problems, where+": "+msg)
		}
		if j, dup := values[k.Value]; dup && k.Value != "" {
			problems = append(problems, fmt.Sprintf("%s: the key value is the same as apiKeys[%d]'s; each key needs its own", where, j))
		}
		values[k.Value] = i
		keys = append(keys, *k)
	}
	return keys, problems
}

// keyJSON is an API key as a kickstart file gives it.
type keyJSON struct {
	ID          *string `json:"id"`
	Key         *string `json:"key"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	KeyManager  *bool   `json:"keyManager"`
	Permissions *struct {
		Endpoints map[string][]string `json:"endpoints"`
	} `json:"permissions"`
	TenantID              *string  `json:"tenantId"`
	TenantIDs             []string `json:"tenantIds"`
	IPAccessControlListID *string  `json:"ipAccessControlListId"`
	MetaData              *struct {
		Attributes map[string]string `json:"attributes"`
	} `json:"metaData"`
	ExpirationInstant *int64 `json:"expirationInstant"`
	Retrievable       *bool  `json:"retrievable"`
}

func decodeKey(v any, where string) (*access.KickstartKey, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s must be an object, not %s", where, jsonType(v))
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(keyFields, k) {
			return nil, fmt.Errorf("%s: unknown member %q (an API key has %s)", where, k, strings.Join(keyFields, ", "))
		}
	}
	var in keyJSON
	if err := strictDecode(obj, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	k := &access.KickstartKey{}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	k.ID, k.Name, k.Description = str(in.ID), str(in.Name), str(in.Description)
	if in.Key != nil {
		k.Value = *in.Key
	}
	k.KeyManager = in.KeyManager != nil && *in.KeyManager
	if in.Permissions != nil {
		k.Endpoints = in.Permissions.Endpoints
	}
	if t := str(in.TenantID); t != "" {
		k.TenantIDs = []string{t}
	}
	k.TenantIDs = append(k.TenantIDs, in.TenantIDs...)
	k.IPAccessControlListID = str(in.IPAccessControlListID)
	if in.MetaData != nil {
		k.Attributes = in.MetaData.Attributes
	}
	k.ExpirationInstant = in.ExpirationInstant
	// Kickstart keys are stored as a hash only unless the file asks: their
	// value is in the file already.
	k.Retrievable = in.Retrievable != nil && *in.Retrievable
	return k, nil
}

// strictDecode re-reads a decoded object into a typed struct, naming the
// member whose type is wrong. Names match exactly, as in the API: a member
// that differs from a field only in letter case or invisible characters is
// refused.
func strictDecode(obj map[string]any, into any) error {
	b, err := encodeJSON(obj)
	if err != nil {
		return err
	}
	if err := model.UnmarshalExact(b, into, ""); err != nil {
		var verrs *model.Errors
		if errors.As(err, &verrs) {
			var msgs []string
			for _, f := range slices.Sorted(maps.Keys(verrs.FieldErrors)) {
				for _, it := range verrs.FieldErrors[f] {
					msgs = append(msgs, it.Message)
				}
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return fmt.Errorf("%s must be %s, not a %s", typ.Field, goTypeName(typ.Type.String()), typ.Value)
		}
		return err
	}
	return nil
}

func goTypeName(t string) string {
	switch {
	case strings.Contains(t, "bool"):
		return "a boolean"
	case strings.Contains(t, "int"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.Contains(t, "map") || strings.Contains(t, "struct"):
		return "an object"
	default:
		return "a string"
	}
}

// requests resolves and checks the requests.
func (r *resolver) requests(obj map[string]any) ([]Request, []string) {
	raw, present := obj["requests"]
	if !present || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, []string{"\"requests\" must be an array of requests, not " + jsonType(raw)}
	}
	var (
		out      []Request
		problems []string
	)
	for i, item := range list {
		where := fmt.Sprintf("requests[%d]", i)
		v, err := r.value(item, where, where)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		req, err := makeRequest(i, v, where)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out = append(out, *req)
	}
	return out, problems
}

func makeRequest(i int, v any, where string) (*Request, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s must be an object with method, url and body, not %s", where, jsonType(v))
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(requestFields, k) {
			return nil, fmt.Errorf("%s: unknown member %q (a request has %s)", where, k, strings.Join(requestFields, ", "))
		}
	}
	str := func(name string, required bool) (string, error) {
		switch x := obj[name].(type) {
		case string:
			if required && strings.TrimSpace(x) == "" {
				return "", fmt.Errorf("%s.%s is empty", where, name)
			}
			return strings.TrimSpace(x), nil
		case nil:
			if required {
				return "", fmt.Errorf("%s.%s is missing", where, name)
			}
			return "", nil
		default:
			return "", fmt.Errorf("%s.%s must be a string, not %s", where, name, jsonType(x))
		}
	}
	req := &Request{Index: i}
	var err error
	if req.Method, err = str("method", true); err != nil {
		return nil, err
	}
	req.Method = strings.ToUpper(req.Method)
	switch req.Method {
	case "POST", "PUT", "PATCH":
	default:
		return nil, fmt.Errorf("%s: the method %s is not allowed: a kickstart only makes changes, with POST, PUT or PATCH", where, req.Method)
	}
	if req.URL, err = str("url", true); err != nil {
		return nil, err
	}
	u, perr := url.Parse(req.URL)
	if perr != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(req.URL, "/api/") {
		return nil, fmt.Errorf("%s.url %q must be an API path such as /api/tenant (no scheme or host)", where, req.URL)
	}
	if req.TenantID, err = str("tenantId", false); err != nil {
		return nil, err
	}
	if req.TenantID != "" {
		id, perr := uuid.Parse(req.TenantID)
		if perr != nil || len(req.TenantID) != 36 {
			return nil, fmt.Errorf("%s.tenantId %q must be a UUID", where, req.TenantID)
		}
		req.TenantID = id.String()
	}
	if req.ContentType, err = str("contentType", false); err != nil {
		return nil, err
	}
	if body, present := obj["body"]; present && body != nil {
		if text, isText := body.(string); isText && req.ContentType != "" && !strings.Contains(strings.ToLower(req.ContentType), "json") {
			req.Body = []byte(text) // a non-JSON body is sent as written
		} else if req.Body, err = encodeJSON(body); err != nil {
			return nil, fmt.Errorf("%s.body: %w", where, err)
		}
	}
	req.Hash = requestHash(req)
	return req, nil
}

func requestHash(r *Request) string {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL, r.TenantID, r.ContentType} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(r.Body)
	return hex.EncodeToString(h.Sum(nil))
}

func keysHash(defaultTenantID string, keys []access.KickstartKey) string {
	b, _ := json.Marshal(struct {
		DefaultTenantID string
		Keys            []access.KickstartKey
	}{defaultTenantID, keys}) // maps encode sorted; the types always encode
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// settings reads FusionAuth's connectTimeout and readTimeout (milliseconds).
// Requests run in-process, so only readTimeout applies: as each request's
// deadline.
func settings(raw any) (int64, []string) {
	if raw == nil {
		return 0, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return 0, []string{"\"settings\" must be an object, not " + jsonType(raw)}
	}
	var (
		readTimeout int64
		problems    []string
	)
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if k != "connectTimeout" && k != "readTimeout" {
			problems = append(problems, fmt.Sprintf("settings: unknown member %q (settings has connectTimeout and readTimeout)", k))
			continue
		}
		n, ok := obj[k].(json.Number)
		v, err := n.Int64()
		if !ok || err != nil || v < 0 {
			problems = append(problems, fmt.Sprintf("settings.%s must be a whole number of milliseconds, not %v", k, obj[k]))
			continue
		}
		if k == "readTimeout" {
			readTimeout = v
		}
	}
	return readTimeout, problems
}

// describeBody shortens an error body for a message.
func describeBody(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "(empty body)"
	}
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
