package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// The golden round trip of tenants, applications and users: documents (FusionAuth's
// examples and ones full of what Latch does not interpret: unknown members,
// nulls, nested unknown objects, numbers no float can hold) are created, read
// back, replaced and patched through the API, and every answer must be the
// bytes recorded in testdata/golden, on SQLite and on PostgreSQL alike. The
// files were recorded before tenants and applications became typed objects,
// so that the typed form changes nothing a client sees.
//
// go test ./internal/api/ -run TestObjectsGolden -update-golden rewrites them.

var updateGolden = flag.Bool("update-golden", false, "rewrite the golden answers of TestObjectsGolden")

const fusionAuthExamples = "/work/shared/reference/fusionauth/examples/"

type goldenCase struct {
	name  string
	kind  string // "application", "tenant", "user" or "list"
	id    string
	body  string // the create body, sent as is
	patch string // a PATCH body (FusionAuth's merge), "" for none
}

func goldenExample(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(fusionAuthExamples + path)
	if err != nil {
		t.Skipf("FusionAuth's examples are not here: %v", err)
	}
	return string(b)
}

// unknownsApplication holds every shape a client may send that Latch does not
// interpret, beside known fields sent as null, blank or in odd spellings.
const unknownsApplication = `{"application":{"name":"Unknowns <&> \u2028 ✓",
 "x":{"deep":{"n":1e21,"big":123456789012345678901234567890,"f":1.50,"neg":-0,"exp":1E+2,"arr":[null,true,{"a":null},[],{}]}},
 "data":{"big":9007199254740993,"e":2.5e-7,"s":"<script>","nested":{"k":[1,2.0,3e0]}},
 "nullish":null, "emptyObject":{}, "emptyArray":[],
 "oauthConfiguration":{"clientSecret":"golden-secret-1","logoutURL":"","providedScopePolicy":null,
   "authorizedRedirectURLs":["https://a.example/cb?x=<1>&y=2"],"zz":{"q":[1,2,3]},"enabledGrants":["authorization_code","authorization_code","refresh_token"]},
 "jwtConfiguration":{"timeToLiveInSeconds":600,"unknownInside":"x","refreshTokenRevocationPolicy":null},
 "loginConfiguration":null,
 "registrationConfiguration":{"type":null,"enabled":false,"more":{"deeper":[{"a":1}]}},
 "verifyRegistration":null,
 "roles":[{"id":"7ae2c3a4-0f1e-4e58-9d39-3c2f6e0b1a01","name":"admin","isDefault":false,"isSuperRole":true,"description":"<b>all</b>"},
          {"id":"7ae2c3a4-0f1e-4e58-9d39-3c2f6e0b1a02","name":"user","isDefault":true}]}}`

const unknownsApplicationPatch = `{"application":{"x":{"deep":{"added":12345678901234567890}},"jwtConfiguration":{"timeToLiveInSeconds":700},
 "oauthConfiguration":{"enabledGrants":["refresh_token","implicit"],"zz":null},"newTop":{"n":1.0}}}`

const unknownsTenant = `{"tenant":{"name":"Unknown tenant <&>",
 "x":{"deep":{"n":1e21,"big":123456789012345678901234567890,"f":1.50,"neg":-0,"arr":[null,true,{"a":null}]}},
 "data":{"big":9007199254740993,"e":2.5e-7},
 "nullish":null,
 "emailConfiguration":{"host":"smtp.example.com","port":587,"password":"golden-smtp-pass","unknownMail":{"a":[1]},"additionalHeaders":null},
 "jwtConfiguration":{"timeToLiveInSeconds":900,"unknownInside":true,"refreshTokenRevocationPolicy":null},
 "passwordValidationRules":{"minLength":10,"breachDetection":{"enabled":false,"extra":1e400}},
 "externalIdentifierConfiguration":null,
 "logoutURL":"",
 "themeId":null}}`

const unknownsTenantPatch = `{"tenant":{"x":{"deep":{"added":-12345678901234567890}},"passwordValidationRules":{"maxLength":200},"issuer":"golden.example"}}`

