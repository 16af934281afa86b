package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/entities"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/testutil"
)

// The client_credentials rule (internal/entities), on the server's database
// through a second set of services, as another node would run it. The OAuth
// surface (/oauth2/token) maps its answers to HTTP.

// node is a set of services on the server's database with the server's
// master key, its caches loaded.
func (e *enEnv) node() *services.Set {
	e.t.Helper()
	mk, err := secrets.LoadOrCreateMasterKeyFile(filepath.Join(e.s.DataDir, "master.key"), false)
	if k := e.s.Env["LATCH_MASTER_KEY"]; k != "" {
		mk, err = secrets.ParseMasterKey(k)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	set := services.New(e.st, e.s.Clock, mk, slog.New(slog.NewTextHandler(io.Discard, nil)), services.Options{})
	set.SigningKeys.Refresh(context.Background())
	set.Configs.Refresh(context.Background())
	return set
}

// enClaims decodes a JWT's header and payload without checking it.
func enClaims(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	for i, into := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func enGrantErr(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ge *entities.GrantError
	if !errors.As(err, &ge) || ge.Code != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

func TestClientCredentialsRule(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := enStart(t, b)
		ctx := context.Background()
		def := e.defaultTenant()
		typ := e.entityType("API", "read", "write", "delete")
		typeID := typ["id"].(string)
		target := e.entity(typeID, "", "Target")["id"].(string)
		second := e.entity(typeID, "", "Second")["id"].(string)
		client := e.entity(typeID, "", "Client")
		clientID, secret := client["clientId"].(string), client["clientSecret"].(string)
		grant := func(on string, perms ...any) {
			t.Helper()
			wantEmpty(t, "grant", e.do("POST", "/api/entity/"+on+"/grant", e.root, map[string]any{"grant": map[string]any{
				"recipientEntityId": client["id"], "permissions": perms}}), 200)
		}
		grant(target, "read", "write")
		grant(second, "delete")
		node := e.node()
		cc := node.Entities

		tok, err := cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: secret, Scope: "target-entity:" + target + ":read"})
		if err != nil {
			t.Fatalf("grant: %v", err)
		}
		if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.Scope != "target-entity:"+target+":read" {
			t.Errorf("token response: %+v", tok)
		}
		h, c := enClaims(t, tok.AccessToken)
		if c["aud"] != target || c["sub"] != client["id"] || c["tid"] != def || c["scope"] != tok.Scope ||
			c["exp"].(float64)-c["iat"].(float64) != 3600 || c["jti"] == "" || c["iss"] == "" {
			t.Errorf("claims: %v", c)
		}
		if perms, _ := json.Marshal(c["permissions"]); string(perms) != `{"`+target+`":["read"]}` {
			t.Errorf("permissions: %s", perms)
		}
		if _, err := node.SigningKeys.Current().Verify(tok.AccessToken); err != nil || h["kid"] == nil {
			t.Errorf("the token does not verify with the server's keys: %v (%v)", err, h)
		}

		// No permissions named: all it holds; several targets: aud is a list.
		tok, err = cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: secret, Scope: "target-entity:" + target + " target-entity:" + strings.ToUpper(second) + ":DELETE"})
		if err != nil {
			t.Fatalf("two targets: %v", err)
		}
		_, c = enClaims(t, tok.AccessToken)
		if aud, _ := json.Marshal(c["aud"]); string(aud) != `["`+target+`","`+second+`"]` {
			t.Errorf("aud: %s", aud)
		}
		if want := map[string]any{second: []any{"delete"}, target: []any{"read", "write"}}; !model.JSONEqual(c["permissions"], want) {
			t.Errorf("permissions: %v", c["permissions"])
		}
		if want := "target-entity:" + target + ":read,write target-entity:" + second + ":delete"; tok.Scope != want {
			t.Errorf("scope %q, want %q", tok.Scope, want)
		}
		if tok, err := cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: secret, Scope: ""}); err != nil || tok.Scope != "" {
			t.Errorf("no scope: %v %+v", err, tok)
		}

		// Refusals. The client authenticates before its scope is judged.
		acme := e.createTenant("Acme")["id"].(string)
		outsider := e.entity(typeID, acme, "Outsider")["id"].(string)
		for _, c := range []struct {
			name, id, secret, scope, code string
		}{
			{"wrong secret", clientID, secret + "x", "target-entity:" + target, "invalid_client"},
			{"no secret", clientID, "", "target-entity:" + target, "invalid_client"},
			{"unknown client", "nobody", secret, "target-entity:" + target, "invalid_client"},
			{"another entity's secret", target, secret, "target-entity:" + target, "invalid_client"},
			{"bad scope, wrong secret", clientID, "x", "openid", "invalid_client"},
			{"permission not granted", clientID, secret, "target-entity:" + target + ":read,delete", "invalid_scope"},
			{"permission of no kind", clientID, secret, "target-entity:" + target + ":fly", "invalid_scope"},
			{"no grant on the target", clientID, secret, "target-entity:" + client["id"].(string), "invalid_scope"},
			{"unknown target", clientID, secret, "target-entity:" + rgNewID(), "invalid_scope"},
			{"target of another tenant", clientID, secret, "target-entity:" + outsider, "invalid_scope"},
			{"not a target scope", clientID, secret, "openid", "invalid_scope"},
			{"bad target id", clientID, secret, "target-entity:abc:read", "invalid_scope"},
			{"empty permission", clientID, secret, "target-entity:" + target + ":read,", "invalid_scope"},
			{"too many targets", clientID, secret, strings.Repeat("target-entity:"+rgNewID()+" ", 1) + enManyTargets(101), "invalid_scope"},
			{"one bad of two", clientID, secret, "target-entity:" + target + ":read target-entity:" + second + ":read", "invalid_scope"},
		} {
			_, err := cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: c.id, Secret: c.secret, Scope: c.scope})
			enGrantErr(t, c.name, err, c.code)
		}

		// The entity type's own key and lifetime.
		keyID := e.ok("generate key", e.do("POST", "/api/key/generate", e.root, map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "machines"}}), "key")["id"].(string)
		e.ok("type JWT", e.do("PATCH", "/api/entity/type/"+typeID, e.root, map[string]any{"entityType": map[string]any{
			"jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": keyID, "timeToLiveInSeconds": 600}}}), "entityType")
		node.SigningKeys.Refresh(ctx)
		tok, err = cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: secret, Scope: "target-entity:" + target + ":write"})
		if err != nil {
			t.Fatalf("with the type's key: %v", err)
		}
		h, c = enClaims(t, tok.AccessToken)
		v, verr := node.SigningKeys.Current().Verify(tok.AccessToken)
		if verr != nil || v.KeyID != keyID || h["alg"] != "ES256" || tok.ExpiresIn != 600 || c["exp"].(float64)-c["iat"].(float64) != 600 {
			t.Errorf("type key: %v %v %v %+v", verr, h, c, tok)
		}

		// Introspection: active while valid and the client exists.
		raw, ok, err := cc.IntrospectClientToken(ctx, tok.AccessToken, "")
		var claims map[string]any
		if err != nil || !ok || json.Unmarshal(raw, &claims) != nil || claims["sub"] != client["id"] {
			t.Errorf("introspect: %s %v %v", raw, ok, err)
		}
		for name, bad := range map[string]string{"garbage": "x.y.z", "tampered": enTamper(tok.AccessToken)} {
			if _, ok, _ := cc.IntrospectClientToken(ctx, bad, ""); ok {
				t.Errorf("introspect %s: active", name)
			}
		}
		e.s.Clock.Advance(601 * time.Second)
		if _, ok, _ := cc.IntrospectClientToken(ctx, tok.AccessToken, ""); ok {
			t.Error("introspect: an expired token is active")
		}

		// A removed grant, a new secret, a deleted entity: refused at once
		// on this node though the change went through the server.
		wantEmpty(t, "remove grant", e.do("DELETE", "/api/entity/"+second+"/grant?recipientEntityId="+client["id"].(string), e.root, nil), 200)
		_, err = cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: secret, Scope: "target-entity:" + second})
		enGrantErr(t, "after the grant was removed", err, "invalid_scope")
		tok, err = cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: secret, Scope: "target-entity:" + target})
		if err != nil {
			t.Fatalf("the other grant still works: %v", err)
		}
		e.ok("rotate", e.do("PATCH", "/api/entity/"+client["id"].(string), e.root, map[string]any{"entity": map[string]any{"clientSecret": "the new secret"}}), "entity")
		_, err = cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: secret, Scope: "target-entity:" + target})
		enGrantErr(t, "old secret", err, "invalid_client")
		if _, err := cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: "the new secret", Scope: "target-entity:" + target}); err != nil {
			t.Errorf("new secret: %v", err)
		}
		wantEmpty(t, "delete client", e.do("DELETE", "/api/entity/"+client["id"].(string), e.root, nil), 200)
		_, err = cc.ClientCredentials(ctx, entities.ClientCredentialsRequest{ClientID: clientID, Secret: "the new secret", Scope: "target-entity:" + target})
		enGrantErr(t, "deleted client", err, "invalid_client")
		if _, ok, _ := cc.IntrospectClientToken(ctx, tok.AccessToken, ""); ok {
			t.Error("introspect: a deleted client's token is active")
		}
	})
}

