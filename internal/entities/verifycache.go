package entities

import (
	"sync"

	"github.com/latchid/latch/internal/keys"
)

// verifiedTokens remembers the payloads of client_credentials tokens whose
// signature verified under one set of signing keys, so that introspecting a
// token again costs a map lookup instead of an ECDSA or RSA verification
// (half the cost of an introspection). The entries belong to that set: a
// key added, rotated or deleted makes a new set, and the cache starts
// afresh. Expiry and the entity's existence are checked on every request.
type verifiedTokens struct {
	mu      sync.Mutex
	set     *keys.Set
	payload map[string][]byte // token → verified payload
}

// maxVerifiedTokens bounds the cache; past it, it starts afresh.
const maxVerifiedTokens = 4096

func (c *verifiedTokens) verify(set *keys.Set, token string) ([]byte, error) {
	c.mu.Lock()
	if c.set == set {
		if p, ok := c.payload[token]; ok {
			c.mu.Unlock()
			return p, nil
		}
	}
	c.mu.Unlock()
	v, err := set.Verify(token)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.set != set || len(c.payload) >= maxVerifiedTokens {
		c.set, c.payload = set, make(map[string][]byte)
	}
	c.payload[token] = v.Payload
	c.mu.Unlock()
	return v.Payload, nil
}
