package authentication

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"hash"
	"reflect"
	"slices"
	"testing"

	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// storedUsers are user data columns as the user API can leave them: what
// the two-factor code reads and writes back.
var storedUsers = []string{
	`{}`,
	`{"data":{"n":1.50,"big":123456789012345678901234567890},"firstName":"<A & B>"}`,
	`{"twoFactor":null}`,
	`{"twoFactor":"x","data":{}}`,
	`{"twoFactor":{}}`,
	`{"twoFactor":{"methods":null,"recoveryCodes":null,"other":{"n":1e21}}}`,
	`{"twoFactor":{"methods":[{"id":"ABCD","method":"authenticator","authenticator":{"algorithm":"HmacSHA1","codeLength":6,"timeStep":30}}]}}`,
	`{"twoFactor":{"methods":[{"id":"ABCD","method":"authenticator","name":"Phone \u2028 <1>","authenticator":{"algorithm":"HmacSHA256","codeLength":8,"timeStep":60,"x":[1.0]}},` +
		`{"id":"EFGH","method":"email","email":"a@example.com","lastUsed":true},{"id":"IJKL","method":"sms","mobilePhone":"+1555","name":7}]},"data":{"k":"v"}}`,
	`{"twoFactor":{"methods":[{"id":"MNOP","method":"authenticator","authenticator":{"codeLength":"8","timeStep":1e1,"algorithm":null}},{"id":"QRST","method":"authenticator","authenticator":"x"}]}}`,
	`{"twoFactor":{"methods":[{"id":"UVWX","method":"email","email":null,"u":{"v":-0}}],"z":[]}}`,
	`{"twoFactor":{"methods":[7,{"id":"A","method":"email"},null,[]]}}`,
	`{"twoFactor":{"methods":"x"}}`,
}

