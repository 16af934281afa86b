// FusionAuth's TypeScript client against a real latch: status and version.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, failure, runSetup, startLatch } from './lib.mjs';

describe('system: status and version', () => {
  let latch;
  let key;
  before(async () => {
    latch = await startLatch();
    key = await runSetup(latch);
  });
  after(async () => {
    await latch?.stop();
  });

  const client = (k) => explain(new FusionAuthClient(k, latch.url));
  const wrongKey = 'not-a-key-' + 'x'.repeat(54);

  test('retrieveSystemStatus (anonymous) answers 200 with the health status only', async () => {
    const res = await client(null).retrieveSystemStatus();
    assert.equal(res.statusCode, 200);
    assert.equal(typeof res.response, 'object');
    // Without a key FusionAuth gives a single health value and no detail.
    assert.equal(res.response.version, undefined, 'no version for anonymous callers');
  });

  test('retrieveSystemStatusUsingAPIKey with the initial key: 200 with the version', async () => {
    const res = await client(key).retrieveSystemStatusUsingAPIKey();
    assert.equal(res.statusCode, 200);
    // FusionAuth documents only the version key of this body as stable.
    assert.equal(typeof res.response.version, 'string');
    assert.ok(res.response.version.length > 0);
  });

  test('retrieveVersion with the initial key: 200 {version}', async () => {
    const res = await client(key).retrieveVersion();
    assert.equal(res.statusCode, 200);
    assert.equal(typeof res.response.version, 'string');
    assert.ok(res.response.version.length > 0);
    const status = await client(key).retrieveSystemStatusUsingAPIKey();
    assert.equal(status.response.version, res.response.version, 'status and version agree');
  });

  test('retrieveVersion with a wrong key: 401, empty body', async () => {
    const err = await failure(client(wrongKey).retrieveVersion());
    assert.equal(err.statusCode, 401);
    assert.equal(err.exception, undefined, '401 has no JSON body');
  });

  test('retrieveVersion without a key: 401', async () => {
    const err = await failure(client(null).retrieveVersion());
    assert.equal(err.statusCode, 401);
  });

  test('status stays anonymous: a wrong key still gets 200, but no detail', async () => {
    // /api/status is anonymous in FusionAuth; a load balancer's health check
    // must not turn red because of a stale key. The key earns nothing though.
    const anon = await client(wrongKey).retrieveSystemStatus(); // sends no key at all
    assert.equal(anon.statusCode, 200);
    const res = await client(wrongKey).retrieveSystemStatusUsingAPIKey();
    assert.equal(res.statusCode, 200);
    assert.equal(res.response.version, undefined, 'a wrong key must not unlock the version');
  });

  test('401 responses have an empty body on the wire', async () => {
    const res = await fetch(`${latch.url}/api/system/version`, { headers: { Authorization: wrongKey } });
    assert.equal(res.status, 401);
    assert.equal(await res.text(), '');
  });
});
