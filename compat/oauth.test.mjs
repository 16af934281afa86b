// The OAuth provider with independent browser-side clients against the real
// latch binary, in Debian's Chromium through playwright-core:
// - openid-client 6 (from Node): discovery, the authorization code flow with
//   PKCE through the hosted sign-in page, refresh, userinfo, prompt=none in
//   a second application, consent for a third-party one, RP-initiated logout,
//   the two-factor step; the implicit grant (response_type=id_token);
//   sign-in by emailed link (passwordless, with mail caught by Mailpit);
// - FusionAuth's TypeScript client's OAuth calls: the code exchange with
//   PKCE, the password and refresh grants, userinfo, introspection, the
//   device calls, discovery and the JWKS;
// - FusionAuth's React SDK 2.7 (its hosted-backend mode), bundled into a
//   small page served from another origin: sign in through /app/login and
//   the hosted page, the user from /app/me (CORS with credentials), refresh,
//   sign out; and in its DPoP mode: /oauth2/authorize with dpop_jkt, the
//   token and userinfo endpoints with proofs, refresh, /oauth2/logout.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import * as oidc from 'openid-client';
import { chromium } from 'playwright-core';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, failure, freePort, runSetup, startLatch, startMailpit } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
const PASSWORD = 'compat oauth password';
const HERE = fileURLToPath(new URL('.', import.meta.url));

/** The React page: FusionAuthProvider around a component that shows the SDK's state. */
const APP_SOURCE = `
import React from 'react';
import { createRoot } from 'react-dom/client';
import { FusionAuthProvider, useFusionAuth } from '@fusionauth/react-sdk';
const h = React.createElement;
function App() {
  const fa = useFusionAuth();
  const [refreshed, setRefreshed] = React.useState('');
  return h('main', null,
    h('p', { id: 'status' }, fa.isLoggedIn ? 'signed-in' : 'signed-out'),
    h('p', { id: 'email' }, fa.userInfo ? fa.userInfo.email : ''),
    h('p', { id: 'error' }, fa.error ? String(fa.error) : ''),
    h('p', { id: 'refreshed' }, refreshed),
    h('button', { id: 'login', onClick: () => fa.startLogin('from-the-page') }, 'Sign in'),
    h('button', { id: 'refresh', onClick: () => fa.refreshToken().then((r) => setRefreshed('ok ' + r.status), (e) => setRefreshed('failed ' + e)) }, 'Refresh'),
    h('button', { id: 'logout', onClick: () => fa.startLogout() }, 'Sign out'));
}
const cfg = window.LATCH_TEST;
createRoot(document.getElementById('root')).render(
  h(FusionAuthProvider, { clientId: cfg.clientId, serverUrl: cfg.serverUrl, redirectUri: cfg.redirectUri,
    scope: 'openid offline_access email profile', shouldAutoFetchUserInfo: true, shouldAutoRefresh: false, useDpop: !!cfg.useDpop,
    onRedirect: (state) => { window.LATCH_REDIRECT_STATE = state; } }, h(App)));
`;

/** A JWT's claims, unverified (the test only reads them). */
function decodeJwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

