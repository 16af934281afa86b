package model

import (
	"encoding/json"
	"testing"
)

// BenchmarkUserRead is a user read as a search builds it: the stored
// document parsed, the owned members overlaid, decoded and encoded.
func BenchmarkUserRead(b *testing.B) {
	stored := []byte(`{"firstName":"James","lastName":"Smith","data":{"n":12345}}`)
	for b.Loop() {
		v, err := DecodeJSONValue(stored)
		if err != nil {
			b.Fatal(err)
		}
		o := v.(map[string]any)
		o["id"] = "4b1c2d3e-0000-4000-8000-000000000001"
		o["tenantId"] = "4b1c2d3e-0000-4000-8000-000000000002"
		o["email"] = "user0001234@example.com"
		o["username"] = "James.Smith.1234"
		o["fullName"] = "James Smith"
		o["active"], o["verified"], o["passwordChangeRequired"] = true, true, false
		o["insertInstant"], o["lastUpdateInstant"] = json.Number("1700000001234"), json.Number("1700000001234")
		var u User
		if err := u.UnmarshalTree(o); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(&u); err != nil {
			b.Fatal(err)
		}
	}
}
