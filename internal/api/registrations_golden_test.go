package api_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// The golden answers of registrations and group memberships, alone and on
// the users that carry them: created, read, replaced, patched and imported
// with what Latch does not interpret (unknown members, nulls, numbers no
// float holds), the owned members sent where they are ignored, and case
// variants of owned members (refused). Recorded while registrations were
// documents, so that their typed form changes nothing a client sees. See
// TestObjectsGolden; -update-golden rewrites these too.

const (
	grTenant = "d1d1d1d1-0000-4000-8000-000000000001"
	grApp    = "10000000-0000-0002-0000-000000000001" // FusionAuth's examples name it
	grApp2   = "d1d1d1d1-0000-4000-8000-0000000000a2"
	grApp3   = "d1d1d1d1-0000-4000-8000-0000000000a3"
	grUser   = "d1d1d1d1-0000-4000-8000-0000000000b1"
	grUser2  = "d1d1d1d1-0000-4000-8000-0000000000b2"
	grGroup  = "d1d1d1d1-0000-4000-8000-0000000000c1"
)

// goldenTwoFactorID matches the two-factor method ids the server chose.
var goldenTwoFactorID = regexp.MustCompile(`"id":"[A-Z2-9]{4}"`)

type goldenStep struct {
	label, method, path, body string
	headers                   []string
}

