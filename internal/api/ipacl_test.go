package api_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

type aclBody struct {
	IPAccessControlList model.IPAccessControlList `json:"ipAccessControlList"`
}

type aclSearchBody struct {
	IPAccessControlLists []model.IPAccessControlList `json:"ipAccessControlLists"`
	Total                int                         `json:"total"`
}

func aclWith(name string, entries ...model.IPAccessControlEntry) map[string]any {
	return map[string]any{"ipAccessControlList": model.IPAccessControlList{Name: name, Entries: entries}}
}

func aclEntry(action, start, end string) model.IPAccessControlEntry {
	return model.IPAccessControlEntry{Action: action, StartIPAddress: start, EndIPAddress: end}
}

var aclAllowAll = aclEntry("Allow", "*", "")

// createACL creates a list with the key and returns it.
func createACL(t *testing.T, s *testutil.Server, key string, name string, entries ...model.IPAccessControlEntry) model.IPAccessControlList {
	t.Helper()
	r := s.Do(t, "POST", "/api/ip-acl", key, aclWith(name, entries...))
	if r.Status != 200 {
		t.Fatalf("create ip acl %q: %d %s", name, r.Status, r.Body)
	}
	var b aclBody
	r.JSON(t, &b)
	return b.IPAccessControlList
}

func TestIPACLCreateRetrieve(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		// FusionAuth's documented request.
		req := `{"ipAccessControlList":{"name":"Block all except one range","entries":[
			{"action":"Block","startIPAddress":"*"},
			{"action":"Allow","startIPAddress":"71.205.92.217","endIPAddress":"76.104.251.50"}]}}`
		r := s.Do(t, "POST", "/api/ip-acl", key, req)
		if r.Status != 200 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var created aclBody
		r.JSON(t, &created)
		got := created.IPAccessControlList
		if _, err := uuid.Parse(got.ID); err != nil || got.Name != "Block all except one range" || len(got.Entries) != 2 ||
			got.InsertInstant != s.Clock.Now().UnixMilli() || got.LastUpdateInstant != got.InsertInstant {
			t.Fatalf("created: %+v", got)
		}
		r = s.Do(t, "GET", "/api/ip-acl/"+got.ID, key, nil)
		var read aclBody
		r.JSON(t, &read)
		if r.Status != 200 || fmt.Sprint(read.IPAccessControlList) != fmt.Sprint(got) {
			t.Fatalf("retrieve: %d %+v, want %+v", r.Status, read.IPAccessControlList, got)
		}

		// A caller-chosen id, in any UUID spelling, is stored canonical.
		id := uuid.NewString()
		r = s.Do(t, "POST", "/api/ip-acl/"+id, key, aclWith("Chosen id", aclAllowAll))
		r.JSON(t, &created)
		if r.Status != 200 || created.IPAccessControlList.ID != id {
			t.Fatalf("create with id: %d %s", r.Status, r.Body)
		}
		r = s.Do(t, "POST", "/api/ip-acl/"+id, key, aclWith("Same id again", aclAllowAll))
		if codes := errorCodes(t, r); r.Status != 400 || !slices.Equal(codes, []string{"[duplicate]ipAccessControlList.id"}) {
			t.Fatalf("duplicate id: %d %v", r.Status, codes)
		}
		r = s.Do(t, "POST", "/api/ip-acl/not-a-uuid", key, aclWith("Bad id", aclAllowAll))
		if codes := errorCodes(t, r); r.Status != 400 || !slices.Equal(codes, []string{"[invalid]ipAccessControlList.id"}) {
			t.Fatalf("bad id: %d %v", r.Status, codes)
		}

		for _, path := range []string{"/api/ip-acl/" + uuid.NewString(), "/api/ip-acl/not-a-uuid"} {
			if r := s.Do(t, "GET", path, key, nil); r.Status != 404 || len(r.Body) != 0 {
				t.Errorf("GET %s: %d %q, want an empty 404", path, r.Status, r.Body)
			}
		}
	})
}

