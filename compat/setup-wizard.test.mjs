// The setup wizard in a real browser (Debian's Chromium through playwright-core)
// against the real latch binary: the one-time link from the server's output,
// a rejected password, then a good one, the key shown once, and the wizard gone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startLatch } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
// Screenshots for a human to look at; set SCREENSHOT_DIR='' to skip them.
const SHOTS = process.env.SCREENSHOT_DIR ?? tmpdir();

const EMAIL = 'browser-admin@example.com';
const NAME = 'Browser Admin';
const PASSWORD = 'a long and good passphrase';

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `setup-wizard-${name}.png`), fullPage: true });
}

/** Every input of the page has a label, and what aria-describedby names exists. */
async function assertLabelled(page) {
  const problems = await page.$$eval('input:not([type=hidden])', (inputs) => inputs.flatMap((el) => {
    const out = [];
    if (!el.labels || el.labels.length === 0) out.push(`#${el.id} has no label`);
    for (const id of (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean)) {
      if (!document.getElementById(id)) out.push(`#${el.id} describedby missing #${id}`);
    }
    return out;
  }));
  assert.deepEqual(problems, []);
}

describe('setup wizard in Chromium', () => {
  let latch;
  let userDataDir;
  let context;
  let page;
  let setupURL;
  let key;
  const consoleErrors = [];

  before(async () => {
    latch = await startLatch();
    const m = await latch.waitForOutput(/https?:\/\/\S+\/setup-wizard\?token=[A-Za-z0-9_-]+/);
    assert.ok(m, `no setup URL in the server's output:\n${latch.output()}`);
    setupURL = m[0];
    userDataDir = mkdtempSync(join(tmpdir(), 'latch-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(setupURL).origin });
    page = context.pages()[0] ?? await context.newPage();
    page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
  });

  after(async () => {
    await context?.close();
    await latch?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  test('without the token the wizard answers 403 and points to the server log', async () => {
    const res = await page.goto(new URL('/setup-wizard', setupURL).href);
    assert.equal(res.status(), 403);
    assert.match(await page.locator('h1').innerText(), /setup link from the server's log/i);
    await shot(page, '403');
  });

  test('the one-time link shows a labelled form', async () => {
    const res = await page.goto(setupURL);
    assert.equal(res.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(res.headers()['x-frame-options'], 'DENY');
    assert.match(res.headers()['content-security-policy'], /default-src 'self'/);
    await assertLabelled(page);
    await shot(page, 'form');
  });

  test('a too-short password is refused with a message; the email is kept, the password is not', async () => {
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Full name').fill(NAME);
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Confirm password').fill('short');
    const [res] = await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: /create the admin/i }).click(),
    ]);
    assert.equal(res.status(), 400);
    assert.match(await page.locator('#password-error').innerText(), /at least 8 characters/);
    assert.match(await page.getByRole('alert').innerText(), /at least 8 characters/);
    assert.equal(await page.getByLabel('Email address').inputValue(), EMAIL);
    assert.equal(await page.getByLabel('Full name').inputValue(), NAME);
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '');
    assert.equal(await page.getByLabel('Confirm password').inputValue(), '');
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    await assertLabelled(page);
    await shot(page, 'errors');
  });

  test('a good password sets Latch up and shows the initial key once, with a working copy button', async () => {
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    const [res] = await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: /create the admin/i }).click(),
    ]);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['cache-control'], 'no-store');
    key = await page.getByLabel('Initial API key').inputValue();
    assert.ok(key.length >= 32, `key too short: ${key.length} characters`);
    assert.equal(await page.getByLabel('Initial API key').getAttribute('readonly'), '');
    assert.match(await page.locator('main').innerText(), /will not be shown again/);

    // The copy button is revealed by the static script, so this also shows the CSP lets it run.
    const copy = page.getByRole('button', { name: 'Copy' });
    await copy.click();
    await page.getByRole('status').filter({ hasText: /copied/i }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
    await shot(page, 'key');
  });

  test('the key works on /api/system/version', async () => {
    const res = await fetch(new URL('/api/system/version', setupURL), { headers: { Authorization: key } });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(typeof body.version, 'string');
  });

  test('after setup the wizard answers 404, link or not', async () => {
    for (const url of [setupURL, new URL('/setup-wizard', setupURL).href]) {
      const res = await fetch(url);
      await res.arrayBuffer();
      assert.equal(res.status, 404, url);
    }
    const res = await page.goto(setupURL);
    assert.equal(res.status(), 404);
    await shot(page, '404');
  });

  test('no script errors or CSP violations on any page', () => {
    assert.deepEqual(consoleErrors.filter((e) => !/status of 40[034]/.test(e)), []);
  });
});
