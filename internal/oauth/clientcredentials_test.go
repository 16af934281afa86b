package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchid/latch/internal/testutil"
)

// The client_credentials grant of FusionAuth's Entity Management through
// golang.org/x/oauth2/clientcredentials, and the introspection of its
// tokens as FusionAuth's client asks for it (the token alone).

func (e *env) entityType(name string, perms ...string) string {
	e.t.Helper()
	list := make([]any, len(perms))
	for i, p := range perms {
		list[i] = map[string]any{"name": p}
	}
	m := e.want("create entity type", e.api("POST", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": name, "permissions": list}}), 200).obj()
	return m["entityType"].(map[string]any)["id"].(string)
}

// entity creates an entity of the type in tenantID ("" for Default).
func (e *env) entity(typeID, tenantID, name string) map[string]any {
	e.t.Helper()
	ent := map[string]any{"name": name, "type": map[string]any{"id": typeID}}
	if tenantID != "" {
		ent["tenantId"] = tenantID
	}
	return e.want("create entity", e.api("POST", "/api/entity", map[string]any{"entity": ent}), 200).obj()["entity"].(map[string]any)
}

func grantBody(recipient string, perms ...string) map[string]any {
	return map[string]any{"grant": map[string]any{"recipientEntityId": recipient, "permissions": perms}}
}

func (e *env) grant(on, recipient string, perms ...string) {
	e.t.Helper()
	e.want("grant", e.api("POST", "/api/entity/"+on+"/grant", grantBody(recipient, perms...)), 200)
}

func ccConfig(s *testutil.Server, id, secret string, style oauth2.AuthStyle, scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: s.URL + "/oauth2/token", Scopes: scopes, AuthStyle: style}
}

// retrieveError is the OAuth error of a refused token request.
func retrieveError(t *testing.T, err error) (status int, header http.Header, body map[string]any) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want an OAuth error, got %v", err)
	}
	if err := json.Unmarshal(re.Body, &body); err != nil {
		t.Fatalf("error body %q: %v", re.Body, err)
	}
	return re.Response.StatusCode, re.Response.Header, body
}

// verifyWithJWKS checks a token's signature against the published JWKS and
// returns its header's alg and kid.
func (e *env) verifyWithJWKS(token string) (alg, kid string) {
	e.t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.ES384, jose.ES512, jose.RS384, jose.RS512})
	if err != nil {
		e.t.Fatalf("parse %q: %v", token, err)
	}
	var set jose.JSONWebKeySet
	e.want("jwks", resp{e.t, e.s.Do(e.t, "GET", "/.well-known/jwks.json", "", nil)}, 200).decode(&set)
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		e.t.Fatalf("kid %q not in the JWKS", h.KeyID)
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		e.t.Fatalf("signature: %v", err)
	}
	return h.Algorithm, h.KeyID
}

