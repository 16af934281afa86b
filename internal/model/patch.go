package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// PATCH in FusionAuth's three forms, as pure functions on JSON documents. A
// resource's PATCH loads its current object in request form (for example
// {"tenant":{…}}), applies the patch here, then validates the result exactly as
// a PUT would. Documents are trees of map[string]any, []any, string,
// json.Number, bool and nil, as DecodeJSONValue produces them.

// PatchForm is one of the PATCH body forms, chosen by the request's Content-Type.
type PatchForm int

const (
	// PatchFusionAuth is FusionAuth's original PATCH (application/json):
	// objects merge recursively, null removes a field, arrays are appended to.
	PatchFusionAuth PatchForm = iota
	// PatchMerge is RFC 7396 JSON Merge Patch (application/merge-patch+json):
	// objects merge recursively, null removes a field, arrays replace.
	PatchMerge
	// PatchJSON is RFC 6902 JSON Patch (application/json-patch+json): a list
	// of add/remove/replace/move/copy/test operations.
	PatchJSON
)

func (f PatchForm) String() string {
	switch f {
	case PatchMerge:
		return "merge-patch"
	case PatchJSON:
		return "json-patch"
	default:
		return "fusionauth-merge"
	}
}

// PatchFormOf picks the form from a Content-Type header. Anything that is not
// one of the two RFC media types is FusionAuth's original form, as FusionAuth
// treats a plain JSON body.
func PatchFormOf(contentType string) PatchForm {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch mt {
	case "application/merge-patch+json":
		return PatchMerge
	case "application/json-patch+json":
		return PatchJSON
	default:
		return PatchFusionAuth
	}
}

// Error codes of patch failures (general errors, HTTP 400).
const (
	CodeInvalidJSON      = "invalidJSON"
	CodeInvalidJSONPatch = "invalidJSONPatch"
	CodePatchTestFailed  = "JSONPatchTestFailed"
)

// maxPatchNodes bounds the size a patched document may grow to. RFC 6902's
// copy can double a document per operation; without a bound a small body
// could exhaust memory.
const maxPatchNodes = 200_000

// DecodeJSONValue decodes one JSON value, keeping numbers as json.Number so
// that they round-trip exactly.
func DecodeJSONValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// ApplyPatch applies a raw patch body of the given form to doc and returns the
// patched document. doc is not modified. Failures are *Errors (400).
func ApplyPatch(form PatchForm, doc any, patch []byte) (any, error) {
	p, err := DecodeJSONValue(patch)
	if err != nil {
		return nil, GeneralError(CodeInvalidJSON, "Invalid JSON in the request body: "+err.Error())
	}
	switch form {
	case PatchJSON:
		ops, ok := p.([]any)
		if !ok {
			return nil, GeneralError(CodeInvalidJSONPatch, "A JSON Patch (application/json-patch+json) body must be an array of operations.")
		}
		return ApplyJSONPatch(doc, ops)
	case PatchMerge:
		if countNodes(doc)+countNodes(p) > maxPatchNodes {
			return nil, GeneralError(CodeInvalidJSONPatch, "The patched document is too large.")
		}
		return MergePatch(doc, p), nil
	default:
		if _, ok := p.(map[string]any); !ok {
			return nil, GeneralError(CodeInvalidJSON, "A PATCH body with Content-Type application/json must be a JSON object.")
		}
		if countNodes(doc)+countNodes(p) > maxPatchNodes {
			return nil, GeneralError(CodeInvalidJSONPatch, "The patched document is too large.")
		}
		return MergeFusionAuth(doc, p), nil
	}
}

// MergePatch applies an RFC 7396 merge patch: a non-object patch replaces the
// target; an object patch merges member by member, null deleting a member.
// Arrays replace. The result shares no structure with the inputs.
func MergePatch(target, patch any) any {
	return merge(DeepCopyJSON(target), patch, false)
}