// legacyMethods is how the methods were read before they were typed: the
// objects of twoFactor.methods.
func legacyMethods(data kit.Object) []kit.Object {
	var out []kit.Object
	if tf, ok := data["twoFactor"].(kit.Object); ok {
		list, _ := tf["methods"].([]any)
		for _, item := range list {
			if m, ok := item.(kit.Object); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// legacyDocument is how the stored document was written before.
func legacyDocument(data kit.Object, methods []kit.Object) string {
	tf, _ := data["twoFactor"].(kit.Object)
	if tf == nil {
		tf = kit.Object{}
	}
	list := make([]any, len(methods))
	for i, m := range methods {
		list[i] = m
	}
	tf["methods"] = list
	data["twoFactor"] = tf
	s, _ := kit.EncodeObject(data)
	return s
}

func openStored(t *testing.T, doc string) *userTwoFactor {
	t.Helper()
	data, tf, err := storedTwoFactor(&store.UserRow{ID: "u", Data: doc})
	if err != nil {
		t.Fatal(err)
	}
	u := &userTwoFactor{data: data, methods: tf.Methods, rest: tf}
	u.rest.Methods = nil
	return u
}

// The typed methods write the stored document byte for byte as the
// untyped code did: unchanged, with a method added (as enrolment makes
// it), and with each method removed.
func TestTwoFactorDocumentUnchangedOnTheWire(t *testing.T) {
	added := map[string]struct {
		typed  model.TwoFactorMethod
		legacy kit.Object
	}{
		"authenticator": {model.TwoFactorMethod{ID: "NEW1", Method: "authenticator", Name: "Phone <2>", Authenticator: model.DefaultAuthenticator()},
			kit.Object{"id": "NEW1", "method": "authenticator", "name": "Phone <2>", "authenticator": kit.Object{"algorithm": "HmacSHA1", "codeLength": 6, "timeStep": 30}}},
		"email": {model.TwoFactorMethod{ID: "NEW2", Method: "email", Email: "b@example.com"},
			kit.Object{"id": "NEW2", "method": "email", "email": "b@example.com"}},
	}
	for _, doc := range storedUsers {
		t.Run(doc, func(t *testing.T) {
			legacyData, err := kit.StoredObject(doc, identity.UserFields)
			if err != nil {
				t.Fatal(err)
			}
			legacy := legacyMethods(legacyData)
			u := openStored(t, doc)
			if len(u.methods) != len(legacy) {
				t.Fatalf("%d methods, want %d", len(u.methods), len(legacy))
			}
			check := func(what string, u *userTwoFactor, legacy []kit.Object) {
				t.Helper()
				legacyData, _ := kit.StoredObject(doc, identity.UserFields)
				got, err := u.document()
				if err != nil {
					t.Fatal(err)
				}
				if want := legacyDocument(legacyData, legacy); got != want {
					t.Errorf("%s:\n got %s\nwant %s", what, got, want)
				}
			}
			check("unchanged", openStored(t, doc), legacy)
			for name, a := range added {
				u := openStored(t, doc)
				u.methods = append(u.methods, a.typed)
				check("added "+name, u, append(slices.Clone(legacy), a.legacy))
			}
			for i := range legacy {
				u := openStored(t, doc)
				u.methods = slices.Delete(u.methods, i, i+1)
				check(fmt.Sprintf("removed %d", i), u, slices.Delete(slices.Clone(legacy), i, i+1))
			}
		})
	}
}

// A 242's methods and an event's method are written as the untyped views
// were: everything but the secret.
func TestTwoFactorViewsUnchangedOnTheWire(t *testing.T) {
	for _, doc := range append(slices.Clone(storedUsers), `{"twoFactor":{"methods":[{"id":"S","method":"email","secret":"x"},{"id":"","method":"email"},{"method":"x"}]}}`) {
		data, _ := kit.StoredObject(doc, identity.UserFields)
		var legacy []kit.Object
		for _, m := range legacyMethods(data) {
			id, _ := m["id"].(string)
			method, _ := m["method"].(string)
			if id != "" && method != "" {
				v := kit.Object{}
				for k, x := range m {
					if k != "secret" {
						v[k] = x
					}
				}
				legacy = append(legacy, v)
			}
		}
		got, err := json.Marshal(&LoginResponse{Methods: twoFactorMethodsOf(&store.UserRow{ID: "u", Data: doc})})
		if err != nil {
			t.Fatal(err)
		}
		legacyBody := struct {
			Methods []kit.Object `json:"methods,omitempty"`
		}{legacy}
		if want, _ := json.Marshal(legacyBody); string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", doc, got, want)
		}
	}
}

// A method's TOTP settings are read as before: anything absent, of another
// type or out of range is the default.
func TestTOTPParamsOf(t *testing.T) {
	type params struct {
		hash   func() hash.Hash
		digits int
		step   int64
	}
	for auth, want := range map[string]params{
		`null`: {sha1.New, 6, 30},
		`"x"`:  {sha1.New, 6, 30},
		`{}`:   {sha1.New, 6, 30},
		`{"algorithm":"HmacSHA256","codeLength":8,"timeStep":60}`:    {sha256.New, 8, 60},
		`{"algorithm":"HmacSHA512","codeLength":7,"timeStep":300}`:   {sha512.New, 7, 300},
		`{"algorithm":"hmacsha256","codeLength":9,"timeStep":301}`:   {sha1.New, 6, 30},
		`{"algorithm":1,"codeLength":"8","timeStep":60.0}`:           {sha1.New, 6, 30},
		`{"codeLength":5,"timeStep":0}`:                              {sha1.New, 6, 30},
		`{"codeLength":8e0,"timeStep":-30}`:                          {sha1.New, 6, 30},
		`{"codeLength":4294967302,"timeStep":18446744073709551646}`:  {sha1.New, 6, 30},
		`{"codeLength":6,"timeStep":1,"algorithm":"HmacSHA1","x":1}`: {sha1.New, 6, 1},
	} {
		u := openStored(t, `{"twoFactor":{"methods":[{"id":"A","method":"authenticator","authenticator":`+auth+`}]}}`)
		got := u.methodParams("A")
		if reflect.ValueOf(got.hash).Pointer() != reflect.ValueOf(want.hash).Pointer() || got.digits != want.digits || got.step != want.step {
			t.Errorf("%s: %d digits, step %d", auth, got.digits, got.step)
		}
	}
}