func TestClientCredentialsGrant(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		var shared []testutil.Option
		if b.DatabaseURL == "" {
			shared = append(shared, testutil.WithSharedDataDir(t.TempDir())) // one SQLite file for both nodes
		}
		e := start(t, b, shared...)
		ctx := context.Background()
		typeID := e.entityType("API", "read", "write", "delete")
		target := e.entity(typeID, "", "Target")["id"].(string)
		second := e.entity(typeID, "", "Second")["id"].(string)
		client := e.entity(typeID, "", "Client")
		cid, secret := client["clientId"].(string), client["clientSecret"].(string)
		e.grant(target, client["id"].(string), "read", "write")
		e.grant(second, client["id"].(string), "delete")
		acme := e.want("tenant", e.api("POST", "/api/tenant", map[string]any{"tenant": map[string]any{"name": "Acme"}}), 200).obj()["tenant"].(map[string]any)["id"].(string)
		outsider := e.entity(typeID, acme, "Outsider")["id"].(string)

		// Granted: Basic and form authentication; the claims are FusionAuth's.
		for _, c := range []struct {
			name      string
			style     oauth2.AuthStyle
			scopes    []string
			wantScope string
			wantPerms map[string][]string
		}{
			{"basic, one permission", oauth2.AuthStyleInHeader, []string{"target-entity:" + target + ":read"},
				"target-entity:" + target + ":read", map[string][]string{target: {"read"}}},
			{"form, two targets, all held", oauth2.AuthStyleInParams, []string{"target-entity:" + target, "target-entity:" + second + ":delete"},
				"target-entity:" + target + ":read,write target-entity:" + second + ":delete", map[string][]string{target: {"read", "write"}, second: {"delete"}}},
			{"no scope", oauth2.AuthStyleInHeader, nil, "", map[string][]string{}},
		} {
			tok, err := ccConfig(e.s, cid, secret, c.style, c.scopes...).Token(ctx)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if tok.TokenType != "Bearer" || tok.Extra("expires_in") != float64(3600) || tok.RefreshToken != "" || tok.Extra("scope") != nil && tok.Extra("scope") != c.wantScope {
				t.Errorf("%s: token %+v scope %v", c.name, tok, tok.Extra("scope"))
			}
			cl := claimsOf(t, tok.AccessToken)
			var perms map[string][]string
			raw, _ := json.Marshal(cl["permissions"])
			_ = json.Unmarshal(raw, &perms)
			if cl["sub"] != client["id"] || cl["tid"] != e.tenant || cl["iss"] != e.s.URL || cl["jti"] == "" ||
				cl["exp"].(float64)-cl["iat"].(float64) != 3600 || (cl["scope"] != nil && cl["scope"] != c.wantScope) ||
				!equalPerms(perms, c.wantPerms) {
				t.Errorf("%s: claims %v", c.name, cl)
			}
			switch len(c.wantPerms) {
			case 1:
				if cl["aud"] != target {
					t.Errorf("%s: aud %v", c.name, cl["aud"])
				}
			case 2:
				if aud, _ := json.Marshal(cl["aud"]); string(aud) != `["`+target+`","`+second+`"]` {
					t.Errorf("%s: aud %s", c.name, aud)
				}
			}
			if alg, _ := e.verifyWithJWKS(tok.AccessToken); alg != "ES256" {
				t.Errorf("%s: default key alg %s", c.name, alg)
			}
		}

		// Refused: RFC 6749 errors with FusionAuth's error_reason; the
		// client authenticates before its scope is judged.
		for _, c := range []struct {
			name, id, secret string
			style            oauth2.AuthStyle
			scope            string
			tenant           string
			status           int
			code             string
		}{
			{"wrong secret, basic", cid, secret + "x", oauth2.AuthStyleInHeader, "target-entity:" + target, "", 401, "invalid_client"},
			{"wrong secret, form", cid, secret + "x", oauth2.AuthStyleInParams, "target-entity:" + target, "", 401, "invalid_client"},
			{"no secret", cid, "", oauth2.AuthStyleInHeader, "target-entity:" + target, "", 401, "invalid_client"},
			{"unknown client", "11111111-2222-3333-4444-555555555555", secret, oauth2.AuthStyleInHeader, "target-entity:" + target, "", 401, "invalid_client"},
			{"another entity's secret", target, secret, oauth2.AuthStyleInHeader, "target-entity:" + second, "", 401, "invalid_client"},
			{"bad scope and wrong secret", cid, "nope", oauth2.AuthStyleInHeader, "openid", "", 401, "invalid_client"},
			{"client of another tenant", cid, secret, oauth2.AuthStyleInHeader, "target-entity:" + target, acme, 401, "invalid_client"},
			{"permission not granted", cid, secret, oauth2.AuthStyleInHeader, "target-entity:" + target + ":read,delete", "", 400, "invalid_scope"},
			{"permission of no kind", cid, secret, oauth2.AuthStyleInParams, "target-entity:" + target + ":fly", "", 400, "invalid_scope"},
			{"no grant on the target", cid, secret, oauth2.AuthStyleInHeader, "target-entity:" + client["id"].(string), "", 400, "invalid_scope"},
			{"target of another tenant", cid, secret, oauth2.AuthStyleInHeader, "target-entity:" + outsider, "", 400, "invalid_scope"},
			{"not a target scope", cid, secret, oauth2.AuthStyleInHeader, "openid", "", 400, "invalid_scope"},
			{"bad target id", cid, secret, oauth2.AuthStyleInHeader, "target-entity:abc:read", "", 400, "invalid_scope"},
			{"one good, one bad", cid, secret, oauth2.AuthStyleInHeader, "target-entity:" + target + ":read target-entity:" + second + ":read", "", 400, "invalid_scope"},
		} {
			cfg := ccConfig(e.s, c.id, c.secret, c.style)
			if c.scope != "" {
				cfg.Scopes = []string{c.scope}
			}
			if c.tenant != "" {
				cfg.EndpointParams = url.Values{"tenantId": {c.tenant}}
			}
			_, err := cfg.Token(ctx)
			status, h, body := retrieveError(t, err)
			if status != c.status || body["error"] != c.code || body["error_reason"] == nil || body["error_description"] == nil {
				t.Errorf("%s: %d %v", c.name, status, body)
			}
			if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: no Basic challenge: %v", c.name, h)
			}
		}

		// Introspection with the token alone, as introspectClientCredentialsAccessToken asks.
		tok, err := ccConfig(e.s, cid, secret, oauth2.AuthStyleInHeader, "target-entity:"+target+":write").Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		introspect := func(s *testutil.Server, form url.Values) map[string]any {
			t.Helper()
			r := s.Do(t, "POST", "/oauth2/introspect", "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
			if r.Status != 200 {
				t.Fatalf("introspect: %d %s", r.Status, r.Body)
			}
			var m map[string]any
			r.JSON(t, &m)
			return m
		}
		in := introspect(e.s, url.Values{"token": {tok.AccessToken}})
		if in["active"] != true || in["sub"] != client["id"] || in["aud"] != target || in["tid"] != e.tenant || in["iss"] != e.s.URL ||
			in["exp"] == nil || in["iat"] == nil || in["scope"] != "target-entity:"+target+":write" {
			t.Errorf("introspect: %v", in)
		}
		for name, form := range map[string]url.Values{
			"tampered":          {"token": {tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA"}},
			"garbage":           {"token": {"not-a-token"}},
			"another tenant":    {"token": {tok.AccessToken}, "tenantId": {acme}},
			"a user-less token": {"token": {"a.b.c"}},
		} {
			if m := introspect(e.s, form); len(m) != 1 || m["active"] != false {
				t.Errorf("introspect %s: %v", name, m)
			}
		}

		// The entity type's key (RS256) and lifetime.
		key := e.want("key", e.api("POST", "/api/key/generate", map[string]any{"key": map[string]any{"algorithm": "RS256", "name": "machines", "length": 2048}}), 200).obj()["key"].(map[string]any)
		keyID := key["id"].(string)
		e.want("type JWT", e.api("PATCH", "/api/entity/type/"+typeID, map[string]any{"entityType": map[string]any{
			"jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": keyID, "timeToLiveInSeconds": 600}}}), 200)
		tok, err = ccConfig(e.s, cid, secret, oauth2.AuthStyleInParams, "target-entity:"+target+":read").Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if alg, kid := e.verifyWithJWKS(tok.AccessToken); alg != "RS256" || kid != key["kid"] || tok.Extra("expires_in") != float64(600) {
			t.Errorf("type key: %s %s %v", alg, kid, tok.Extra("expires_in"))
		}
		if in := introspect(e.s, url.Values{"token": {tok.AccessToken}}); in["active"] != true {
			t.Errorf("introspect a token of the type's key: %v", in)
		}

		// Another node on the same database: a removed grant and a deleted
		// entity are refused there at once, without waiting for a cache.
		nodeB := testutil.StartServer(t, append(shared, testutil.WithBackend(b), testutil.WithClock(e.clock),
			testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey), testutil.WithSharedDataDir(e.s.DataDir))...)
		onB := func(scope string) error {
			_, err := ccConfig(nodeB, cid, secret, oauth2.AuthStyleInHeader, scope).Token(ctx)
			return err
		}
		if err := onB("target-entity:" + second); err != nil {
			t.Fatalf("node B before the change: %v", err)
		}
		e.want("remove grant", e.api("DELETE", "/api/entity/"+second+"/grant?recipientEntityId="+client["id"].(string), nil), 200)
		if status, _, body := retrieveError(t, onB("target-entity:"+second)); status != 400 || body["error"] != "invalid_scope" {
			t.Errorf("node B after the grant was removed: %d %v", status, body)
		}
		if err := onB("target-entity:" + target); err != nil {
			t.Errorf("node B, the other grant: %v", err)
		}
		e.want("delete client", e.api("DELETE", "/api/entity/"+client["id"].(string), nil), 200)
		if status, _, body := retrieveError(t, onB("target-entity:"+target)); status != 401 || body["error"] != "invalid_client" {
			t.Errorf("node B after the client was deleted: %d %v", status, body)
		}
		if in := introspect(nodeB, url.Values{"token": {tok.AccessToken}}); in["active"] != false {
			t.Errorf("node B introspects a deleted client's token: %v", in)
		}
	})
}