// MergeFusionAuth applies FusionAuth's original PATCH merge: as MergePatch,
// except that an array in the patch is appended to an array in the target.
// FusionAuth documents the append as a known limitation of this form; clients
// that need to shrink a list use the RFC forms or GET then PUT.
func MergeFusionAuth(target, patch any) any {
	return merge(DeepCopyJSON(target), patch, true)
}

// merge merges patch into target, which it owns and may modify.
func merge(target, patch any, appendArrays bool) any {
	switch p := patch.(type) {
	case map[string]any:
		t, ok := target.(map[string]any)
		if !ok {
			t = map[string]any{}
		}
		for k, v := range p {
			if v == nil {
				delete(t, k)
				continue
			}
			t[k] = merge(t[k], v, appendArrays)
		}
		return t
	case []any:
		if t, ok := target.([]any); ok && appendArrays {
			return append(t, DeepCopyJSON(p).([]any)...)
		}
		return DeepCopyJSON(p)
	default:
		return p // scalars are immutable
	}
}

// CopyObject deep-copies a JSON object.
func CopyObject(o map[string]any) map[string]any {
	out := make(map[string]any, len(o))
	for k, v := range o {
		out[k] = DeepCopyJSON(v)
	}
	return out
}

// DeepCopyJSON copies a document tree.
func DeepCopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = DeepCopyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = DeepCopyJSON(e)
		}
		return out
	default:
		return x
	}
}

func countNodes(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := 1
		for _, e := range x {
			n += countNodes(e)
		}
		return n
	case []any:
		n := 1
		for _, e := range x {
			n += countNodes(e)
		}
		return n
	default:
		return 1
	}
}

// JSONEqual compares two documents as JSON values: objects regardless of
// member order, numbers by value (1 equals 1.0).
func JSONEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !JSONEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !JSONEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	xs, ok1 := numberText(a)
	ys, ok2 := numberText(b)
	return ok1 && ok2 && numbersEqual(xs, ys)
}

