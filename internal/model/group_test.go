package model

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

var groupRawBagDocs = []string{
	`{"id":"g","name":"Admins","tenantId":"t","roles":{},"data":{},"insertInstant":1,"lastUpdateInstant":2}`,
	`{"name":"g","data":{"big":123456789012345678901234567890,"n":1e21,"f":1.50,"s":"<a & b>\u2028"},"unknownTop":{"x":[-0,null]}}`,
	`{"roles":{"a":[{"id":"r","name":"admin","isDefault":false,"isSuperRole":true,"insertInstant":1,"lastUpdateInstant":1,"x":1.0}]},"data":null}`,
	`{"roles":{"a":null,"b":[]},"data":{ "spaced" : [ 1 , 2 ] },"Name":"variant","insertInstant":-0}`,
	`{"data":"not an object","tenantId":null,"id":""}`,
}

func TestGroupRawBagRoundTrip(t *testing.T) {
	for _, doc := range append(slices.Clone(rawBagDocs), groupRawBagDocs...) {
		t.Run(doc, func(t *testing.T) {
			var g Group
			if err := json.Unmarshal([]byte(doc), &g); err != nil {
				if bytes.Contains([]byte(doc), []byte(`"roles":[`)) {
					return // an application's roles are a list, a group's a map
				}
				t.Fatal(err)
			}
			checkRawBag(t, []byte(doc), "name", func(g *Group) { g.Name = "set by Latch" })
			var fromTree Group
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

func treeOfDoc(t testing.TB, doc string) map[string]any {
	t.Helper()
	v, err := DecodeJSONValue([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

// The members Latch sets on a group read from its stored document are
// written as set; data and what Latch does not know stay as stored.
func TestGroupRawBagChanges(t *testing.T) {
	var g Group
	doc := `{"id":"","name":"","roles":{},"data":{"n":1.50},"x":{"y":[1e21]},"insertInstant":0}`
	if err := g.UnmarshalTree(treeOfDoc(t, doc)); err != nil {
		t.Fatal(err)
	}
	g.ID, g.Name, g.TenantID, g.InsertInstant, g.LastUpdateInstant = "g", "Admins", "t", 1, 2
	g.Roles = map[string][]ApplicationRole{"a": {{ID: "r", Name: "admin", IsSuperRole: true}}}
	got, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"data":{"n":1.50},"id":"g","insertInstant":1,"lastUpdateInstant":2,"name":"Admins",` +
		`"roles":{"a":[{"id":"r","insertInstant":0,"isDefault":false,"isSuperRole":true,"lastUpdateInstant":0,"name":"admin"}]},"tenantId":"t","x":{"y":[1e21]}}`
	if string(got) != want {
		t.Errorf("changed:\n got %s\nwant %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"name":7}`), &g); err == nil {
		t.Error("a number read as a name")
	}
}

// Any JSON object a group decodes from is written back exactly, from its
// text and from its tree alike.
func FuzzGroupRawBag(f *testing.F) {
	for _, d := range append(slices.Clone(rawBagDocs), groupRawBagDocs...) {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRawBag(t, data, "name", func(g *Group) { g.Name = "set by Latch" })
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
		var fromText, fromTree Group
		jerr, terr := json.Unmarshal(canon, &fromText), fromTree.UnmarshalTree(sent)
		if (jerr == nil) != (terr == nil) {
			t.Fatalf("%s: json %v, tree %v", canon, jerr, terr)
		}
		if terr == nil {
			if b, err := json.Marshal(&fromTree); err != nil || !bytes.Equal(b, canon) {
				t.Fatalf("tree round trip of %s: %s %v", canon, b, err)
			}
		}
	})
}
