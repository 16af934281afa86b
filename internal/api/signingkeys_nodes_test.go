package api_test

import (
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/testutil"
)

// The design bound for a key change to reach every node is one second (each
// node polls the cache version every 250ms). Like the API key tests, these log
// the measured delay and fail only when a node never catches up (10s).

// skWaitJWKS polls node's JWKS until kid is (or is no longer) published and
// returns how long that took.
func skWaitJWKS(t *testing.T, node *testutil.Server, kid string, present bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if (jwkByKid(skJWKS(t, node), kid) != nil) == present {
			return time.Since(start)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("node %s: kid %s present=%v not seen after 10s", node.Addr, kid, present)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSigningKeyChangesReachEveryNode(t *testing.T) {
	t.Parallel()
	pg := testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)}
	nodeA := testutil.StartServer(t, testutil.WithBackend(pg))
	nodeB := testutil.StartServer(t, testutil.WithBackend(pg))
	root := nodeA.Setup(t)

	for _, alg := range []string{"ES256", "RS256", "Ed25519"} {
		body := map[string]any{"key": map[string]any{"algorithm": alg, "name": "multi-node " + alg, "length": 2048}}
		if alg != "RS256" {
			delete(body["key"].(map[string]any), "length")
		}
		r := nodeA.Do(t, "POST", "/api/key/generate", root, body)
		if r.Status != 200 {
			t.Fatalf("generate on node A: %d %s", r.Status, r.Body)
		}
		var k skKeyBody
		r.JSON(t, &k)
		if jwkByKid(skJWKS(t, nodeA), k.Key.Kid) == nil {
			t.Fatalf("node A does not publish its own new key at once")
		}
		d := skWaitJWKS(t, nodeB, k.Key.Kid, true)
		t.Logf("%s: new key published by node B after %v", alg, d)
		pk := nodeB.Do(t, "GET", "/api/jwt/public-key?kid="+k.Key.Kid, "", nil)
		if pk.Status != 200 {
			t.Errorf("node B public key by kid: %d", pk.Status)
		}

		if r := nodeA.Do(t, "DELETE", "/api/key/"+k.Key.ID, root, nil); r.Status != 200 {
			t.Fatalf("delete on node A: %d %s", r.Status, r.Body)
		}
		d = skWaitJWKS(t, nodeB, k.Key.Kid, false)
		t.Logf("%s: deleted key withdrawn by node B after %v", alg, d)
		if pk := nodeB.Do(t, "GET", "/api/jwt/public-key?kid="+k.Key.Kid, "", nil); pk.Status != 404 {
			t.Errorf("node B still serves the deleted key's public key: %d", pk.Status)
		}
	}
}

// TestDefaultSigningKeyOnce starts two nodes on one fresh database at once:
// there is exactly one default key, both publish it, and the Default tenant
// signs with it.
func TestDefaultSigningKeyOnce(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		opts := []testutil.Option{testutil.WithBackend(b), testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey)}
		if b.DatabaseURL == "" {
			opts = append(opts, testutil.WithSharedDataDir(t.TempDir())) // one SQLite file for both
		}
		nodes := make([]*testutil.Server, 2)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				nodes[i] = testutil.StartServer(t, opts...)
			}()
		}
		wg.Wait()
		if nodes[0] == nil || nodes[1] == nil {
			t.Fatal("a node did not start")
		}
		root := nodes[0].Setup(t)
		r := nodes[1].Do(t, "GET", "/api/key", root, nil)
		var list skKeysBody
		r.JSON(t, &list)
		if r.Status != 200 || len(list.Keys) != 1 || list.Keys[0].Name != signing.DefaultKeyName {
			t.Fatalf("keys after two nodes started together: %d %s", r.Status, r.Body)
		}
		def := list.Keys[0]
		for i, n := range nodes {
			set := skJWKS(t, n)
			if len(set.Keys) != 1 || set.Keys[0].KeyID != def.Kid {
				t.Errorf("node %d publishes %d keys, want the default key %s", i, len(set.Keys), def.Kid)
			}
			pk := n.Do(t, "GET", "/api/jwt/public-key?applicationId="+model.AdminApplicationID, "", nil)
			var body struct{ PublicKey string }
			pk.JSON(t, &body)
			if pk.Status != 200 || body.PublicKey != def.PublicKey {
				t.Errorf("node %d: the admin application does not sign with the default key: %d %s", i, pk.Status, pk.Body)
			}
		}
	})
}