func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return string(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

// numbersEqual compares JSON number texts. Integers compare exactly as text
// (JSON forbids leading zeros, so equal integers have equal text, bar -0);
// anything else compares as float64. No arbitrary-precision parsing: an
// exponent like 1e999999999 must not cost anything.
func numbersEqual(a, b string) bool {
	isInt := func(s string) bool { return !strings.ContainsAny(s, ".eE") }
	if isInt(a) && isInt(b) {
		norm := func(s string) string {
			if s == "-0" {
				return "0"
			}
			return s
		}
		return norm(a) == norm(b)
	}
	fa, errA := strconv.ParseFloat(a, 64)
	fb, errB := strconv.ParseFloat(b, 64)
	// ParseFloat reports range errors but still returns ±Inf or 0, which compare sensibly.
	if errA != nil && !errors.Is(errA, strconv.ErrRange) || errB != nil && !errors.Is(errB, strconv.ErrRange) {
		return a == b
	}
	return fa == fb
}

// ApplyJSONPatch applies RFC 6902 operations to doc, all or nothing. doc is not
// modified. A failing test operation or an operation on a missing location is
// a 400 naming the operation's index.
func ApplyJSONPatch(doc any, ops []any) (any, error) {
	out := DeepCopyJSON(doc)
	size := countNodes(out)
	for i, raw := range ops {
		op, ok := raw.(map[string]any)
		if !ok {
			return nil, patchError(i, "", "", "an operation must be a JSON object")
		}
		name, _ := op["op"].(string)
		path, hasPath := op["path"].(string)
		if !hasPath {
			return nil, patchError(i, name, "", "the operation needs a string [path]")
		}
		toks, err := parsePointer(path)
		if err != nil {
			return nil, patchError(i, name, path, err.Error())
		}
		value, hasValue := op["value"]
		var fromToks []string
		if name == "move" || name == "copy" {
			from, ok := op["from"].(string)
			if !ok {
				return nil, patchError(i, name, path, "the operation needs a string [from]")
			}
			if fromToks, err = parsePointer(from); err != nil {
				return nil, patchError(i, name, path, "from: "+err.Error())
			}
		}
		switch name {
		case "add":
			if !hasValue {
				return nil, patchError(i, name, path, "the operation needs a [value]")
			}
			size += countNodes(value)
			if size > maxPatchNodes {
				return nil, GeneralError(CodeInvalidJSONPatch, "The patched document is too large.")
			}
			out, err = pointerAdd(out, toks, DeepCopyJSON(value))
		case "remove":
			out, _, err = pointerRemove(out, toks)
		case "replace":
			if !hasValue {
				return nil, patchError(i, name, path, "the operation needs a [value]")
			}
			size += countNodes(value)
			if size > maxPatchNodes {
				return nil, GeneralError(CodeInvalidJSONPatch, "The patched document is too large.")
			}
			out, err = pointerReplace(out, toks, DeepCopyJSON(value))
		case "move":
			if isProperPrefix(fromToks, toks) {
				return nil, patchError(i, name, path, "a value cannot be moved into one of its own children")
			}
			var v any
			if out, v, err = pointerRemove(out, fromToks); err == nil {
				out, err = pointerAdd(out, toks, v)
			}
		case "copy":
			var v any
			if v, err = pointerGet(out, fromToks); err == nil {
				size += countNodes(v)
				if size > maxPatchNodes {
					return nil, GeneralError(CodeInvalidJSONPatch, "The patched document is too large.")
				}
				out, err = pointerAdd(out, toks, DeepCopyJSON(v))
			}
		case "test":
			if !hasValue {
				return nil, patchError(i, name, path, "the operation needs a [value]")
			}
			var v any
			if v, err = pointerGet(out, toks); err == nil && !JSONEqual(v, value) {
				return nil, GeneralError(CodePatchTestFailed,
					fmt.Sprintf("JSON Patch operation %d (test %s) failed: the value differs.", i, path))
			}
		case "":
			return nil, patchError(i, "", path, "the operation needs a string [op]")
		default:
			return nil, patchError(i, name, path, "unknown op; use add, remove, replace, move, copy or test")
		}
		if err != nil {
			return nil, patchError(i, name, path, err.Error())
		}
	}
	return out, nil
}

func patchError(i int, op, path, reason string) error {
	return GeneralError(CodeInvalidJSONPatch, fmt.Sprintf("JSON Patch operation %d (%s %s): %s.", i, op, path, reason))
}

// parsePointer splits an RFC 6901 JSON Pointer into unescaped tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, errors.New("a JSON Pointer must be empty or start with /")
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 >= len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, errors.New("~ must be followed by 0 or 1 in a JSON Pointer")
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func isProperPrefix(prefix, toks []string) bool {
	if len(prefix) >= len(toks) {
		return false
	}
	for i := range prefix {
		if prefix[i] != toks[i] {
			return false
		}
	}
	return true
}

// arrayIndex reads an array index token; end allows "-" and len(a) (add only).
func arrayIndex(tok string, n int, end bool) (int, error) {
	if tok == "-" {
		if end {
			return n, nil
		}
		return 0, errors.New("index - is only valid for add")
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') || strings.TrimLeft(tok, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an array index", tok)
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i > n || (!end && i == n) {
		return 0, fmt.Errorf("index %s is out of bounds", tok)
	}
	return i, nil
}

func pointerGet(doc any, toks []string) (any, error) {
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("member %q does not exist", t)
			}
			cur = v
		case []any:
			i, err := arrayIndex(t, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("cannot descend into a scalar at %q", t)
		}
	}
	return cur, nil
}

// pointerUpdate replaces the container at toks by fn's result, writing it back
// into its parent (slices change identity when they grow or shrink).
func pointerUpdate(doc any, toks []string, fn func(any) (any, error)) (any, error) {
	if len(toks) == 0 {
		return fn(doc)
	}
	switch c := doc.(type) {
	case map[string]any:
		child, ok := c[toks[0]]
		if !ok {
			return nil, fmt.Errorf("member %q does not exist", toks[0])
		}
		nv, err := pointerUpdate(child, toks[1:], fn)
		if err != nil {
			return nil, err
		}
		c[toks[0]] = nv
		return c, nil
	case []any:
		i, err := arrayIndex(toks[0], len(c), false)
		if err != nil {
			return nil, err
		}
		nv, err := pointerUpdate(c[i], toks[1:], fn)
		if err != nil {
			return nil, err
		}
		c[i] = nv
		return c, nil
	default:
		return nil, fmt.Errorf("cannot descend into a scalar at %q", toks[0])
	}
}