func goldenCases(t *testing.T) []goldenCase {
	return []goldenCase{
		{name: "application-fusionauth-post", kind: "application", id: "a1a1a1a1-0000-4000-8000-000000000001",
			body: goldenExample(t, "applications/post-request.json")},
		{name: "application-fusionauth-put", kind: "application", id: "a1a1a1a1-0000-4000-8000-000000000002",
			body: goldenExample(t, "applications/put-request.json")},
		{name: "application-minimal", kind: "application", id: "a1a1a1a1-0000-4000-8000-000000000003",
			body:  `{"application":{"name":"Minimal","oauthConfiguration":{"clientSecret":"golden-secret-2"}}}`,
			patch: `{"application":{"oauthConfiguration":{"authorizedRedirectURLs":["https://m.example/cb"]},"data":{"k":"v"}}}`},
		{name: "application-unknowns", kind: "application", id: "a1a1a1a1-0000-4000-8000-000000000004",
			body: unknownsApplication, patch: unknownsApplicationPatch},
		{name: "application-device", kind: "application", id: "a1a1a1a1-0000-4000-8000-000000000005",
			body: `{"application":{"name":"Device","active":false,"state":"Inactive","insertInstant":1,
 "oauthConfiguration":{"clientSecret":"golden-secret-3","clientId":"ignored","enabledGrants":["urn:ietf:params:oauth:grant-type:device_code"],
 "deviceVerificationURL":"https://d.example/device","logoutURL":"https://d.example/bye","debug":true},
 "jwtConfiguration":{"enabled":true,"refreshTokenTimeToLiveInMinutes":60,"refreshTokenExpirationPolicy":"SlidingWindow",
 "refreshTokenSlidingWindowConfiguration":{"maximumTimeToLiveInMinutes":120}},
 "loginConfiguration":{"generateRefreshTokens":true,"allowTokenRefresh":true},"verifyRegistration":true}}`,
			patch: `{"application":{"loginConfiguration":{"requireAuthentication":false}}}`},
		{name: "application-invalid", kind: "application", id: "a1a1a1a1-0000-4000-8000-000000000006",
			body: `{"application":{"name":"Bad","jwtConfiguration":{"timeToLiveInSeconds":"soon"},"oauthConfiguration":{"enabledGrants":["nope"]}}}`},
		{name: "application-copy", kind: "application", id: "a1a1a1a1-0000-4000-8000-000000000007",
			body: `{"sourceApplicationId":"a1a1a1a1-0000-4000-8000-000000000004","application":{"name":"Copy","oauthConfiguration":{"clientSecret":"golden-copy"},"copyOnly":[1e21]}}`},
		{name: "tenant-fusionauth", kind: "tenant", id: "b1b1b1b1-0000-4000-8000-000000000001",
			body: goldenExample(t, "tenants/request.json")},
		{name: "tenant-minimal", kind: "tenant", id: "b1b1b1b1-0000-4000-8000-000000000002",
			body:  `{"tenant":{"name":"Minimal tenant"}}`,
			patch: `{"tenant":{"emailConfiguration":{"host":"mail.example"},"data":{"n":1}}}`},
		{name: "tenant-unknowns", kind: "tenant", id: "b1b1b1b1-0000-4000-8000-000000000003",
			body: unknownsTenant, patch: unknownsTenantPatch},
		{name: "tenant-copy", kind: "tenant", id: "b1b1b1b1-0000-4000-8000-000000000004",
			body: `{"sourceTenantId":"b1b1b1b1-0000-4000-8000-000000000003","tenant":{"name":"Copied tenant","copyOnly":{"n":-1.0e-3}}}`},
		{name: "user-fusionauth", kind: "user", id: "c1c1c1c1-0000-4000-8000-000000000001",
			body: goldenExample(t, "users/create-request.json")},
		{name: "user-unknowns", kind: "user", id: "c1c1c1c1-0000-4000-8000-000000000002",
			body: `{"user":{"email":"golden@example.com","password":"golden-password-1","firstName":null,"fullName":"<Golden & User>",
 "data":{"big":123456789012345678901234567890,"n":1e21,"f":1.50,"nested":{"arr":[null,{}]}},"unknownTop":{"x":[-0]},"preferredLanguages":["en"],
 "birthDate":"1976-05-30","timezone":"America/Denver","imageUrl":"https://i.example/a.png?x=1&y=<2>"}}`,
			patch: `{"user":{"data":{"added":9007199254740993},"lastName":"Patched","unknownTop":{"y":1.0}}}`},
		{name: "lists", kind: "list"},
	}
}

