package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var rawBagDocs = []string{
	`{}`,
	`{"name":"a"}`,
	`{"name":null,"active":null,"roles":null,"jwtConfiguration":null}`,
	`{"x":{"deep":{"n":1e21,"big":123456789012345678901234567890,"f":1.50,"neg":-0,"arr":[null,true,{"a":null},[],{}]}}}`,
	`{"jwtConfiguration":{"timeToLiveInSeconds":600,"unknownInside":"x","refreshTokenRevocationPolicy":null}}`,
	`{"oauthConfiguration":{"clientSecret":"s<&>","logoutURL":"","enabledGrants":null,"zz":{"q":[1,2,3]}}}`,
	`{"registrationConfiguration":{"type":null,"enabled":false,"more":{"deeper":[{"a":1}]}}}`,
	`{"Name":"case variant","name":"exact","JWTConfiguration":{"a":1}}`,
	`{"roles":[{"id":"r","name":"n","isDefault":true,"extra":1}],"insertInstant":-0}`,
	`{"data":{"big":9007199254740993,"s":"<script>\u2028"},"name":"\u00e9\ud83d\ude00"}`,
	`{"verifyRegistration":true,"state":"Inactive","tenantId":"","id":"x"}`,
}

// canonical is what the API writes for a document tree.
func canonical(t testing.TB, data []byte) []byte {
	t.Helper()
	v, err := DecodeJSONValue(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestApplicationRawBagRoundTrip(t *testing.T) {
	for _, doc := range rawBagDocs {
		t.Run(doc, func(t *testing.T) {
			var a ApplicationConfig
			if err := json.Unmarshal([]byte(doc), &a); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(&a)
			if err != nil {
				t.Fatal(err)
			}
			if want := canonical(t, []byte(doc)); !bytes.Equal(got, want) {
				t.Errorf("round trip:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// A typed field the code changes is written as it now is; what the type does
// not know stays as sent.
func TestApplicationRawBagChanges(t *testing.T) {
	doc := `{"name":null,"logoutURL":"keep","jwtConfiguration":{"timeToLiveInSeconds":1.0e3,"u":[1e21]},
"oauthConfiguration":{"logoutURL":"","enabledGrants":["a","a"],"clientSecret":"old"},"roles":null}`
	var a ApplicationConfig
	if err := json.Unmarshal([]byte(doc), &a); err == nil {
		t.Fatalf("1.0e3 read as an integer")
	}
	doc = strings.Replace(doc, "1.0e3", "1000", 1)
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		t.Fatal(err)
	}
	if a.JWTConfiguration.TimeToLiveInSeconds != 1000 || a.OAuthConfiguration.ClientSecret.Reveal() != "old" {
		t.Fatalf("typed fields: %+v", a)
	}
	a.Name = "named"
	a.OAuthConfiguration.LogoutURL = "https://x.example/bye"
	a.OAuthConfiguration.EnabledGrants = []string{"a"}
	a.OAuthConfiguration.ClientSecret = "new"
	a.Roles = []ApplicationRole{}
	got, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"jwtConfiguration":{"timeToLiveInSeconds":1000,"u":[1e21]},"logoutURL":"keep","name":"named",` +
		`"oauthConfiguration":{"clientSecret":"new","enabledGrants":["a"],"logoutURL":"https://x.example/bye"},"roles":[]}`
	if string(got) != want {
		t.Errorf("changed:\n got %s\nwant %s", got, want)
	}
	// Clearing a field sent blank leaves it as sent; clearing one sent set drops it.
	var b ApplicationConfig
	if err := json.Unmarshal([]byte(`{"oauthConfiguration":{"logoutURL":"u","deviceVerificationURL":""}}`), &b); err != nil {
		t.Fatal(err)
	}
	b.OAuthConfiguration.LogoutURL = ""
	got, _ = json.Marshal(&b)
	if want := `{"oauthConfiguration":{"deviceVerificationURL":""}}`; string(got) != want {
		t.Errorf("cleared:\n got %s\nwant %s", got, want)
	}
	if printed := fmt.Sprintf("%v %+v", a.Extra, a); strings.Contains(printed, "1e21") || strings.Contains(printed, "new") {
		t.Errorf("printed: %s", printed)
	}
}

func TestApplicationFieldsKnowTheShape(t *testing.T) {
	f := FieldsOf(ApplicationConfig{})
	var verrs Errors
	if f.Check(map[string]any{"Name": "x", "oauthConfiguration": map[string]any{"ClientSecret": "y"}}, "application", &verrs) {
		t.Fatal("case variants of an application's fields pass")
	}
	if len(verrs.FieldErrors) != 2 {
		t.Errorf("errors: %v", verrs.FieldErrors)
	}
}

// typedObject is a typed object with a raw bag.
type typedObject[T any] interface {
	*T
	Tree() (map[string]any, error)
}

// checkRawBag: any JSON object a typed object decodes from is written back
// exactly (as the API writes a document tree), and again after a second
// round; a typed field the code sets (member, to "set by Latch") is written,
// and nothing else changes.
func checkRawBag[T any, P typedObject[T]](t *testing.T, data []byte, member string, set func(P)) {
	v, err := DecodeJSONValue(data)
	if err != nil {
		return
	}
	if _, ok := v.(map[string]any); !ok {
		return
	}
	var a T
	if err := json.Unmarshal(data, P(&a)); err != nil {
		return
	}
	got, err := json.Marshal(P(&a))
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("round trip of %q:\n got %s\nwant %s", data, got, want)
	}
	var again T
	if err := json.Unmarshal(got, P(&again)); err != nil {
		t.Fatalf("second read of %s: %v", got, err)
	}
	if got2, _ := json.Marshal(P(&again)); !bytes.Equal(got2, want) {
		t.Fatalf("second round trip:\n got %s\nwant %s", got2, want)
	}
	set(P(&again))
	tree, err := P(&again).Tree()
	if err != nil {
		t.Fatal(err)
	}
	if tree[member] != "set by Latch" {
		t.Fatalf("%s not written: %v", member, tree[member])
	}
	delete(tree, member)
	orig := v.(map[string]any)
	delete(orig, member)
	if !reflect.DeepEqual(tree, orig) {
		t.Fatalf("setting %s changed other members:\n got %v\nwant %v", member, tree, orig)
	}
}

func FuzzApplicationRawBag(f *testing.F) {
	for _, d := range rawBagDocs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRawBag(t, data, "name", func(a *ApplicationConfig) { a.Name = "set by Latch" })
	})
}

var tenantRawBagDocs = []string{
	`{"name":"t","emailConfiguration":{"password":"p<>","port":25.0e0,"host":null,"x":{"y":[1e400]}}}`,
	`{"captchaConfiguration":{"secretKey":"k"},"jwtConfiguration":null,"passwordValidationRules":{"breachDetection":{"enabled":false}}}`,
	`{"externalIdentifierConfiguration":{"changePasswordIdGenerator":{"length":32,"type":"randomBytes","u":-0}},"Issuer":"variant"}`,
}

func FuzzTenantRawBag(f *testing.F) {
	for _, d := range append(slices.Clone(rawBagDocs), tenantRawBagDocs...) {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRawBag(t, data, "name", func(tn *TenantConfig) { tn.Name = "set by Latch" })
	})
}

func TestTenantRawBagRoundTrip(t *testing.T) {
	for _, doc := range append(slices.Clone(rawBagDocs), tenantRawBagDocs...) {
		t.Run(doc, func(t *testing.T) {
			var tn TenantConfig
			if err := json.Unmarshal([]byte(doc), &tn); err != nil {
				if strings.Contains(doc, "25.0e0") {
					return // a port must be an integer
				}
				t.Fatal(err)
			}
			checkRawBag(t, []byte(doc), "name", func(tn *TenantConfig) { tn.Name = "set by Latch" })
		})
	}
}

var userRawBagDocs = []string{
	`{"id":"u","tenantId":"t","email":"a@example.com","active":true,"verified":false,"passwordChangeRequired":false,"insertInstant":1,"lastUpdateInstant":1}`,
	`{"firstName":null,"fullName":"<A & B>","data":{"big":123456789012345678901234567890,"n":1e21,"f":1.50},"unknownTop":{"x":[-0]}}`,
	`{"lastLoginInstant":null,"passwordLastUpdateInstant":0,"preferredLanguages":[],"expiry":-0,"registrations":[{"applicationId":"a","roles":null,"x":1.0}]}`,
	`{"twoFactor":{"methods":[{"id":"ABCD","method":"email","email":"a@example.com"}]},"memberships":[{"groupId":"g","data":{}}],"FirstName":"variant"}`,
	`{"registrations":[null,{"id":"r","Roles":["v"],"roles":["r"],"data":{"x":1.0},"verifiedInstant":null}],"memberships":[{"groupId":"g","x":{}},null]}`,
	`{"email":"","username":"u","birthDate":"1976-05-30","timezone":"America/Denver","imageUrl":"https://i.example/a.png?x=1&y=<2>","encryptionScheme":"bcrypt","factor":10}`,
}

func FuzzUserRawBag(f *testing.F) {
	for _, d := range append(slices.Clone(rawBagDocs), userRawBagDocs...) {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRawBag(t, data, "firstName", func(u *User) { u.FirstName = "set by Latch" })
	})
}

func TestUserRawBagRoundTrip(t *testing.T) {
	for _, doc := range append(slices.Clone(rawBagDocs), userRawBagDocs...) {
		t.Run(doc, func(t *testing.T) {
			var u User
			if err := json.Unmarshal([]byte(doc), &u); err != nil {
				t.Fatal(err)
			}
			checkRawBag(t, []byte(doc), "firstName", func(u *User) { u.FirstName = "set by Latch" })
		})
	}
}

// The owned members Latch sets after reading the stored document are written
// as set, also when set to what the typed form writes for nothing.
func TestUserRawBagChanges(t *testing.T) {
	var u User
	doc := `{"id":"u","tenantId":"t","active":true,"verified":true,"passwordChangeRequired":false,"insertInstant":1,"lastUpdateInstant":2,"firstName":null,"data":{"n":1.50}}`
	if err := json.Unmarshal([]byte(doc), &u); err != nil {
		t.Fatal(err)
	}
	if !u.Active || u.LastUpdateInstant != 2 || u.ID != "u" {
		t.Fatalf("typed fields: %+v", u)
	}
	u.Active, u.EncryptionScheme, u.Factor = false, "bcrypt", 10
	got, err := json.Marshal(&u)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"active":false,"data":{"n":1.50},"encryptionScheme":"bcrypt","factor":10,"firstName":null,"id":"u",` +
		`"insertInstant":1,"lastUpdateInstant":2,"passwordChangeRequired":false,"tenantId":"t","verified":true}`
	if string(got) != want {
		t.Errorf("changed:\n got %s\nwant %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"firstName":7}`), &u); err == nil {
		t.Error("a number read as firstName")
	}
}
