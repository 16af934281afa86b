package model

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
)

// The typed objects read from stored documents on every request (users and
// what they carry: registrations, group memberships) decode from the
// document tree and write their tree directly, without a pass through text.
// Each has fromTree (the typed fields as json.Unmarshal of the tree's text
// would set them, or false for anything it does not cover) and tree (what
// TreeOf makes of the typed form); decodeTyped joins them to the raw bag.

// treeObject is a typed object that decodes from and encodes to a tree.
type treeObject interface {
	fromTree(sent map[string]any) bool
	tree() (map[string]any, error)
	// snapshot is the typed fields alone, deep-copied (see Extra.Remember).
	snapshot() any
}

// decodeTyped is the body of UnmarshalJSON (data: sent's text) and
// UnmarshalTree (data nil) of a treeObject: shape is the object's fields
// without its methods, reset zeroes the object.
func decodeTyped(o treeObject, sent map[string]any, data []byte, fields *Fields, shape any, reset func()) (Extra, error) {
	var x Extra
	var err error
	if data == nil && o.fromTree(sent) {
		var decoded map[string]any
		if decoded, err = o.tree(); err == nil {
			x = SplitExtra(sent, decoded)
		}
	} else {
		reset()
		x, err = decodeTree(sent, data, fields, shape, o.tree)
	}
	if err == nil {
		x.Remember(o.snapshot(), sent)
	}
	return x, err
}

// parseObject reads data as a JSON object for UnmarshalJSON; null is none
// (nil, no error), as encoding/json leaves a struct for null.
func parseObject(data []byte, shape any) (map[string]any, error) {
	v, err := DecodeJSONValue(data)
	if err != nil || v == nil {
		return nil, err
	}
	sent, ok := v.(map[string]any)
	if !ok {
		return nil, &json.UnmarshalTypeError{Value: jsonKindOf(v), Type: reflect.TypeOf(shape)}
	}
	return sent, nil
}

// unmarshalObject is the body of UnmarshalJSON for an object read through
// its tree: data parsed (null leaves the object as it is) and handed to
// fromTree.
func unmarshalObject(data []byte, shape any, fromTree func(map[string]any) error) error {
	sent, err := parseObject(data, shape)
	if err != nil || sent == nil {
		return err
	}
	return fromTree(sent)
}

// treeWithExtra is a typed object's tree joined with its raw bag.
func treeWithExtra(x Extra, tree func() (map[string]any, error)) (map[string]any, error) {
	cur, err := tree()
	if err != nil {
		return nil, err
	}
	return x.Join(cur), nil
}

// joinedTree is the object's tree with its bag: the object as sent while
// the typed fields are unchanged (shared: the caller must not modify it).
func joinedTree(o treeObject, x Extra, cur any) (map[string]any, error) {
	if x.orig != nil && reflect.DeepEqual(x.orig.snap, cur) {
		return x.orig.sent, nil
	}
	t, err := o.tree()
	if err != nil {
		return nil, err
	}
	return x.Join(t), nil
}

// treeOut writes typed fields into a tree as encoding/json writes them.
type treeOut map[string]any

func (o treeOut) str(k, v string, omitEmpty bool) error {
	if omitEmpty && v == "" {
		return nil
	}
	t, err := treeString(v)
	o[k] = t
	return err
}

func (o treeOut) num(k string, v int64, omitEmpty bool) {
	if !omitEmpty || v != 0 {
		o[k] = json.Number(strconv.FormatInt(v, 10))
	}
}

func (o treeOut) numPtr(k string, v *int64) {
	if v != nil {
		o.num(k, *v, false)
	}
}

func (o treeOut) strs(k string, v []string, omitEmpty bool) error {
	if omitEmpty && len(v) == 0 {
		return nil
	}
	t, err := NormalizeTree(v)
	o[k] = t
	return err
}

// treeList writes a list of typed objects with their bags (omitempty).
func treeList[T any](o treeOut, k string, list []T, joined func(*T) (map[string]any, error)) error {
	if len(list) == 0 {
		return nil
	}
	out := make([]any, len(list))
	for i := range list {
		t, err := joined(&list[i])
		if err != nil {
			return err
		}
		out[i] = t
	}
	o[k] = out
	return nil
}

// The setters below set a typed field from a tree member as json.Unmarshal
// would, reporting false for what they do not cover. null leaves the field.

func setString(p *string, v any) bool {
	switch s := v.(type) {
	case nil:
		return true
	case string:
		*p = s
		return true
	}
	return false
}

func setBool(p *bool, v any) bool {
	switch b := v.(type) {
	case nil:
		return true
	case bool:
		*p = b
		return true
	}
	return false
}

func setInt(p *int64, v any) bool {
	switch n := v.(type) {
	case nil:
		return true
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		*p = i
		return err == nil
	}
	return false
}

func setIntPtr(p **int64, v any) bool {
	if v == nil {
		return true
	}
	var n int64
	*p = &n
	return setInt(&n, v)
}

func setStrings(p *[]string, v any) bool {
	if v == nil {
		return true
	}
	list, ok := v.([]any)
	if !ok {
		return false
	}
	*p = make([]string, len(list))
	for i, e := range list {
		if s, ok := e.(string); ok {
			(*p)[i] = s
		} else if e != nil {
			return false
		}
	}
	return true
}

// setList sets a list of typed objects from an array of trees (each kept by
// its element: the tree must not be modified afterwards).
func setList[T any](p *[]T, v any, decode func(*T, map[string]any) bool) bool {
	if v == nil {
		return true
	}
	list, ok := v.([]any)
	if !ok {
		return false
	}
	out := make([]T, len(list))
	for i, e := range list {
		if e == nil {
			continue // a zero element, as encoding/json makes of null
		}
		o, ok := e.(map[string]any)
		if !ok || !decode(&out[i], o) {
			return false
		}
	}
	*p = out
	return true
}

// unknownMember reports whether k is a member encoding/json ignores for a
// type with fields: not one it would match regardless of case.
func unknownMember(fields *Fields, k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] >= 0x80 {
			return false
		}
	}
	return !fields.hasCaseVariants(map[string]any{k: nil})
}

// cloneInt copies a pointer to an instant.
func cloneInt(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// cloneEach deep-copies a list of typed objects.
func cloneEach[T any](list []T, clone func(*T) T) []T {
	if list == nil {
		return nil
	}
	out := slices.Clone(list)
	for i := range out {
		out[i] = clone(&list[i])
	}
	return out
}