async function launch() {
  const dir = mkdtempSync(join(tmpdir(), 'latch-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const page = context.pages()[0] ?? await context.newPage();
  if (process.env.DEBUG_CONSOLE) page.on('console', (m) => console.log('console:', m.type(), m.text()));
  return { context, page, close: async () => { await context.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** An authenticator app's code (RFC 6238: HMAC-SHA1, 6 digits, 30 s). */
function totp(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const sum = createHmac('sha1', Buffer.from(secret, 'utf8')).update(counter).digest();
  const off = sum[sum.length - 1] & 0x0f;
  return String((sum.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Fills and sends the hosted sign-in page. */
async function signIn(page, email) {
  await page.waitForSelector('input[name="loginId"]');
  await page.fill('input[name="loginId"]', email);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"], input[type="submit"]');
}

describe('OAuth provider with browser-side clients', () => {
  let latch;
  let client;
  let appServer;
  let appOrigin;
  let browser;

  before(async () => {
    latch = await startLatch();
    client = explain(new FusionAuthClient(await runSetup(latch), latch.url));
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => (appServer ? appServer.close(r) : r()));
    await latch?.stop();
  });

  /** An application (OAuth client) and a user registered for it. */
  async function appWithUser(redirect, extra = {}) {
    const app = (await client.createApplication(null, { application: {
      name: `compat oauth ${randomUUID()}`,
      oauthConfiguration: { authorizedRedirectURLs: [redirect], enabledGrants: ['authorization_code', 'refresh_token'],
        generateRefreshTokens: true, clientAuthenticationPolicy: 'Required', proofKeyForCodeExchangePolicy: 'Required', ...extra },
    } })).response.application;
    const email = `compat-oauth-${randomUUID().slice(0, 8)}@example.com`;
    await client.register(null, { user: { email, password: PASSWORD, firstName: 'Grace' },
      registration: { applicationId: app.id }, skipVerification: true });
    return { app, email };
  }

  test('openid-client 6: discovery, code flow with PKCE, userinfo, refresh, SSO, consent, logout', async () => {
    // The relying party's redirect URI: a tiny server that answers 200.
    const cbPort = await freePort();
    const cb = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('done'); });
    await new Promise((r) => cb.listen(cbPort, '127.0.0.1', r));
    after(() => new Promise((r) => cb.close(r)));
    const redirect = `http://127.0.0.1:${cbPort}/callback`;
    const atCallback = new RegExp(`^http://127\\.0\\.0\\.1:${cbPort}/callback`);
    const { app, email } = await appWithUser(redirect);
    const config = await oidc.discovery(new URL(latch.url), app.id, app.oauthConfiguration.clientSecret, undefined,
      { execute: [oidc.allowInsecureRequests] });
    assert.equal(config.serverMetadata().issuer, latch.url);

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authURL = oidc.buildAuthorizationUrl(config, { redirect_uri: redirect, scope: 'openid offline_access email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });

    const { page } = browser;
    await browser.context.clearCookies();
    await page.goto(authURL.href);
    await signIn(page, email);
    await page.waitForURL(atCallback);
    const callback = page.url();

    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback),
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const claims = tokens.claims();
    assert.equal(claims.iss, latch.url);
    assert.equal(claims.aud, app.id);
    assert.equal(claims.email, email);
    assert.equal(typeof tokens.refresh_token, 'string');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.email, email);
    assert.equal(info.given_name, 'Grace');

    const again = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(again.access_token, tokens.access_token);
    assert.equal(again.claims()?.sub ?? claims.sub, claims.sub);
    const info2 = await oidc.fetchUserInfo(config, again.access_token, claims.sub);
    assert.equal(info2.sub, claims.sub);

    // The callback the browser reaches, for a flow of cfg that needs no typing.
    const landOn = async (cfg, params, act) => {
      await page.goto(oidc.buildAuthorizationUrl(cfg, { redirect_uri: redirect, ...params }).href);
      if (act) await act();
      await page.waitForURL(atCallback);
      return new URL(page.url());
    };
    const pkce = async () => {
      const v = oidc.randomPKCECodeVerifier();
      return { v, params: { code_challenge: await oidc.calculatePKCECodeChallenge(v), code_challenge_method: 'S256', scope: 'openid' } };
    };

    // A second application in the same browser: prompt=none, no password (SSO).
    const second = await appWithUser(redirect);
    await client.register(claims.sub, { registration: { applicationId: second.app.id } });
    const config2 = await oidc.discovery(new URL(latch.url), second.app.id, second.app.oauthConfiguration.clientSecret, undefined,
      { execute: [oidc.allowInsecureRequests] });
    let p2 = await pkce();
    const sso = await landOn(config2, { ...p2.params, prompt: 'none', state: 's2' });
    const t2 = await oidc.authorizationCodeGrant(config2, sso, { pkceCodeVerifier: p2.v, expectedState: 's2' });
    assert.equal(t2.claims().sub, claims.sub);

    // A third-party application asks for consent on the hosted page.
    const third = await appWithUser(redirect, { relationship: 'ThirdParty', consentMode: 'RememberDecision' });
    await client.register(claims.sub, { registration: { applicationId: third.app.id } });
    const config3 = await oidc.discovery(new URL(latch.url), third.app.id, third.app.oauthConfiguration.clientSecret, undefined,
      { execute: [oidc.allowInsecureRequests] });
    const p3 = await pkce();
    const consented = await landOn(config3, { ...p3.params, state: 's3' }, async () => {
      await page.waitForSelector('button[value="allow"]');
      assert.match(await page.textContent('h1'), /Allow access/);
      await page.click('button[value="allow"]');
    });
    const t3 = await oidc.authorizationCodeGrant(config3, consented, { pkceCodeVerifier: p3.v, expectedState: 's3' });
    assert.equal(t3.claims().sub, claims.sub);

    // RP-initiated logout ends the SSO session for every application.
    await page.goto(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: redirect, state: 'bye' }).href);
    await page.waitForURL(atCallback);
    assert.equal(new URL(page.url()).searchParams.get('state'), 'bye');
    p2 = await pkce();
    const signedOut = await landOn(config2, { ...p2.params, prompt: 'none', state: 's4' });
    assert.equal(signedOut.searchParams.get('error'), 'login_required');
  });

  test('openid-client 6: the implicit grant (response_type=id_token) where the application enables it', async () => {
    const cbPort = await freePort();
    const cb = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('done'); });
    await new Promise((r) => cb.listen(cbPort, '127.0.0.1', r));
    after(() => new Promise((r) => cb.close(r)));
    const redirect = `http://127.0.0.1:${cbPort}/callback`;
    const atCallback = new RegExp(`^http://127\\.0\\.0\\.1:${cbPort}/callback`);
    const rpOf = async (app) => {
      const cfg = await oidc.discovery(new URL(latch.url), app.id, app.oauthConfiguration.clientSecret, undefined,
        { execute: [oidc.allowInsecureRequests] });
      oidc.useIdTokenResponseType(cfg);
      return cfg;
    };
    const { app, email } = await appWithUser(redirect, { enabledGrants: ['implicit'] });
    const config = await rpOf(app);
    assert.ok(config.serverMetadata().response_types_supported.includes('id_token'));
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const authURL = oidc.buildAuthorizationUrl(config, { redirect_uri: redirect, scope: 'openid email', nonce, state });
    assert.equal(authURL.searchParams.get('response_type'), 'id_token');

    const { page } = browser;
    await browser.context.clearCookies();
    await page.goto(authURL.href);
    await signIn(page, email);
    await page.waitForURL(atCallback);
    const callback = new URL(page.url());
    assert.equal(callback.search, '', 'the response rides in the fragment, not the query');
    const claims = await oidc.implicitAuthentication(config, callback, nonce, { expectedState: state });
    assert.equal(claims.iss, latch.url);
    assert.equal(claims.aud, app.id);
    assert.equal(claims.email, email);
    assert.equal(claims.at_hash, undefined);

    // An application that does not enable the grant: unsupported_response_type in the fragment.
    const other = await appWithUser(redirect);
    await page.goto(oidc.buildAuthorizationUrl(await rpOf(other.app), { redirect_uri: redirect, scope: 'openid', nonce, state }).href);
    await page.waitForURL(atCallback);
    const refused = new URLSearchParams(new URL(page.url()).hash.slice(1));
    assert.equal(refused.get('error'), 'unsupported_response_type');
    assert.equal(refused.get('state'), state);
    assert.equal(refused.get('iss'), latch.url);
  });

  test('openid-client 6: the two-factor step on the hosted pages', async () => {
    const cbPort = await freePort();
    const cb = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('done'); });
    await new Promise((r) => cb.listen(cbPort, '127.0.0.1', r));
    after(() => new Promise((r) => cb.close(r)));
    const redirect = `http://127.0.0.1:${cbPort}/callback`;
    const { app, email } = await appWithUser(redirect);
    const user = (await client.retrieveUserByEmail(email)).response.user;
    const secret = (await client.generateTwoFactorSecret()).response.secret;
    const enabled = (await client.enableTwoFactor(user.id, { method: 'authenticator', secret, code: totp(secret) })).response;
    const config = await oidc.discovery(new URL(latch.url), app.id, app.oauthConfiguration.clientSecret, undefined,
      { execute: [oidc.allowInsecureRequests] });

    const { page } = browser;
    await browser.context.clearCookies();
    const v = oidc.randomPKCECodeVerifier();
    await page.goto(oidc.buildAuthorizationUrl(config, { redirect_uri: redirect, scope: 'openid', state: 'mfa',
      code_challenge: await oidc.calculatePKCECodeChallenge(v), code_challenge_method: 'S256' }).href);
    await signIn(page, email);
    // A wrong code is announced on the page; a recovery code completes the step
    // (the authenticator's current code was spent enabling it).
    await page.waitForSelector('input[name="code"]');
    await page.fill('input[name="code"]', '000000' === totp(secret) ? '111111' : '000000');
    await page.click('button[type="submit"]');
    await page.waitForSelector('[role="alert"]');
    await page.fill('input[name="code"]', enabled.recoveryCodes[0]);
    await page.click('button[type="submit"]');
    await page.waitForURL(new RegExp(`^http://127\\.0\\.0\\.1:${cbPort}/callback`));
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: v, expectedState: 'mfa' });
    assert.equal(tokens.claims().sub, user.id);
    assert.equal(decodeJwtPayload(tokens.access_token).authenticationType, 'PASSWORD');
  });

  test('openid-client 6: sign in with an emailed link (passwordless) on the hosted pages',
    { skip: !process.env.LATCH_TEST_MAILPIT && 'LATCH_TEST_MAILPIT is not set' }, async () => {
      const mailpit = await startMailpit();
      after(() => mailpit.stop());
      const tenant = (await client.retrieveTenants()).response.tenants.find((t) => t.name === 'Default');
      await client.patchTenant(tenant.id, { tenant: { emailConfiguration: {
        host: '127.0.0.1', port: mailpit.smtp, security: 'NONE', defaultFromEmail: 'latch@example.com',
      } } });
      const cbPort = await freePort();
      const cb = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('done'); });
      await new Promise((r) => cb.listen(cbPort, '127.0.0.1', r));
      after(() => new Promise((r) => cb.close(r)));
      const redirect = `http://127.0.0.1:${cbPort}/callback`;
      const { app, email } = await appWithUser(redirect);
      await client.patchApplication(app.id, { application: { passwordlessConfiguration: { enabled: true } } });
      const config = await oidc.discovery(new URL(latch.url), app.id, app.oauthConfiguration.clientSecret, undefined,
        { execute: [oidc.allowInsecureRequests] });

      const { page } = browser;
      await browser.context.clearCookies();
      const v = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      await page.goto(oidc.buildAuthorizationUrl(config, { redirect_uri: redirect, scope: 'openid email', state: 'link', nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(v), code_challenge_method: 'S256' }).href);
      await page.getByRole('link', { name: 'Email me a sign-in link' }).click();
      await page.getByLabel('Email or username').fill(email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.waitForSelector('text=Check your email');
      const msg = await mailpit.messageTo(email, 'Your sign-in link');
      const link = msg.Text.match(/https?:\/\/\S+\/oauth2\/passwordless\/[A-Za-z0-9_-]+/)[0];
      // Opening the link uses nothing (a mail scanner may fetch it); the button signs in.
      await page.goto(link);
      await page.goto(link);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(new RegExp(`^http://127\\.0\\.0\\.1:${cbPort}/callback`));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()),
        { pkceCodeVerifier: v, expectedState: 'link', expectedNonce: nonce, idTokenExpected: true });
      assert.equal(tokens.claims().email, email);
      assert.equal(decodeJwtPayload(tokens.access_token).authenticationType, 'PASSWORDLESS');
      // The link worked once.
      const again = await page.goto(link);
      assert.equal(again.status(), 404);
      assert.match(await page.textContent('h1'), /no longer works/);
    });

  test("FusionAuth's TypeScript client: the OAuth calls", async () => {
    const cbPort = await freePort();
    const cb = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('done'); });
    await new Promise((r) => cb.listen(cbPort, '127.0.0.1', r));
    after(() => new Promise((r) => cb.close(r)));
    const redirect = `http://127.0.0.1:${cbPort}/callback`;
    const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
    const { app, email } = await appWithUser(redirect, {
      enabledGrants: ['authorization_code', 'refresh_token', 'password', deviceGrant],
      deviceVerificationURL: `${latch.url}/oauth2/device`,
      // The client's introspection call sends client_id without the secret.
      clientAuthenticationPolicy: 'NotRequiredWhenUsingPKCE' });
    const secret = app.oauthConfiguration.clientSecret;
    const anon = explain(new FusionAuthClient('', latch.url));

    const discovery = (await anon.retrieveOpenIdConfiguration()).response;
    assert.equal(discovery.token_endpoint, `${latch.url}/oauth2/token`);
    const jwks = (await anon.retrieveJsonWebKeySet()).response;
    assert.ok(jwks.keys.length > 0, 'the JWKS publishes a key');

    // Authorization code with PKCE through the hosted page, exchanged by the client.
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const { page } = browser;
    await browser.context.clearCookies();
    const authURL = new URL('/oauth2/authorize', latch.url);
    for (const [k, v] of Object.entries({ client_id: app.id, redirect_uri: redirect, response_type: 'code', scope: 'openid offline_access email',
      state: 'ts', code_challenge: challenge, code_challenge_method: 'S256' })) authURL.searchParams.set(k, v);
    await page.goto(authURL.href);
    await signIn(page, email);
    await page.waitForURL(new RegExp(`^http://127\\.0\\.0\\.1:${cbPort}/callback`));
    const code = new URL(page.url()).searchParams.get('code');
    const byCode = (await anon.exchangeOAuthCodeForAccessTokenUsingPKCE(code, app.id, secret, redirect, verifier)).response;
    assert.equal(byCode.token_type, 'Bearer');
    assert.ok(byCode.access_token && byCode.refresh_token && byCode.id_token && byCode.userId, JSON.stringify(byCode));
    // The same code again is refused.
    const again = await failure(anon.exchangeOAuthCodeForAccessTokenUsingPKCE(code, app.id, secret, redirect, verifier));
    assert.equal(again.statusCode, 400);
    assert.equal(again.exception.error, 'invalid_grant');
    // The replay revoked what the first exchange issued, access token included.
    const revoked = (await anon.introspectAccessToken(app.id, byCode.access_token)).response;
    assert.equal(revoked.active, false);

    // Password grant, refresh, userinfo, introspection.
    const byPassword = (await anon.exchangeUserCredentialsForAccessToken(email, PASSWORD, app.id, secret, 'openid offline_access email', null)).response;
    assert.equal(byPassword.userId, byCode.userId);
    const wrong = await failure(anon.exchangeUserCredentialsForAccessToken(email, 'not the password', app.id, secret, 'openid', null));
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.exception.error, 'invalid_grant');
    const refreshed = (await anon.exchangeRefreshTokenForAccessToken(byPassword.refresh_token, app.id, secret, 'openid email', null)).response;
    assert.ok(refreshed.access_token);
    const info = (await anon.retrieveUserInfoFromAccessToken(refreshed.access_token)).response;
    assert.equal(info.sub, byCode.userId);
    assert.equal(info.email, email);
    const intro = (await anon.introspectAccessToken(app.id, refreshed.access_token)).response;
    assert.equal(intro.active, true);
    assert.equal(intro.sub, byCode.userId);
    assert.equal(intro.applicationId, app.id);
    const garbage = (await anon.introspectAccessToken(app.id, 'not a token')).response;
    assert.equal(garbage.active, false);

    // The device calls: start, validate, look the code up, approve with the user's token, then the device's poll.
    const device = (await anon.deviceAuthorize(app.id, secret, 'openid offline_access')).response;
    assert.match(device.user_code, /^[A-Z]{4}-?[A-Z]{4}$/);
    await anon.validateDevice(device.user_code, app.id);
    const unknown = await failure(anon.validateDevice('BCDFGHJK', app.id));
    assert.equal(unknown.statusCode, 400);
    const looked = await anon.retrieveUserCodeWithRequest({ client_id: app.id, client_secret: secret, user_code: device.user_code });
    assert.equal(looked.statusCode, 200);
    assert.equal(looked.response.client_id, app.id);
    const approved = (await anon.approveDevice(app.id, secret, refreshed.access_token, device.user_code)).response;
    assert.equal(approved.deviceGrantStatus, 'Approved');
    assert.equal(approved.userId, byCode.userId);
    const poll = await fetch(`${latch.url}/oauth2/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: deviceGrant, device_code: device.device_code, client_id: app.id, client_secret: secret }) });
    const polled = await poll.json();
    assert.equal(poll.status, 200, JSON.stringify(polled));
    assert.equal(polled.userId, byCode.userId);
  });

  test('the React SDK 2.7 through the hosted backend (/app/*) and CORS', async () => {
    const port = await freePort();
    appOrigin = `http://127.0.0.1:${port}`;
    const { app, email } = await appWithUser(`${appOrigin}/`, { logoutURL: `${appOrigin}/` });
    const res = await fetch(`${latch.url}/api/system-configuration`, {
      method: 'PUT',
      headers: { Authorization: client.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ systemConfiguration: { corsConfiguration: { enabled: true, allowCredentials: true,
        allowedOrigins: [appOrigin], allowedMethods: ['GET', 'POST', 'OPTIONS'], allowedHeaders: ['Content-Type'] } } }),
    });
    assert.equal(res.status, 200, await res.text());

    const bundle = (await build({ stdin: { contents: APP_SOURCE, resolveDir: HERE, loader: 'js' }, bundle: true, format: 'esm',
      write: false, logLevel: 'silent', define: { 'process.env.NODE_ENV': '"production"' } })).outputFiles[0].text;
    const cfg = JSON.stringify({ clientId: app.id, serverUrl: latch.url, redirectUri: `${appOrigin}/` });
    const html = `<!doctype html><meta charset="utf-8"><title>SPA</title><div id="root"></div>
<script>window.LATCH_TEST = ${cfg};</script><script type="module" src="/app.js"></script>`;
    appServer = http.createServer((req, res) => {
      if (req.url === '/app.js') { res.writeHead(200, { 'Content-Type': 'text/javascript' }); res.end(bundle); return; }
      res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(html);
    });
    await new Promise((r) => appServer.listen(port, '127.0.0.1', r));

    const { page } = browser;
    await browser.context.clearCookies(); // no SSO session left from another test
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${appOrigin}/`);
    await page.waitForSelector('#status');
    assert.equal(await page.textContent('#status'), 'signed-out');

    await page.click('#login');
    await page.waitForURL(new RegExp(`^${latch.url}/oauth2/authorize`), { timeout: 15_000 })
      .catch(async () => assert.fail(`after "Sign in": ${page.url()}: ${(await page.content()).slice(0, 2000)}`));
    await signIn(page, email);
    await page.waitForURL(new RegExp(`^${appOrigin}/`));
    await page.waitForFunction(() => document.querySelector('#email')?.textContent.includes('@'), null, { timeout: 15_000 })
      .catch(async () => assert.fail(`no user shown: status ${await page.textContent('#status')}, error ${await page.textContent('#error')}, page errors ${errors}`));
    assert.equal(await page.textContent('#status'), 'signed-in');
    assert.equal(await page.textContent('#email'), email);
    assert.equal(await page.evaluate(() => window.LATCH_REDIRECT_STATE), 'from-the-page');
    const cookies = Object.fromEntries((await browser.context.cookies(latch.url)).map((c) => [c.name, c]));
    assert.ok(cookies['app.at']?.httpOnly && cookies['app.rt']?.httpOnly, 'app.at and app.rt are HttpOnly');
    assert.ok(cookies['app.idt'] && !cookies['app.idt'].httpOnly && cookies['app.at_exp'] && !cookies['app.at_exp'].httpOnly);

    const before = cookies['app.at'].value;
    await page.click('#refresh');
    await page.waitForFunction(() => document.querySelector('#refreshed')?.textContent !== '');
    assert.equal(await page.textContent('#refreshed'), 'ok 200');
    const after = (await browser.context.cookies(latch.url)).find((c) => c.name === 'app.at');
    assert.notEqual(after.value, before, 'the refresh set a new access token');

    await page.click('#logout');
    await page.waitForURL(new RegExp(`^${appOrigin}/`));
    await page.waitForSelector('#status');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'signed-out');
    const left = (await browser.context.cookies(latch.url)).map((c) => c.name);
    assert.ok(!left.includes('app.at') && !left.includes('app.rt'), `cookies after sign-out: ${left}`);
    assert.deepEqual(errors, []);
  });

  test('the React SDK 2.7 in its DPoP mode: dpop_jkt, proofs on token, userinfo and refresh', async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const { app, email } = await appWithUser(`${origin}/`, { logoutURL: `${origin}/`, clientAuthenticationPolicy: 'NotRequiredWhenUsingPKCE' });
    const res = await fetch(`${latch.url}/api/system-configuration`, {
      method: 'PUT',
      headers: { Authorization: client.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ systemConfiguration: { corsConfiguration: { enabled: true, allowCredentials: false,
        allowedOrigins: [origin], allowedMethods: ['GET', 'POST', 'OPTIONS'], allowedHeaders: ['Content-Type', 'DPoP', 'Authorization'],
        exposedHeaders: ['DPoP-Nonce', 'WWW-Authenticate'] } } }),
    });
    assert.equal(res.status, 200, await res.text());

    const bundle = (await build({ stdin: { contents: APP_SOURCE, resolveDir: HERE, loader: 'js' }, bundle: true, format: 'esm',
      write: false, logLevel: 'silent', define: { 'process.env.NODE_ENV': '"production"' } })).outputFiles[0].text;
    const cfg = JSON.stringify({ clientId: app.id, serverUrl: latch.url, redirectUri: `${origin}/`, useDpop: true });
    const html = `<!doctype html><meta charset="utf-8"><title>SPA</title><div id="root"></div>
