package model

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

var twoFactorMethodDocs = []string{
	`{"id":"ABCD","method":"authenticator","authenticator":{"algorithm":"HmacSHA1","codeLength":6,"timeStep":30}}`,
	`{"id":"EFGH","method":"email","email":"a@example.com","name":"<Work & home>"}`,
	`{"id":"J","method":"sms","mobilePhone":"+15555550100","lastUsed":true,"x":{"y":[1e21,-0]}}`,
	// Members of types the struct does not take ride in the bag as stored.
	`{"id":"K","method":"authenticator","name":5,"email":null,"lastUsed":"yes","authenticator":{"codeLength":"8","timeStep":30.0,"algorithm":7,"z":1}}`,
	`{"id":"L","method":"authenticator","authenticator":{"codeLength":99999999999999999999,"timeStep":0,"algorithm":""}}`,
	`{"id":"M","method":"authenticator","authenticator":null,"lastUsed":false,"name":""}`,
	`{"id":"N","method":"authenticator","authenticator":"HmacSHA1","Method":"variant"}`,
	`{"id":"O","method":"authenticator","authenticator":{}}`,
	`{"secret":"s","id":"P","method":"authenticator"}`,
	`{"id":"\u00e9\ud83d\ude00","method":"email","email":"\u2028@example.com"}`,
}

