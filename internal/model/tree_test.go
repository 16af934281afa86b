package model

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
)

// NormalizeTree gives what a second pass through the text gives.
func TestNormalizeTree(t *testing.T) {
	var lli int64 = 7
	cases := []any{
		nil, true, "a<b>&", "bad \xff utf8", json.Number(""), json.Number("2.50"), json.Number("1e400"),
		int64(-3), 42, 1.5, 1e21, 1e-7, math.Copysign(0, -1), 123456789012.0, 3e-10,
		[]string{"en", "\xfe"}, []any{1.0, "x", nil, []any{}}, []map[string]any{{"a": int64(1)}, nil},
		map[string]any{"k": map[string]any{"n": json.Number("-0"), "l": &lli}, "bad\xffkey": 1},
		map[string]any{},
	}
	for _, c := range cases {
		got, err := NormalizeTree(c)
		if err != nil {
			t.Fatalf("%#v: %v", c, err)
		}
		want, err := reencode(c)
		if err != nil {
			t.Fatalf("%#v: %v", c, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%#v: got %#v, want %#v", c, got, want)
		}
	}
	if _, err := NormalizeTree(json.Number("1x")); err == nil {
		t.Error("an invalid number normalizes")
	}
}

// User.tree is what TreeOf makes of the typed form.
func TestUserTreeIsTreeOf(t *testing.T) {
	var lli int64 = 1700000000000
	users := []User{
		{},
		{ID: "u", TenantID: "t", Email: "a@b", Active: true, InsertInstant: 1, LastUpdateInstant: 2},
		{FirstName: "\xff", PreferredLanguages: []string{"en", "de"}, Expiry: -1, LastLoginInstant: &lli,
			PasswordLastUpdateInstant: 5, EncryptionScheme: "bcrypt", Factor: 10, Verified: true, PasswordChangeRequired: true,
			Registrations: []map[string]any{{"x": 1.5, "n": 1e22, "l": []any{"a"}}, nil}, Memberships: []map[string]any{{}},
			Username: "u", FullName: "f", MiddleName: "m", LastName: "l", BirthDate: "b", Timezone: "z",
			ImageURL: "i", MobilePhone: "p", PhoneNumber: "q", ParentEmail: "e"},
		{PreferredLanguages: []string{}, Registrations: []map[string]any{}},
	}
	for i, u := range users {
		got, err := u.tree()
		if err != nil {
			t.Fatal(err)
		}
		want, err := TreeOf((*userShape)(&u))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("user %d: got %#v\nwant %#v", i, got, want)
		}
	}
}

// A user whose typed fields did not change encodes as the long way would.
func FuzzUserUnchanged(f *testing.F) {
	for _, d := range append(slices.Clone(rawBagDocs), userRawBagDocs...) {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var u User
		if err := json.Unmarshal(data, &u); err != nil {
			return
		}
		if u.Extra.orig == nil {
			t.Fatal("nothing remembered")
		}
		fast, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		slow := u
		slow.Extra.orig = nil
		want, err := json.Marshal(slow)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast, want) {
			t.Fatalf("unchanged: %s\nlong way: %s", fast, want)
		}
		ft, err := u.Tree()
		if err != nil {
			t.Fatal(err)
		}
		st, err := slow.Tree()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ft, st) {
			t.Fatalf("tree: %#v\nlong way: %#v", ft, st)
		}
		// A change in place to a registration takes the long way.
		if len(u.Registrations) > 0 && u.Registrations[0] != nil {
			u.Registrations[0]["changed"] = true
			b, err := json.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(`"changed":true`)) {
				t.Fatalf("change lost: %s", b)
			}
		}
	})
}

// Decoding a user from its tree sets what json.Unmarshal sets from the
// tree's encoding (a tree holds each member once: of a member sent twice it
// keeps the last, as the object Latch decodes a request into does).
func FuzzUserFromTree(f *testing.F) {
	for _, d := range append(slices.Clone(rawBagDocs), userRawBagDocs...) {
		f.Add([]byte(d))
	}
	f.Add([]byte(`{"factor":1.0,"expiry":"1","preferredLanguages":["en",null],"registrations":[null,{"n":1e400}],"EMAIL":"x","uſername":"y"}`))
	f.Add([]byte(`{"lastLoginInstant":5,"memberships":[],"preferredLanguages":[],"active":null,"registrations":[{"a":[1,{"b":2.5}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSONValue(data)
		if err != nil {
			return
		}
		sent, ok := v.(map[string]any)
		if !ok {
			return
		}
		canon, err := json.Marshal(sent)
		if err != nil {
			return
		}
		var want User
		werr := json.Unmarshal(canon, (*userShape)(&want))
		var got User
		if !got.fromTree(sent) {
			return
		}
		if werr != nil && !userFields.hasCaseVariants(sent) {
			t.Fatalf("fromTree took %s, encoding/json: %v", canon, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\nfromTree %#v\njson     %#v", canon, got, want)
		}
	})
}
