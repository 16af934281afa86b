package entities

import (
	"encoding/json"
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
	payload map[string]*verifiedToken
}

// verifiedToken is a token's verified payload and the claims the
// introspection checks.
type verifiedToken struct {
	payload []byte
	claims  ClientClaims
	client  bool // a client_credentials token: permissions and sub present
}

// maxVerifiedTokens bounds the cache; past it, it starts afresh.
const maxVerifiedTokens = 4096

func (c *verifiedTokens) verify(set *keys.Set, token string) (*verifiedToken, error) {
	c.mu.Lock()
	if c.set == set {
		if vt, ok := c.payload[token]; ok {
			c.mu.Unlock()
			return vt, nil
		}
	}
	c.mu.Unlock()
	v, err := set.Verify(token)
	if err != nil {
		return nil, err
	}
	vt := &verifiedToken{payload: v.Payload}
	vt.client = json.Unmarshal(v.Payload, &vt.claims) == nil && vt.claims.Permissions != nil && vt.claims.Sub != "" &&
		len(v.Payload) > 2 && v.Payload[0] == '{'
	c.mu.Lock()
	if c.set != set || len(c.payload) >= maxVerifiedTokens {
		c.set, c.payload = set, make(map[string]*verifiedToken)
	}
	c.payload[token] = vt
	c.mu.Unlock()
	return vt, nil
}
