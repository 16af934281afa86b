package model

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Latch matches JSON member names exactly, as FusionAuth's clients send them.
// Go's encoding/json matches struct fields regardless of letter case, while
// objects kept whole (users, tenants…) cut their owned and secret members by
// exact name: without one rule, {"Password":…} would be read as the password
// and also kept verbatim in the stored object. A name that only looks like a
// field ("password " with a space, "pass\u200bword" with a zero-width space)
// is not read as the field, but would be kept verbatim all the same. So a
// member whose name differs from a known field only in letter case and
// invisible characters (Invisible) is refused where a request is read
// (Fields.Check, UnmarshalExact) and dropped where a stored object is read
// (Fields.Drop). With no such member left, encoding/json matches exactly.

// Fields are the known member names of a JSON value, position by position.
// They are built once (package variables) and only read afterwards.
type Fields struct {
	members map[string]*Fields // object members by exact name; nil value: nothing known inside
	folded  map[string]string  // foldName(name) → name
	elems   *Fields            // array elements, or the values of an object with free keys (a Go map)
}

// FieldsOf describes the JSON fields of v's type (nil for none) and the
// further members at paths: dotted names, "[]" after a name for each element
// of its array ("twoFactor.methods[].secret").
func FieldsOf(v any, paths ...string) *Fields {
	var f *Fields
	if v != nil {
		f = fieldsOfType(reflect.TypeOf(v), map[reflect.Type]*Fields{})
	}
	if f == nil {
		f = &Fields{}
	}
	for _, p := range paths {
		f.add(strings.Split(p, "."))
	}
	return f
}

// shaped is a type that decodes itself (keeping a raw bag, see Extra) and
// whose members are those of a plain struct, JSONShape's type.
type shaped interface{ JSONShape() any }

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// fieldsOfType follows encoding/json's view of t; nil when nothing inside t
// has a name (scalars, interfaces, types that decode themselves).
func fieldsOfType(t reflect.Type, seen map[reflect.Type]*Fields) *Fields {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if f, ok := seen[t]; ok {
		return f
	}
	if s, ok := reflect.Zero(t).Interface().(shaped); ok {
		return fieldsOfType(reflect.TypeOf(s.JSONShape()), seen)
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		f := &Fields{}
		seen[t] = f // a type that contains itself refers to the same node
		f.addStruct(t, seen)
		return f
	case reflect.Slice, reflect.Array, reflect.Map:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil // []byte is a base64 string
		}
		if e := fieldsOfType(t.Elem(), seen); e != nil {
			return &Fields{elems: e}
		}
	}
	return nil
}

// addStruct adds the JSON fields of struct type t, embedded structs' promoted.
func (f *Fields) addStruct(t reflect.Type, seen map[reflect.Type]*Fields) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				f.addStruct(et, seen)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f.set(name, fieldsOfType(sf.Type, seen))
	}
}

func (f *Fields) set(name string, child *Fields) {
	if f.members == nil {
		f.members = map[string]*Fields{}
		f.folded = map[string]string{}
	}
	f.members[name] = child
	if _, ok := f.folded[foldName(name)]; !ok {
		f.folded[foldName(name)] = name
	}
}

// add adds the member at a path of names.
func (f *Fields) add(names []string) {
	cur := f
	for i, tok := range names {
		name, each := strings.CutSuffix(tok, "[]")
		last := i == len(names)-1
		child, known := cur.members[name]
		if last && !each {
			if !known {
				cur.set(name, nil)
			}
			return
		}
		if child == nil {
			child = &Fields{}
			cur.set(name, child)
		}
		if each {
			if child.elems == nil {
				child.elems = &Fields{}
			}
			child = child.elems
		}
		cur = child
	}
}

// Check adds a field error "[invalid]<prefix>.<name>" for every member of doc
// (a tree as DecodeJSONValue makes it) whose name differs from a known one
// only in letter case and invisible characters. It reports whether there was
// none.
func (f *Fields) Check(doc any, prefix string, verrs *Errors) bool {
	ok := true
	f.walk(doc, prefix, func(_ map[string]any, name, path, want string) {
		verrs.Field(path, "invalid", variantMessage(name, path, want))
		ok = false
	})
	return ok
}

// variantMessage explains the error of a member name (at path) that stands
// for the field at want.
func variantMessage(name, path, want string) string {
	if strings.IndexFunc(name, Invisible) < 0 {
		return fmt.Sprintf("[%s] differs from the field [%s] only in letter case; field names are case-sensitive.", path, want)
	}
	return fmt.Sprintf("[%s] differs from the field [%s] only in letter case, spaces or invisible characters; field names are matched exactly.", path, want)
}

// Drop removes from doc every member Check would report.
func (f *Fields) Drop(doc any) {
	f.walk(doc, "", func(o map[string]any, name, _, _ string) { delete(o, name) })
}

func (f *Fields) walk(doc any, path string, bad func(o map[string]any, name, path, want string)) {
	if f == nil {
		return
	}
	switch d := doc.(type) {
	case map[string]any:
		if f.members == nil {
			if f.elems != nil { // free keys, named as FusionAuth names them: members[<groupId>]
				for k, v := range d {
					f.elems.walk(v, path+"["+k+"]", bad)
				}
			}
			return
		}
		for k, v := range d {
			if child, ok := f.members[k]; ok {
				child.walk(v, joinField(path, k), bad)
			} else if want, ok := f.folded[foldName(k)]; ok {
				bad(d, k, joinField(path, k), joinField(path, want))
			}
		}
	case []any:
		if f.elems != nil {
			for i, v := range d {
				f.elems.walk(v, fmt.Sprintf("%s[%d]", path, i), bad)
			}
		}
	}
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// foldName maps names that encoding/json matches to one another to the same
// string, folding as it does (bytes.EqualFold): "K" (U+212A KELVIN SIGN)
// and "ſ" (U+017F) count as k and s there, and so here. Invisible characters
// are left out: "password\u0000" and "pass word" read as "password" does.
func foldName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		if r < utf8.RuneSelf {
			switch {
			case r <= ' ' || r == 0x7f: // ASCII controls and space
				continue
			case 'a' <= r && r <= 'z':
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		if Invisible(r) {
			continue
		}
		// The smallest rune of the fold set, as encoding/json's foldRune.
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Invisible reports whether r shows nothing of its own where it is written:
// white space, control (Cc) and format (Cf: zero-width space and joiners,
// bidirectional marks, soft hyphen…) characters, variation selectors and
// Unicode's other default-ignorable code points (Hangul fillers, the
// combining grapheme joiner).
func Invisible(r rune) bool {
	if r < utf8.RuneSelf {
		return r <= ' ' || r == 0x7f
	}
	return unicode.In(r, unicode.White_Space, unicode.Cc, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// UnmarshalExact decodes data into v as json.Unmarshal does, with v's field
// names matched exactly: a member whose name differs from one only in letter
// case and invisible characters is a field error under prefix (an *Errors), and v must not be used.
// Syntax and type errors are json.Unmarshal's.
func UnmarshalExact(data []byte, v any, prefix string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return err
	}
	f := fieldsOfType(reflect.TypeOf(v), map[reflect.Type]*Fields{})
	if f == nil {
		return nil // a raw message or an any: nothing has a name to match
	}
	tree, err := DecodeJSONValue(data)
	if err != nil {
		return err
	}
	var verrs Errors
	f.Check(tree, prefix, &verrs)
	return verrs.Err()
}