func TestIPACLValidation(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		createACL(t, s, key, "Taken", aclAllowAll)
		cases := []struct {
			name string
			body any
			want []string
		}{
			{"blank name", aclWith("  ", aclAllowAll), []string{"[blank]ipAccessControlList.name"}},
			{"duplicate name, other case", aclWith("TAKEN", aclAllowAll), []string{"[duplicate]ipAccessControlList.name"}},
			{"no entries", aclWith("x"), []string{"[missing]ipAccessControlList.entries"}},
			{"no default entry", aclWith("x", aclEntry("Allow", "10.0.0.1", "")), []string{"[missing]ipAccessControlList.entries"}},
			{"two default entries", aclWith("x", aclAllowAll, aclEntry("Block", "*", "")),
				[]string{"[duplicate]ipAccessControlList.entries[1].startIPAddress"}},
			{"default entry with an end", aclWith("x", aclEntry("Allow", "*", "10.0.0.1")),
				[]string{"[invalid]ipAccessControlList.entries[0].endIPAddress"}},
			{"missing action", aclWith("x", aclAllowAll, aclEntry("", "10.0.0.1", "")),
				[]string{"[missing]ipAccessControlList.entries[1].action"}},
			{"unknown action", aclWith("x", aclAllowAll, aclEntry("Permit", "10.0.0.1", "")),
				[]string{"[invalid]ipAccessControlList.entries[1].action"}},
			{"missing start", aclWith("x", aclAllowAll, aclEntry("Block", "", "10.0.0.1")),
				[]string{"[missing]ipAccessControlList.entries[1].startIPAddress"}},
			{"start not an address", aclWith("x", aclAllowAll, aclEntry("Block", "10.0.0.256", "")),
				[]string{"[invalid]ipAccessControlList.entries[1].startIPAddress"}},
			{"start is a CIDR", aclWith("x", aclAllowAll, aclEntry("Block", "10.0.0.0/8", "")),
				[]string{"[invalid]ipAccessControlList.entries[1].startIPAddress"}},
			{"start with a zone", aclWith("x", aclAllowAll, aclEntry("Block", "fe80::1%eth0", "")),
				[]string{"[invalid]ipAccessControlList.entries[1].startIPAddress"}},
			{"end not an address", aclWith("x", aclAllowAll, aclEntry("Block", "10.0.0.1", "ten")),
				[]string{"[invalid]ipAccessControlList.entries[1].endIPAddress"}},
			{"end below start", aclWith("x", aclAllowAll, aclEntry("Block", "10.0.0.9", "10.0.0.1")),
				[]string{"[invalid]ipAccessControlList.entries[1].endIPAddress"}},
			{"end of another family", aclWith("x", aclAllowAll, aclEntry("Block", "10.0.0.1", "::1")),
				[]string{"[invalid]ipAccessControlList.entries[1].endIPAddress"}},
			{"several problems at once", aclWith("", aclEntry("Nope", "x", "")),
				[]string{"[invalid]ipAccessControlList.entries[0].action", "[invalid]ipAccessControlList.entries[0].startIPAddress",
					"[missing]ipAccessControlList.entries", "[blank]ipAccessControlList.name"}},
			{"no list at all", `{}`, []string{"[blank]ipAccessControlList.name", "[missing]ipAccessControlList.entries"}},
			{"malformed JSON", `{"ipAccessControlList":`, []string{"[invalidJSON]"}},
			{"entries of the wrong type", `{"ipAccessControlList":{"name":"x","entries":"*"}}`, []string{"[invalidJSON]"}},
			{"empty body", ``, []string{"[invalidJSON]"}},
		}
		for _, c := range cases {
			r := s.Do(t, "POST", "/api/ip-acl", key, c.body)
			want := slices.Clone(c.want)
			sort.Strings(want)
			if codes := errorCodes(t, r); r.Status != 400 || !slices.Equal(codes, want) {
				t.Errorf("%s: %d %v, want 400 %v", c.name, r.Status, codes, want)
			}
		}
		// Valid edge cases: IPv6 ranges, v4-mapped against v4, lower-case actions.
		okCases := []struct {
			name    string
			entries []model.IPAccessControlEntry
		}{
			{"IPv6 range", []model.IPAccessControlEntry{aclAllowAll, aclEntry("Block", "2001:db8::", "2001:db8::ffff")}},
			{"v4-mapped start, v4 end", []model.IPAccessControlEntry{aclAllowAll, aclEntry("Block", "::ffff:10.0.0.1", "10.0.0.9")}},
			{"single address, lower-case action", []model.IPAccessControlEntry{aclEntry("block", "*", ""), aclEntry("allow", " 192.0.2.1 ", "")}},
		}
		for _, c := range okCases {
			l := createACL(t, s, key, c.name, c.entries...)
			for _, e := range l.Entries {
				if e.Action != model.ACLAllow && e.Action != model.ACLBlock || e.StartIPAddress != strings.TrimSpace(e.StartIPAddress) {
					t.Errorf("%s: entry not normalised: %+v", c.name, e)
				}
			}
		}
		// Nothing above that failed left a list behind.
		var sr aclSearchBody
		s.Do(t, "GET", "/api/ip-acl/search", key, nil).JSON(t, &sr)
		if sr.Total != 1+len(okCases) {
			t.Errorf("lists stored: %d, want %d", sr.Total, 1+len(okCases))
		}
	})
}