func equalPerms(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestClientCredentialsConcurrentGrantUpdates issues tokens while the grant
// changes under them: every token carries one state of the grant, whole,
// and no request fails otherwise than invalid_scope.
func TestClientCredentialsConcurrentGrantUpdates(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		ctx := context.Background()
		typeID := e.entityType("API", "read", "write")
		target := e.entity(typeID, "", "Target")["id"].(string)
		client := e.entity(typeID, "", "Client")
		cid, secret, rid := client["clientId"].(string), client["clientSecret"].(string), client["id"].(string)
		e.grant(target, rid, "read")

		const workers, rounds, updates = 4, 25, 30
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				all := ccConfig(e.s, cid, secret, oauth2.AuthStyleInHeader, "target-entity:"+target)
				write := ccConfig(e.s, cid, secret, oauth2.AuthStyleInParams, "target-entity:"+target+":write")
				for i := range rounds {
					if (w+i)%2 == 0 {
						tok, err := all.Token(ctx)
						if err != nil {
							t.Errorf("all held: %v", err)
							return
						}
						perms, _ := json.Marshal(claimsOf(t, tok.AccessToken)["permissions"])
						if s := string(perms); s != `{"`+target+`":["read"]}` && s != `{"`+target+`":["read","write"]}` {
							t.Errorf("permissions of no state of the grant: %s", s)
						}
						continue
					}
					tok, err := write.Token(ctx)
					if err != nil {
						var re *oauth2.RetrieveError
						if !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
							t.Errorf("write: %v", err)
							return
						}
						continue
					}
					if perms, _ := json.Marshal(claimsOf(t, tok.AccessToken)["permissions"]); string(perms) != `{"`+target+`":["write"]}` {
						t.Errorf("write: %s", perms)
					}
				}
			})
		}
		wg.Go(func() {
			for i := range updates {
				perms := []string{"read"}
				if i%2 == 0 {
					perms = append(perms, "write")
				}
				if r := e.s.Do(t, "POST", "/api/entity/"+target+"/grant", e.key, grantBody(rid, perms...)); r.Status != 200 {
					t.Errorf("update grant: %d %s", r.Status, r.Body)
					return
				}
			}
		})
		wg.Wait()

		// The last update (read only) is what the next token carries.
		tok, err := ccConfig(e.s, cid, secret, oauth2.AuthStyleInHeader, "target-entity:"+target).Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if perms, _ := json.Marshal(claimsOf(t, tok.AccessToken)["permissions"]); string(perms) != `{"`+target+`":["read"]}` {
			t.Errorf("after the updates: %s", perms)
		}
	})
}

