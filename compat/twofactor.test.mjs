// FusionAuth's TypeScript client against a real latch: two-factor with an
// authenticator app. generateTwoFactorSecret, enableTwoFactor (recovery
// codes), login answering 242 with twoFactorId and methods, twoFactorLogin
// completing it like a password login, a replayed code refused (421), a
// recovery code, disableTwoFactor. The step-up: startTwoFactorLogin, the
// trust token of twoFactorLogin, checkChangePasswordUsingLoginId /
// UsingJWT answering [TrustTokenRequired], changePasswordUsingJWT and
// changePasswordByIdentity with the trust token. trustComputer: the
// twoFactorTrustId, retrieveTwoFactorStatus (and WithRequest), a login that
// presents it.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { decodeJwt } from 'jose';
import { explain, failure, runSetup, startLatch } from './lib.mjs';

const PASSWORD = 'compat password 1';

/** An authenticator app's code (RFC 6238: HMAC-SHA1, 6 digits, 30 s). */
function totp(secret, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const sum = createHmac('sha1', Buffer.from(secret, 'utf8')).update(counter).digest();
  const off = sum[sum.length - 1] & 0x0f;
  return String((sum.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

describe('two-factor: authenticator', () => {
  let latch;
  let client;
  let anonymous;
  let app;

  before(async () => {
    latch = await startLatch();
    client = explain(new FusionAuthClient(await runSetup(latch), latch.url));
    anonymous = explain(new FusionAuthClient('', latch.url));
    app = (await client.createApplication(null, {
      application: {
        name: `compat two-factor app ${randomUUID()}`,
        loginConfiguration: { requireAuthentication: false, generateRefreshTokens: true, allowTokenRefresh: true },
      },
    })).response.application;
  });
  after(async () => {
    await latch?.stop();
  });

  /** A verified user with a password, registered for the application. */
  async function registerUser(loginId) {
    return (await client.register(null, {
      user: { email: loginId, password: PASSWORD },
      registration: { applicationId: app.id },
      skipVerification: true,
    })).response.user;
  }

  test('enable, 242, twoFactorLogin, replay 421, recovery code, disable', async () => {
    const loginId = `compat-mfa-${randomUUID().slice(0, 8)}@example.com`;
    const user = await registerUser(loginId);

    const secret = (await client.generateTwoFactorSecret()).response;
    // 160 random bits (FusionAuth's own secrets have 120): longer than FusionAuth's 32 characters.
    assert.match(secret.secretBase32Encoded, /^[A-Z2-7]{32,}=*$/);
    assert.equal(typeof secret.secret, 'string');

    // Codes of the current step are used at most once, so each use below
    // takes a code of its own step: wait for the next step when needed.
    let lastStep = -1;
    async function freshCode() {
      for (;;) {
        const step = Math.floor(Date.now() / 30000);
        if (step > lastStep) {
          lastStep = step;
          return totp(secret.secret);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }

    const enabled = await client.enableTwoFactor(user.id, { method: 'authenticator', secret: secret.secret, code: await freshCode() });
    assert.equal(enabled.statusCode, 200);
    assert.equal(enabled.response.recoveryCodes.length, 10);

    const first = (await anonymous.login({ loginId, password: PASSWORD, applicationId: app.id }));
    assert.equal(first.statusCode, 242, 'two-factor required');
    assert.equal(typeof first.response.twoFactorId, 'string');
    assert.equal(first.response.methods.length, 1);
    assert.equal(first.response.methods[0].method, 'authenticator');
    assert.equal(first.response.methods[0].authenticator.algorithm, 'HmacSHA1');
    assert.equal(first.response.methods[0].secret, undefined);

    // A recovery code completes the login, like a password login would.
    const done = await anonymous.twoFactorLogin({ twoFactorId: first.response.twoFactorId, code: enabled.response.recoveryCodes[0], applicationId: app.id });
    assert.equal(done.statusCode, 200);
    assert.equal(decodeJwt(done.response.token).sub, user.id);
    assert.equal(typeof done.response.refreshToken, 'string');
    assert.equal(done.response.user.id, user.id);

    // The twoFactorId is spent.
    const spent = await failure(anonymous.twoFactorLogin({ twoFactorId: first.response.twoFactorId, code: enabled.response.recoveryCodes[1] }));
    assert.equal(spent.statusCode, 404);

    // A wrong code: 421; the recovery code again: 421.
    const second = (await anonymous.login({ loginId, password: PASSWORD, applicationId: app.id }));
    assert.equal(second.statusCode, 242);
    const reused = await failure(anonymous.twoFactorLogin({ twoFactorId: second.response.twoFactorId, code: enabled.response.recoveryCodes[0] }));
    assert.equal(reused.statusCode, 421);

    // disableTwoFactor with a recovery code removes every method.
    const methodId = first.response.methods[0].id;
    const disabled = await client.disableTwoFactor(user.id, methodId, enabled.response.recoveryCodes[2]);
    assert.equal(disabled.statusCode, 200);
    const plain = await anonymous.login({ loginId, password: PASSWORD, applicationId: app.id });
    assert.equal(plain.statusCode, 200);
  });

  test('step-up: start, trust token, change password', async () => {
    const loginId = `compat-stepup-${randomUUID().slice(0, 8)}@example.com`;
    const user = await registerUser(loginId);
    const secret = (await client.generateTwoFactorSecret()).response;
    assert.equal((await client.enableTwoFactor(user.id, { method: 'authenticator', secret: secret.secret, code: totp(secret.secret) })).statusCode, 200);

    // Two-factor users need a trust token to change their password.
    const check = await failure(client.checkChangePasswordUsingLoginId(loginId));
    assert.equal(check.statusCode, 400);
    assert.equal(check.exception.generalErrors[0].code, '[TrustTokenRequired]');
    const refused = await failure(client.changePasswordByIdentity({ loginId, currentPassword: PASSWORD, password: 'compat password 2' }));
    assert.equal(refused.exception.generalErrors[0].code, '[TrustTokenRequired]');

    // The step-up: start (key), finish with the code it answered.
    const started = await client.startTwoFactorLogin({ loginId, applicationId: app.id, trustChallenge: 'settings' });
    assert.equal(started.statusCode, 200);
    assert.match(started.response.code, /^[0-9]{6}$/);
    assert.equal(started.response.methods[0].method, 'authenticator');
    const done = await anonymous.twoFactorLogin({ twoFactorId: started.response.twoFactorId, code: started.response.code, applicationId: app.id });
    assert.equal(done.statusCode, 200);
    assert.equal(typeof done.response.trustToken, 'string');

    const jwtCheck = await failure(anonymous.checkChangePasswordUsingJWT(done.response.token));
    assert.equal(jwtCheck.exception.generalErrors[0].code, '[TrustTokenRequired]');
    const changed = await anonymous.changePasswordUsingJWT(done.response.token, {
      currentPassword: PASSWORD, password: 'compat password 2', trustToken: done.response.trustToken, trustChallenge: 'settings',
    });
    assert.equal(changed.statusCode, 200);
    assert.equal(typeof changed.response.oneTimePassword, 'string');
    const otp = await anonymous.login({ oneTimePassword: changed.response.oneTimePassword, applicationId: app.id });
    assert.equal(otp.statusCode, 200);
    assert.equal(decodeJwt(otp.response.token).sub, user.id);
  });

  test('trustComputer: twoFactorTrustId, retrieveTwoFactorStatus, a login without the second factor', async () => {
    const loginId = `compat-trust-${randomUUID().slice(0, 8)}@example.com`;
    const user = await registerUser(loginId);
    const secret = (await client.generateTwoFactorSecret()).response;
    const enabled = await client.enableTwoFactor(user.id, { method: 'authenticator', secret: secret.secret, code: totp(secret.secret) });
    assert.equal(enabled.statusCode, 200);

    const untrusted = await client.retrieveTwoFactorStatus(user.id, app.id, undefined);
    assert.equal(untrusted.statusCode, 242, 'a challenge is due');

    const first = await anonymous.login({ loginId, password: PASSWORD, applicationId: app.id });
    assert.equal(first.statusCode, 242);
    const done = await anonymous.twoFactorLogin({ twoFactorId: first.response.twoFactorId, code: enabled.response.recoveryCodes[0],
      applicationId: app.id, trustComputer: true });
    assert.equal(done.statusCode, 200);
    const trustId = done.response.twoFactorTrustId;
    assert.equal(typeof trustId, 'string');

    const status = await client.retrieveTwoFactorStatus(user.id, app.id, trustId);
    assert.equal(status.statusCode, 200);
    assert.equal(status.response.twoFactorTrustId, trustId);
    assert.equal(status.response.trusts[0].applicationId, app.id);
    const viaRequest = await client.retrieveTwoFactorStatusWithRequest({ userId: user.id, twoFactorTrustId: trustId });
    assert.equal(viaRequest.statusCode, 200);

    const trusted = await anonymous.login({ loginId, password: PASSWORD, applicationId: app.id, twoFactorTrustId: trustId });
    assert.equal(trusted.statusCode, 200, 'the trust skips the second factor');
    assert.equal(decodeJwt(trusted.response.token).sub, user.id);
  });
});