func TestIPACLUpdatePatchDelete(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		l := createACL(t, s, key, "Office", aclEntry("Block", "*", ""), aclEntry("Allow", "192.0.2.0", "192.0.2.255"))
		other := createACL(t, s, key, "Other", aclAllowAll)
		s.Clock.Advance(time.Minute)

		// PUT replaces the list.
		r := s.Do(t, "PUT", "/api/ip-acl/"+l.ID, key, aclWith("Office v2", aclEntry("Allow", "*", "")))
		var got aclBody
		r.JSON(t, &got)
		u := got.IPAccessControlList
		if r.Status != 200 || u.ID != l.ID || u.Name != "Office v2" || len(u.Entries) != 1 ||
			u.InsertInstant != l.InsertInstant || u.LastUpdateInstant != s.Clock.Now().UnixMilli() {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		// Renaming to its own name in another case is fine; to another's name is not.
		if r := s.Do(t, "PUT", "/api/ip-acl/"+l.ID, key, aclWith("OFFICE V2", aclAllowAll)); r.Status != 200 {
			t.Errorf("rename to own name: %d %s", r.Status, r.Body)
		}
		r = s.Do(t, "PUT", "/api/ip-acl/"+l.ID, key, aclWith("other", aclAllowAll))
		if codes := errorCodes(t, r); r.Status != 400 || !slices.Equal(codes, []string{"[duplicate]ipAccessControlList.name"}) {
			t.Errorf("rename to taken name: %d %v", r.Status, codes)
		}
		if r := s.Do(t, "PUT", "/api/ip-acl/"+uuid.NewString(), key, aclWith("Ghost", aclAllowAll)); r.Status != 404 {
			t.Errorf("update absent: %d", r.Status)
		}

		// PATCH in FusionAuth's three forms, chosen by Content-Type.
		const (
			faJSON    = "application/json"
			mergeJSON = "application/merge-patch+json"
			jsonPatch = "application/json-patch+json"
		)
		patchOK := []struct {
			name, contentType, body string
			wantName                string
			wantEntries             int
		}{
			{"name only (FusionAuth form)", faJSON, `{"ipAccessControlList":{"name":"Patched"}}`, "Patched", 1},
			{"entries are appended (FusionAuth form)", faJSON,
				`{"ipAccessControlList":{"entries":[{"action":"Block","startIPAddress":"192.0.2.1"}]}}`, "Patched", 2},
			{"entries are replaced (merge patch)", mergeJSON,
				`{"ipAccessControlList":{"entries":[{"action":"Allow","startIPAddress":"*"}]}}`, "Patched", 1},
			{"JSON Patch", jsonPatch, `[{"op":"test","path":"/ipAccessControlList/name","value":"Patched"},
				{"op":"replace","path":"/ipAccessControlList/name","value":"Patched again"}]`, "Patched again", 1},
		}
		for _, p := range patchOK {
			r := s.Do(t, "PATCH", "/api/ip-acl/"+l.ID, key, p.body, "Content-Type", p.contentType)
			var got aclBody
			r.JSON(t, &got)
			if r.Status != 200 || got.IPAccessControlList.Name != p.wantName || len(got.IPAccessControlList.Entries) != p.wantEntries {
				t.Fatalf("patch %s: %d %s", p.name, r.Status, r.Body)
			}
		}
		patches := []struct {
			name, contentType, body string
			want                    []string
		}{
			{"entries replaced by invalid ones", mergeJSON, `{"ipAccessControlList":{"entries":[{"action":"Block","startIPAddress":"1.2.3.4"}]}}`,
				[]string{"[missing]ipAccessControlList.entries"}},
			{"appending a second default", faJSON, `{"ipAccessControlList":{"entries":[{"action":"Block","startIPAddress":"*"}]}}`,
				[]string{"[duplicate]ipAccessControlList.entries[1].startIPAddress"}},
			{"name removed", faJSON, `{"ipAccessControlList":{"name":null}}`, []string{"[blank]ipAccessControlList.name"}},
			{"duplicate name", faJSON, `{"ipAccessControlList":{"name":"Other"}}`, []string{"[duplicate]ipAccessControlList.name"}},
			{"list is not an object", faJSON, `{"ipAccessControlList":[1]}`, []string{"[invalidJSON]"}},
			{"body is not an object", faJSON, `[1]`, []string{"[invalidJSON]"}},
			{"entries of the wrong type", mergeJSON, `{"ipAccessControlList":{"entries":{"a":1}}}`, []string{"[invalidJSON]"}},
			{"failed JSON Patch test", jsonPatch, `[{"op":"test","path":"/ipAccessControlList/name","value":"nope"}]`,
				[]string{"[JSONPatchTestFailed]"}},
			{"JSON Patch that is not a list", jsonPatch, `{"op":"add"}`, []string{"[invalidJSONPatch]"}},
			{"malformed JSON", faJSON, `{"ipAccessControlList":`, []string{"[invalidJSON]"}},
		}
		for _, p := range patches {
			r := s.Do(t, "PATCH", "/api/ip-acl/"+l.ID, key, p.body, "Content-Type", p.contentType)
			if codes := errorCodes(t, r); r.Status != 400 || !slices.Equal(codes, p.want) {
				t.Errorf("patch %s: %d %v, want %v", p.name, r.Status, codes, p.want)
			}
		}
		if r := s.Do(t, "PATCH", "/api/ip-acl/"+uuid.NewString(), key, `{"ipAccessControlList":{"name":"x"}}`); r.Status != 404 {
			t.Errorf("patch absent: %d", r.Status)
		}
		r = s.Do(t, "GET", "/api/ip-acl/"+l.ID, key, nil)
		r.JSON(t, &got)
		if got.IPAccessControlList.Name != "Patched again" || len(got.IPAccessControlList.Entries) != 1 {
			t.Errorf("a refused patch changed the list: %s", r.Body)
		}

		// A list a key uses cannot be deleted; a 400, not the foreign key's 500.
		insertTestKey(t, s, model.APIKey{Name: "uses other", IPAccessControlListID: other.ID})
		r = s.Do(t, "DELETE", "/api/ip-acl/"+other.ID, key, nil)
		if codes := errorCodes(t, r); r.Status != 400 || !slices.Equal(codes, []string{"[IPAccessControlListInUse]"}) {
			t.Errorf("delete in use: %d %v", r.Status, codes)
		}
		if r := s.Do(t, "GET", "/api/ip-acl/"+other.ID, key, nil); r.Status != 200 {
			t.Errorf("the list in use is gone: %d", r.Status)
		}

		r = s.Do(t, "DELETE", "/api/ip-acl/"+l.ID, key, nil)
		if r.Status != 200 || len(r.Body) != 0 {
			t.Errorf("delete: %d %q, want an empty 200", r.Status, r.Body)
		}
		for _, m := range []string{"GET", "DELETE"} {
			if r := s.Do(t, m, "/api/ip-acl/"+l.ID, key, nil); r.Status != 404 {
				t.Errorf("%s after delete: %d", m, r.Status)
			}
		}
	})
}