var goldenSecret = regexp.MustCompile(`"clientSecret":"([^"]*)"`)

var goldenUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// goldenMask replaces the ids the server chose (not in the request) with
// numbered placeholders, in order of first appearance, so that one file fits
// every run.
func goldenMask(body []byte, sent string) []byte {
	body = goldenSecret.ReplaceAllFunc(body, func(m []byte) []byte {
		if v := goldenSecret.FindSubmatch(m)[1]; strings.Contains(sent, `"`+string(v)+`"`) {
			return m
		}
		return []byte(`"clientSecret":"<generated>"`)
	})
	seen := map[string]string{}
	return goldenUUID.ReplaceAllFunc(body, func(id []byte) []byte {
		s := string(id)
		if strings.Contains(sent, s) {
			return id
		}
		if p, ok := seen[s]; ok {
			return []byte(p)
		}
		p := fmt.Sprintf("<id-%d>", len(seen)+1)
		seen[s] = p
		return []byte(p)
	})
}

func TestObjectsGolden(t *testing.T) {
	cases := goldenCases(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		// FusionAuth's examples name these signing keys.
		for _, id := range []string{"025233ca-d4f3-2aa4-eca9-7e4200e9b472", "092dbedc-30af-4149-9c61-b578f2c72f59"} {
			if r := e.do("POST", "/api/key/generate/"+id, e.root, `{"key":{"algorithm":"HS256","name":"golden `+id+`"}}`); r.Status != 200 {
				t.Fatalf("generate key %s: %d %s", id, r.Status, r.Body)
			}
		}
		// and these email templates.
		for _, c := range cases {
			var req struct{ Tenant map[string]any }
			if c.kind == "tenant" && json.Unmarshal([]byte(c.body), &req) == nil {
				e.exampleKeys(req.Tenant)
			}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var out bytes.Buffer
				base := "/api/" + c.kind + "/" + c.id
				step := func(label, method, path, body string) int {
					var headers []string
					if c.kind == "user" { // users live in the minimal tenant made above
						headers = []string{"X-FusionAuth-TenantId", "b1b1b1b1-0000-4000-8000-000000000002"}
					}
					r := e.do(method, path, e.root, body, headers...)
					fmt.Fprintf(&out, "%s %s %d\n%s\n", label, method, r.Status, bytes.TrimRight(goldenMask(r.Body, c.body+c.patch), "\n"))
					return r.Status
				}
				if c.kind == "list" {
					var sent strings.Builder
					for _, c := range cases {
						sent.WriteString(c.id + c.body + c.patch)
					}
					c.body = sent.String()
					step("applications", "GET", "/api/application", "")
					step("inactive applications", "GET", "/api/application?inactive=true", "")
					step("application search", "POST", "/api/application/search", `{"search":{"name":"*o*","orderBy":"name"}}`)
					step("tenants", "GET", "/api/tenant", "")
				} else if step("create", "POST", base, c.body) == 200 {
					step("read", "GET", base, "")
					if c.kind == "application" {
						step("oauth-configuration", "GET", base+"/oauth-configuration", "")
					}
					step("replace", "PUT", base, c.body)
					step("read after replace", "GET", base, "")
					if c.patch != "" {
						step("patch", "PATCH", base, c.patch)
						step("read after patch", "GET", base, "")
					}
				}
				file := filepath.Join("testdata", "golden", c.name+".txt")
				if *updateGolden && b.Name == "sqlite" {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
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

// goldenDiff shows where the answers first differ.
func goldenDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("at byte %d\nwant: …%s…\n got: …%s…", i, want[from:min(len(want), i+200)], got[from:min(len(got), i+200)])
}