// TestDiscoveryFollowsChanges: the rendered discovery document is rebuilt
// when the tenant's settings or the signing keys change, and lists the
// client_credentials grant.
func TestDiscoveryFollowsChanges(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		doc := func() map[string]any {
			t.Helper()
			var m map[string]any
			e.want("discovery", resp{t, e.s.Do(t, "GET", "/.well-known/openid-configuration", "", nil)}, 200).decode(&m)
			return m
		}
		has := func(m map[string]any, k, v string) bool {
			l, _ := m[k].([]any)
			return slices.Contains(l, any(v))
		}
		d := doc()
		if d["issuer"] != e.s.URL || !has(d, "grant_types_supported", "client_credentials") || has(d, "id_token_signing_alg_values_supported", "RS256") {
			t.Fatalf("before: %v", d)
		}
		e.want("issuer", e.api("PATCH", "/api/tenant/"+e.tenant, map[string]any{"tenant": map[string]any{"issuer": "https://issuer.example"}}), 200)
		if d = doc(); d["issuer"] != "https://issuer.example" {
			t.Errorf("after the issuer changed: %v", d["issuer"])
		}
		e.want("key", e.api("POST", "/api/key/generate", map[string]any{"key": map[string]any{"algorithm": "RS256", "name": "rs", "length": 2048}}), 200)
		if d = doc(); !has(d, "id_token_signing_alg_values_supported", "RS256") {
			t.Errorf("after an RS256 key was added: %v", d["id_token_signing_alg_values_supported"])
		}
	})
}