func TestTwoFactorMethodRawBagRoundTrip(t *testing.T) {
	for _, doc := range append(slices.Clone(rawBagDocs), twoFactorMethodDocs...) {
		t.Run(doc, func(t *testing.T) {
			var m TwoFactorMethod
			if err := json.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatal(err) // reading a stored method never fails
			}
			checkRawBag(t, []byte(doc), "name", func(m *TwoFactorMethod) { m.Name = "set by Latch" })
			var fromTree TwoFactorMethod
			if err := fromTree.UnmarshalTree(treeOfDoc(t, doc)); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(&fromTree)
			if err != nil {
				t.Fatal(err)
			}
			if want := canonical(t, []byte(doc)); !bytes.Equal(got, want) {
				t.Errorf("tree round trip:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func FuzzTwoFactorMethodRawBag(f *testing.F) {
	for _, d := range append(slices.Clone(rawBagDocs), twoFactorMethodDocs...) {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRawBag(t, data, "name", func(m *TwoFactorMethod) { m.Name = "set by Latch" })
	})
}

// The typed fields are set from members of their types only; anything else
// is unset (a TOTP setting then takes its default).
func TestTwoFactorMethodTypedFields(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want TwoFactorMethod
	}{
		{twoFactorMethodDocs[0], TwoFactorMethod{ID: "ABCD", Method: "authenticator", Authenticator: DefaultAuthenticator()}},
		{twoFactorMethodDocs[2], TwoFactorMethod{ID: "J", Method: "sms", MobilePhone: "+15555550100", LastUsed: true}},
		{twoFactorMethodDocs[3], TwoFactorMethod{ID: "K", Method: "authenticator", Authenticator: &AuthenticatorConfiguration{}}},
		{twoFactorMethodDocs[4], TwoFactorMethod{ID: "L", Method: "authenticator", Authenticator: &AuthenticatorConfiguration{}}},
		{twoFactorMethodDocs[6], TwoFactorMethod{ID: "N", Method: "authenticator"}},
		{`{"authenticator":{"algorithm":"HmacSHA512","codeLength":8,"timeStep":60}}`,
			TwoFactorMethod{Authenticator: &AuthenticatorConfiguration{Algorithm: "HmacSHA512", CodeLength: 8, TimeStep: 60}}},
	} {
		var m TwoFactorMethod
		if err := m.UnmarshalTree(treeOfDoc(t, c.doc)); err != nil {
			t.Fatal(err)
		}
		m.Extra = Extra{}
		got, _ := json.Marshal(m)
		want, _ := json.Marshal(c.want)
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", c.doc, got, want)
		}
	}
}

// A view leaves the secret out however it was stored; the rest stays.
func TestTwoFactorMethodView(t *testing.T) {
	for doc, want := range map[string]string{
		`{"id":"A","secret":"s","x":1}`:         `{"id":"A","x":1}`,
		`{"id":"A","secret":null}`:              `{"id":"A"}`,
		`{"id":"A","secret":{"k":1},"name":""}`: `{"id":"A","name":""}`,
	} {
		var m TwoFactorMethod
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(m.View()); string(got) != want {
			t.Errorf("view of %s: %s, want %s", doc, got, want)
		}
		if got, _ := json.Marshal(m); string(got) != string(canonical(t, []byte(doc))) {
			t.Errorf("the view changed the method: %s", got)
		}
	}
}

// A user's twoFactor member round-trips exactly, and the methods the code
// changes are written as they now are, with "methods" always a list.
func TestUserTwoFactorRoundTripAndChanges(t *testing.T) {
	m := `{"id":"A","method":"email","email":"a@example.com","u":1.50}`
	for _, c := range []struct {
		user      string
		methods   int
		afterDrop string // the twoFactor member after removing every method
		afterAdd  string // after adding {"id":"NEW1","method":"email"}
	}{
		{`{}`, 0, `{"methods":[]}`, `{"methods":[{"id":"NEW1","method":"email"}]}`},
		{`{"twoFactor":null}`, 0, `{"methods":[]}`, `{"methods":[{"id":"NEW1","method":"email"}]}`},
		{`{"twoFactor":"x"}`, 0, `{"methods":[]}`, `{"methods":[{"id":"NEW1","method":"email"}]}`},
		{`{"twoFactor":{}}`, 0, `{}`, `{"methods":[{"id":"NEW1","method":"email"}]}`},
		{`{"twoFactor":{"methods":null,"recoveryCodes":null}}`, 0, `{"methods":null,"recoveryCodes":null}`,
			`{"methods":[{"id":"NEW1","method":"email"}],"recoveryCodes":null}`},
		{`{"twoFactor":{"methods":[` + m + `],"k":{"n":1e21}}}`, 1, `{"k":{"n":1e21},"methods":[]}`,
			`{"k":{"n":1e21},"methods":[{"email":"a@example.com","id":"A","method":"email","u":1.50},{"id":"NEW1","method":"email"}]}`},
		{`{"twoFactor":{"methods":[7,` + m + `,null]}}`, 1, `{"methods":[]}`,
			`{"methods":[{"email":"a@example.com","id":"A","method":"email","u":1.50},{"id":"NEW1","method":"email"}]}`},
	} {
		t.Run(c.user, func(t *testing.T) {
			doc := treeOfDoc(t, c.user)
			tf, err := TwoFactorOf(doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(tf.Methods) != c.methods {
				t.Fatalf("methods: %d, want %d", len(tf.Methods), c.methods)
			}
			if sent, ok := doc["twoFactor"].(map[string]any); ok {
				got, err := json.Marshal(tf)
				if err != nil {
					t.Fatal(err)
				}
				if want, _ := json.Marshal(sent); !bytes.Equal(got, want) {
					t.Errorf("round trip:\n got %s\nwant %s", got, want)
				}
			}
			check := func(what string, tf UserTwoFactor, want string) {
				tree, err := tf.Tree()
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := EncodeTree(tree); string(got) != want {
					t.Errorf("%s:\n got %s\nwant %s", what, got, want)
				}
			}
			dropped := tf
			dropped.Methods = []TwoFactorMethod{}
			check("dropped", dropped, c.afterDrop)
			added := tf
			added.Methods = append(slices.Clone(tf.Methods), TwoFactorMethod{ID: "NEW1", Method: "email"})
			check("added", added, c.afterAdd)
		})
	}
}

func TestTwoFactorFieldsKnowTheShape(t *testing.T) {
	f := FieldsOf(UserTwoFactor{})
	var verrs Errors
	if f.Check(map[string]any{"Methods": []any{}}, "user.twoFactor", &verrs) {
		t.Fatal("a case variant of methods passes")
	}
	f = FieldsOf(TwoFactorMethod{})
	if f.Check(map[string]any{"ID": "x", "authenticator": map[string]any{"CodeLength": 6}}, "m", &verrs) {
		t.Fatal("case variants of a method's members pass")
	}
}
