package model

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustDoc(t testing.TB, s string) any {
	t.Helper()
	v, err := DecodeJSONValue([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestPatchFormOf(t *testing.T) {
	cases := map[string]PatchForm{
		"":                                 PatchFusionAuth,
		"application/json":                 PatchFusionAuth,
		"application/json; charset=UTF-8":  PatchFusionAuth,
		"application/merge-patch+json":     PatchMerge,
		"Application/Merge-Patch+JSON":     PatchMerge,
		"application/json-patch+json":      PatchJSON,
		"application/json-patch+json; x=1": PatchJSON,
		"text/plain":                       PatchFusionAuth,
		";;garbage":                        PatchFusionAuth,
	}
	for ct, want := range cases {
		if got := PatchFormOf(ct); got != want {
			t.Errorf("PatchFormOf(%q) = %v, want %v", ct, got, want)
		}
	}
}

// The examples of RFC 7396 Appendix A, plus the FusionAuth form's array append.
func TestMergePatch(t *testing.T) {
	cases := []struct {
		target, patch, merge, fusionauth string
	}{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`, `{"a":[{"b":"c"},1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`, `["a","b","c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`, `{"a":{"bb":{}}}`},
		// FusionAuth's form appends to lists at any depth.
		{`{"t":{"grants":["a","b"],"n":1}}`, `{"t":{"grants":["c"]}}`, `{"t":{"grants":["c"],"n":1}}`, `{"t":{"grants":["a","b","c"],"n":1}}`},
		{`{"n":1}`, `{"n":1.50}`, `{"n":1.50}`, `{"n":1.5}`},
	}
	for _, c := range cases {
		target := mustDoc(t, c.target)
		before := mustDoc(t, c.target)
		patch := mustDoc(t, c.patch)
		if got := MergePatch(target, patch); !JSONEqual(got, mustDoc(t, c.merge)) {
			t.Errorf("MergePatch(%s, %s) = %v, want %s", c.target, c.patch, got, c.merge)
		}
		if got := MergeFusionAuth(target, patch); !JSONEqual(got, mustDoc(t, c.fusionauth)) {
			t.Errorf("MergeFusionAuth(%s, %s) = %v, want %s", c.target, c.patch, got, c.fusionauth)
		}
		if !JSONEqual(target, before) {
			t.Errorf("merging into %s modified the target", c.target)
		}
	}
}

// The examples of RFC 6902 Appendix A, and the errors around them.
func TestApplyJSONPatch(t *testing.T) {
	cases := []struct {
		name, doc, ops, want string
		code                 string // expected general error code when the patch fails
	}{
		{"A.1 add member", `{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux"}]`, `{"baz":"qux","foo":"bar"}`, ""},
		{"A.2 add array element", `{"foo":["bar","baz"]}`, `[{"op":"add","path":"/foo/1","value":"qux"}]`, `{"foo":["bar","qux","baz"]}`, ""},
		{"A.3 remove member", `{"baz":"qux","foo":"bar"}`, `[{"op":"remove","path":"/baz"}]`, `{"foo":"bar"}`, ""},
		{"A.4 remove element", `{"foo":["bar","qux","baz"]}`, `[{"op":"remove","path":"/foo/1"}]`, `{"foo":["bar","baz"]}`, ""},
		{"A.5 replace", `{"baz":"qux","foo":"bar"}`, `[{"op":"replace","path":"/baz","value":"boo"}]`, `{"baz":"boo","foo":"bar"}`, ""},
		{"A.6 move member", `{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}`,
			`[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]`,
			`{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}`, ""},
		{"A.7 move element", `{"foo":["all","grass","cows","eat"]}`, `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`,
			`{"foo":["all","cows","eat","grass"]}`, ""},
		{"A.8 test success", `{"baz":"qux","foo":["a",2,"c"]}`,
			`[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]`, `{"baz":"qux","foo":["a",2,"c"]}`, ""},
		{"A.9 test failure", `{"baz":"qux"}`, `[{"op":"test","path":"/baz","value":"bar"}]`, "", CodePatchTestFailed},
		{"A.10 add nested", `{"foo":"bar"}`, `[{"op":"add","path":"/child","value":{"grandchild":{}}}]`, `{"foo":"bar","child":{"grandchild":{}}}`, ""},
		{"A.11 ignore unknown members", `{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux","xyz":123}]`, `{"foo":"bar","baz":"qux"}`, ""},
		{"A.12 add to nonexistent target", `{"foo":"bar"}`, `[{"op":"add","path":"/baz/bat","value":"qux"}]`, "", CodeInvalidJSONPatch},
		{"A.14 escapes", `{"/":9,"~1":10}`, `[{"op":"test","path":"/~01","value":10}]`, `{"/":9,"~1":10}`, ""},
		{"A.15 comparing strings and numbers", `{"/":9,"~1":10}`, `[{"op":"test","path":"/~01","value":"10"}]`, "", CodePatchTestFailed},
		{"A.16 add array value", `{"foo":["bar"]}`, `[{"op":"add","path":"/foo/-","value":["abc","def"]}]`, `{"foo":["bar",["abc","def"]]}`, ""},
		{"numbers compare by value", `{"n":1}`, `[{"op":"test","path":"/n","value":1.0}]`, `{"n":1}`, ""},
		{"test of objects ignores order", `{"o":{"a":1,"b":[1,{"c":null}]}}`, `[{"op":"test","path":"/o","value":{"b":[1,{"c":null}],"a":1}}]`, `{"o":{"a":1,"b":[1,{"c":null}]}}`, ""},
		{"copy", `{"a":{"b":1}}`, `[{"op":"copy","from":"/a","path":"/c"},{"op":"replace","path":"/c/b","value":2}]`, `{"a":{"b":1},"c":{"b":2}}`, ""},
		{"replace whole document", `{"a":1}`, `[{"op":"replace","path":"","value":{"b":2}}]`, `{"b":2}`, ""},
		{"all or nothing", `{"a":1}`, `[{"op":"add","path":"/b","value":2},{"op":"remove","path":"/zzz"}]`, "", CodeInvalidJSONPatch},
		{"remove missing", `{"a":1}`, `[{"op":"remove","path":"/b"}]`, "", CodeInvalidJSONPatch},
		{"replace missing", `{"a":1}`, `[{"op":"replace","path":"/b","value":1}]`, "", CodeInvalidJSONPatch},
		{"remove root", `{"a":1}`, `[{"op":"remove","path":""}]`, "", CodeInvalidJSONPatch},
		{"move into own child", `{"a":{"b":{}}}`, `[{"op":"move","from":"/a","path":"/a/b/c"}]`, "", CodeInvalidJSONPatch},
		{"move to itself", `{"a":1}`, `[{"op":"move","from":"/a","path":"/a"}]`, `{"a":1}`, ""},
		{"unknown op", `{}`, `[{"op":"frobnicate","path":"/a"}]`, "", CodeInvalidJSONPatch},
		{"missing op", `{}`, `[{"path":"/a"}]`, "", CodeInvalidJSONPatch},
		{"missing path", `{}`, `[{"op":"add","value":1}]`, "", CodeInvalidJSONPatch},
		{"missing value", `{}`, `[{"op":"add","path":"/a"}]`, "", CodeInvalidJSONPatch},
		{"null value is a value", `{}`, `[{"op":"add","path":"/a","value":null}]`, `{"a":null}`, ""},
		{"bad pointer", `{}`, `[{"op":"add","path":"a","value":1}]`, "", CodeInvalidJSONPatch},
		{"bad escape", `{}`, `[{"op":"add","path":"/a~2","value":1}]`, "", CodeInvalidJSONPatch},
		{"leading zero index", `{"a":[1,2]}`, `[{"op":"remove","path":"/a/01"}]`, "", CodeInvalidJSONPatch},
		{"index past end", `{"a":[1,2]}`, `[{"op":"add","path":"/a/3","value":1}]`, "", CodeInvalidJSONPatch},
		{"dash outside add", `{"a":[1,2]}`, `[{"op":"remove","path":"/a/-"}]`, "", CodeInvalidJSONPatch},
		{"operation not an object", `{}`, `["add"]`, "", CodeInvalidJSONPatch},
		{"not an array", `{}`, `{"op":"add"}`, "", CodeInvalidJSONPatch},
		{"copy bomb is bounded", `{"a":[1,2,3,4,5,6,7,8]}`, copyBomb(40), "", CodeInvalidJSONPatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := mustDoc(t, c.doc)
			got, err := ApplyPatch(PatchJSON, doc, []byte(c.ops))
			if c.code != "" {
				if code := generalCode(err); code != "["+c.code+"]" {
					t.Fatalf("error %v (code %q), want code %q", err, code, c.code)
				}
				if !JSONEqual(doc, mustDoc(t, c.doc)) {
					t.Fatalf("a failed patch modified the document")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !JSONEqual(got, mustDoc(t, c.want)) {
				b, _ := json.Marshal(got)
				t.Fatalf("got %s, want %s", b, c.want)
			}
		})
	}
}

// copyBomb doubles the document n times.
func copyBomb(n int) string {
	ops := []string{`{"op":"add","path":"/x","value":[]}`}
	for i := 0; i < n; i++ {
		ops = append(ops, `{"op":"copy","from":"","path":"/x/-"}`)
	}
	return "[" + strings.Join(ops, ",") + "]"
}

func generalCode(err error) string {
	var e *Errors
	if !errors.As(err, &e) || len(e.GeneralErrors) == 0 {
		return ""
	}
	return e.GeneralErrors[0].Code
}

func TestApplyPatchBadBodies(t *testing.T) {
	doc := mustDoc(t, `{"a":1}`)
	cases := []struct {
		form  PatchForm
		patch string
		code  string
	}{
		{PatchFusionAuth, `{"a":`, "[invalidJSON]"},
		{PatchFusionAuth, `[1]`, "[invalidJSON]"},
		{PatchMerge, `{"a":1} x`, "[invalidJSON]"},
		{PatchJSON, ``, "[invalidJSON]"},
	}
	for _, c := range cases {
		if _, err := ApplyPatch(c.form, doc, []byte(c.patch)); generalCode(err) != c.code {
			t.Errorf("%v %q: error %v, want %s", c.form, c.patch, err, c.code)
		}
	}
}

func TestJSONEqualNumbers(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"1", "1", true},
		{"1", "1.0", true},
		{"1e2", "100", true},
		{"-0", "0", true},
		{"12345678901234567890", "12345678901234567891", false},
		{"12345678901234567890", "12345678901234567890", true},
		{"1e999999999", "1e999999999", true},
		{"0.1", "0.10", true},
		{"1", "2", false},
	}
	for _, c := range cases {
		if got := JSONEqual(json.Number(c.a), json.Number(c.b)); got != c.want {
			t.Errorf("JSONEqual(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// FuzzApplyPatch checks that no document and patch make the patcher panic or
// produce something that is not JSON, and that merge patches are idempotent.
func FuzzApplyPatch(f *testing.F) {
	seeds := []struct {
		doc, patch string
		form       uint8
	}{
		{`{"tenant":{"name":"a","data":{"x":[1,2]}}}`, `{"tenant":{"name":"b","data":{"x":[3]}}}`, 0},
		{`{"tenant":{"name":"a"}}`, `{"tenant":{"name":null}}`, 1},
		{`{"a":[1,2]}`, `[{"op":"move","from":"/a/0","path":"/a/-"},{"op":"test","path":"/a/1","value":1}]`, 2},
		{`{"a":{"b":[{"c":1}]}}`, `[{"op":"copy","from":"/a","path":"/a/b/0/d"}]`, 2},
		{`[]`, `[{"op":"add","path":"/-","value":{"~":1}}]`, 2},
	}
	for _, s := range seeds {
		f.Add([]byte(s.doc), []byte(s.patch), s.form)
	}
	f.Fuzz(func(t *testing.T, docBytes, patch []byte, formByte uint8) {
		doc, err := DecodeJSONValue(docBytes)
		if err != nil {
			return
		}
		form := PatchForm(formByte % 3)
		out, err := ApplyPatch(form, doc, patch)
		if err != nil {
			var e *Errors
			if !errors.As(err, &e) {
				t.Fatalf("patch failed with a non-validation error: %v", err)
			}
			return
		}
		enc, err := json.Marshal(out)
		if err != nil {
			t.Fatalf("patched document does not encode: %v", err)
		}
		if _, err := DecodeJSONValue(enc); err != nil {
			t.Fatalf("patched document does not decode: %v", err)
		}
		if form == PatchMerge {
			again, err := ApplyPatch(form, out, patch)
			if err != nil || !JSONEqual(again, out) {
				t.Fatalf("merge patch is not idempotent: %v", err)
			}
		}
	})
}