// TestClientCredentialsDPoP: a DPoP proof on a client_credentials request
// is checked as on the other grants and binds the token to its key
// (token_type DPoP, cnf.jkt, shown by introspection); x/oauth2's
// clientcredentials speaks it through a transport that adds proofs.
func TestClientCredentialsDPoP(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		typeID := e.entityType("API", "read")
		target := e.entity(typeID, "", "Target")["id"].(string)
		client := e.entity(typeID, "", "Client")
		cid, secret := client["clientId"].(string), client["clientSecret"].(string)
		e.grant(target, client["id"].(string), "read")
		tokenURL := e.s.URL + "/oauth2/token"
		scope := "target-entity:" + target + ":read"
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
		key := newDPoPKey(t, jose.ES256)
		now := e.clock.Now()

		t.Run("x/oauth2 with proofs: bound token, introspection shows cnf.jkt", func(t *testing.T) {
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: dpopTransport{key: key, clock: e.clock}})
			tok, err := ccConfig(e.s, cid, secret, oauth2.AuthStyleInHeader, scope).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cnf, _ := claimsOf(t, tok.AccessToken)["cnf"].(map[string]any)
			if tok.TokenType != "DPoP" || cnf["jkt"] != key.jkt {
				t.Fatalf("token_type %q cnf %v, want DPoP and jkt %s", tok.TokenType, cnf, key.jkt)
			}
			status, _, in := e.postForm("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, "", "")
			icnf, _ := in["cnf"].(map[string]any)
			if status != 200 || in["active"] != true || icnf["jkt"] != key.jkt || in["sub"] != client["id"] {
				t.Fatalf("introspection %d %v", status, in)
			}
		})

		t.Run("without a proof: a bearer token", func(t *testing.T) {
			status, res := e.tokenWithProofs(form, cid, secret)
			if status != 200 || res["token_type"] != "Bearer" || claimsOf(t, res["access_token"].(string))["cnf"] != nil {
				t.Fatalf("%d %v", status, res)
			}
		})

		replayed := key.proof("POST", tokenURL, "", now, proofOpts{})
		if status, res := e.tokenWithProofs(form, cid, secret, replayed); status != 200 || res["token_type"] != "DPoP" {
			t.Fatalf("first use of a proof: %d %v", status, res)
		}
		for _, c := range []struct {
			name   string
			secret string
			proofs []string
			status int
			code   string
		}{
			{"proof replayed (jti)", secret, []string{replayed}, 400, "invalid_dpop_proof"},
			{"htm not POST", secret, []string{key.proof("GET", tokenURL, "", now, proofOpts{})}, 400, "invalid_dpop_proof"},
			{"htu another endpoint", secret, []string{key.proof("POST", e.s.URL+"/oauth2/userinfo", "", now, proofOpts{})}, 400, "invalid_dpop_proof"},
			{"iat too old", secret, []string{key.proof("POST", tokenURL, "", now.Add(-10*time.Minute), proofOpts{})}, 400, "invalid_dpop_proof"},
			{"symmetric signature", secret, []string{key.proof("POST", tokenURL, "", now, proofOpts{hmacKey: []byte("0123456789abcdef0123456789abcdef")})}, 400, "invalid_dpop_proof"},
			{"two proofs", secret, []string{key.proof("POST", tokenURL, "", now, proofOpts{}), key.proof("POST", tokenURL, "", now, proofOpts{})}, 400, "invalid_dpop_proof"},
			{"stale nonce", secret, []string{key.proof("POST", tokenURL, "", now, proofOpts{claims: map[string]any{"nonce": "1.abc"}})}, 400, "use_dpop_nonce"},
			{"valid proof, wrong secret", "wrong", []string{key.proof("POST", tokenURL, "", now, proofOpts{})}, 401, "invalid_client"},
		} {
			status, res := e.tokenWithProofs(form, cid, c.secret, c.proofs...)
			if status != c.status || res["error"] != c.code || res["access_token"] != nil {
				t.Errorf("%s: %d %v, want %d %s", c.name, status, res, c.status, c.code)
			}
		}
	})
}