func pointerAdd(doc any, toks []string, v any) (any, error) {
	if len(toks) == 0 {
		return v, nil
	}
	last := toks[len(toks)-1]
	return pointerUpdate(doc, toks[:len(toks)-1], func(parent any) (any, error) {
		switch c := parent.(type) {
		case map[string]any:
			c[last] = v
			return c, nil
		case []any:
			i, err := arrayIndex(last, len(c), true)
			if err != nil {
				return nil, err
			}
			out := make([]any, 0, len(c)+1)
			out = append(append(append(out, c[:i]...), v), c[i:]...)
			return out, nil
		default:
			return nil, errors.New("the parent of the location is not an object or array")
		}
	})
}

func pointerRemove(doc any, toks []string) (any, any, error) {
	if len(toks) == 0 {
		return nil, nil, errors.New("the whole document cannot be removed")
	}
	var removed any
	last := toks[len(toks)-1]
	out, err := pointerUpdate(doc, toks[:len(toks)-1], func(parent any) (any, error) {
		switch c := parent.(type) {
		case map[string]any:
			v, ok := c[last]
			if !ok {
				return nil, fmt.Errorf("member %q does not exist", last)
			}
			removed = v
			delete(c, last)
			return c, nil
		case []any:
			i, err := arrayIndex(last, len(c), false)
			if err != nil {
				return nil, err
			}
			removed = c[i]
			out := make([]any, 0, len(c)-1)
			return append(append(out, c[:i]...), c[i+1:]...), nil
		default:
			return nil, errors.New("the parent of the location is not an object or array")
		}
	})
	return out, removed, err
}

func pointerReplace(doc any, toks []string, v any) (any, error) {
	if len(toks) == 0 {
		return v, nil
	}
	last := toks[len(toks)-1]
	return pointerUpdate(doc, toks[:len(toks)-1], func(parent any) (any, error) {
		switch c := parent.(type) {
		case map[string]any:
			if _, ok := c[last]; !ok {
				return nil, fmt.Errorf("member %q does not exist", last)
			}
			c[last] = v
			return c, nil
		case []any:
			i, err := arrayIndex(last, len(c), false)
			if err != nil {
				return nil, err
			}
			c[i] = v
			return c, nil
		default:
			return nil, errors.New("the parent of the location is not an object or array")
		}
	})
}

// PatchAs applies a PATCH in any of FusionAuth's forms to cur in request
// form, {field: cur}, and reads the result back into a T as a request body
// is read (UnmarshalExact): a member that differs from a field of T only in
// letter case and invisible characters is a 400, never a field set by
// folding. what names the object in the error of a result that is not one.
func PatchAs[T any](cur any, field, what string, form PatchForm, body []byte) (*T, error) {
	doc, err := json.Marshal(map[string]any{field: cur})
	if err != nil {
		return nil, err
	}
	tree, err := DecodeJSONValue(doc)
	if err != nil {
		return nil, err
	}
	patched, err := ApplyPatch(form, tree, body)
	if err != nil {
		return nil, err
	}
	m, ok := patched.(map[string]any)
	if !ok || m[field] == nil {
		return nil, FieldError(field, "missing", "The patched request has no "+what+" object.")
	}
	for k := range m {
		if k != field && foldName(k) == foldName(field) {
			return nil, FieldError(k, "invalid", variantMessage(k, k, field))
		}
	}
	out, err := json.Marshal(m[field])
	if err != nil {
		return nil, err
	}
	var v T
	if err := UnmarshalExact(out, &v, field); err != nil {
		var verrs *Errors
		if errors.As(err, &verrs) {
			return nil, err
		}
		return nil, GeneralError(CodeInvalidJSON, "The patched "+what+" is not valid: "+err.Error())
	}
	return &v, nil
}