<script>window.LATCH_TEST = ${cfg};</script><script type="module" src="/app.js"></script>`;
    const server = http.createServer((req, res) => {
      if (req.url === '/app.js') { res.writeHead(200, { 'Content-Type': 'text/javascript' }); res.end(bundle); return; }
      res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(html);
    });
    await new Promise((r) => server.listen(port, '127.0.0.1', r));
    after(() => new Promise((r) => server.close(r)));

    const { page } = browser;
    await browser.context.clearCookies();
    const errors = [];
    const onError = (err) => errors.push(String(err));
    page.on('pageerror', onError);
    after(() => page.off('pageerror', onError));
    await page.goto(`${origin}/`);
    await page.waitForSelector('#status');
    assert.equal(await page.textContent('#status'), 'signed-out');

    await page.click('#login');
    await page.waitForURL(new RegExp(`^${latch.url}/oauth2/authorize`), { timeout: 15_000 });
    assert.match(page.url(), /[?&]dpop_jkt=[A-Za-z0-9_-]{43}(&|$)/, 'the SDK binds the code to its key');
    await signIn(page, email);
    await page.waitForURL(new RegExp(`^${origin}/`));
    await page.waitForFunction(() => document.querySelector('#email')?.textContent.includes('@'), null, { timeout: 15_000 })
      .catch(async () => assert.fail(`no user shown: status ${await page.textContent('#status')}, error ${await page.textContent('#error')}, page errors ${errors}`));
    assert.equal(await page.textContent('#status'), 'signed-in');
    assert.equal(await page.textContent('#email'), email);

    // The public client's refresh token is bound to the page's key.
    const user = (await client.retrieveUserByEmail(email)).response.user;
    const tokens = (await client.retrieveRefreshTokens(user.id)).response.refreshTokens.filter((t) => t.applicationId === app.id);
    assert.equal(tokens.length, 1);
    assert.match(tokens[0].metaData.dpopJkt ?? '', /^[A-Za-z0-9_-]{43}$/, JSON.stringify(tokens[0]));

    await page.click('#refresh');
    await page.waitForFunction(() => document.querySelector('#refreshed')?.textContent !== '');
    assert.equal(await page.textContent('#refreshed'), 'ok 200');

    await page.click('#logout');
    await page.waitForURL(new RegExp(`^${origin}/`));
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'signed-out');
    assert.deepEqual(errors, []);
  });
});