func enManyTargets(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = "target-entity:" + rgNewID()
	}
	return strings.Join(items, " ")
}

// Deleting a tenant takes its entities and their grants; deleting a user
// takes the grants to the user.
func TestEntitiesGoWithTheirTenantAndGrantsWithTheirUser(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := enStart(t, b)
		typeID := e.entityType("API", "read")["id"].(string)
		acme := e.createTenant("Acme")["id"].(string)
		target := e.entity(typeID, acme, "Target")["id"].(string)
		client := e.entity(typeID, acme, "Client")["id"].(string)
		user := e.user("u@example.com", acme)
		for _, g := range []map[string]any{{"userId": user}, {"recipientEntityId": client}} {
			wantEmpty(t, "grant", e.do("POST", "/api/entity/"+target+"/grant", e.root, map[string]any{"grant": g}), 200)
		}
		wantEmpty(t, "delete user", e.do("DELETE", "/api/user/"+user+"?hardDelete=true", e.root, nil), 200)
		wantEmpty(t, "the user's grant went", e.do("GET", "/api/entity/"+target+"/grant?userId="+user, e.root, nil), 404)
		if r := e.do("DELETE", "/api/tenant/"+acme, e.root, nil); r.Status != 200 {
			t.Fatalf("delete tenant: %d %s", r.Status, r.Body)
		}
		for _, id := range []string{target, client} {
			wantEmpty(t, "entity of the deleted tenant", e.do("GET", "/api/entity/"+id, e.root, nil), 404)
		}
		if n := decodeObject(t, e.do("GET", "/api/entity/grant/search", e.root, nil))["total"]; n != taNum(0) {
			t.Errorf("%v grants left", n)
		}
		if e.ok("type stays", e.do("GET", "/api/entity/type/"+typeID, e.root, nil), "entityType")["id"] != typeID {
			t.Error("type gone")
		}
	})
}

// enTamper changes one character in the middle of a token's signature.
func enTamper(token string) string {
	i := strings.LastIndex(token, ".") + 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
