// The admin UI in a real browser (Debian's Chromium through playwright-core)
// against the real latch binary: sign in through the hosted page, create a
// user, create a restricted key with the permission grid and copy it, try to
// delete the last full-access key (refused, explained), force it after
// re-authentication, find both events in the audit log, edit tenant and
// application settings and an entity's data, sign out. Every
// page is checked with axe (no serious or critical violations) and
// screenshotted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { runSetup, startLatch } from './lib.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
// Screenshots for a human to look at; set SCREENSHOT_DIR='' to skip them.
const SHOTS = process.env.SCREENSHOT_DIR ?? tmpdir();

const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery staple';

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `admin-ui-${name}.png`), fullPage: true });
}

/** axe on the current page: no serious or critical violations. */
async function accessible(page, name) {
  const res = await new AxeBuilder({ page }).analyze();
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [],
    `${name} has serious accessibility violations`);
  await shot(page, name);
}

async function signIn(page) {
  await page.locator('#loginId').fill(EMAIL);
  await page.locator('#password').fill(PASSWORD);
  await Promise.all([page.waitForURL(/\/admin/), page.getByRole('button', { name: 'Sign in' }).click()]);
}

describe('admin UI in Chromium', () => {
  let latch;
  let userDataDir;
  let context;
  let page;
  let initialKeyID;
  const consoleErrors = [];

  before(async () => {
    latch = await startLatch();
    const key = await runSetup(latch, { email: EMAIL, password: PASSWORD });
    const res = await fetch(`${latch.url}/api/api-key`, { headers: { Authorization: key } });
    initialKeyID = (await res.json()).apiKeys.find((k) => k.name === 'Initial API key').id;
    userDataDir = mkdtempSync(join(tmpdir(), 'latch-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: latch.url });
    page = context.pages()[0] ?? await context.newPage();
    // Script errors only: pages answered 409 or 404 on purpose log "Failed to load resource".
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text())) consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
  });

  after(async () => {
    await context?.close();
    await latch?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  test('/admin sends to the hosted sign-in page, which signs the admin in', async () => {
    await page.goto(`${latch.url}/admin`);
    assert.match(new URL(page.url()).pathname, /^\/oauth2\/authorize/);
    await accessible(page, 'sign-in');
    await signIn(page);
    assert.equal(new URL(page.url()).pathname, '/admin');
    assert.equal(await page.locator('h1').innerText(), 'Dashboard');
    assert.match(await page.locator('#key-safety').locator('..').innerText(), /Only one full-access key-manager key is left/);
    const nav = await page.getByRole('navigation', { name: 'Admin' }).innerText();
    for (const item of ['Dashboard', 'Users', 'API keys', 'Audit log']) assert.match(nav, new RegExp(item));
    await accessible(page, 'dashboard');
    // Keyboard: the first Tab reaches the skip link, which moves focus to the
    // content; the navigation follows the skip link in order.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Dashboard');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  });

  test('create a user', async () => {
    await page.goto(`${latch.url}/admin/users/new`);
    await accessible(page, 'user-new');
    await page.locator('#email').fill('jane@example.com');
    await page.locator('#firstName').fill('Jane');
    await page.locator('#password').fill('a perfectly fine password');
    await Promise.all([page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}/), page.getByRole('button', { name: 'Create user' }).click()]);
    assert.match(await page.getByRole('status').first().innerText(), /The user was created/);
    await accessible(page, 'user');
    await page.goto(`${latch.url}/admin/users?q=jane`);
    assert.match(await page.locator('table').innerText(), /jane@example\.com/);
    await accessible(page, 'users');
    await page.getByRole('link', { name: 'jane@example.com' }).click();
    await page.getByRole('link', { name: 'Edit profile' }).click();
    await page.getByRole('heading', { name: 'Edit jane@example.com', level: 1 }).waitFor();
    await accessible(page, 'user-edit');
    await page.locator('#lastName').fill('Doe');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Save user' }).click()]);
    assert.match(await page.getByRole('status').first().innerText(), /The user was saved/);
    // The admin's own page: the admin application's roles as checkboxes.
    await page.goto(`${latch.url}/admin/users?q=${encodeURIComponent('email:' + EMAIL)}`);
    await page.getByRole('link', { name: EMAIL, exact: true }).click();
    assert.ok(await page.getByRole('group', { name: 'Roles in FusionAuth' }).getByLabel('admin', { exact: true }).isChecked());
    await accessible(page, 'user-admin');
  });

  test('create a restricted key with the grid and copy its value, shown once', async () => {
    await page.goto(`${latch.url}/admin/api-keys/new`);
    await accessible(page, 'api-key-new');
    await page.locator('#name').fill('CI users');
    await page.locator('#access-some').check();
    // The endpoint search narrows the grid; "All" under GET selects the column of what is shown.
    await page.locator('#endpoint-search').fill('/api/user/search');
    assert.equal(await page.locator('table.perm-grid tbody tr:visible').count(), 1);
    await page.getByRole('button', { name: 'Select every GET' }).click();
    await page.locator('#endpoint-search').fill('');
    // "Row" selects every method of one endpoint.
    await page.getByRole('button', { name: 'Select every method of /api/user', exact: true }).click();
    assert.ok(await page.getByLabel('DELETE /api/user', { exact: true }).isChecked());
    assert.ok(await page.getByLabel('GET /api/user/search', { exact: true }).isChecked());
    assert.ok(!(await page.getByLabel('POST /api/user/search', { exact: true }).isChecked()));
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: /API key created/ }).waitFor();
    const value = await page.locator('#new-key').inputValue();
    assert.ok(value.length >= 32);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), value);
    await accessible(page, 'api-key-created');

    // The key works where it may, and only there.
    const ok = await fetch(`${latch.url}/api/user?email=${EMAIL}`, { headers: { Authorization: value } });
    assert.equal(ok.status, 200);
    const no = await fetch(`${latch.url}/api/tenant`, { headers: { Authorization: value } });
    assert.equal(no.status, 401);
    // Never shown again.
    await page.goto(`${latch.url}/admin/api-keys`);
    assert.ok(!(await page.content()).includes(value));
    await accessible(page, 'api-keys');
  });

  test('deleting the last full-access key is refused and explained, then forced after re-authentication', async () => {
    await page.goto(`${latch.url}/admin/api-keys/${initialKeyID}`);
    await accessible(page, 'api-key-edit');
    await page.getByRole('button', { name: 'Delete key' }).click();
    const alert = await page.getByRole('alert').innerText();
    assert.match(alert, /Deleting this key would leave no key-manager key with access to every endpoint and tenant/);
    await accessible(page, 'api-key-delete-refused');

    // Re-authenticate: the sign-in page asks for the password although the session lives.
    await page.goto(`${latch.url}/admin/login?reauth=1&next=${encodeURIComponent(`/admin/api-keys/${initialKeyID}`)}`);
    await page.locator('#password').waitFor();
    await signIn(page);
    assert.equal(new URL(page.url()).pathname, `/admin/api-keys/${initialKeyID}`);
    await page.getByRole('button', { name: 'Delete key' }).click();
    await page.getByLabel('I understand: delete this key anyway').check();
    await Promise.all([page.waitForURL(/\/admin\/api-keys(\?|$)/), page.getByRole('button', { name: 'Delete anyway' }).click()]);
    assert.ok(!(await page.content()).includes(initialKeyID));
  });

  test('the audit log shows both events', async () => {
    await page.goto(`${latch.url}/admin/audit-log?actor=admin`);
    const table = await page.locator('table').innerText();
    assert.match(table, /Created API key \[CI users\]/);
    assert.match(table, /Forced past the last-key guard: deleted API key \[Initial API key\]/);
    await accessible(page, 'audit-log');
    await page.goto(`${latch.url}/admin/runbook`);
    await accessible(page, 'runbook');
    await page.goto(`${latch.url}/admin/applications`);
    await accessible(page, 'applications');
    await page.getByRole('link', { name: 'FusionAuth' }).click();
    await page.getByRole('heading', { name: 'FusionAuth', level: 1 }).waitFor();
    await accessible(page, 'application');
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Tenants' }).click();
    await accessible(page, 'tenants');
    await page.getByRole('link', { name: 'Default' }).click();
    await page.getByRole('heading', { name: 'Tenant Default', level: 1 }).waitFor();
    await accessible(page, 'tenant');
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Groups' }).click();
    await accessible(page, 'groups');
    await page.getByRole('link', { name: 'Create a group' }).click();
    await accessible(page, 'group-new');
    await page.locator('#name').fill('Support');
    await Promise.all([page.waitForURL(/done=created/), page.getByRole('button', { name: 'Create group' }).click()]);
    await page.locator('#loginId').fill('jane@example.com');
    await Promise.all([page.waitForURL(/done=added/), page.getByRole('button', { name: 'Add member' }).click()]);
    assert.match(await page.getByRole('region', { name: 'Members' }).innerText(), /jane@example\.com/);
    await accessible(page, 'group');
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Entities' }).click();
    await page.locator('#type-name').fill('Printer');
    await Promise.all([page.waitForURL(/\/admin\/entity-types\//), page.getByRole('button', { name: 'Create type' }).click()]);
    await page.locator('#name').fill('print');
    await page.getByRole('button', { name: 'Add permission' }).click();
    await page.getByText('print', { exact: true }).waitFor();
    await accessible(page, 'entity-type');
    await page.goto(`${latch.url}/admin/entities`);
    await accessible(page, 'entities');
    await page.locator('#name').fill('Lobby printer');
    await page.getByRole('button', { name: 'Create entity' }).click();
    await page.getByRole('heading', { name: 'Entity Lobby printer', level: 1 }).waitFor();
    assert.ok((await page.locator('#client-secret').inputValue()).length >= 32);
    await accessible(page, 'entity-created');
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Signing keys' }).click();
    await page.getByRole('heading', { name: 'Signing keys', level: 1 }).waitFor();
    await accessible(page, 'signing-keys');
    await page.getByRole('link', { name: 'Generate a key' }).click();
    await accessible(page, 'signing-key-new');
    await page.locator('#name').fill('Browser key');
    await page.locator('#algorithm').selectOption('ES384');
    await Promise.all([page.waitForURL(/done=created/), page.getByRole('button', { name: 'Generate key' }).click()]);
    await accessible(page, 'signing-key');
    await Promise.all([page.waitForURL(/done=rotated/), page.getByRole('button', { name: 'Rotate key' }).click()]);
    assert.match(await page.getByRole('status').first().innerText(), /replaced the old one/);
    await page.goto(`${latch.url}/admin/signing-keys/new?import=1`);
    await accessible(page, 'signing-key-import');
    await page.goto(`${latch.url}/admin/ip-acls/new`);
    await accessible(page, 'ip-acl-new');
    await page.locator('#name').fill('office');
    await Promise.all([page.waitForURL(/\/admin\/ip-acls\/[0-9a-f-]{36}/), page.getByRole('button', { name: 'Save list' }).click()]);
    await accessible(page, 'ip-acl');
    await page.goto(`${latch.url}/admin/ip-acls`);
    await accessible(page, 'ip-acls');
  });

  test('applications: create, edit the OAuth settings, see the secret, delete', async () => {
    const nav = page.getByRole('navigation', { name: 'Admin' });
    await page.goto(`${latch.url}/admin/applications`);
    await page.getByRole('link', { name: 'Create an application' }).click();
    await page.getByRole('heading', { name: 'New application', level: 1 }).waitFor();
    await accessible(page, 'application-new');
    await page.locator('#name').fill('Shop');
    await page.locator('#redirectURLs').fill('https://shop.example/cb');
    await Promise.all([page.waitForURL(/done=created/), page.getByRole('button', { name: 'Create application' }).click()]);
    assert.match(await page.getByRole('status').first().innerText(), /The application was created/);
    await accessible(page, 'application-created');
    // Bad input: the form comes back with the reason, as entered.
    await page.locator('#redirectURLs').fill('not a url');
    await page.getByRole('button', { name: 'Save OAuth settings' }).click();
    assert.match(await page.getByRole('alert').innerText(), /is not a valid URL/);
    assert.equal(await page.locator('#redirectURLs').inputValue(), 'not a url');
    await accessible(page, 'application-error');
    await page.locator('#redirectURLs').fill('https://shop.example/cb\nhttps://shop.example/cb2');
    await page.getByLabel('refresh_token').check();
    await page.locator('#proofKeyForCodeExchangePolicy').selectOption('Required');
    await Promise.all([page.waitForURL(/done=oauth/), page.getByRole('button', { name: 'Save OAuth settings' }).click()]);
    assert.ok(await page.getByLabel('refresh_token').isChecked());
    await page.getByRole('button', { name: 'Show the client secret' }).click();
    assert.ok((await page.locator('#client-secret').inputValue()).length >= 32);
    await accessible(page, 'application-secret');
    await page.locator('#roleName').fill('buyer');
    await Promise.all([page.waitForURL(/done=role/), page.getByRole('button', { name: 'Add role' }).click()]);
    // Token settings: a bad lifetime is refused as entered; then saved.
    await page.locator('#jwtEnabled').check();
    await page.locator('#timeToLiveInSeconds').fill('soon');
    await page.getByRole('button', { name: 'Save token settings' }).click();
    assert.match(await page.getByRole('alert').innerText(), /access token lifetime must be a whole number/);
    assert.equal(await page.locator('#timeToLiveInSeconds').inputValue(), 'soon');
    await accessible(page, 'application-tokens-error');
    await page.locator('#timeToLiveInSeconds').fill('900');
    await page.locator('#refreshTokenUsagePolicy').selectOption('OneTimeUse');
    await Promise.all([page.waitForURL(/done=tokens/), page.getByRole('button', { name: 'Save token settings' }).click()]);
    assert.equal(await page.locator('#timeToLiveInSeconds').inputValue(), '900');
    // Refresh tokens: a maximum lifetime below the lifetime is refused, the input marked; then saved.
    await page.locator('#refreshTokenExpirationPolicy').selectOption('SlidingWindowWithMaximumLifetime');
    await page.locator('#maximumTimeToLiveInMinutes').fill('1');
    await page.getByRole('button', { name: 'Save token settings' }).click();
    assert.match(await page.getByRole('alert').innerText(), /must not be less than refreshTokenTimeToLiveInMinutes/);
    assert.equal(await page.locator('#maximumTimeToLiveInMinutes').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#maximumTimeToLiveInMinutes').inputValue(), '1');
    await accessible(page, 'application-refresh-tokens-error');
    await page.locator('#maximumTimeToLiveInMinutes').fill('86400');
    await page.locator('#gracePeriodInSeconds').fill('30');
    await Promise.all([page.waitForURL(/done=tokens/), page.getByRole('button', { name: 'Save token settings' }).click()]);
    assert.equal(await page.locator('#refreshTokenExpirationPolicy').inputValue(), 'SlidingWindowWithMaximumLifetime');
    assert.equal(await page.locator('#gracePeriodInSeconds').inputValue(), '30');
    await accessible(page, 'application-refresh-tokens');
    await page.getByLabel('Self-service registration').check();
    await Promise.all([page.waitForURL(/done=login/), page.getByRole('button', { name: 'Save sign-in settings' }).click()]);
    assert.ok(await page.getByLabel('Self-service registration').isChecked());
    await accessible(page, 'application-settings');
    // Deactivate: the list's filter shows it among the inactive ones; reactivate.
    await Promise.all([page.waitForURL(/done=deactivated/), page.getByRole('button', { name: 'Deactivate application' }).click()]);
    await accessible(page, 'application-inactive');
    const appURL = page.url().replace(/\?.*$/, '');
    await page.goto(`${latch.url}/admin/applications`);
    await page.locator('#status').selectOption('inactive');
    await Promise.all([page.waitForURL(/status=inactive/), page.getByRole('button', { name: 'Filter' }).click()]);
    assert.match(await page.locator('table').innerText(), /Shop/);
    assert.ok(!(await page.locator('table').innerText()).includes('FusionAuth'));
    await accessible(page, 'applications-inactive');
    await page.goto(appURL);
    await Promise.all([page.waitForURL(/done=reactivated/), page.getByRole('button', { name: 'Reactivate application' }).click()]);
    await page.locator('#confirm').fill('Shop');
    await Promise.all([page.waitForURL(/done=deleted/), page.getByRole('button', { name: 'Delete application' }).click()]);
    assert.match(await page.getByRole('status').first().innerText(), /The application was deleted/);
    assert.ok(!(await page.locator('table').innerText()).includes('Shop'));
    await accessible(page, 'applications-after-delete');
    await nav.getByRole('link', { name: 'Tenants' }).click();
    await page.getByRole('link', { name: 'Create a tenant' }).click();
    await accessible(page, 'tenant-new');
  });

  test('tenants: password rules, lockout and the email server; the SMTP password is never shown', async () => {
    await page.goto(`${latch.url}/admin/tenants`);
    await page.getByRole('link', { name: 'Default' }).click();
    await page.getByRole('heading', { name: 'Tenant Default', level: 1 }).waitFor();
    await page.locator('#minLength').fill('ten');
    await page.getByRole('button', { name: 'Save tenant' }).click();
    assert.match(await page.getByRole('alert').innerText(), /minimum password length must be a whole number/);
    await accessible(page, 'tenant-error');
    await page.locator('#minLength').fill('10');
    await page.getByLabel('Require a digit').check();
    await page.locator('#tooManyAttempts').fill('7');
    await page.locator('#smtpHost').fill('127.0.0.1');
    await page.locator('#smtpPassword').fill('an smtp password');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Save tenant' }).click()]);
    assert.equal(await page.locator('#minLength').inputValue(), '10');
    assert.equal(await page.locator('#smtpPassword').inputValue(), '');
    assert.ok(!(await page.content()).includes('an smtp password'));
    assert.match(await page.locator('#smtpPassword-hint').innerText(), /A password is stored/);
    await accessible(page, 'tenant-saved');
    // The theme of the hosted pages, password hashing and webhook events.
    await page.getByRole('link', { name: 'Theme of the hosted pages' }).click();
    await page.getByRole('heading', { name: 'Theme of Default', level: 1 }).waitFor();
    await page.locator('#primaryColor').fill('blue');
    await page.getByRole('button', { name: 'Save theme' }).click();
    assert.match(await page.getByRole('alert').innerText(), /must be a hex colour/);
    await accessible(page, 'tenant-theme-error');
    await page.locator('#primaryColor').fill('#1d4ed8');
    await page.locator('#productName').fill('Example ID');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Save theme' }).click()]);
    assert.equal(await page.locator('#productName').inputValue(), 'Example ID');
    await accessible(page, 'tenant-theme');
    await page.getByRole('link', { name: 'Back to the tenant' }).click();
    await page.getByRole('link', { name: 'Password hashing' }).click();
    await page.locator('#encryptionScheme').selectOption('bcrypt');
    await page.locator('#encryptionSchemeFactor').fill('99');
    await page.getByRole('button', { name: 'Save password hashing' }).click();
    assert.match(await page.getByRole('alert').innerText(), /must be between/);
    await accessible(page, 'tenant-hashing-error');
    await page.locator('#encryptionSchemeFactor').fill('12');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Save password hashing' }).click()]);
    assert.equal(await page.locator('#encryptionScheme').inputValue(), 'bcrypt');
    await accessible(page, 'tenant-hashing');
    await page.getByRole('link', { name: 'Back to the tenant' }).click();
    await page.getByRole('link', { name: 'Webhook events' }).click();
    await page.getByLabel('Send user.update', { exact: true }).uncheck();
    await page.getByLabel('Transaction type of user.delete', { exact: true }).selectOption('Any');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Save event settings' }).click()]);
    assert.ok(!(await page.getByLabel('Send user.update', { exact: true }).isChecked()));
    assert.equal(await page.getByLabel('Transaction type of user.delete', { exact: true }).inputValue(), 'Any');
    await accessible(page, 'tenant-events');
    // Put the Default tenant's hashing back: later sign-ins stay fast.
    await page.goto(page.url().replace(/\/events.*$/, '/password-hashing'));
    await page.locator('#encryptionScheme').selectOption('salted-pbkdf2-hmac-sha256');
    await page.locator('#encryptionSchemeFactor').fill('24000');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Save password hashing' }).click()]);
    await page.getByRole('link', { name: 'Back to the tenant' }).click();
    await page.getByRole('link', { name: 'Identifiers (lifetimes and generators)' }).click();
    await page.getByRole('heading', { name: 'Identifiers of Default', level: 1 }).waitFor();
    const trustTTL = page.getByLabel('Trust token: time to live in seconds', { exact: true });
    await trustTTL.fill('0');
    await page.getByRole('button', { name: 'Save identifier settings' }).click();
    assert.match(await page.getByRole('alert').innerText(), /must be between/);
    await accessible(page, 'tenant-identifiers-error');
    await trustTTL.fill('600');
    await page.getByLabel('Password reset link: kind', { exact: true }).selectOption('randomAlphaNumeric');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Save identifier settings' }).click()]);
    assert.equal(await trustTTL.inputValue(), '600');
    assert.equal(await page.getByLabel('Password reset link: kind', { exact: true }).inputValue(), 'randomAlphaNumeric');
    await accessible(page, 'tenant-identifiers');
    // Token settings: a refused grace period, then a save that changes
    // nothing later tests depend on (the grace period only applies to
    // one-use refresh tokens, which the Default tenant does not use).
    await page.getByRole('link', { name: 'Back to the tenant' }).click();
    await page.getByRole('link', { name: /^Tokens \(JWT\)/ }).click();
    await page.getByRole('heading', { name: 'Tokens (JWT) of Default', level: 1 }).waitFor();
    const grace = page.getByLabel('Reuse grace period in seconds', { exact: true });
    await grace.fill('86401');
    await page.getByRole('button', { name: 'Save token settings' }).click();
    assert.match(await page.getByRole('alert').innerText(), /Grace period in seconds must be between 0 and 86400/);
    assert.equal(await grace.getAttribute('aria-invalid'), 'true');
    assert.equal(await grace.inputValue(), '86401');
    await accessible(page, 'tenant-tokens-error');
    await grace.fill('30');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Save token settings' }).click()]);
    assert.equal(await grace.inputValue(), '30');
    await accessible(page, 'tenant-tokens');
  });

  test('entities: grant a user permissions on an entity, then revoke', async () => {
    await page.goto(`${latch.url}/admin/entities`);
    await page.getByRole('link', { name: 'Lobby printer' }).click();
    await page.getByRole('heading', { name: 'Entity Lobby printer', level: 1 }).waitFor();
    await page.locator('#loginId').fill('jane@example.com');
    await page.getByLabel('print', { exact: true }).check();
    await Promise.all([page.waitForURL(/done=granted/), page.getByRole('button', { name: 'Grant', exact: true }).click()]);
    const grants = page.getByRole('region', { name: 'Grants' });
    assert.match(await grants.locator('table').innerText(), /user jane@example\.com\s+print/);
    await accessible(page, 'entity-grants');
    await Promise.all([page.waitForURL(/done=revoked/), grants.getByRole('button', { name: 'Revoke the grant to user jane@example.com' }).click()]);
    assert.match(await grants.locator('table').innerText(), /No grants/);
  });

  test('entities: edit an entity\'s data as JSON', async () => {
    const data = page.locator('#entity-data');
    await data.fill('[1, 2]');
    await page.getByRole('button', { name: 'Save data' }).click();
    assert.match(await page.getByRole('alert').innerText(), /must be a JSON object/);
    assert.equal(await data.inputValue(), '[1, 2]');
    await accessible(page, 'entity-data-error');
    await data.fill('{"site": "lobby", "floor": 2}');
    await Promise.all([page.waitForURL(/done=data/), page.getByRole('button', { name: 'Save data' }).click()]);
    assert.match(await data.inputValue(), /"site": "lobby"/);
    await accessible(page, 'entity-data');
  });

  test('sign out ends the session', async () => {
    await page.goto(`${latch.url}/admin`);
    await Promise.all([page.waitForURL(/\/admin\/signed-out/), page.getByRole('button', { name: 'Sign out' }).click()]);
    await accessible(page, 'signed-out');
    await page.goto(`${latch.url}/admin`);
    assert.match(new URL(page.url()).pathname, /^\/oauth2\/authorize/);
    assert.deepEqual(consoleErrors, []);
  });
});
