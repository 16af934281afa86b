package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// latch backup copies the SQLite database while the server keeps taking
// writes; the copy restored by the documented steps (stop, replace latch.db,
// drop the WAL files, start) is the instance as it was at the backup.
func TestBackupWhileServingAndRestore(t *testing.T) {
	s := testutil.StartServer(t)
	key := s.Setup(t)
	createUser := func(email string) int {
		return s.Do(t, "POST", "/api/user", key, map[string]any{"user": map[string]any{"email": email, "password": "a long enough password"}}).Status
	}
	if st := createUser("before@example.com"); st != http.StatusOK {
		t.Fatalf("create user: %d", st)
	}

	// Writes keep landing while the copy is made.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if st := createUser(strings.Repeat("x", 1+i%5) + "-during-" + string(rune('a'+i%26)) + "@example.com"); st != http.StatusOK && st != http.StatusBadRequest {
				t.Errorf("write during backup: %d", st)
				return
			}
		}
	}()
	file := filepath.Join(t.TempDir(), "copy.db")
	out, stderr, code := s.CLI(t, "backup", file)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, file) {
		t.Errorf("backup does not say where the copy went: %q", out)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v, want 0600", err, fi.Mode())
	}
	// A second backup to the same file is refused, and the first one stays.
	if _, _, code := s.CLI(t, "backup", file); code == 0 {
		t.Error("backup overwrote an existing file")
	}

	if st := createUser("after@example.com"); st != http.StatusOK {
		t.Fatalf("create user: %d", st)
	}
	if code := s.Stop(t); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	db := filepath.Join(s.DataDir, "latch.db")
	copyBytes, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{db + "-wal", db + "-shm"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(db, copyBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	restored := testutil.StartServer(t, testutil.WithDataDir(s.DataDir))
	if !keyWorks(t, restored, key) {
		t.Fatal("the key does not work on the restored instance")
	}
	if got := restored.Do(t, "GET", "/api/user?email=before@example.com", key, nil).Status; got != http.StatusOK {
		t.Errorf("user written before the backup: %d after restore, want 200", got)
	}
	if got := restored.Do(t, "GET", "/api/user?email=after@example.com", key, nil).Status; got != http.StatusNotFound {
		t.Errorf("user written after the backup: %d after restore, want 404", got)
	}
}

func TestBackupRefusals(t *testing.T) {
	cases := []struct {
		name string
		env  func(t *testing.T) map[string]string
		args []string
		want string
	}{
		{"no file", func(t *testing.T) map[string]string { return freshEnv(t, testutil.Backend{Name: "sqlite"}) }, nil, "name one file"},
		{"no database", func(t *testing.T) map[string]string { return freshEnv(t, testutil.Backend{Name: "sqlite"}) },
			[]string{filepath.Join(t.TempDir(), "x.db")}, "no Latch database"},
		{"postgres", func(t *testing.T) map[string]string {
			return freshEnv(t, testutil.Backend{Name: "postgres", DatabaseURL: "postgres://127.0.0.1:1/none"})
		}, []string{filepath.Join(t.TempDir(), "x.db")}, "pg_dump"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := latchRun(t, c.env(t), append([]string{"backup"}, c.args...)...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
			}
		})
	}
}
