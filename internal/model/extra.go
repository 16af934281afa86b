package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
)

// Typed objects with a raw bag. Tenants and applications are typed structs,
// but a client gets back every member it sent exactly as it sent it: the
// members Latch does not interpret (at any depth), and the spelling of those
// it does when the typed form would write them differently (null where the
// struct holds "", 2.50 for a number, a blank member the struct omits).
// Extra holds both; a type's UnmarshalJSON fills it with SplitExtra and its
// MarshalJSON writes it back with Join. A typed field the code changed after
// decoding is written as the struct holds it, not as it was sent.

// Extra is the raw bag of a typed object. The zero value is empty.
type Extra struct {
	m map[string]extraMember
	// orig, when set, is the typed form as decoded and the object as sent:
	// while the typed fields still equal snap, the object encodes as sent,
	// so that encoding need not re-derive the typed form's tree.
	orig *extraOrigin
}

type extraOrigin struct {
	snap any            // the typed form (without its Extra) when decoded, deep-copied
	sent map[string]any // the object as sent; never modified
}

type extraMember struct {
	kind    extraKind
	value   any    // extraUnknown: the member as sent; extraSpelled: as sent
	decoded any    // extraSpelled, extraAbsent: the typed form's encoding when decoded
	sub     *Extra // extraNested: what the typed form of a known object does not cover
}

type extraKind uint8

const (
	extraUnknown extraKind = iota // a member the type does not have
	extraNested                   // a known object with something of its own in the bag
	extraSpelled                  // a known member sent in a form the typed one does not write
	extraAbsent                   // a known member not sent that the typed form writes
)

// Len is the number of members the bag holds at the top level.
func (x Extra) Len() int { return len(x.m) }

// Format prints only the bag's size: what a client sent may hold anything.
func (x Extra) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "Extra(%d)", len(x.m)) }

// SplitExtra compares a JSON object as sent (a tree as DecodeJSONValue makes
// it) with the encoding of its typed form (decoded, the same kind of tree)
// and returns what the typed form does not reproduce.
func SplitExtra(sent, decoded map[string]any) Extra {
	var x Extra
	put := func(k string, m extraMember) {
		if x.m == nil {
			x.m = map[string]extraMember{}
		}
		x.m[k] = m
	}
	for k, sv := range sent {
		dv, known := decoded[k]
		switch {
		case !known:
			put(k, extraMember{kind: extraUnknown, value: sv})
		case isObject(sv) && isObject(dv):
			if sub := SplitExtra(sv.(map[string]any), dv.(map[string]any)); sub.Len() > 0 {
				put(k, extraMember{kind: extraNested, sub: &sub})
			}
		case !reflect.DeepEqual(sv, dv):
			put(k, extraMember{kind: extraSpelled, value: sv, decoded: dv})
		}
	}
	for k, dv := range decoded {
		if _, sentToo := sent[k]; !sentToo {
			put(k, extraMember{kind: extraAbsent, decoded: dv})
		}
	}
	return x
}

// Join writes the bag back into the encoding of the typed form (cur, a tree
// it may modify) and returns it.
func (x Extra) Join(cur map[string]any) map[string]any {
	for k, m := range x.m {
		cv, has := cur[k]
		switch m.kind {
		case extraUnknown:
			if !has { // a field the struct omitted when decoded and now sets wins
				cur[k] = m.value
			}
		case extraNested:
			if co, ok := cv.(map[string]any); ok {
				cur[k] = m.sub.Join(co)
			}
		case extraSpelled:
			if has && reflect.DeepEqual(cv, m.decoded) {
				cur[k] = m.value
			}
		case extraAbsent:
			if has && reflect.DeepEqual(cv, m.decoded) {
				delete(cur, k)
			}
		}
	}
	return cur
}

// Clone copies the bag (its trees are never modified in place, so that the
// copy shares them).
func (x Extra) Clone() Extra {
	if x.m == nil {
		return x
	}
	out := Extra{m: maps.Clone(x.m), orig: x.orig}
	for k, m := range out.m {
		if m.sub != nil {
			sub := m.sub.Clone()
			m.sub = &sub
			out.m[k] = m
		}
	}
	return out
}

