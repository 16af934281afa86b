package storetest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// domains are the packages that declare a Storage interface.
var domains = []string{"access", "audit", "authentication", "email", "entities", "events", "groups", "identity", "identity/userimport",
	"kit", "lockout", "mailflows", "signing", "tenancy", "throttle", "tokens"}

const module = "github.com/latchid/latch/internal/"

// TestStorageMatchesUse checks that each domain's Storage interface lists
// exactly the methods of *store.Tx that the package calls: a new call
// needs a line in the interface (and a conformance test), and a call that
// goes takes its line with it.
func TestStorageMatchesUse(t *testing.T) {
	args := []string{"list", "-export", "-deps", "-json"}
	for _, d := range domains {
		args = append(args, module+d)
	}
	// go test puts its own toolchain first on the PATH, so the export data
	// matches the importer compiled into this test.
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	type listed struct {
		ImportPath, Dir, Export string
		GoFiles                 []string
	}
	exports := map[string]string{}
	byPath := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath], byPath[p.ImportPath] = p.Export, p
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) { return os.Open(exports[path]) })
	for _, d := range domains {
		p := byPath[module+d]
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
		pkg, err := (&types.Config{Importer: imp}).Check(p.ImportPath, fset, files, info)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		called := map[string]bool{}
		for _, sel := range info.Selections {
			if sel.Kind() == types.MethodVal && sel.Recv().String() == "*"+module+"store.Tx" {
				called[sel.Obj().Name()] = true
			}
		}
		obj := pkg.Scope().Lookup("Storage")
		if obj == nil {
			t.Errorf("%s declares no Storage interface", d)
			continue
		}
		iface, _ := obj.Type().Underlying().(*types.Interface)
		if iface == nil {
			t.Errorf("%s.Storage is no interface", d)
			continue
		}
		declared := map[string]bool{}
		for m := range iface.Methods() {
			declared[m.Name()] = true
		}
		var missing, unused []string
		for m := range called {
			if !declared[m] {
				missing = append(missing, m)
			}
		}
		for m := range declared {
			if !called[m] {
				unused = append(unused, m)
			}
		}
		slices.Sort(missing)
		slices.Sort(unused)
		if len(missing) > 0 {
			t.Errorf("%s calls *store.Tx methods its Storage does not list: %s", d, strings.Join(missing, ", "))
		}
		if len(unused) > 0 {
			t.Errorf("%s.Storage lists methods %s does not call: %s", d, d, strings.Join(unused, ", "))
		}
	}
}