func TestIPACLSearch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		var names []string
		for i := range 7 {
			name := fmt.Sprintf("Block range %d", i)
			if i%2 == 1 {
				name = fmt.Sprintf("Allow office %d", i)
			}
			createACL(t, s, key, name, aclAllowAll)
			s.Clock.Advance(time.Second)
			names = append(names, name)
		}
		namesOf := func(r *testutil.Response) ([]string, int) {
			t.Helper()
			if r.Status != 200 {
				t.Fatalf("search: %d %s", r.Status, r.Body)
			}
			var sr aclSearchBody
			r.JSON(t, &sr)
			var out []string
			for _, l := range sr.IPAccessControlLists {
				out = append(out, l.Name)
			}
			return out, sr.Total
		}
		cases := []struct {
			name      string
			method    string
			path      string
			body      any
			wantNames []string
			wantTotal int
		}{
			{"all by name", "POST", "/api/ip-acl/search", `{"search":{}}`,
				[]string{"Allow office 1", "Allow office 3", "Allow office 5", "Block range 0", "Block range 2", "Block range 4", "Block range 6"}, 7},
			{"name substring, any case", "POST", "/api/ip-acl/search", `{"search":{"name":"BLOCK"}}`,
				[]string{"Block range 0", "Block range 2", "Block range 4", "Block range 6"}, 4},
			{"wildcards", "GET", "/api/ip-acl/search?name=*office*", nil,
				[]string{"Allow office 1", "Allow office 3", "Allow office 5"}, 3},
			{"paged", "POST", "/api/ip-acl/search", `{"search":{"name":"block","startRow":1,"numberOfResults":2}}`,
				[]string{"Block range 2", "Block range 4"}, 4},
			{"paged by query", "GET", "/api/ip-acl/search?name=block&startRow=3&numberOfResults=2", nil,
				[]string{"Block range 6"}, 4},
			{"newest first", "GET", "/api/ip-acl/search?orderBy=insertInstant+DESC&numberOfResults=2", nil,
				[]string{names[6], names[5]}, 7},
			{"no match", "GET", "/api/ip-acl/search?name=nothing", nil, nil, 0},
			{"no body", "POST", "/api/ip-acl/search", nil,
				[]string{"Allow office 1", "Allow office 3", "Allow office 5", "Block range 0", "Block range 2", "Block range 4", "Block range 6"}, 7},
			{"LIKE characters are literal", "GET", "/api/ip-acl/search?name=%25", nil, nil, 0},
		}
		for _, c := range cases {
			got, total := namesOf(s.Do(t, c.method, c.path, key, c.body))
			if !slices.Equal(got, c.wantNames) || total != c.wantTotal {
				t.Errorf("%s: %v (total %d), want %v (total %d)", c.name, got, total, c.wantNames, c.wantTotal)
			}
		}
		// The empty result is a list, not null.
		if r := s.Do(t, "GET", "/api/ip-acl/search?name=nothing", key, nil); !slices.Contains([]string{`{"ipAccessControlLists":[],"total":0}` + "\n"}, string(r.Body)) {
			t.Errorf("empty search body: %s", r.Body)
		}
		bad := []struct {
			name, method, path string
			body               any
			want               string
		}{
			{"unknown orderBy", "POST", "/api/ip-acl/search", `{"search":{"orderBy":"password"}}`, "[invalid]search.orderBy"},
			{"SQL in orderBy", "GET", "/api/ip-acl/search?orderBy=name%3BDROP+TABLE+ip_acls", nil, "[invalid]search.orderBy"},
			{"negative startRow", "POST", "/api/ip-acl/search", `{"search":{"startRow":-1}}`, "[invalid]search.startRow"},
			{"negative numberOfResults", "GET", "/api/ip-acl/search?numberOfResults=-5", nil, "[invalid]search.numberOfResults"},
			{"startRow not a number", "GET", "/api/ip-acl/search?startRow=abc", nil, "[invalid]search.startRow"},
			{"malformed JSON", "POST", "/api/ip-acl/search", `{"search":`, "[invalidJSON]"},
		}
		for _, c := range bad {
			r := s.Do(t, c.method, c.path, key, c.body)
			if codes := errorCodes(t, r); r.Status != 400 || !slices.Equal(codes, []string{c.want}) {
				t.Errorf("%s: %d %v, want 400 %s", c.name, r.Status, codes, c.want)
			}
		}
	})
}
