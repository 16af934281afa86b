// The hosted account pages in a real browser (Debian's Chromium through
// playwright-core), with mail caught by a real SMTP server (Mailpit, read
// through its HTTP API): forgot password from the page, the emailed link,
// a new password chosen on the page, then a login with it through
// FusionAuth's TypeScript client; email verification by the emailed link;
// the reset of a user whose second factor is email, with the code the page
// mails.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, runSetup, startLatch, startMailpit } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
const MAILPIT = process.env.LATCH_TEST_MAILPIT;

describe('account pages in Chromium', { skip: !MAILPIT && 'LATCH_TEST_MAILPIT is not set' }, () => {
  let latch;
  let mailpit;
  let client;
  let context;
  let page;
  let userDataDir;
  const email = `pages-${Date.now()}@example.com`;

  before(async () => {
    mailpit = await startMailpit();
    latch = await startLatch();
    client = explain(new FusionAuthClient(await runSetup(latch), latch.url));
    const tenant = (await client.retrieveTenants()).response.tenants.find((t) => t.name === 'Default');
    await client.patchTenant(tenant.id, { tenant: { emailConfiguration: {
      host: '127.0.0.1', port: mailpit.smtp, security: 'NONE', defaultFromEmail: 'latch@example.com', verifyEmail: true,
    } } });
    await client.createUser(null, { user: { email, password: 'the first password', firstName: 'Page' } });
    userDataDir = mkdtempSync(join(tmpdir(), 'latch-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? await context.newPage();
  });

  after(async () => {
    await context?.close();
    await latch?.stop();
    mailpit?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  test('the emailed verification link verifies the address', async () => {
    const msg = await mailpit.messageTo(email, 'Verify your email address');
    const link = msg.Text.match(/https?:\/\/\S+\/email\/verify\/[A-Za-z0-9_-]+/)[0];
    await page.goto(link);
    await page.getByRole('button', { name: 'Verify my email' }).click();
    await page.waitForSelector('text=Email verified');
    const user = (await client.retrieveUserByEmail(email)).response.user;
    assert.equal(user.verified, true);
  });

  test('forgot password from the page, a new password from the emailed link', async () => {
    await page.goto(`${latch.url}/password/forgot`);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.waitForSelector('text=Check your email');
    const msg = await mailpit.messageTo(email, 'Reset your password');
    const link = msg.Text.match(/https?:\/\/\S+\/password\/change\/[A-Za-z0-9_-]+/)[0];
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('a password chosen in the browser');
    await page.getByLabel('Confirm the new password').fill('a password chosen in the browser');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForSelector('text=Password changed');
    const res = await client.login({ loginId: email, password: 'a password chosen in the browser' });
    assert.equal(res.statusCode, 200);
    // The link worked once.
    const again = await page.goto(link);
    assert.equal(again.status(), 404);
  });

  test('the reset page mails a two-factor code to a user whose second factor is email', async () => {
    const other = `pages-2fa-${Date.now()}@example.com`;
    const user = (await client.createUser(null, { user: { email: other, password: 'the first password' }, skipVerification: true })).response.user;
    await client.sendTwoFactorCodeForEnableDisable({ userId: user.id, method: 'email', email: other });
    const enrol = await mailpit.messageTo(other, 'Your verification code');
    await client.enableTwoFactor(user.id, { method: 'email', email: other, code: enrol.Text.match(/code is (\S+)/)[1] });

    await page.goto(`${latch.url}/password/forgot`);
    await page.getByLabel('Email').fill(other);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.waitForSelector('text=Check your email');
    const reset = await mailpit.messageTo(other, 'Reset your password');
    await page.goto(reset.Text.match(/https?:\/\/\S+\/password\/change\/[A-Za-z0-9_-]+/)[0]);
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page.waitForSelector('text=We sent a code');
    let mailed;
    for (;;) { // the newest code mail that is not the enrolment's
      mailed = await mailpit.messageTo(other, 'Your verification code');
      if (mailed.ID !== enrol.ID) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.getByLabel('New password', { exact: true }).fill('a password chosen after a mailed code');
    await page.getByLabel('Confirm the new password').fill('a password chosen after a mailed code');
    await page.getByLabel('Two-factor code').fill(mailed.Text.match(/code is (\S+)/)[1]);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForSelector('text=Password changed');
    const res = await client.login({ loginId: other, password: 'a password chosen after a mailed code' });
    assert.equal(res.statusCode, 242);
  });
});
