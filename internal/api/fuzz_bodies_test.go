package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// fuzzRoutes are the write calls whose JSON bodies the fuzzer feeds, each
// with a valid body as its seed. PATCH is sent in the three body forms.
var fuzzRoutes = []struct {
	method, path, contentType, seed string
	global                          bool // sent without X-FusionAuth-TenantId
}{
	{"POST", "/api/tenant", "application/json", `{"tenant":{"name":"T","data":{"x":1}}}`, true},
	{"POST", "/api/application", "application/json", `{"application":{"name":"A","roles":[{"name":"r"}],"oauthConfiguration":{"authorizedRedirectURLs":["https://a.example/cb"]}}}`, false},
	{"POST", "/api/user", "application/json", `{"user":{"email":"f@example.com","password":"a long password","data":{"k":[1,2]}}}`, false},
	{"POST", "/api/user/registration", "application/json", `{"user":{"email":"g@example.com","password":"a long password"},"registration":{"applicationId":"` + fuzzAppID + `","roles":["r"]}}`, false},
	{"POST", "/api/user/import", "application/json", `{"users":[{"email":"h@example.com","password":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=","encryptionScheme":"salted-sha256","salt":"c2FsdA==","factor":1}]}`, false},
	{"POST", "/api/group", "application/json", `{"group":{"name":"G"}}`, false},
	{"POST", "/api/api-key", "application/json", `{"apiKey":{"permissions":{"endpoints":{"/api/user":["GET"]}}}}`, true},
	{"POST", "/api/key/generate", "application/json", `{"key":{"algorithm":"ES256","name":"k"}}`, true},
	{"POST", "/api/ip-acl", "application/json", `{"ipAccessControlList":{"name":"l","entries":[{"startIPAddress":"*","action":"Block"}]}}`, true},
	{"POST", "/api/login", "application/json", `{"loginId":"f@example.com","password":"a long password"}`, false},
	{"POST", "/api/user/search", "application/json", `{"search":{"queryString":"email:f*","numberOfResults":5,"sortFields":[{"name":"email"}]}}`, false},
	{"POST", "/api/user/change-password", "application/json", `{"loginId":"f@example.com","currentPassword":"a long password","password":"another long one"}`, false},
	{"POST", "/api/jwt/refresh", "application/json", `{"refreshToken":"x"}`, false},
	{"PATCH", "/api/tenant/" + fuzzTenantID, "application/json", `{"tenant":{"name":"T2"}}`, false},
	{"PATCH", "/api/tenant/" + fuzzTenantID, "application/merge-patch+json", `{"tenant":{"data":null}}`, false},
	{"PATCH", "/api/tenant/" + fuzzTenantID, "application/json-patch+json", `[{"op":"replace","path":"/tenant/name","value":"T3"}]`, false},
	{"POST", "/api/entity/type", "application/json", `{"entityType":{"name":"ET","permissions":[{"name":"read","isDefault":true}],"jwtConfiguration":{"enabled":false,"timeToLiveInSeconds":60}}}`, true},
	{"PATCH", "/api/entity/type/" + fuzzEntityTypeID, "application/json", `{"entityType":{"data":{"a":1}}}`, true},
	{"POST", "/api/entity/type/" + fuzzEntityTypeID + "/permission", "application/json", `{"permission":{"name":"p","description":"d"}}`, true},
	{"POST", "/api/entity", "application/json", `{"entity":{"name":"E","type":{"id":"` + fuzzEntityTypeID + `"},"clientSecret":"s","data":{"x":[1]}}}`, false},
	{"PATCH", "/api/entity/" + fuzzEntityID, "application/merge-patch+json", `{"entity":{"name":"E2","data":null}}`, false},
	{"POST", "/api/entity/search", "application/json", `{"search":{"queryString":"name:E* AND tenantId:` + fuzzTenantID + `","query":"{\"bool\":{\"must\":[{\"wildcard\":{\"name\":{\"value\":\"*E*\"}}}]}}","sortFields":[{"name":"name","order":"desc"}]}}`, false},
	{"POST", "/api/entity/" + fuzzEntityID + "/grant", "application/json", `{"grant":{"recipientEntityId":"` + fuzzEntityID + `","permissions":["read"],"data":{}}}`, false},
	{"POST", "/api/entity/grant/search", "application/json", `{"search":{"entityId":"` + fuzzEntityID + `","name":"E*","numberOfResults":3}}`, false},
}

const (
	fuzzTenantID = "6f1ef0f6-8ea2-4a37-9d2c-3c5c3b0c0f01"
	fuzzAppID    = "6f1ef0f6-8ea2-4a37-9d2c-3c5c3b0c0f02"

	fuzzEntityTypeID = "6f1ef0f6-8ea2-4a37-9d2c-3c5c3b0c0f03"
	fuzzEntityID     = "6f1ef0f6-8ea2-4a37-9d2c-3c5c3b0c0f04"
)

// FuzzAPIBodies sends arbitrary bodies to the main write calls of a real
// server: whatever arrives, the answer is never a 5xx (bad input is the
// client's mistake, answered 4xx), and a 200 carries valid JSON.
func FuzzAPIBodies(f *testing.F) {
	s := testutil.StartServer(f)
	key := s.Setup(f)
	if r := s.Do(f, "POST", "/api/tenant/"+fuzzTenantID, key, map[string]any{"tenant": map[string]any{"name": "Fuzz"}}); r.Status != http.StatusOK {
		f.Fatalf("fuzz tenant: %d %s", r.Status, r.Body)
	}
	if r := s.Do(f, "POST", "/api/application/"+fuzzAppID, key, map[string]any{"application": map[string]any{"name": "Fuzz", "roles": []any{map[string]any{"name": "r"}}}},
		"X-FusionAuth-TenantId", fuzzTenantID); r.Status != http.StatusOK {
		f.Fatalf("fuzz application: %d %s", r.Status, r.Body)
	}
	if r := s.Do(f, "POST", "/api/entity/type/"+fuzzEntityTypeID, key, map[string]any{"entityType": map[string]any{"name": "Fuzz",
		"permissions": []any{map[string]any{"name": "read"}}}}); r.Status != http.StatusOK {
		f.Fatalf("fuzz entity type: %d %s", r.Status, r.Body)
	}
	if r := s.Do(f, "POST", "/api/entity/"+fuzzEntityID, key, map[string]any{"entity": map[string]any{"name": "Fuzz", "type": map[string]any{"id": fuzzEntityTypeID}}},
		"X-FusionAuth-TenantId", fuzzTenantID); r.Status != http.StatusOK {
		f.Fatalf("fuzz entity: %d %s", r.Status, r.Body)
	}
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(r.seed))
	}
	f.Add(uint8(2), []byte(`{"user":{"email":"x@example.com","password":"p","data":{"a":{"b":{"c":{"d":[[[[[]]]]]}}}}}}`))
	f.Add(uint8(0), []byte(`{"tenant":{"name":"\u0000","jwtConfiguration":{"timeToLiveInSeconds":9223372036854775807}}}`))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		headers := []string{"Content-Type", rt.contentType}
		if !rt.global {
			headers = append(headers, "X-FusionAuth-TenantId", fuzzTenantID)
		}
		r := s.Do(t, rt.method, rt.path, key, body, headers...)
		if r.Status >= 500 {
			t.Fatalf("%s %s with %q: %d %s", rt.method, rt.path, body, r.Status, r.Body)
		}
		if r.Status == http.StatusOK && len(r.Body) > 0 && !json.Valid(r.Body) {
			t.Fatalf("%s %s: 200 with a body that is not JSON: %q", rt.method, rt.path, r.Body)
		}
	})
}
