// FusionAuth's TypeScript client against a real latch: the user API, its
// search and bulk delete, forgot and change password, with FusionAuth's
// status codes and shapes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, failure, runSetup, startLatch } from './lib.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('users: create, retrieve, update, patch, deactivate, delete, search, passwords', () => {
  let latch;
  let client;
  let anonymous;
  before(async () => {
    latch = await startLatch();
    client = explain(new FusionAuthClient(await runSetup(latch), latch.url));
    anonymous = explain(new FusionAuthClient('', latch.url));
  });
  after(async () => {
    await latch?.stop();
  });

  let seq = 0;
  const email = (what) => `compat-${what}-${++seq}-${randomUUID().slice(0, 8)}@example.com`;

  test('createUser, retrieveUser, retrieveUserByEmail: the user as sent, without its password', async () => {
    const id = randomUUID();
    const user = {
      email: email('create'),
      password: 'compat password 1',
      firstName: 'Compat',
      lastName: 'User',
      birthDate: '1976-05-30',
      data: { favoriteColors: ['Red', 'Blue'], nested: { n: 1.5, yes: true } },
      preferredLanguages: ['en', 'fr'],
      timezone: 'America/Denver',
    };
    const created = await client.createUser(id, { user, skipVerification: true });
    assert.equal(created.statusCode, 200);
    const u = created.response.user;
    assert.equal(u.id, id);
    assert.match(u.tenantId, UUID);
    assert.equal(u.email, user.email);
    assert.equal(u.active, true);
    assert.equal(u.verified, true);
    assert.deepEqual(u.data, user.data);
    assert.deepEqual(u.preferredLanguages, user.preferredLanguages);
    assert.equal(u.birthDate, user.birthDate);
    assert.equal(typeof u.insertInstant, 'number');
    assert.equal(u.password, undefined);

    const got = await client.retrieveUser(id);
    assert.equal(got.statusCode, 200);
    assert.equal(got.response.user.email, user.email);
    assert.equal(got.response.user.encryptionScheme, 'salted-pbkdf2-hmac-sha256');
    assert.equal(got.response.user.password, undefined);
    const byEmail = await client.retrieveUserByEmail(user.email.toUpperCase());
    assert.equal(byEmail.response.user.id, id);

    const missing = await failure(client.retrieveUser(randomUUID()));
    assert.equal(missing.statusCode, 404);
    const dup = await failure(client.createUser(null, { user: { email: user.email.toUpperCase() } }));
    assert.equal(dup.statusCode, 400);
    assert.equal(dup.exception.fieldErrors['user.email'][0].code, '[duplicate]user.email');
    const weak = await failure(client.createUser(null, { user: { email: email('weak'), password: 'short' } }));
    assert.equal(weak.exception.fieldErrors['user.password'][0].code, '[tooShort]user.password');
  });

  test('updateUser, patchUser: replace and merge', async () => {
    const made = (await client.createUser(null, { user: { email: email('update'), firstName: 'Before', data: { a: 1 } } })).response.user;
    const updated = await client.updateUser(made.id, { user: { email: made.email, firstName: 'After', data: { b: 2 } } });
    assert.equal(updated.statusCode, 200);
    assert.equal(updated.response.user.firstName, 'After');
    assert.deepEqual(updated.response.user.data, { b: 2 });
    const patched = await client.patchUser(made.id, { user: { lastName: 'Patched', data: { c: 3 } } });
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.response.user.firstName, 'After');
    assert.equal(patched.response.user.lastName, 'Patched');
    assert.deepEqual(patched.response.user.data, { b: 2, c: 3 });
  });

  test('deactivateUser, reactivateUser, deleteUser', async () => {
    const made = (await client.createUser(null, { user: { email: email('life') } })).response.user;
    const off = await client.deactivateUser(made.id);
    assert.equal(off.statusCode, 200);
    assert.equal((await client.retrieveUser(made.id)).response.user.active, false);
    const on = await client.reactivateUser(made.id);
    assert.equal(on.statusCode, 200);
    assert.equal(on.response.user.active, true);
    const del = await client.deleteUser(made.id);
    assert.equal(del.statusCode, 200);
    assert.equal((await failure(client.retrieveUser(made.id))).statusCode, 404);
  });

  test('searchUsersByQuery, searchUsersByIds, deleteUsersByQuery', async () => {
    const domain = `search-${randomUUID().slice(0, 8)}.example`;
    const ids = [];
    for (const name of ['ann', 'bea', 'cid']) {
      ids.push((await client.createUser(null, { user: { email: `${name}@${domain}`, firstName: name } })).response.user.id);
    }
    const res = await client.searchUsersByQuery({
      search: { queryString: `email:*@${domain}`, numberOfResults: 2, startRow: 0, sortFields: [{ name: 'email', order: 'desc' }] },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.response.total, 3);
    assert.deepEqual(res.response.users.map((u) => u.email), [`cid@${domain}`, `bea@${domain}`]);
    const byIds = await client.searchUsersByIds([ids[0], ids[2]]);
    assert.equal(byIds.response.total, 2);
    const dry = await client.deleteUsersByQuery({ queryString: `email:*@${domain}`, dryRun: true, hardDelete: true });
    assert.equal(dry.statusCode, 200);
    assert.equal(dry.response.total, 3);
    assert.equal(dry.response.dryRun, true);
    const gone = await client.deleteUsersByQuery({ userIds: ids, hardDelete: true });
    assert.equal(gone.response.total, 3);
    assert.equal((await client.searchUsersByQuery({ search: { queryString: `email:*@${domain}` } })).response.total, 0);
  });

  test('forgotPassword, changePassword, changePasswordByIdentity', async () => {
    const address = email('password');
    await client.createUser(null, { user: { email: address, password: 'compat password 1' } });
    const forgot = await client.forgotPassword({ loginId: address, sendForgotPasswordEmail: false });
    assert.equal(forgot.statusCode, 200);
    const id = forgot.response.changePasswordId;
    assert.equal(typeof id, 'string');
    assert.equal((await anonymous.checkChangePasswordUsingId(id)).statusCode, 200);
    assert.equal((await client.retrieveUserByChangePasswordId(id)).response.user.email, address);

    const changed = await anonymous.changePassword(id, { password: 'compat password 2' });
    assert.equal(changed.statusCode, 200);
    assert.equal(typeof changed.response.oneTimePassword, 'string');
    assert.equal((await failure(anonymous.changePassword(id, { password: 'compat password 3' }))).statusCode, 404);

    const wrong = await failure(client.changePasswordByIdentity({ loginId: address, currentPassword: 'nope nope', password: 'compat password 3' }));
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.exception.fieldErrors.currentPassword[0].code, '[invalid]currentPassword');
    const ok = await client.changePasswordByIdentity({ loginId: address, currentPassword: 'compat password 2', password: 'compat password 3' });
    assert.equal(ok.statusCode, 200);
    assert.equal((await failure(client.forgotPassword({ loginId: email('nobody'), sendForgotPasswordEmail: false }))).statusCode, 404);
  });
});
