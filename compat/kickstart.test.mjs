// Kickstart: latch started with LATCH_KICKSTART_FILE (a FusionAuth kickstart
// file, with includes and a chosen Default tenant id), then driven with
// FusionAuth's TypeScript client using the file's key.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, failure, startLatch } from './lib.mjs';

const ADMIN_APPLICATION_ID = '3c219e58-ed0e-4b18-ad48-f4f92793ae32';

describe('kickstart: a fresh latch set up from a kickstart file', () => {
  const key = randomBytes(32).toString('hex');
  const defaultTenantId = randomUUID();
  const tenantId = randomUUID();
  const applicationId = randomUUID();
  const userId = randomUUID();
  let dir;
  let latch;
  let client;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latch-compat-kickstart-'));
    mkdirSync(join(dir, 'json'));
    writeFileSync(join(dir, 'json', 'application.json'), JSON.stringify({
      application: { name: 'Kickstarted app', roles: [{ name: 'admin', isSuperRole: true }, { name: 'user', isDefault: true }] },
    }));
    writeFileSync(join(dir, 'issuer.txt'), 'kickstart.example');
    const requests = [
      { method: 'POST', url: '/api/tenant/#{tenantId}', body: { tenant: { name: 'Kickstarted tenant' } } },
      { method: 'PATCH', url: '/api/tenant/#{FUSIONAUTH_TENANT_ID}', body: { tenant: { issuer: '@{issuer.txt}' } } },
      { method: 'POST', url: '/api/application/#{applicationId}', tenantId: '#{tenantId}', body: '&{json/application.json}' },
      // FusionAuth's documented way to make the first admin.
      {
        method: 'POST',
        url: '/api/user/registration/#{userId}',
        body: {
          user: { email: 'admin@kickstart.example', password: '#{ENV.KS_ADMIN_PASSWORD}' },
          registration: { applicationId: '#{FUSIONAUTH_APPLICATION_ID}', roles: ['admin'] },
          skipVerification: true,
        },
      },
    ];
    writeFileSync(join(dir, 'kickstart.json'), JSON.stringify({
      variables: { defaultTenantId, tenantId, applicationId, userId, apiKey: '#{ENV.KS_API_KEY}' },
      apiKeys: [{ key: '#{apiKey}', description: 'compat kickstart key' }],
      requests,
    }, null, 2));
    latch = await startLatch({
      env: {
        LATCH_KICKSTART_FILE: join(dir, 'kickstart.json'),
        KS_API_KEY: key,
        KS_ADMIN_PASSWORD: 'correct horse battery staple',
      },
    });
    client = explain(new FusionAuthClient(key, latch.url));
  });
  after(async () => {
    await latch?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the file\'s key works, and the server offers no setup wizard', async () => {
    const res = await client.retrieveVersion();
    assert.equal(res.statusCode, 200);
    // The setup link would come before this line: once it is here, the
    // absence of the link means something.
    assert.ok(await latch.waitForOutput(/latch listening/), `no listening line:\n${latch.output()}`);
    assert.doesNotMatch(latch.output(), /setup-wizard\?token=/);
  });

  test('retrieveTenant: the Default tenant has the chosen id and the patched issuer', async () => {
    const res = await client.retrieveTenant(defaultTenantId);
    assert.equal(res.statusCode, 200);
    assert.equal(res.response.tenant.id, defaultTenantId);
    assert.equal(res.response.tenant.name, 'Default');
    assert.equal(res.response.tenant.issuer, 'kickstart.example');
  });

  test('retrieveTenant: the tenant the file made', async () => {
    const res = await client.retrieveTenant(tenantId);
    assert.equal(res.response.tenant.name, 'Kickstarted tenant');
  });

  test('retrieveApplication: the included application, with its roles, in its tenant', async () => {
    const res = await client.retrieveApplication(applicationId);
    const app = res.response.application;
    assert.equal(app.name, 'Kickstarted app');
    assert.equal(app.tenantId, tenantId);
    assert.deepEqual(app.roles.map((r) => r.name).sort(), ['admin', 'user']);
  });

  test('retrieveApplication: the admin application moved to the chosen Default tenant', async () => {
    const res = await client.retrieveApplication(ADMIN_APPLICATION_ID);
    assert.equal(res.response.application.tenantId, defaultTenantId);
  });

  test('retrieveUser / retrieveRegistration: the admin the file registered', async () => {
    const reg = await client.retrieveRegistration(userId, ADMIN_APPLICATION_ID);
    assert.equal(reg.statusCode, 200);
    assert.deepEqual(reg.response.registration.roles, ['admin']);
    const user = await client.retrieveUser(userId);
    assert.equal(user.statusCode, 200);
    assert.equal(user.response.user.email, 'admin@kickstart.example');
    assert.equal(user.response.user.tenantId, defaultTenantId);
  });

  test('the kickstart key is a key manager: createAPIKey with it works', async () => {
    const res = await client.createAPIKey(null, {
      apiKey: { name: 'made with the kickstart key', permissions: { endpoints: { '/api/system/version': ['GET'] } } },
    });
    assert.equal(res.statusCode, 200);
    const made = explain(new FusionAuthClient(res.response.apiKey.key, latch.url));
    assert.equal((await made.retrieveVersion()).statusCode, 200);
    assert.equal((await failure(made.retrieveTenant(tenantId))).statusCode, 401);
  });
});
