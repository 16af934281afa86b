package model

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

type fnInner struct {
	Secret string `json:"secret"`
	Skip   string `json:"-"`
}

type fnEmbedded struct {
	Promoted string `json:"promoted"`
}

type fnView struct {
	fnEmbedded
	Password string              `json:"password"`
	Inner    *fnInner            `json:"inner"`
	List     []fnInner           `json:"list"`
	ByKey    map[string]fnInner  `json:"byKey"`
	Data     map[string]any      `json:"data"`
	Raw      json.RawMessage     `json:"raw"`
	Plain    string              // no tag: the Go name
	Self     *fnView             `json:"self"`
	Perms    map[string][]string `json:"perms"`
}

func fnDoc(t *testing.T, text string) any {
	t.Helper()
	v, err := DecodeJSONValue([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fnFields(verrs *Errors) []string {
	var out []string
	for f := range verrs.FieldErrors {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

func TestFieldsCheckAndDrop(t *testing.T) {
	fields := FieldsOf(fnView{}, "owned", "twoFactor.methods[].secret", "inner.extra")
	tests := []struct {
		name, doc string
		want      []string // fields reported, sorted
		dropped   string   // the document after Drop
	}{
		{"exact names", `{"password":"p","inner":{"secret":"s","extra":1},"owned":1,"unknown":{"Password":1}}`, nil,
			`{"password":"p","inner":{"secret":"s","extra":1},"owned":1,"unknown":{"Password":1}}`},
		{"top level", `{"Password":"p","PASSWORD":"p","pAssword":"p","password":"ok"}`, []string{"PASSWORD", "Password", "pAssword"}, `{"password":"ok"}`},
		// encoding/json folds U+017F (ſ) to s and U+212A (Kelvin) to k.
		{"unicode folds", `{"pa\u017f\u017fword":"p","O\u212aay":1}`, []string{"paſſword"}, `{"O\u212aay":1}`},
		{"nested", `{"inner":{"SECRET":"s","Extra":2}}`, []string{"inner.Extra", "inner.SECRET"}, `{"inner":{}}`},
		{"object case variant", `{"Inner":{"secret":"s"}}`, []string{"Inner"}, `{}`},
		{"array elements", `{"list":[{"secret":"a"},{"Secret":"b"}]}`, []string{"list[1].Secret"}, `{"list":[{"secret":"a"},{}]}`},
		{"map values", `{"byKey":{"k1":{"Secret":"b"}}}`, []string{"byKey[k1].Secret"}, `{"byKey":{"k1":{}}}`},
		{"free data", `{"data":{"Password":"mine"},"perms":{"Password":["GET"]},"raw":{"Password":1}}`, nil,
			`{"data":{"Password":"mine"},"perms":{"Password":["GET"]},"raw":{"Password":1}}`},
		{"promoted and untagged", `{"Promoted":1,"plain":2,"Plain":3}`, []string{"Promoted", "plain"}, `{"Plain":3}`},
		{"skipped field", `{"inner":{"Skip":1}}`, nil, `{"inner":{"Skip":1}}`},
		{"recursive type", `{"self":{"self":{"PASSWORD":1}}}`, []string{"self.self.PASSWORD"}, `{"self":{"self":{}}}`},
		{"path with elements", `{"twoFactor":{"methods":[{"secret":"a","Secret":"b","other":1}]}}`, []string{"twoFactor.methods[0].Secret"},
			`{"twoFactor":{"methods":[{"secret":"a","other":1}]}}`},
		{"paths only", `{"Owned":1,"TwoFactor":{},"Twofactor2":1}`, []string{"Owned", "TwoFactor"}, `{"Twofactor2":1}`},
		{"not an object", `["Password"]`, nil, `["Password"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var verrs Errors
			ok := fields.Check(fnDoc(t, tc.doc), "user", &verrs)
			var want []string
			for _, f := range tc.want {
				want = append(want, "user."+f)
			}
			if got := fnFields(&verrs); !slices.Equal(got, want) {
				t.Errorf("Check reported %v, want %v", got, want)
			}
			if ok != (len(tc.want) == 0) {
				t.Errorf("Check returned %v", ok)
			}
			for _, items := range verrs.FieldErrors {
				if items[0].Code[:9] != "[invalid]" {
					t.Errorf("code %s", items[0].Code)
				}
			}
			doc := fnDoc(t, tc.doc)
			fields.Drop(doc)
			if !JSONEqual(doc, fnDoc(t, tc.dropped)) {
				b, _ := json.Marshal(doc)
				t.Errorf("Drop left %s, want %s", b, tc.dropped)
			}
		})
	}
}

func TestFieldsCheckMessage(t *testing.T) {
	var verrs Errors
	FieldsOf(fnView{}).Check(fnDoc(t, `{"inner":{"Secret":"x"}}`), "user", &verrs)
	items := verrs.FieldErrors["user.inner.Secret"]
	if len(items) != 1 || items[0].Code != "[invalid]user.inner.Secret" ||
		items[0].Message != "[user.inner.Secret] differs from the field [user.inner.secret] only in letter case; field names are case-sensitive." {
		t.Errorf("errors: %+v", verrs)
	}
}

func TestUnmarshalExact(t *testing.T) {
	tests := []struct {
		name, body string
		fields     []string // case errors expected
		jsonErr    bool
		password   string
	}{
		{"exact", `{"password":"p","inner":{"secret":"s"}}`, nil, false, "p"},
		{"case variant", `{"Password":"p"}`, []string{"Password"}, false, ""},
		{"both spellings", `{"password":"a","PASSWORD":"b"}`, []string{"PASSWORD"}, false, ""},
		{"nested", `{"inner":{"SECRET":"s"}}`, []string{"inner.SECRET"}, false, ""},
		{"type error", `{"password":1}`, nil, true, ""},
		{"syntax error", `{"password":`, nil, true, ""},
		{"unknown member", `{"other":1,"password":"p"}`, nil, false, "p"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v fnView
			err := UnmarshalExact([]byte(tc.body), &v, "")
			var verrs *Errors
			switch {
			case tc.jsonErr:
				if err == nil || errors.As(err, &verrs) {
					t.Errorf("err = %v, want a JSON error", err)
				}
			case tc.fields != nil:
				if !errors.As(err, &verrs) || !slices.Equal(fnFields(verrs), tc.fields) {
					t.Errorf("err = %v, want field errors %v", err, tc.fields)
				}
			default:
				if err != nil || v.Password != tc.password {
					t.Errorf("err = %v, password %q", err, v.Password)
				}
			}
		})
	}
	// Targets without names take anything.
	var raw json.RawMessage
	if err := UnmarshalExact([]byte(`{"Password":1}`), &raw, ""); err != nil {
		t.Errorf("raw message: %v", err)
	}
	var anyV any
	if err := UnmarshalExact([]byte(`{"Password":1}`), &anyV, ""); err != nil {
		t.Errorf("any: %v", err)
	}
}
