package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/testutil"
)

// No key value is ever in the database in plaintext: make keys of every kind
// through the API, then scan the SQLite files and a pg_dump for them.
func TestAPIKeyValuesNotAtRest(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		values := []string{e.root}
		keep := func(k string) { values = append(values, k) }
		tenant := e.defaultTenant()

		retrievable := e.create(e.root, map[string]any{"name": "random retrievable", "retrievable": true})
		keep(retrievable.Key)
		keep(e.create(e.root, map[string]any{"name": "random hashed", "retrievable": false}).Key)
		given := "given-retrievable-" + secrets.Token(12)
		keep(e.create(e.root, map[string]any{"name": "given retrievable", "key": given, "retrievable": true, "tenantId": tenant}).Key)
		givenHashed := "given-hashed-" + secrets.Token(12)
		hashed := e.create(e.root, map[string]any{"name": "given hashed", "key": givenHashed, "retrievable": false,
			"permissions": keyPerms("/api/system/version", "GET")})
		keep(hashed.Key)
		r := e.do("POST", "/api/api-key", e.root, map[string]any{"sourceKeyId": retrievable.ID, "apiKey": map[string]any{"name": "copy"}})
		var cp akKeyBody
		r.JSON(t, &cp)
		keep(cp.APIKey.Key)
		// Use, read, update and patch them too: none of it may write a value.
		if got := e.get(retrievable.ID); got.Key != retrievable.Key {
			t.Fatalf("retrievable key not returned")
		}
		e.do("GET", "/api/system/version", hashed.Key, nil)
		e.do("PUT", "/api/api-key/"+retrievable.ID, e.root, map[string]any{"apiKey": map[string]any{"name": "renamed", "key": retrievable.Key}})
		e.do("PATCH", "/api/api-key/"+hashed.ID, e.root, `{"apiKey":{"name":"patched"}}`)
		e.do("GET", "/api/api-key", e.root, nil)
		if given != values[3] || givenHashed != values[4] {
			t.Fatalf("given values were not echoed at creation")
		}

		var dump []byte
		if b.DatabaseURL == "" {
			e.s.Stop(t) // flushes usage; the WAL and shm files stay while our own connection is open
			files, _ := filepath.Glob(filepath.Join(e.s.DataDir, "latch.db*"))
			if len(files) == 0 {
				t.Fatalf("no SQLite files in %s", e.s.DataDir)
			}
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("scanning %s (%d bytes)", filepath.Base(f), len(data))
				dump = append(dump, data...)
			}
		} else {
			e.s.Stop(t)
			pgDump := filepath.Join(os.Getenv(testutil.EnvPGBin), "pg_dump")
			if os.Getenv(testutil.EnvPGBin) == "" {
				var err error
				if pgDump, err = exec.LookPath("pg_dump"); err != nil {
					t.Fatalf("pg_dump not found: set %s", testutil.EnvPGBin)
				}
			}
			out, err := exec.Command(pgDump, "--no-owner", "--dbname", b.DatabaseURL).Output()
			if err != nil {
				t.Fatalf("pg_dump: %v", err)
			}
			if !bytes.Contains(out, []byte("api_keys")) {
				t.Fatalf("pg_dump output does not contain the api_keys table")
			}
			t.Logf("scanning pg_dump output (%d bytes)", len(out))
			dump = out
		}
		// A positive control: the scan does see the keys' rows.
		if !bytes.Contains(dump, []byte("random hashed")) || !bytes.Contains(dump, []byte(retrievable.ID)) {
			t.Fatalf("the scanned bytes do not hold the keys' names and ids; the scan proves nothing")
		}
		logs := []byte(e.s.Stderr.String() + e.s.Stdout.String())
		for i, v := range values {
			forms := map[string]string{
				"plain":     v,
				"hex":       hex.EncodeToString([]byte(v)),
				"base64":    base64.StdEncoding.EncodeToString([]byte(v)),
				"base64url": base64.RawURLEncoding.EncodeToString([]byte(v)),
			}
			for form, s := range forms {
				if bytes.Contains(dump, []byte(s)) {
					t.Errorf("key value %d found at rest (%s)", i, form)
				}
				if bytes.Contains(logs, []byte(s)) {
					t.Errorf("key value %d found in the server's output (%s)", i, form)
				}
			}
		}
	})
}