func isObject(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// TreeOf encodes v and decodes it as a document tree (numbers json.Number).
func TreeOf(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	t, err := DecodeJSONValue(b)
	if err != nil {
		return nil, err
	}
	o, ok := t.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return o, nil
}

// EncodeTree encodes a document tree as encoding/json encodes maps (members
// sorted by name), without escaping HTML: an encoder that escapes does so
// when it writes a MarshalJSON result.
func EncodeTree(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// DecodeWithExtra is the body of a typed object's UnmarshalJSON: it decodes
// data into typed (the object's fields without its methods, so that this
// does not recurse), reading member names exactly (fields: members that
// differ from a known one only in letter case stay in the bag, unread), and
// returns the bag. tree is the typed form's encoding, as MarshalJSON writes it.
func DecodeWithExtra(data []byte, fields *Fields, typed any, tree func() (map[string]any, error)) (Extra, error) {
	v, err := DecodeJSONValue(data)
	if err != nil {
		return Extra{}, err
	}
	sent, ok := v.(map[string]any)
	if !ok {
		return Extra{}, &json.UnmarshalTypeError{Value: jsonKindOf(v), Type: reflect.TypeOf(typed)}
	}
	return decodeTree(sent, data, fields, typed, tree)
}

// DecodeTreeWithExtra is DecodeWithExtra for an object already parsed: sent
// is a document tree (see NormalizeTree) that the bag keeps, so the caller
// must not modify it afterwards.
func DecodeTreeWithExtra(sent map[string]any, fields *Fields, typed any, tree func() (map[string]any, error)) (Extra, error) {
	return decodeTree(sent, nil, fields, typed, tree)
}

// decodeTree decodes sent into typed; data, when not nil, is sent's text.
func decodeTree(sent map[string]any, data []byte, fields *Fields, typed any, tree func() (map[string]any, error)) (Extra, error) {
	var err error
	if fields.hasCaseVariants(sent) {
		exact := CopyObject(sent)
		fields.Drop(exact)
		if data, err = json.Marshal(exact); err != nil {
			return Extra{}, err
		}
	} else if data == nil {
		if data, err = json.Marshal(sent); err != nil {
			return Extra{}, err
		}
	}
	if err := json.Unmarshal(data, typed); err != nil {
		return Extra{}, err
	}
	decoded, err := tree()
	if err != nil {
		return Extra{}, err
	}
	return SplitExtra(sent, decoded), nil
}

// Remember records the typed form as decoded (snap, a deep copy the caller
// never modifies) and the object as sent, for EncodeUnchanged.
func (x *Extra) Remember(snap any, sent map[string]any) {
	x.orig = &extraOrigin{snap: snap, sent: sent}
}

// EncodeUnchanged encodes the object as sent when cur (the typed form now,
// without its Extra) equals the one decoded: the typed form then writes what
// it wrote when decoded, and the bag joined to it is the object as sent.
// ok is false when there is nothing remembered or something changed.
func (x Extra) EncodeUnchanged(cur any) (b []byte, ok bool, err error) {
	if x.orig == nil || !reflect.DeepEqual(x.orig.snap, cur) {
		return nil, false, nil
	}
	b, err = EncodeTree(x.orig.sent)
	return b, true, err
}

// TreeUnchanged is EncodeUnchanged for a document tree: a copy of the object
// as sent, or ok false.
func (x Extra) TreeUnchanged(cur any) (map[string]any, bool) {
	if x.orig == nil || !reflect.DeepEqual(x.orig.snap, cur) {
		return nil, false
	}
	return CopyObject(x.orig.sent), true
}

// EncodeWithExtra is the body of a typed object's MarshalJSON.
func EncodeWithExtra(x Extra, tree func() (map[string]any, error)) ([]byte, error) {
	t, err := treeWithExtra(x, tree)
	if err != nil {
		return nil, err
	}
	return EncodeTree(t)
}

func (f *Fields) hasCaseVariants(doc any) bool {
	found := false
	f.walk(doc, "", func(map[string]any, string, string, string) { found = true })
	return found
}

func jsonKindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "bool"
	default:
		return "number"
	}
}

// Without is a copy of the bag without the members keys at the top level
// (for a view that leaves members out however they were sent).
func (x Extra) Without(keys ...string) Extra {
	out := x.Clone()
	for _, k := range keys {
		delete(out.m, k)
	}
	out.orig = nil // the object as sent holds them
	return out
}
