// FusionAuth's TypeScript client against a real latch: machine-to-machine
// tokens of Entity Management (clientCredentialsGrant and
// introspectClientCredentialsAccessToken), with FusionAuth's claims and
// OAuth errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { explain, failure, runSetup, startLatch } from './lib.mjs';

describe('entities: the client_credentials grant', () => {
  let latch;
  let client;
  let anon;
  let target;
  let second;
  let machine;
  let outsider;
  before(async () => {
    latch = await startLatch();
    client = explain(new FusionAuthClient(await runSetup(latch), latch.url));
    anon = new FusionAuthClient('', latch.url);
    const type = (await client.createEntityType(null, {
      entityType: { name: 'Compat machines', permissions: [{ name: 'read' }, { name: 'write' }, { name: 'delete' }] },
    })).response.entityType;
    const entity = async (name, tenantId) =>
      (await client.createEntity(null, { entity: { name, type: { id: type.id }, tenantId } })).response.entity;
    target = await entity('Target');
    second = await entity('Second');
    machine = await entity('Machine');
    const acme = (await client.createTenant(null, { tenant: { name: 'Acme' } })).response.tenant;
    outsider = await entity('Outsider', acme.id);
    await client.upsertEntityGrant(target.id, { grant: { recipientEntityId: machine.id, permissions: ['read', 'write'] } });
    await client.upsertEntityGrant(second.id, { grant: { recipientEntityId: machine.id, permissions: ['delete'] } });
  });
  after(async () => {
    await latch?.stop();
  });

  test('a token with FusionAuth\'s claims, signed with a published key, introspected with the token alone', async () => {
    const scope = `target-entity:${target.id}:read`;
    const res = await anon.clientCredentialsGrant(machine.clientId, machine.clientSecret, scope);
    assert.equal(res.statusCode, 200);
    const t = res.response;
    assert.deepEqual(Object.keys(t).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(t.token_type, 'Bearer');
    assert.equal(t.expires_in, 3600);
    assert.equal(t.scope, scope);

    const jwks = createRemoteJWKSet(new URL(`${latch.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(t.access_token, jwks);
    assert.equal(payload.aud, target.id);
    assert.equal(payload.sub, machine.id);
    assert.equal(payload.tid, machine.tenantId);
    assert.equal(payload.scope, scope);
    assert.deepEqual(payload.permissions, { [target.id]: ['read'] });
    assert.equal(payload.exp - payload.iat, 3600);
    assert.ok(payload.jti && payload.iss);

    const in1 = await anon.introspectClientCredentialsAccessToken(t.access_token);
    assert.equal(in1.statusCode, 200);
    assert.equal(in1.response.active, true);
    assert.equal(in1.response.sub, machine.id);
    assert.equal(in1.response.aud, target.id);
    assert.equal(in1.response.iss, payload.iss);
    assert.equal(in1.response.exp, payload.exp);
    assert.equal(in1.response.iat, payload.iat);

    const tampered = await anon.introspectClientCredentialsAccessToken(t.access_token.slice(0, -4) + 'AAAA');
    assert.deepEqual(tampered.response, { active: false });
    const otherTenant = await anon.introspectClientCredentialsAccessTokenWithRequest({ token: t.access_token, tenantId: outsider.tenantId });
    assert.deepEqual(otherTenant.response, { active: false });
  });

  test('several targets, all that is held', async () => {
    const res = await anon.clientCredentialsGrant(machine.clientId, machine.clientSecret,
      `target-entity:${target.id} target-entity:${second.id}:delete`);
    const claims = decodeJwt(res.response.access_token);
    assert.deepEqual(claims.aud, [target.id, second.id]);
    assert.deepEqual(claims.permissions, { [target.id]: ['read', 'write'], [second.id]: ['delete'] });
    assert.equal(res.response.scope, `target-entity:${target.id}:read,write target-entity:${second.id}:delete`);
  });

  test('refusals: OAuth errors with FusionAuth\'s error_reason', async () => {
    const cases = [
      ['wrong secret', machine.clientId, machine.clientSecret + 'x', `target-entity:${target.id}`, 401, 'invalid_client'],
      ['unknown client', '11111111-2222-3333-4444-555555555555', machine.clientSecret, `target-entity:${target.id}`, 401, 'invalid_client'],
      ['permission not granted', machine.clientId, machine.clientSecret, `target-entity:${target.id}:delete`, 400, 'invalid_scope'],
      ['target of another tenant', machine.clientId, machine.clientSecret, `target-entity:${outsider.id}`, 400, 'invalid_scope'],
      ['not a target', machine.clientId, machine.clientSecret, 'openid', 400, 'invalid_scope'],
    ];
    for (const [name, id, secret, scope, status, code] of cases) {
      const res = await failure(anon.clientCredentialsGrant(id, secret, scope));
      assert.equal(res.statusCode, status, name);
      assert.equal(res.exception.error, code, name);
      assert.equal(typeof res.exception.error_reason, 'string', name);
      assert.equal(typeof res.exception.error_description, 'string', name);
    }
    const wrongTenant = await failure(anon.clientCredentialsGrantWithRequest({
      client_id: machine.clientId, client_secret: machine.clientSecret, grant_type: 'client_credentials',
      scope: `target-entity:${target.id}`, tenantId: outsider.tenantId,
    }));
    assert.equal(wrongTenant.statusCode, 401);
    assert.equal(wrongTenant.exception.error, 'invalid_client');
  });

  test('a removed grant and a deleted entity stop issuing at once', async () => {
    const scope = `target-entity:${second.id}:delete`;
    assert.equal((await anon.clientCredentialsGrant(machine.clientId, machine.clientSecret, scope)).statusCode, 200);
    await client.deleteEntityGrant(second.id, machine.id, null);
    const gone = await failure(anon.clientCredentialsGrant(machine.clientId, machine.clientSecret, scope));
    assert.equal(gone.statusCode, 400);
    assert.equal(gone.exception.error, 'invalid_scope');

    const token = (await anon.clientCredentialsGrant(machine.clientId, machine.clientSecret, `target-entity:${target.id}`)).response.access_token;
    await client.deleteEntity(machine.id);
    const deleted = await failure(anon.clientCredentialsGrant(machine.clientId, machine.clientSecret, `target-entity:${target.id}`));
    assert.equal(deleted.statusCode, 401);
    assert.equal(deleted.exception.error, 'invalid_client');
    assert.deepEqual((await anon.introspectClientCredentialsAccessToken(token)).response, { active: false });
  });
});
