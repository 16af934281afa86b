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
			Registrations: []Registration{{ID: "r", Roles: []string{"a"}, VerifiedInstant: &lli, Timezone: "\xfe", AuthenticationToken: "t"}, {}},
			Memberships:   []GroupMember{{}, {ID: "m", GroupID: "g", UserID: "u", InsertInstant: 3}},
			Username:      "u", FullName: "f", MiddleName: "m", LastName: "l", BirthDate: "b", Timezone: "z",
			ImageURL: "i", MobilePhone: "p", PhoneNumber: "q", ParentEmail: "e"},
		{PreferredLanguages: []string{}, Registrations: []Registration{}},
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
		if len(u.Registrations) > 0 {
			u.Registrations[0].Roles = append(u.Registrations[0].Roles, "changed")
			b, err := json.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(`"changed"`)) {
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

// Registration.tree and GroupMember.tree are what TreeOf makes of the typed form.
func TestRegistrationTreeIsTreeOf(t *testing.T) {
	var at int64 = 1700000000000
	regs := []Registration{
		{},
		{ID: "r", ApplicationID: "a", Roles: []string{}, Verified: true, InsertInstant: 1, LastUpdateInstant: 2, UsernameStatus: "ACTIVE"},
		{Roles: []string{"x", "\xff"}, Username: "u", PreferredLanguages: []string{"en"}, Timezone: "z",
			VerifiedInstant: &at, LastLoginInstant: &at, AuthenticationToken: "tok"},
		{PreferredLanguages: []string{}},
	}
	for i, r := range regs {
		got, err := r.tree()
		if err != nil {
			t.Fatal(err)
		}
		want, err := TreeOf((*registrationShape)(&r))
		if err != nil {
			t.Fatal(err)
		}
		if r.AuthenticationToken != "" { // it writes itself redacted
			want["authenticationToken"] = r.AuthenticationToken.Reveal()
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("registration %d: got %#v\nwant %#v", i, got, want)
		}
	}
	for i, m := range []GroupMember{{}, {ID: "m", GroupID: "g", UserID: "u", InsertInstant: -1}} {
		got, err := m.tree()
		if err != nil {
			t.Fatal(err)
		}
		if want, err := TreeOf((*groupMemberShape)(&m)); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("member %d: got %#v\nwant %#v (%v)", i, got, want, err)
		}
	}
}

var registrationRawBagDocs = []string{
	`{"id":"r","applicationId":"a","roles":["admin","user"],"verified":true,"verifiedInstant":5,"insertInstant":1,"lastUpdateInstant":2,"usernameStatus":"ACTIVE","data":{}}`,
	`{"roles":null,"username":null,"timezone":"America/Denver","preferredLanguages":["en","fr_CA"],"data":{"big":123456789012345678901234567890,"n":1e21,"f":1.50},"cleanSpeakId":"c"}`,
	`{"lastLoginInstant":null,"verifiedInstant":-0,"roles":[],"unknown":{"x":[null,{}]},"Roles":["variant"],"authenticationToken":"t<&>"}`,
	`{"groupId":"g","userId":"u","insertInstant":1.0,"data":{"a":[1]},"GroupId":"variant"}`,
}

// Decoding a registration or a group member from its tree sets what
// json.Unmarshal sets from the tree's encoding, and either writes back
// exactly what it read.
func FuzzRegistrationFromTree(f *testing.F) {
	for _, d := range append(slices.Clone(rawBagDocs), registrationRawBagDocs...) {
		f.Add([]byte(d))
	}
	f.Add([]byte(`{"roles":["a",null],"preferredLanguages":"en","verified":"true","id":1,"uſername":"y","ID":"z"}`))
	f.Add([]byte(`{"insertInstant":1e3,"lastUpdateInstant":9223372036854775808,"verifiedInstant":"1","groupId":null}`))
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
		fromTreeMatchesJSON(t, canon, sent, registrationFields, (*registrationShape)(&Registration{}), func() (any, bool) {
			var r Registration
			return r, r.fromTree(sent)
		})
		fromTreeMatchesJSON(t, canon, sent, groupMemberFields, (*groupMemberShape)(&GroupMember{}), func() (any, bool) {
			var m GroupMember
			return m, m.fromTree(sent)
		})
		// Both decode from the tree as from the text, and write it back.
		var r, rt Registration
		jerr, terr := json.Unmarshal(canon, &r), rt.UnmarshalTree(sent)
		if (jerr == nil) != (terr == nil) {
			t.Fatalf("%s: json %v, tree %v", canon, jerr, terr)
		}
		if jerr == nil {
			for _, reg := range []*Registration{&r, &rt} {
				if b, err := json.Marshal(reg); err != nil || !bytes.Equal(b, canon) {
					t.Fatalf("round trip of %s: %s %v", canon, b, err)
				}
			}
		}
		var m GroupMember
		if json.Unmarshal(canon, &m) == nil {
			if b, err := json.Marshal(m); err != nil || !bytes.Equal(b, canon) {
				t.Fatalf("member round trip of %s: %s %v", canon, b, err)
			}
		}
	})
}

// fromTreeMatchesJSON checks a fromTree result (typed, returned by decode
// when it covers sent) against json.Unmarshal of canon into shape.
func fromTreeMatchesJSON(t *testing.T, canon []byte, sent map[string]any, fields *Fields, shape any, decode func() (any, bool)) {
	t.Helper()
	werr := json.Unmarshal(canon, shape)
	got, ok := decode()
	if !ok {
		return
	}
	if werr != nil && !fields.hasCaseVariants(sent) {
		t.Fatalf("fromTree took %s, encoding/json: %v", canon, werr)
	}
	want := reflect.ValueOf(shape).Elem().Convert(reflect.TypeOf(got)).Interface()
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\nfromTree %#v\njson     %#v", canon, got, want)
	}
}

// A registration read from a user's tree is typed; what the user and the
// registration do not know is written back as read, and a change to a
// registration's typed field is written as set.
func TestUserRegistrationsTyped(t *testing.T) {
	doc := `{"id":"u","registrations":[{"applicationId":"a","roles":["r"],"data":{"n":1.50},"x":null}],` +
		`"memberships":[{"groupId":"g","id":"m","insertInstant":7,"data":{"k":[1e21]}}]}`
	var u User
	if err := json.Unmarshal([]byte(doc), &u); err != nil {
		t.Fatal(err)
	}
	if len(u.Registrations) != 1 || u.Registrations[0].ApplicationID != "a" || !slices.Equal(u.Registrations[0].Roles, []string{"r"}) ||
		len(u.Memberships) != 1 || u.Memberships[0].GroupID != "g" || u.Memberships[0].InsertInstant != 7 {
		t.Fatalf("typed: %+v", u)
	}
	if got, want := canonical(t, mustMarshal(t, u)), canonical(t, []byte(doc)); !bytes.Equal(got, want) {
		t.Fatalf("round trip:\n got %s\nwant %s", got, want)
	}
	u.Registrations[0].Roles = []string{"s"}
	u.Memberships[0].GroupID = "h"
	want := `{"id":"u","memberships":[{"data":{"k":[1e21]},"groupId":"h","id":"m","insertInstant":7}],` +
		`"registrations":[{"applicationId":"a","data":{"n":1.50},"roles":["s"],"x":null}]}`
	if got := mustMarshal(t, u); string(got) != want {
		t.Errorf("changed:\n got %s\nwant %s", got, want)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