func TestRegistrationsGolden(t *testing.T) {
	regBase := "/api/user/registration/" + grUser
	unknowns := `{"registration":{"applicationId":"` + grApp2 + `","id":"d1d1d1d1-0000-4000-8000-0000000000d2",
 "authenticationToken":"golden-token-<1>","roles":["b","a","a"],"username":null,"timezone":null,"preferredLanguages":null,
 "data":{"big":123456789012345678901234567890,"f":1.50,"e":2.5e-7,"s":"<script>\u2028","nested":{"arr":[null,{},-0]}},
 "cleanSpeakId":"d1d1d1d1-0000-4000-8000-0000000000e1","tokens":{"idp":"secret-token"},"unknownTop":{"x":[-0,1e21]},"nullish":null,
 "usernameStatus":"PENDING","verified":false,"verifiedInstant":7,"insertInstant":5,"lastUpdateInstant":6,"lastLoginInstant":8},
 "skipRegistrationVerification":true}`
	unknownsReplace := strings.Replace(strings.Replace(unknowns, `"roles":["b","a","a"]`, `"roles":["a"]`, 1),
		`"authenticationToken":"golden-token-<1>",`, ``, 1)
	cases := []struct {
		name  string
		steps []goldenStep
	}{
		{"registration-fusionauth", []goldenStep{
			{"create", "POST", regBase, goldenExample(t, "user-registrations/create-request.json"), nil},
			{"read", "GET", regBase + "/" + grApp, "", nil},
			{"replace", "PUT", regBase + "/" + grApp, goldenExample(t, "user-registrations/update-request.json"), nil},
			{"read after replace", "GET", regBase + "/" + grApp, "", nil},
			{"patch", "PATCH", regBase + "/" + grApp, `{"registration":{"data":{"added":9007199254740993,"displayName":null},"roles":["admin"],"username":"patched"}}`, nil},
			{"read after patch", "GET", regBase + "/" + grApp, "", nil},
			{"json patch", "PATCH", regBase + "/" + grApp, `[{"op":"add","path":"/registration/data/x","value":{"n":1.0}},{"op":"replace","path":"/registration/timezone","value":"Europe/Paris"}]`,
				[]string{"Content-Type", "application/json-patch+json"}},
			{"read after json patch", "GET", regBase + "/" + grApp, "", nil},
		}},
		{"registration-unknowns", []goldenStep{
			{"create", "POST", regBase, unknowns, nil},
			{"read", "GET", regBase + "/" + grApp2, "", nil},
			{"replace", "PUT", regBase + "/" + grApp2, unknownsReplace, nil},
			{"read after replace", "GET", regBase + "/" + grApp2, "", nil},
			{"replace with a token", "PUT", regBase, `{"registration":{"applicationId":"` + grApp2 + `","roles":[],"data":null,"other":[1.0]},"generateAuthenticationToken":false}`, nil},
			{"patch", "PATCH", regBase + "/" + grApp2, `{"registration":{"unknownTop":{"y":1.0},"data":{"k":"v"},"verified":false,"insertInstant":1,"nullish":{"now":true}}}`, nil},
			{"read after patch", "GET", regBase + "/" + grApp2, "", nil},
		}},
		{"registration-case-variants", []goldenStep{
			{"create with Roles", "POST", regBase, `{"registration":{"applicationId":"` + grApp3 + `","Roles":["user"],"ApplicationId":"x"}}`, nil},
			{"create with DATA", "POST", regBase + "/" + grApp3, `{"registration":{"DATA":{},"preferredlanguages":["en"],"userName":"u"}}`, nil},
			{"create request member", "POST", regBase + "/" + grApp3, `{"Registration":{},"registration":{}}`, nil},
			{"replace with Id", "PUT", regBase + "/" + grApp, `{"registration":{"Id":"x","TimeZone":"UTC"}}`, nil},
			{"patch with Verified", "PATCH", regBase + "/" + grApp, `{"registration":{"Verified":true}}`, nil},
			{"nulls", "POST", regBase + "/" + grApp3, `{"registration":{"id":null,"roles":null,"data":null,"username":null,"timezone":null,"preferredLanguages":null,"verified":null}}`, nil},
			{"read nulls", "GET", regBase + "/" + grApp3, "", nil},
			{"wrong types", "PUT", regBase + "/" + grApp3, `{"registration":{"roles":"admin","data":[1],"timezone":5,"username":{},"preferredLanguages":["??"],"authenticationToken":1}}`, nil},
			{"unknown role", "PUT", regBase + "/" + grApp3, `{"registration":{"roles":["nope","user"]}}`, nil},
			{"delete", "DELETE", regBase + "/" + grApp3, "", nil},
			{"read deleted", "GET", regBase + "/" + grApp3, "", nil},
		}},
		{"registration-combined", []goldenStep{
			// The example's registration id is the one of registration-fusionauth.
			{"create", "POST", "/api/user/registration/00000000-0000-0001-0000-000000000000", strings.Replace(goldenExample(t, "user-registrations/combined-request.json"),
				"00000000-0000-0002-0000-000000000000", "00000000-0000-0002-0000-000000000001", 1), nil},
			{"read", "GET", "/api/user/registration/00000000-0000-0001-0000-000000000000/" + grApp, "", nil},
			{"read user", "GET", "/api/user/00000000-0000-0001-0000-000000000000", "", nil},
		}},
		{"user-registrations-memberships", []goldenStep{
			{"group", "POST", "/api/group/" + grGroup, `{"group":{"name":"Golden group"}}`, nil},
			{"members", "POST", "/api/group/member", `{"members":{"` + grGroup + `":[{"userId":"` + grUser + `","data":{"big":1e21,"s":"<x>","n":null}}]}}`, nil},
			{"read user", "GET", "/api/user/" + grUser, "", nil},
			{"search by id", "GET", "/api/user/search?ids=" + grUser, "", nil},
			{"search without registrations", "POST", "/api/user/search", `{"search":{"ids":["` + grUser + `"]},"expand":["memberships"]}`, nil},
			{"lookup by email", "GET", "/api/user?email=golden-reg@example.com", "", nil},
			{"patch user", "PATCH", "/api/user/" + grUser, `{"user":{"data":{"n":1.50}}}`, nil},
			{"user with a membership", "POST", "/api/user/" + grUser2, `{"user":{"email":"golden-reg2@example.com","password":"golden-password-2",
 "memberships":[{"groupId":"` + grGroup + `","data":{"k":[1,2.0]}}]}}`, nil},
			{"read user with a membership", "GET", "/api/user/" + grUser2, "", nil},
		}},
		{"registration-import", []goldenStep{
			{"import", "POST", "/api/user/import", `{"users":[{"id":"d1d1d1d1-0000-4000-8000-0000000000b3","email":"golden-import@example.com",
 "registrations":[{"applicationId":"` + grApp + `","id":"d1d1d1d1-0000-4000-8000-0000000000d3","roles":["user","admin"],"data":{"n":1.50,"big":123456789012345678901234567890},
   "unknown":{"a":null},"verified":true,"insertInstant":1000,"lastLoginInstant":2000,"verifiedInstant":1500,"timezone":"Europe/Paris","username":"imported","usernameStatus":"REJECTED"},
  {"applicationId":"` + grApp2 + `","verified":false,"preferredLanguages":["de"],"cleanSpeakId":null}],
 "memberships":[{"groupId":"` + grGroup + `","data":{"k":-0}}]}]}`, nil},
			{"read user", "GET", "/api/user/d1d1d1d1-0000-4000-8000-0000000000b3", "", nil},
			{"read registration", "GET", "/api/user/registration/d1d1d1d1-0000-4000-8000-0000000000b3/" + grApp, "", nil},
			{"import with Roles", "POST", "/api/user/import", `{"users":[{"email":"golden-import2@example.com","registrations":[{"applicationId":"` + grApp + `","Roles":["user"]}]}]}`, nil},
			{"import with wrong types", "POST", "/api/user/import", `{"users":[{"email":"golden-import3@example.com","registrations":[{"applicationId":"` + grApp + `","roles":[1],"verified":"yes","insertInstant":"now"},null]}]}`, nil},
		}},
	}
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		inTenant := []string{"X-FusionAuth-TenantId", grTenant}
		roles := `"roles":[{"name":"user","isDefault":true},{"name":"community_helper"},{"name":"admin"},{"name":"a"},{"name":"b"}]`
		for _, s := range []goldenStep{
			{"tenant", "POST", "/api/tenant/" + grTenant, `{"tenant":{"name":"Golden registrations"}}`, nil},
			{"application", "POST", "/api/application/" + grApp, `{"application":{"name":"Golden app",` + roles + `}}`, inTenant},
			{"application 2", "POST", "/api/application/" + grApp2, `{"application":{"name":"Golden app 2","verifyRegistration":true,` + roles + `}}`, inTenant},
			{"application 3", "POST", "/api/application/" + grApp3, `{"application":{"name":"Golden app 3",` + roles + `}}`, inTenant},
			{"user", "POST", "/api/user/" + grUser, `{"user":{"email":"golden-reg@example.com","password":"golden-password-1","data":{"u":1.0}}}`, inTenant},
		} {
			if r := e.do(s.method, s.path, e.root, s.body, s.headers...); r.Status != 200 {
				t.Fatalf("%s: %d %s", s.label, r.Status, r.Body)
			}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var out, sent bytes.Buffer
				sent.WriteString(grTenant + grApp + grApp2 + grApp3 + grUser + grUser2 + grGroup)
				for _, s := range c.steps {
					sent.WriteString(s.body)
				}
				for _, s := range c.steps {
					r := e.do(s.method, s.path, e.root, s.body, append(slices.Clone(inTenant), s.headers...)...)
					body := goldenTwoFactorID.ReplaceAll(goldenMask(r.Body, sent.String()), []byte(`"id":"<2fa>"`))
					fmt.Fprintf(&out, "%s %s %d\n%s\n", s.label, s.method, r.Status, bytes.TrimRight(body, "\n"))
				}
				file := filepath.Join("testdata", "golden", c.name+".txt")
				if *updateGolden && b.Name == "sqlite" {
					if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("read golden file (record it with -update-golden): %v", err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("answers differ from %s:\n%s", file, goldenDiff(string(want), out.String()))
				}
			})
		}
	})
}
