// FusionAuth's TypeScript client against a real latch: the Login API, login
// ping, logout, JWT validation, refresh tokens (exchange, retrieve, every
// revoke form the client has), signing keys and the public keys that verify
// JWTs, with FusionAuth's status codes and shapes. A JWT from Latch's login
// is also verified by an independent library (jose) from the JWKS alone.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { explain, failure, runSetup, startLatch } from './lib.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PEM_PUBLIC = /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/;
const PASSWORD = 'compat password 1';

describe('auth: login, JWTs, refresh tokens, signing keys', () => {
  let latch;
  let client; // the initial key: every endpoint
  let anonymous; // no API key
  let issuer; // the default tenant's issuer
  let app; // requireAuthentication, refresh tokens, its own signing key
  let signingKey; // the RS256 key app signs with (generated here)
  let user; // registered for app with role "user", in a group granting "editor"

  let seq = 0;
  const email = (what) => `compat-${what}-${++seq}-${randomUUID().slice(0, 8)}@example.com`;

  /** Registers a fresh user for app and logs it in; returns {user, login}. */
  async function session(what = 'session') {
    const address = email(what);
    const made = (await client.register(null, {
      user: { email: address, password: PASSWORD },
      registration: { applicationId: app.id, roles: ['user'] },
      skipVerification: true,
    })).response.user;
    const login = (await client.login({ loginId: address, password: PASSWORD, applicationId: app.id })).response;
    assert.equal(typeof login.refreshToken, 'string', 'login issued a refresh token');
    return { user: made, login };
  }

  /** The ids of a user's refresh tokens, as retrieveRefreshTokens lists them. */
  async function refreshTokenIds(userId) {
    return (await client.retrieveRefreshTokens(userId)).response.refreshTokens.map((t) => t.id);
  }

  before(async () => {
    latch = await startLatch();
    client = explain(new FusionAuthClient(await runSetup(latch), latch.url));
    anonymous = explain(new FusionAuthClient('', latch.url));
    const tenants = (await client.retrieveTenants()).response.tenants;
    issuer = tenants[0].issuer;

    signingKey = (await client.generateKey(null, { key: { algorithm: 'RS256', name: `compat app key ${randomUUID()}`, length: 2048 } })).response.key;
    app = (await client.createApplication(null, {
      application: {
        name: `compat auth app ${randomUUID()}`,
        roles: [{ name: 'user', isDefault: true }, { name: 'editor' }, { name: 'admin' }],
        loginConfiguration: { requireAuthentication: true, generateRefreshTokens: true, allowTokenRefresh: true },
        jwtConfiguration: {
          enabled: true,
          accessTokenKeyId: signingKey.id,
          timeToLiveInSeconds: 600,
          refreshTokenTimeToLiveInMinutes: 60,
          refreshTokenExpirationPolicy: 'Fixed',
          refreshTokenUsagePolicy: 'Reusable',
        },
      },
    })).response.application;
    const editor = app.roles.find((r) => r.name === 'editor');
    const group = (await client.createGroup(null, { group: { name: `compat editors ${randomUUID()}` }, roleIds: [editor.id] })).response.group;
    user = (await client.register(null, {
      user: { email: email('login'), password: PASSWORD, firstName: 'Login' },
      registration: { applicationId: app.id, roles: ['user'] },
      skipVerification: true,
    })).response.user;
    await client.createGroupMembers({ members: { [group.id]: [{ userId: user.id }] } });
  });
  after(async () => {
    await latch?.stop();
  });

  test('login: 200 with token, refresh token and user; the token carries FusionAuth\'s claims', async () => {
    const res = await client.login({ loginId: user.email, password: PASSWORD, applicationId: app.id, ipAddress: '203.0.113.9' });
    assert.equal(res.statusCode, 200);
    const r = res.response;
    assert.equal(typeof r.token, 'string');
    assert.equal(typeof r.refreshToken, 'string');
    assert.match(r.refreshTokenId, UUID);
    assert.equal(typeof r.tokenExpirationInstant, 'number');
    assert.ok(r.tokenExpirationInstant > Date.now(), 'tokenExpirationInstant is epoch millis in the future');
    assert.equal(r.user.id, user.id);
    assert.equal(r.user.email, user.email);
    assert.equal(r.user.password, undefined);
    assert.equal(typeof r.user.lastLoginInstant, 'number');

    const header = decodeProtectedHeader(r.token);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.kid, signingKey.kid, 'signed with the application\'s key');
    const c = decodeJwt(r.token);
    assert.equal(c.iss, issuer);
    assert.equal(c.sub, user.id);
    assert.equal(c.aud, app.id);
    assert.equal(c.applicationId, app.id);
    assert.equal(c.email, user.email);
    assert.equal(c.email_verified, true);
    assert.equal(c.authenticationType, 'PASSWORD');
    assert.equal(c.tid, user.tenantId);
    assert.match(c.jti, UUID);
    assert.equal(c.exp - c.iat, 600, 'the application\'s timeToLiveInSeconds');
    assert.deepEqual([...c.roles].sort(), ['editor', 'user'], 'registration roles plus the group\'s');
  });

  test('login: 404 with an empty body for a wrong password and for an unknown user; 202 when not registered', async () => {
    const wrong = await failure(client.login({ loginId: user.email, password: 'not the password', applicationId: app.id }));
    assert.equal(wrong.statusCode, 404);
    assert.equal(wrong.exception, undefined, '404 has an empty body');
    const unknown = await failure(client.login({ loginId: email('nobody'), password: PASSWORD, applicationId: app.id }));
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.exception, undefined);

    const other = (await client.createApplication(null, {
      application: { name: `compat other app ${randomUUID()}`, loginConfiguration: { requireAuthentication: false } },
    })).response.application;
    const notRegistered = await client.login({ loginId: user.email, password: PASSWORD, applicationId: other.id });
    assert.equal(notRegistered.statusCode, 202);
    assert.equal(notRegistered.response.user.id, user.id);
    const c = decodeJwt(notRegistered.response.token);
    assert.equal(c.sub, user.id);
    assert.equal(c.roles, undefined, 'no roles claim without a registration');
    assert.equal(c.applicationId, undefined);

    // requireAuthentication (FusionAuth's default: true) makes the Login API demand a key.
    const noKey = await failure(anonymous.login({ loginId: user.email, password: PASSWORD, applicationId: app.id }));
    assert.equal(noKey.statusCode, 401);
    const byDefault = (await client.createApplication(null, { application: { name: `compat default app ${randomUUID()}` } })).response.application;
    assert.equal((await failure(anonymous.login({ loginId: user.email, password: PASSWORD, applicationId: byDefault.id }))).statusCode, 401,
      'requireAuthentication defaults to true');
    const open = await anonymous.login({ loginId: user.email, password: PASSWORD, applicationId: other.id });
    assert.equal(open.statusCode, 202, 'requireAuthentication false takes anonymous logins');
  });

  test('a JWT from login verifies with jose from the JWKS alone', async () => {
    const { token } = (await client.login({ loginId: user.email, password: PASSWORD, applicationId: app.id })).response;
    const jwks = createRemoteJWKSet(new URL(`${latch.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, audience: app.id, algorithms: ['RS256'] });
    assert.equal(payload.sub, user.id);
    assert.equal(protectedHeader.kid, signingKey.kid);

    // A changed payload under the same signature is refused.
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), roles: ['admin'] })).toString('base64url');
    await assert.rejects(jwtVerify(`${h}.${forged}.${s}`, jwks), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    assert.notEqual(forged, p);
  });

  test('a JWT signed with the default key (ES256) verifies with jose from the JWKS alone', async () => {
    const plain = (await client.createApplication(null, {
      application: { name: `compat default-key app ${randomUUID()}`, roles: [{ name: 'user' }] },
    })).response.application;
    await client.register(user.id, { registration: { applicationId: plain.id, roles: ['user'] } });
    const { token } = (await client.login({ loginId: user.email, password: PASSWORD, applicationId: plain.id })).response;
    const tenant = (await client.retrieveTenants()).response.tenants[0];
    const defaultKey = (await client.retrieveKey(tenant.jwtConfiguration.accessTokenKeyId)).response.key;
    assert.equal(defaultKey.algorithm, 'ES256');
    const jwks = createRemoteJWKSet(new URL(`${latch.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, audience: plain.id, algorithms: ['ES256'] });
    assert.equal(payload.sub, user.id);
    assert.equal(protectedHeader.kid, defaultKey.kid);
  });

  test('validateJWT: 200 {jwt:{claims}}; 401 for a forged or garbage token', async () => {
    const { token } = (await client.login({ loginId: user.email, password: PASSWORD, applicationId: app.id })).response;
    const res = await anonymous.validateJWT(token);
    assert.equal(res.statusCode, 200);
    const j = res.response.jwt;
    assert.ok(j, 'response is wrapped as {jwt:{…}}');
    assert.equal(j.sub, user.id);
    assert.equal(j.applicationId, app.id);
    assert.equal(j.iss, issuer);
    assert.deepEqual([...j.roles].sort(), ['editor', 'user']);
    assert.equal(typeof j.exp, 'number');

    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: randomUUID() })).toString('base64url');
    assert.equal((await failure(anonymous.validateJWT(`${h}.${forged}.${s}`))).statusCode, 401);
    assert.equal((await failure(anonymous.validateJWT('not.a.jwt'))).statusCode, 401);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${token.split('.')[1]}.`;
    assert.equal((await failure(anonymous.validateJWT(none))).statusCode, 401);
  });

  test('loginPing, loginPingWithRequest: 200 {user} with lastLoginInstant; 202 when not registered', async () => {
    const t0 = Date.now();
    const res = await client.loginPing(user.id, app.id, '198.51.100.4');
    assert.equal(res.statusCode, 200);
    assert.equal(res.response.user.id, user.id);
    assert.ok(res.response.user.lastLoginInstant >= t0 - 60_000, 'lastLoginInstant is now, in epoch millis');
    const viaBody = await client.loginPingWithRequest({ userId: user.id, applicationId: app.id, ipAddress: '198.51.100.5' });
    assert.equal(viaBody.statusCode, 200);
    assert.equal(viaBody.response.user.id, user.id);

    const other = (await client.createApplication(null, { application: { name: `compat ping app ${randomUUID()}` } })).response.application;
    assert.equal((await client.loginPing(user.id, other.id, '198.51.100.4')).statusCode, 202);
    assert.equal((await failure(client.loginPing(randomUUID(), app.id, '198.51.100.4'))).statusCode, 404);
  });

  test('exchangeRefreshTokenForJWT: a new access token; with Reusable, the same refresh token', async () => {
    const { user: u, login } = await session('exchange');
    const res = await anonymous.exchangeRefreshTokenForJWT({ refreshToken: login.refreshToken });
    assert.equal(res.statusCode, 200);
    assert.equal(typeof res.response.token, 'string');
    assert.equal(res.response.refreshToken, login.refreshToken, 'Reusable: the refresh token comes back unchanged');
    assert.equal(res.response.refreshTokenId, login.refreshTokenId);
    const c = decodeJwt(res.response.token);
    assert.equal(c.sub, u.id);
    assert.equal(c.authenticationType, 'REFRESH_TOKEN');
    assert.equal((await anonymous.validateJWT(res.response.token)).statusCode, 200);
  });

  test('exchangeRefreshTokenForJWT with an unknown or revoked refresh token: 400, as FusionAuth answers', async () => {
    // FusionAuth answers 400 here (docs: "the provided Refresh Token is either
    // expired, was not found, or has been revoked"; fusionauth-issues#729).
    const unknown = await failure(anonymous.exchangeRefreshTokenForJWT({ refreshToken: 'no-such-refresh-token' }));
    assert.equal(unknown.statusCode, 400, 'unknown refresh token');
    const { login } = await session('exchange-revoked');
    await client.revokeRefreshTokenById(login.refreshTokenId);
    const revoked = await failure(anonymous.exchangeRefreshTokenForJWT({ refreshToken: login.refreshToken }));
    assert.equal(revoked.statusCode, 400, 'revoked refresh token');
  });

  test('retrieveRefreshTokens, retrieveRefreshTokenById: {refreshTokens}, {refreshToken}', async () => {
    const { user: u, login } = await session('retrieve');
    const res = await client.retrieveRefreshTokens(u.id);
    assert.equal(res.statusCode, 200);
    const list = res.response.refreshTokens;
    assert.ok(Array.isArray(list), 'response is wrapped as {refreshTokens:[…]}');
    assert.equal(list.length, 1);
    const t = list[0];
    assert.equal(t.id, login.refreshTokenId);
    assert.equal(t.userId, u.id);
    assert.equal(t.applicationId, app.id);
    assert.equal(typeof t.insertInstant, 'number');
    assert.equal(typeof t.startInstant, 'number');
    const one = await client.retrieveRefreshTokenById(login.refreshTokenId);
    assert.equal(one.statusCode, 200);
    assert.equal(one.response.refreshToken.id, login.refreshTokenId);
    assert.equal((await failure(client.retrieveRefreshTokenById(randomUUID()))).statusCode, 404);
  });

  test('revokeRefreshToken* (every form the client has): 200, the token is gone', async () => {
    const gone = async (s, how) => {
      assert.deepEqual(await refreshTokenIds(s.user.id), [], `${how}: no refresh token left`);
      assert.equal((await failure(client.retrieveRefreshTokenById(s.login.refreshTokenId))).statusCode, 404, how);
      await assert.rejects(anonymous.exchangeRefreshTokenForJWT({ refreshToken: s.login.refreshToken }), `${how}: exchange fails`);
    };

    let s = await session('revoke-by-id');
    assert.equal((await client.revokeRefreshTokenById(s.login.refreshTokenId)).statusCode, 200);
    await gone(s, 'revokeRefreshTokenById');

    s = await session('revoke-by-token');
    assert.equal((await client.revokeRefreshTokenByToken(s.login.refreshToken)).statusCode, 200);
    await gone(s, 'revokeRefreshTokenByToken');

    s = await session('revoke-by-user');
    await client.login({ loginId: s.user.email, password: PASSWORD, applicationId: app.id }); // a second token
    assert.equal((await refreshTokenIds(s.user.id)).length, 2);
    assert.equal((await client.revokeRefreshTokensByUserId(s.user.id)).statusCode, 200);
    await gone(s, 'revokeRefreshTokensByUserId');

    s = await session('revoke-by-user-app');
    assert.equal((await client.revokeRefreshTokensByUserIdForApplication(s.user.id, app.id)).statusCode, 200);
    await gone(s, 'revokeRefreshTokensByUserIdForApplication');

    s = await session('revoke-all-three');
    assert.equal((await client.revokeRefreshToken(s.login.refreshToken, s.user.id, app.id)).statusCode, 200);
    await gone(s, 'revokeRefreshToken(token, userId, applicationId)');

    s = await session('revoke-request-token');
    assert.equal((await client.revokeRefreshTokensWithRequest({ token: s.login.refreshToken })).statusCode, 200);
    await gone(s, 'revokeRefreshTokensWithRequest({token})');

    s = await session('revoke-request-user');
    assert.equal((await client.revokeRefreshTokensWithRequest({ userId: s.user.id, applicationId: app.id })).statusCode, 200);
    await gone(s, 'revokeRefreshTokensWithRequest({userId, applicationId})');

    // By application, last: it ends every session of the application.
    const a = await session('revoke-by-app-1');
    const b = await session('revoke-by-app-2');
    assert.equal((await client.revokeRefreshTokensByApplicationId(app.id)).statusCode, 200);
    await gone(a, 'revokeRefreshTokensByApplicationId');
    await gone(b, 'revokeRefreshTokensByApplicationId');

    assert.equal((await failure(client.revokeRefreshTokenById(randomUUID()))).statusCode, 404);
  });

  test('logout, logoutWithRequest: 200; the session\'s refresh token, or with global all of them, stop working', async () => {
    let s = await session('logout');
    const res = await anonymous.logout(false, s.login.refreshToken);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await refreshTokenIds(s.user.id), []);

    s = await session('logout-global');
    const second = (await client.login({ loginId: s.user.email, password: PASSWORD, applicationId: app.id })).response;
    assert.equal((await refreshTokenIds(s.user.id)).length, 2);
    const g = await anonymous.logoutWithRequest({ global: true, refreshToken: second.refreshToken });
    assert.equal(g.statusCode, 200);
    assert.deepEqual(await refreshTokenIds(s.user.id), [], 'global logout revokes every refresh token of the user');

    assert.equal((await anonymous.logout(false, 'no-such-refresh-token')).statusCode, 200, 'logout always succeeds');
  });

  test('retrieveJWTPublicKeys, retrieveJWTPublicKey(ByApplicationId), retrieveJsonWebKeySet', async () => {
    const { token } = (await client.login({ loginId: user.email, password: PASSWORD, applicationId: app.id })).response;
    const { kid } = decodeProtectedHeader(token);

    const all = await anonymous.retrieveJWTPublicKeys();
    assert.equal(all.statusCode, 200);
    assert.equal(typeof all.response.publicKeys, 'object', 'response is wrapped as {publicKeys:{kid: PEM}}');
    assert.match(all.response.publicKeys[kid], PEM_PUBLIC);

    const byKid = await anonymous.retrieveJWTPublicKey(kid);
    assert.equal(byKid.statusCode, 200);
    assert.equal(byKid.response.publicKey, all.response.publicKeys[kid]);
    const byApp = await anonymous.retrieveJWTPublicKeyByApplicationId(app.id);
    assert.equal(byApp.response.publicKey, byKid.response.publicKey);
    assert.equal(byKid.response.publicKey.trim(), signingKey.publicKey.trim());
    assert.equal((await failure(anonymous.retrieveJWTPublicKey('no-such-kid'))).statusCode, 404);
    // The PEM alone verifies the token too.
    const { payload } = await jwtVerify(token, await importSPKI(byKid.response.publicKey, 'RS256'), { issuer, audience: app.id });
    assert.equal(payload.sub, user.id);

    const jwks = await anonymous.retrieveJsonWebKeySet();
    assert.equal(jwks.statusCode, 200);
    assert.ok(Array.isArray(jwks.response.keys), 'response is {keys:[…]}');
    const jwk = jwks.response.keys.find((k) => k.kid === kid);
    assert.ok(jwk, `the JWKS lists kid ${kid}`);
    assert.equal(jwk.kty, 'RSA');
    assert.equal(jwk.alg, 'RS256');
    assert.equal(jwk.use, 'sig');
    assert.equal(typeof jwk.n, 'string');
    assert.equal(jwk.e, 'AQAB');
    for (const k of jwks.response.keys) {
      assert.equal(k.d, undefined, 'no private parts');
      assert.notEqual(k.kty, 'oct', 'no HMAC secrets');
    }
  });

  test('generateKey, retrieveKeys, deleteKey: {key}, {keys}; private parts never returned; a key in use is kept', async () => {
    const name = `compat ec key ${randomUUID()}`;
    const id = randomUUID();
    const res = await client.generateKey(id, { key: { algorithm: 'ES256', name } });
    assert.equal(res.statusCode, 200);
    const k = res.response.key;
    assert.ok(k, 'response is wrapped as {key:{…}}');
    assert.equal(k.id, id);
    assert.equal(k.name, name);
    assert.equal(k.algorithm, 'ES256');
    assert.equal(k.type, 'EC');
    assert.equal(typeof k.kid, 'string');
    assert.match(k.publicKey, PEM_PUBLIC);
    assert.equal(k.privateKey, undefined, 'the private key is never returned');
    assert.equal(typeof k.insertInstant, 'number');

    const hmac = (await client.generateKey(null, { key: { algorithm: 'HS256', name: `compat hmac ${randomUUID()}` } })).response.key;
    assert.equal(hmac.type, 'HMAC');
    assert.equal(hmac.secret, undefined, 'the HMAC secret is never returned');
    assert.equal(hmac.privateKey, undefined);

    const rsa = signingKey; // generated in before()
    assert.equal(rsa.algorithm, 'RS256');
    assert.equal(rsa.type, 'RSA');
    assert.equal(rsa.length, 2048);
    assert.equal(rsa.privateKey, undefined);

    const all = await client.retrieveKeys();
    assert.equal(all.statusCode, 200);
    assert.ok(Array.isArray(all.response.keys), 'response is wrapped as {keys:[…]}');
    const ids = all.response.keys.map((x) => x.id);
    for (const x of [id, hmac.id, rsa.id]) assert.ok(ids.includes(x), `${x} listed`);
    for (const x of all.response.keys) {
      assert.equal(x.privateKey, undefined);
      assert.equal(x.secret, undefined);
    }
    assert.ok(all.response.keys.length >= 4, 'the default signing key exists from the first start');
    assert.equal((await client.retrieveKey(id)).response.key.kid, k.kid);

    // The new public key is published (every node within a second).
    const jwksHas = async (kid) => (await anonymous.retrieveJsonWebKeySet()).response.keys.some((j) => j.kid === kid);
    for (let i = 0; i < 40 && !(await jwksHas(k.kid)); i++) await sleep(50);
    assert.ok(await jwksHas(k.kid), 'a generated EC key appears in the JWKS');

    assert.equal((await client.deleteKey(id)).statusCode, 200);
    assert.equal((await failure(client.retrieveKey(id))).statusCode, 404);
    assert.equal((await failure(client.deleteKey(id))).statusCode, 404);
    for (let i = 0; i < 40 && (await jwksHas(k.kid)); i++) await sleep(50);
    assert.equal(await jwksHas(k.kid), false, 'a deleted key leaves the JWKS');
    assert.equal((await client.deleteKey(hmac.id)).statusCode, 200);

    const inUse = await failure(client.deleteKey(rsa.id));
    assert.equal(inUse.statusCode, 400, 'the application signs with it');
    assert.ok(inUse.exception?.generalErrors?.length || inUse.exception?.fieldErrors, JSON.stringify(inUse.exception));
    assert.equal((await client.retrieveKey(rsa.id)).statusCode, 200);

    const bad = await failure(client.generateKey(null, { key: { algorithm: 'RS256', name: `compat short ${randomUUID()}`, length: 1024 } }));
    assert.equal(bad.statusCode, 400, 'RSA keys are 2048 bits or more');
  });
});
