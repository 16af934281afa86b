// Passwordless login and registration verification through FusionAuth's
// TypeScript client, with mail caught by Mailpit: the code and the
// verificationId come from the emails, as a user would get them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, failure, runSetup, startLatch, startMailpit } from './lib.mjs';

const MAILPIT = process.env.LATCH_TEST_MAILPIT;

describe('email flows through the TypeScript client', { skip: !MAILPIT && 'LATCH_TEST_MAILPIT is not set' }, () => {
  let latch;
  let mailpit;
  let client;

  before(async () => {
    mailpit = await startMailpit();
    latch = await startLatch();
    client = explain(new FusionAuthClient(await runSetup(latch), latch.url));
    const tenant = (await client.retrieveTenants()).response.tenants.find((t) => t.name === 'Default');
    await client.patchTenant(tenant.id, { tenant: { emailConfiguration: {
      host: '127.0.0.1', port: mailpit.smtp, security: 'NONE', defaultFromEmail: 'latch@example.com',
    } } });
  });

  after(async () => {
    await latch?.stop();
    mailpit?.stop();
  });

  test('passwordless: start, send, the emailed code logs in once', async () => {
    const email = `passwordless-${Date.now()}@example.com`;
    const app = (await client.createApplication(null, { application: { name: 'Passwordless app' } })).response.application.id;
    await client.register(null, { user: { email, password: 'a password never used here' }, registration: { applicationId: app } });
    const { code } = (await client.startPasswordlessLogin({ loginId: email, applicationId: app })).response;
    assert.ok(code);
    await client.sendPasswordlessCode({ code });
    const msg = await mailpit.messageTo(email, 'Your sign-in link');
    const mailed = msg.Text.match(/\/oauth2\/passwordless\/([A-Za-z0-9_-]+)/)[1];
    assert.equal(mailed, code);
    const res = await client.passwordlessLogin({ code: mailed, applicationId: app });
    assert.equal(res.statusCode, 200);
    assert.equal(res.response.user.email, email);
    assert.ok(res.response.token);
    assert.equal((await failure(client.passwordlessLogin({ code: mailed }))).statusCode, 404);
  });

  test('registration verification: 213 until the emailed id is used', async () => {
    const email = `verify-reg-${Date.now()}@example.com`;
    const app = (await client.createApplication(null, { application: { name: 'Verified app', verifyRegistration: true } })).response.application.id;
    await client.register(null, { user: { email, password: 'the registered password' }, registration: { applicationId: app } });
    const msg = await mailpit.messageTo(email, 'Verify your registration');
    const verificationId = msg.Text.match(/\/registration\/verify\/([A-Za-z0-9_-]+)/)[1];
    const login = () => client.login({ loginId: email, password: 'the registered password', applicationId: app });
    assert.equal((await login()).statusCode, 213);
    await client.verifyUserRegistration({ verificationId });
    assert.equal((await login()).statusCode, 200);
    assert.equal((await failure(client.verifyUserRegistration({ verificationId }))).statusCode, 404);
    const again = (await client.generateRegistrationVerificationId(email, app)).response;
    assert.ok(again.verificationId && again.oneTimeCode);
  });
});
