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
		want      []string // fields reported
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
		// Spaces, control and format characters do not make another name.
		{"look-alikes", `{"password ":1," password":2,"pass word":3,"pass\tword":4,"password\u0000":5,"pass\u0000word":6,"pas\u200bsword":7,` +
			`"pass\u00adword":8,"\ufeffpassword":9,"pass\u2060word":10,"pass\u202eword":11,"pass\u00a0word":12,"pass\u3000word":13,` +
			`"pass\u034fword":14,"pass\ufe0fword":15,"pass\u3164word":16,"PASS\u200dWORD":17,"password":"ok"}`,
			[]string{" password", "PASS\u200dWORD", "pas\u200bsword", "pass\u0000word", "pass\u00a0word", "pass\u00adword", "pass\u034fword",
				"pass\u2060word", "pass\u202eword", "pass\u3000word", "pass\u3164word", "pass\tword", "pass\ufe0fword", "pass word",
				"password\u0000", "password ", "\ufeffpassword"},
			`{"password":"ok"}`},
		{"look-alikes nested", `{"inner":{"secret\u200b":1},"list":[{"se cret":2}],"twoFactor":{"methods":[{"secret\r\n":3}]}}`,
			[]string{"inner.secret\u200b", "list[0].se cret", "twoFactor.methods[0].secret\r\n"},
			`{"inner":{},"list":[{}],"twoFactor":{"methods":[{}]}}`},
		{"look-alikes of nothing", `{"pass-word":1,"pass_word":2,"passwords":3,"\u200b":4,"p\u0430ssword":5}`, nil,
			`{"pass-word":1,"pass_word":2,"passwords":3,"\u200b":4,"p\u0430ssword":5}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var verrs Errors
			ok := fields.Check(fnDoc(t, tc.doc), "user", &verrs)
			var want []string
			for _, f := range tc.want {
				want = append(want, "user."+f)
			}
			slices.Sort(want)
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
	tests := []struct{ doc, field, message string }{
		{`{"inner":{"Secret":"x"}}`, "user.inner.Secret",
			"[user.inner.Secret] differs from the field [user.inner.secret] only in letter case; field names are case-sensitive."},
		{`{"inner":{"Secret\u200b":"x"}}`, "user.inner.Secret\u200b",
			"[user.inner.Secret\u200b] differs from the field [user.inner.secret] only in letter case, spaces or invisible characters; field names are matched exactly."},
	}
	for _, tc := range tests {
		var verrs Errors
		FieldsOf(fnView{}).Check(fnDoc(t, tc.doc), "user", &verrs)
		items := verrs.FieldErrors[tc.field]
		if len(items) != 1 || items[0].Code != "[invalid]"+tc.field || items[0].Message != tc.message {
			t.Errorf("%s: errors %+v", tc.doc, verrs)
		}
	}
}

// Invisible covers what shows nothing: white space, Cc, Cf, variation
// selectors and the other default-ignorable code points; nothing visible.
func TestInvisible(t *testing.T) {
	for _, r := range []rune{' ', '\t', '\n', 0, 0x7f, 0x85, 0xa0, 0xad, 0x34f, 0x61c, 0x115f, 0x180e, 0x2000, 0x200b, 0x200c, 0x200d, 0x200e,
		0x2028, 0x202e, 0x2060, 0x2066, 0x3000, 0x3164, 0xfe0f, 0xfeff, 0xffa0, 0xe0001, 0xe0100} {
		if !Invisible(r) {
			t.Errorf("%U is not invisible", r)
		}
	}
	for _, r := range []rune{'a', 'Z', '0', '-', '_', '.', '@', 0xe9, 0x301, 0x430, 0x3b1, 0x1d0b, 0x4e00, 0x5c71, 0x2122, 0xfffd} {
		if Invisible(r) {
			t.Errorf("%U is invisible", r)
		}
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
		{"look-alike", `{"password\u200b":"p"}`, []string{"password\u200b"}, false, ""},
		{"look-alike nested", `{"inner":{" secret":"s"}}`, []string{"inner. secret"}, false, ""},
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
