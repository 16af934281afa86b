package api_test

import (
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

func TestSetupKeyReachesVersion(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		key := s.Setup(t)
		cases := []struct {
			name, key string
			want      int
		}{
			{"initial key", key, 200},
			{"wrong key", "not-a-key", 401},
			{"no key", "", 401},
		}
		for _, c := range cases {
			if got := s.Do(t, "GET", "/api/system/version", c.key, nil); got.Status != c.want {
				t.Errorf("%s: status %d, want %d", c.name, got.Status, c.want)
			}
		}
	})
}
