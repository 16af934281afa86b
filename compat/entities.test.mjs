// FusionAuth's TypeScript client against a real latch: the 25 entity calls
// (entity types and their permissions, entities, grants, the searches), with
// FusionAuth's status codes and shapes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, failure, runSetup, startLatch } from './lib.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('entities: types, permissions, entities, grants, searches', () => {
  let latch;
  let client;
  before(async () => {
    latch = await startLatch();
    client = explain(new FusionAuthClient(await runSetup(latch), latch.url));
  });
  after(async () => {
    await latch?.stop();
  });

  test('entity types and their permissions', async () => {
    const typeId = randomUUID();
    const created = await client.createEntityType(typeId, {
      entityType: {
        name: 'Compat API',
        data: { owner: 'compat' },
        jwtConfiguration: { enabled: false, timeToLiveInSeconds: 1200 },
        permissions: [{ name: 'read', isDefault: true }, { name: 'write', description: 'change things' }],
      },
    });
    assert.equal(created.statusCode, 200);
    const t = created.response.entityType;
    assert.equal(t.id, typeId);
    assert.equal(t.name, 'Compat API');
    assert.deepEqual(t.data, { owner: 'compat' });
    assert.equal(t.jwtConfiguration.timeToLiveInSeconds, 1200);
    assert.deepEqual(t.permissions.map((p) => p.name), ['read', 'write']);
    assert.equal(typeof t.insertInstant, 'number');

    const other = (await client.createEntityType(null, { entityType: { name: 'Compat Other' } })).response.entityType;
    assert.match(other.id, UUID);
    assert.deepEqual(other.permissions, []);

    const got = await client.retrieveEntityType(typeId);
    assert.deepEqual(got.response.entityType, t);
    const all = await client.retrieveEntityTypes();
    assert.deepEqual(all.response.entityTypes.map((x) => x.name), ['Compat API', 'Compat Other']);

    const updated = await client.updateEntityType(typeId, { entityType: { name: 'Compat API v2', data: { v: 2 } } });
    assert.equal(updated.response.entityType.name, 'Compat API v2');
    assert.equal(updated.response.entityType.permissions.length, 2);
    const patched = await client.patchEntityType(typeId, { entityType: { data: { patched: true } } });
    assert.deepEqual(patched.response.entityType.data, { v: 2, patched: true });

    const byName = await client.searchEntityTypes({ search: { name: 'v2' } });
    assert.equal(byName.response.total, 1);
    assert.equal(byName.response.entityTypes[0].id, typeId);
    const byParams = await client.searchEntityTypesByParameters('*', 1, 'name', 1);
    assert.equal(byParams.response.total, 2);
    assert.deepEqual(byParams.response.entityTypes.map((x) => x.name), ['Compat Other']);

    const permId = randomUUID();
    const perm = await client.createEntityTypePermission(typeId, permId, { permission: { name: 'delete', data: { risky: true } } });
    assert.equal(perm.statusCode, 200);
    assert.equal(perm.response.permission.id, permId);
    assert.equal(perm.response.permission.isDefault, false);
    const dup = await failure(client.createEntityTypePermission(typeId, null, { permission: { name: 'DELETE' } }));
    assert.equal(dup.statusCode, 400);
    assert.equal(dup.exception.fieldErrors['permission.name'][0].code, '[duplicate]permission.name');
    const renamed = await client.updateEntityTypePermission(typeId, permId, { permission: { name: 'remove' } });
    assert.equal(renamed.response.permission.name, 'remove');
    const pp = await client.patchEntityTypePermission(typeId, permId, { permission: { description: 'gone for good' } });
    assert.equal(pp.response.permission.name, 'remove');
    assert.equal(pp.response.permission.description, 'gone for good');
    assert.equal((await client.deleteEntityTypePermission(typeId, permId)).statusCode, 200);
    assert.equal((await failure(client.deleteEntityTypePermission(typeId, permId))).statusCode, 404);

    const badTTL = await failure(client.createEntityType(null, { entityType: { name: 'Bad', jwtConfiguration: { timeToLiveInSeconds: 0 } } }));
    assert.equal(badTTL.statusCode, 400);
    assert.ok(badTTL.exception.fieldErrors['entityType.jwtConfiguration.timeToLiveInSeconds']);

    assert.equal((await client.deleteEntityType(other.id)).statusCode, 200);
    assert.equal((await failure(client.retrieveEntityType(other.id))).statusCode, 404);
  });

  test('entities, grants and their searches', async () => {
    const type = (await client.createEntityType(null, {
      entityType: { name: 'Compat Service', permissions: [{ name: 'read', isDefault: true }, { name: 'write' }] },
    })).response.entityType;

    const entityId = randomUUID();
    const created = await client.createEntity(entityId, { entity: { name: 'Compat Billing', type: { id: type.id }, data: { a: 1 } } });
    assert.equal(created.statusCode, 200);
    const e = created.response.entity;
    assert.equal(e.id, entityId);
    assert.equal(e.clientId, entityId);
    assert.equal(typeof e.clientSecret, 'string');
    assert.ok(e.clientSecret.length >= 43);
    assert.equal(e.type.id, type.id);
    assert.equal(e.type.name, 'Compat Service');
    assert.match(e.tenantId, UUID);

    const got = await client.retrieveEntity(entityId);
    assert.deepEqual(got.response.entity, e);
    const updated = await client.updateEntity(entityId, { entity: { name: 'Compat Billing 2', type: { id: type.id } } });
    assert.equal(updated.response.entity.name, 'Compat Billing 2');
    assert.equal(updated.response.entity.clientSecret, e.clientSecret);
    const patched = await client.patchEntity(entityId, { entity: { data: { b: 2 } } });
    assert.deepEqual(patched.response.entity.data, { b: 2 }); // the update replaced data

    const caller = (await client.createEntity(null, {
      entity: { name: 'Compat Caller', type: { id: type.id }, clientId: 'compat-caller', clientSecret: 'compat caller secret' },
    })).response.entity;
    assert.equal(caller.clientId, 'compat-caller');
    assert.equal(caller.clientSecret, 'compat caller secret');
    const dupClient = await failure(client.createEntity(null, { entity: { name: 'X', type: { id: type.id }, clientId: 'compat-caller' } }));
    assert.equal(dupClient.exception.fieldErrors['entity.clientId'][0].code, '[duplicate]entity.clientId');

    const search = await client.searchEntities({ search: { queryString: 'compat*', sortFields: [{ name: 'name' }] } });
    assert.equal(search.response.total, 2);
    assert.deepEqual(search.response.entities.map((x) => x.name), ['Compat Billing 2', 'Compat Caller']);
    const query = await client.searchEntities({
      search: { query: JSON.stringify({ bool: { must: [{ wildcard: { name: { value: '*caller*' } } }] } }) },
    });
    assert.deepEqual(query.response.entities.map((x) => x.id), [caller.id]);
    const byIds = await client.searchEntitiesByIds([entityId, randomUUID()]);
    assert.equal(byIds.response.total, 1);
    assert.equal(byIds.response.entities[0].id, entityId);
    assert.equal((await client.refreshEntitySearchIndex()).statusCode, 200);

    const user = (await client.createUser(null, { user: { email: `compat-grant-${randomUUID().slice(0, 8)}@example.com` } })).response.user;
    const up = await client.upsertEntityGrant(entityId, { grant: { recipientEntityId: caller.id, permissions: ['read', 'write'] } });
    assert.equal(up.statusCode, 200);
    assert.equal((await client.upsertEntityGrant(entityId, { grant: { userId: user.id } })).statusCode, 200);
    const g = await client.retrieveEntityGrant(entityId, caller.id, undefined);
    assert.deepEqual(g.response.grant.permissions.sort(), ['read', 'write']);
    assert.equal(g.response.grant.recipientEntityId, caller.id);
    assert.equal(g.response.grant.entity.id, entityId);
    const ug = await client.retrieveEntityGrant(entityId, undefined, user.id);
    assert.deepEqual(ug.response.grant.permissions, ['read']);
    const badPerm = await failure(client.upsertEntityGrant(entityId, { grant: { userId: user.id, permissions: ['fly'] } }));
    assert.equal(badPerm.statusCode, 400);

    const gs = await client.searchEntityGrants({ search: { entityId } });
    assert.equal(gs.response.total, 2);
    const gp = await client.searchEntityGrantsByParameters(undefined, undefined, user.id);
    assert.equal(gp.response.total, 1);
    assert.equal(gp.response.grants[0].userId, user.id);

    assert.equal((await client.deleteEntityGrant(entityId, undefined, user.id)).statusCode, 200);
    assert.equal((await failure(client.retrieveEntityGrant(entityId, undefined, user.id))).statusCode, 404);
    assert.equal((await client.deleteEntity(caller.id)).statusCode, 200);
    assert.equal((await failure(client.retrieveEntityGrant(entityId, caller.id))).statusCode, 404);
    assert.equal((await client.deleteEntity(entityId)).statusCode, 200);
    assert.equal((await failure(client.retrieveEntity(entityId))).statusCode, 404);
  });
});
