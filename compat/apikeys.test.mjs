// FusionAuth's TypeScript client against a real latch: the API key API
// (/api/api-key), with FusionAuth's status codes and shapes.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, failure, runSetup, startLatch } from './lib.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VERSION_ONLY = { '/api/system/version': ['GET'] };
const USER_READ = { '/api/user': ['GET'] };

describe('api keys: create, retrieve, update, patch, delete', () => {
  let latch;
  let manager; // client with the initial (key-manager) key
  before(async () => {
    latch = await startLatch();
    manager = explain(new FusionAuthClient(await runSetup(latch), latch.url));
  });
  after(async () => {
    await latch?.stop();
  });

  const client = (key) => explain(new FusionAuthClient(key, latch.url));
  let seq = 0;
  const uniqueName = (what) => `compat ${what} ${++seq} ${randomUUID().slice(0, 8)}`;

  /** Creates a key with the manager and checks the envelope; returns response.apiKey. */
  async function create(apiKey, id) {
    const res = await manager.createAPIKey(id, { apiKey });
    assert.equal(res.statusCode, 200);
    assert.ok(res.response?.apiKey, 'response is wrapped as {apiKey:{…}}');
    return res.response.apiKey;
  }

  test('createAPIKey: 200 {apiKey:{id,key,…}} echoing what was sent', async () => {
    const t0 = Date.now();
    const expiration = Date.now() + 24 * 3600 * 1000;
    const name = uniqueName('create');
    const k = await create({
      name,
      permissions: { endpoints: VERSION_ONLY },
      metaData: { attributes: { description: 'made by the compat suite' } },
      expirationInstant: expiration,
      keyManager: false, // the Go client always sends these two
      retrievable: false,
    });
    assert.match(k.id, UUID);
    assert.equal(typeof k.key, 'string');
    assert.ok(k.key.length >= 32, 'a generated key has enough entropy');
    assert.equal(k.name, name);
    assert.equal(k.keyManager, false);
    assert.equal(k.retrievable, false);
    assert.deepEqual(k.permissions, { endpoints: VERSION_ONLY });
    assert.deepEqual(k.metaData, { attributes: { description: 'made by the compat suite' } });
    assert.equal(k.expirationInstant, expiration);
    assert.equal(typeof k.insertInstant, 'number');
    assert.equal(typeof k.lastUpdateInstant, 'number');
    // Epoch milliseconds, not seconds; generous bounds, no timing assertion.
    assert.ok(k.insertInstant > t0 - 3600_000 && k.insertInstant < t0 + 3600_000,
      `insertInstant ${k.insertInstant} is epoch millis near now`);
  });

  test('createAPIKey with a chosen id uses it', async () => {
    const id = randomUUID();
    const k = await create({ name: uniqueName('chosen id'), permissions: { endpoints: VERSION_ONLY } }, id);
    assert.equal(k.id, id);
    const got = await manager.retrieveAPIKey(id);
    assert.equal(got.response.apiKey.id, id);
  });

  test('a created key works where permitted and gets 401 elsewhere', async () => {
    const reader = await create({ name: uniqueName('version reader'), permissions: { endpoints: VERSION_ONLY } });
    const ok = await client(reader.key).retrieveVersion();
    assert.equal(ok.statusCode, 200);
    assert.equal(typeof ok.response.version, 'string');

    const userOnly = await create({ name: uniqueName('user reader'), permissions: { endpoints: USER_READ } });
    const err = await failure(client(userOnly.key).retrieveVersion());
    assert.equal(err.statusCode, 401);
    assert.equal(err.exception, undefined, '401 has an empty body');
  });

  test('retrieveAPIKey: the fields, without the value of a non-retrievable key', async () => {
    const made = await create({
      name: uniqueName('retrieve'),
      permissions: { endpoints: VERSION_ONLY },
      metaData: { attributes: { team: 'compat' } },
      retrievable: false,
    });
    const res = await manager.retrieveAPIKey(made.id);
    assert.equal(res.statusCode, 200);
    const k = res.response.apiKey;
    assert.equal(k.id, made.id);
    assert.equal(k.name, made.name);
    assert.equal(k.keyManager, false);
    assert.equal(k.retrievable, false);
    assert.deepEqual(k.permissions, { endpoints: VERSION_ONLY });
    assert.deepEqual(k.metaData, { attributes: { team: 'compat' } });
    assert.equal(k.insertInstant, made.insertInstant);
    assert.equal(k.lastUpdateInstant, made.lastUpdateInstant);
    assert.ok(!('key' in k), `a non-retrievable key's value is shown only at creation, got ${JSON.stringify(k.key)}`);
  });

  test('retrieveAPIKey of a retrievable key returns its value', async () => {
    const made = await create({ name: uniqueName('retrievable'), permissions: { endpoints: VERSION_ONLY }, retrievable: true });
    assert.equal(made.retrievable, true);
    const k = (await manager.retrieveAPIKey(made.id)).response.apiKey;
    assert.equal(k.retrievable, true);
    assert.equal(k.key, made.key);
  });

  test('retrievable defaults to true when create omits it, as in FusionAuth', async () => {
    const made = await create({ name: uniqueName('default retrievable'), permissions: { endpoints: VERSION_ONLY } });
    assert.equal(made.retrievable, true);
    const k = (await manager.retrieveAPIKey(made.id)).response.apiKey;
    assert.equal(k.retrievable, true);
    assert.equal(k.key, made.key);
  });

  test('createAPIKey with a caller-chosen key value (FusionAuth allows it)', async () => {
    const value = randomBytes(48).toString('base64url');
    const k = await create({ name: uniqueName('chosen value'), key: value, permissions: { endpoints: VERSION_ONLY } });
    assert.equal(k.key, value);
    assert.equal((await client(value).retrieveVersion()).statusCode, 200);
  });

  test('createAPIKey with permissions {} (as Terraform sends) makes an all-endpoints key that is no manager', async () => {
    const k = await create({ name: uniqueName('all endpoints'), permissions: {} });
    assert.equal(k.keyManager, false);
    assert.equal((await client(k.key).retrieveVersion()).statusCode, 200);
    const err = await failure(client(k.key).createAPIKey(null, { apiKey: { name: uniqueName('nested') } }));
    assert.equal(err.statusCode, 401);
  });

  test('keyManager cannot be granted through the API', async () => {
    const name = uniqueName('wants manager');
    let made;
    try {
      made = (await manager.createAPIKey(null, { apiKey: { name, keyManager: true } })).response.apiKey;
    } catch (err) {
      assert.equal(err.statusCode, 400, 'refused with a validation error, if refused');
      assert.ok(err.exception?.fieldErrors?.['apiKey.keyManager'], `fieldErrors: ${JSON.stringify(err.exception)}`);
      return;
    }
    assert.equal(made.keyManager, false, 'or accepted as a plain key');
    const err = await failure(client(made.key).createAPIKey(null, { apiKey: { name: uniqueName('nested') } }));
    assert.equal(err.statusCode, 401);
  });

  test('copy with sourceKeyId: same permissions, new id and value', async () => {
    const src = await create({ name: uniqueName('source'), permissions: { endpoints: VERSION_ONLY } });
    const name = uniqueName('copy');
    const res = await manager.createAPIKey(null, { sourceKeyId: src.id, apiKey: { name } });
    assert.equal(res.statusCode, 200);
    const copy = res.response.apiKey;
    assert.match(copy.id, UUID);
    assert.notEqual(copy.id, src.id);
    assert.equal(copy.name, name);
    assert.equal(typeof copy.key, 'string');
    assert.notEqual(copy.key, src.key);
    assert.deepEqual(copy.permissions, { endpoints: VERSION_ONLY });
    assert.equal((await client(copy.key).retrieveVersion()).statusCode, 200);
  });

  test('updateAPIKey (PUT): name and permissions change, and the new permissions apply', async () => {
    const made = await create({ name: uniqueName('to update'), permissions: { endpoints: VERSION_ONLY }, retrievable: true });
    assert.equal((await client(made.key).retrieveVersion()).statusCode, 200);

    // Like FusionAuth's documented PUT example: no retrievable, no tenantId.
    const name = uniqueName('updated');
    const res = await manager.updateAPIKey(made.id, {
      apiKey: { name, permissions: { endpoints: USER_READ }, metaData: { attributes: { v: '2' } } },
    });
    assert.equal(res.statusCode, 200);
    const k = res.response.apiKey;
    assert.equal(k.id, made.id);
    assert.equal(k.name, name);
    assert.deepEqual(k.permissions, { endpoints: USER_READ });
    assert.deepEqual(k.metaData, { attributes: { v: '2' } });
    assert.equal(k.retrievable, true, 'retrievable is kept when PUT omits it');
    assert.equal(k.insertInstant, made.insertInstant);
    assert.ok(k.lastUpdateInstant >= made.lastUpdateInstant);

    const got = (await manager.retrieveAPIKey(made.id)).response.apiKey;
    assert.equal(got.name, name);
    assert.deepEqual(got.permissions, { endpoints: USER_READ });
    assert.equal(got.key, made.key, 'the value does not change on update');

    const err = await failure(client(made.key).retrieveVersion());
    assert.equal(err.statusCode, 401, 'the narrowed key lost /api/system/version');
  });

  test('patchAPIKey: a name-only patch keeps the rest; a permissions patch applies', async () => {
    const made = await create({
      name: uniqueName('to patch'),
      permissions: { endpoints: VERSION_ONLY },
      metaData: { attributes: { keep: 'me' } },
      retrievable: false,
    });
    const name = uniqueName('patched');
    const res = await manager.patchAPIKey(made.id, { apiKey: { name } });
    assert.equal(res.statusCode, 200);
    let k = res.response.apiKey;
    assert.equal(k.id, made.id);
    assert.equal(k.name, name);
    assert.deepEqual(k.permissions, { endpoints: VERSION_ONLY });
    assert.deepEqual(k.metaData, { attributes: { keep: 'me' } });
    assert.ok(!('key' in k), 'no value for a non-retrievable key');

    // Sending the whole wanted map gives the same result under replace or merge semantics.
    const wanted = { ...VERSION_ONLY, '/api/user': ['GET', 'POST'] };
    k = (await manager.patchAPIKey(made.id, { apiKey: { permissions: { endpoints: wanted } } })).response.apiKey;
    assert.deepEqual(Object.keys(k.permissions.endpoints).sort(), Object.keys(wanted).sort());
    assert.deepEqual([...k.permissions.endpoints['/api/user']].sort(), ['GET', 'POST']);
    assert.equal(k.name, name);
    const got = (await manager.retrieveAPIKey(made.id)).response.apiKey;
    assert.deepEqual(got.permissions, k.permissions);
  });

  test('deleteAPIKey: 200 with no body; then 404, and the value stops working', async () => {
    const made = await create({ name: uniqueName('to delete'), permissions: { endpoints: VERSION_ONLY } });
    assert.equal((await client(made.key).retrieveVersion()).statusCode, 200);

    const res = await manager.deleteAPIKey(made.id);
    assert.equal(res.statusCode, 200);
    assert.equal(res.response, undefined, 'DELETE answers without a body');

    const gone = await failure(manager.retrieveAPIKey(made.id));
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.exception, undefined, '404 has an empty body');
    const refused = await failure(client(made.key).retrieveVersion());
    assert.equal(refused.statusCode, 401, 'a deleted key is refused at once');
    const again = await failure(manager.deleteAPIKey(made.id));
    assert.equal(again.statusCode, 404);
  });

  test('DELETE and 401 bodies are empty on the wire', async () => {
    const made = await create({ name: uniqueName('raw delete'), permissions: { endpoints: VERSION_ONLY } });
    const initial = manager.apiKey;
    const del = await fetch(`${latch.url}/api/api-key/${made.id}`, { method: 'DELETE', headers: { Authorization: initial } });
    assert.equal(del.status, 200);
    assert.equal(await del.text(), '');
    const denied = await fetch(`${latch.url}/api/api-key/${made.id}`, { headers: { Authorization: made.key } });
    assert.equal(denied.status, 401);
    assert.equal(await denied.text(), '');
  });

  test('retrieveAPIKey of an unknown id: 404', async () => {
    const err = await failure(manager.retrieveAPIKey(randomUUID()));
    assert.equal(err.statusCode, 404);
  });

  test('a non-manager key gets 401 on every key API call', async () => {
    const target = await create({ name: uniqueName('target'), permissions: { endpoints: VERSION_ONLY } });
    const plain = await create({ name: uniqueName('plain'), permissions: {} }); // all endpoints, still no manager
    const c = client(plain.key);
    const calls = {
      createAPIKey: () => c.createAPIKey(null, { apiKey: { name: uniqueName('by plain'), permissions: { endpoints: VERSION_ONLY } } }),
      retrieveAPIKey: () => c.retrieveAPIKey(target.id),
      updateAPIKey: () => c.updateAPIKey(target.id, { apiKey: { name: uniqueName('x'), permissions: { endpoints: VERSION_ONLY } } }),
      patchAPIKey: () => c.patchAPIKey(target.id, { apiKey: { name: uniqueName('y') } }),
      deleteAPIKey: () => c.deleteAPIKey(target.id),
    };
    for (const [name, call] of Object.entries(calls)) {
      const err = await failure(call());
      assert.equal(err.statusCode, 401, name);
      assert.equal(err.exception, undefined, `${name}: 401 has an empty body`);
    }
    const still = (await manager.retrieveAPIKey(target.id)).response.apiKey;
    assert.equal(still.name, target.name, 'nothing changed');
  });

  test('a wrong key gets 401 on the key API', async () => {
    const err = await failure(client('wrong-' + randomBytes(24).toString('hex')).createAPIKey(null, { apiKey: { name: uniqueName('w') } }));
    assert.equal(err.statusCode, 401);
  });

  test('duplicate name: 400 with fieldErrors[apiKey.name] [duplicate]apiKey.name', async () => {
    const name = uniqueName('duplicate');
    await create({ name, permissions: { endpoints: VERSION_ONLY } });
    const err = await failure(manager.createAPIKey(null, { apiKey: { name, permissions: { endpoints: VERSION_ONLY } } }));
    assert.equal(err.statusCode, 400);
    const fe = err.exception?.fieldErrors?.['apiKey.name'];
    assert.ok(Array.isArray(fe) && fe.length > 0, `fieldErrors: ${JSON.stringify(err.exception)}`);
    assert.equal(fe[0].code, '[duplicate]apiKey.name');
    assert.equal(typeof fe[0].message, 'string');
  });

  test('duplicate name on update: 400 [duplicate]apiKey.name', async () => {
    const taken = await create({ name: uniqueName('taken'), permissions: { endpoints: VERSION_ONLY } });
    const other = await create({ name: uniqueName('other'), permissions: { endpoints: VERSION_ONLY } });
    const err = await failure(manager.patchAPIKey(other.id, { apiKey: { name: taken.name } }));
    assert.equal(err.statusCode, 400);
    assert.equal(err.exception?.fieldErrors?.['apiKey.name']?.[0]?.code, '[duplicate]apiKey.name');
  });

  test('unknown tenantId: 400 [invalid]apiKey.tenantId, never a 500', async () => {
    const err = await failure(manager.createAPIKey(null, {
      apiKey: { name: uniqueName('bad tenant'), tenantId: randomUUID(), permissions: { endpoints: VERSION_ONLY } },
    }));
    assert.equal(err.statusCode, 400);
    assert.equal(err.exception?.fieldErrors?.['apiKey.tenantId']?.[0]?.code, '[invalid]apiKey.tenantId');
  });

  test('unknown ipAccessControlListId: 400 field error, never a 500', async () => {
    const err = await failure(manager.createAPIKey(null, {
      apiKey: { name: uniqueName('bad acl'), ipAccessControlListId: randomUUID(), permissions: { endpoints: VERSION_ONLY } },
    }));
    assert.equal(err.statusCode, 400);
    assert.equal(err.exception?.fieldErrors?.['apiKey.ipAccessControlListId']?.[0]?.code, '[invalid]apiKey.ipAccessControlListId');
  });
});
