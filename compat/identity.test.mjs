// FusionAuth's TypeScript client against a real latch: tenants, applications
// and their roles, users across several tenants, registrations, groups and
// their members, and user import with existing password hashes, with
// FusionAuth's status codes and shapes.
//
// The single-tenant user calls (createUser, retrieveUser, retrieveUserByEmail,
// updateUser, patchUser, deactivateUser, reactivateUser, deleteUser,
// searchUsersByQuery, forgotPassword, changePassword) are covered by
// users.test.mjs and not repeated here; this file adds what changes once a
// second tenant exists (the X-FusionAuth-TenantId header, set with the
// client's setTenantId).
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FusionAuthClient } from '@fusionauth/typescript-client';
import { explain, failure, runSetup, startLatch } from './lib.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('identity: tenants, applications, roles, registrations, groups, import', () => {
  let latch;
  let key;
  let client; // global key, no tenant header
  let defaultTenantId;
  let tenantB; // a second tenant, created in before()
  let inDefault; // global key narrowed to the default tenant by the header
  let inB; // global key narrowed to tenant B

  // A client whose requests carry X-FusionAuth-TenantId: tenantId. explain()
  // wraps the client after setTenantId, which returns the bare client.
  const withTenant = (tenantId) => explain(new FusionAuthClient(key, latch.url).setTenantId(tenantId));

  let seq = 0;
  const unique = (what) => `compat ${what} ${++seq} ${randomUUID().slice(0, 8)}`;
  const email = (what) => `compat-${what}-${++seq}-${randomUUID().slice(0, 8)}@example.com`;

  before(async () => {
    latch = await startLatch();
    key = await runSetup(latch);
    client = explain(new FusionAuthClient(key, latch.url));

    // With one tenant, retrieveTenants lists just the default one.
    const tenants = await client.retrieveTenants();
    assert.equal(tenants.statusCode, 200);
    assert.equal(tenants.response.tenants.length, 1, `one tenant at first: ${JSON.stringify(tenants.response)}`);
    defaultTenantId = tenants.response.tenants[0].id;
    assert.match(defaultTenantId, UUID);

    tenantB = (await client.createTenant(null, { tenant: { name: unique('tenant B') } })).response.tenant;
    inDefault = withTenant(defaultTenantId);
    inB = withTenant(tenantB.id);
  });
  after(async () => {
    await latch?.stop();
  });

  test('createTenant, retrieveTenants: 200 {tenant} and {tenants}', async () => {
    const name = unique('tenant');
    const created = await client.createTenant(null, { tenant: { name, data: { region: 'eu', n: 2 } } });
    assert.equal(created.statusCode, 200);
    const t = created.response.tenant;
    assert.ok(t, 'response is wrapped as {tenant:{…}}');
    assert.match(t.id, UUID);
    assert.equal(t.name, name);
    assert.deepEqual(t.data, { region: 'eu', n: 2 });
    assert.equal(typeof t.insertInstant, 'number');
    assert.equal(typeof t.lastUpdateInstant, 'number');
    // FusionAuth fills the settings a tenant is created without.
    assert.equal(typeof t.issuer, 'string');
    assert.equal(typeof t.jwtConfiguration, 'object');
    assert.equal(typeof t.passwordEncryptionConfiguration, 'object');

    const chosen = randomUUID();
    const withId = await client.createTenant(chosen, { tenant: { name: unique('tenant with id') } });
    assert.equal(withId.response.tenant.id, chosen);

    const all = await client.retrieveTenants();
    assert.equal(all.statusCode, 200);
    assert.ok(Array.isArray(all.response.tenants), 'response is wrapped as {tenants:[…]}');
    const ids = all.response.tenants.map((x) => x.id);
    for (const id of [defaultTenantId, tenantB.id, t.id, chosen]) assert.ok(ids.includes(id), `${id} listed`);

    const one = await client.retrieveTenant(t.id);
    assert.equal(one.response.tenant.name, name);
    assert.equal((await failure(client.retrieveTenant(randomUUID()))).statusCode, 404);

    const dup = await failure(client.createTenant(null, { tenant: { name } }));
    assert.equal(dup.statusCode, 400);
    assert.equal(dup.exception.fieldErrors['tenant.name'][0].code, '[duplicate]tenant.name');
    const blank = await failure(client.createTenant(null, { tenant: {} }));
    assert.equal(blank.statusCode, 400);
    assert.equal(blank.exception.fieldErrors['tenant.name'][0].code, '[blank]tenant.name');
  });

  test('createApplication, createApplicationRole, retrieveApplications: {application}, {role}, {applications}', async () => {
    const name = unique('app');
    const created = await inDefault.createApplication(null, {
      application: { name, roles: [{ name: 'admin', isSuperRole: true }, { name: 'user', isDefault: true }], data: { team: 'compat' } },
    });
    assert.equal(created.statusCode, 200);
    const app = created.response.application;
    assert.ok(app, 'response is wrapped as {application:{…}}');
    assert.match(app.id, UUID);
    assert.equal(app.name, name);
    assert.equal(app.tenantId, defaultTenantId);
    assert.equal(app.active, true);
    assert.deepEqual(app.data, { team: 'compat' });
    assert.deepEqual(app.roles.map((r) => r.name).sort(), ['admin', 'user']);
    for (const r of app.roles) assert.match(r.id, UUID);
    assert.equal(app.roles.find((r) => r.name === 'admin').isSuperRole, true);
    assert.equal(app.roles.find((r) => r.name === 'user').isDefault, true);
    // The OAuth client id is the application id, with a generated secret.
    assert.equal(app.oauthConfiguration.clientId, app.id);
    assert.equal(typeof app.oauthConfiguration.clientSecret, 'string');

    const roleId = randomUUID();
    const role = await inDefault.createApplicationRole(app.id, roleId, { role: { name: 'editor', description: 'edits' } });
    assert.equal(role.statusCode, 200);
    const r = role.response.role;
    assert.ok(r, 'response is wrapped as {role:{…}}');
    assert.equal(r.id, roleId);
    assert.equal(r.name, 'editor');
    assert.equal(r.description, 'edits');
    assert.equal(r.isDefault, false);
    assert.equal(r.isSuperRole, false);
    const generated = (await inDefault.createApplicationRole(app.id, null, { role: { name: 'viewer' } })).response.role;
    assert.match(generated.id, UUID);
    const dupRole = await failure(inDefault.createApplicationRole(app.id, null, { role: { name: 'editor' } }));
    assert.equal(dupRole.statusCode, 400);
    const noApp = await failure(inDefault.createApplicationRole(randomUUID(), null, { role: { name: 'x' } }));
    assert.equal(noApp.statusCode, 404);

    const got = (await inDefault.retrieveApplication(app.id)).response.application;
    assert.deepEqual(got.roles.map((x) => x.name).sort(), ['admin', 'editor', 'user', 'viewer']);

    const inTenantB = (await inB.createApplication(null, { application: { name: unique('app in B') } })).response.application;
    assert.equal(inTenantB.tenantId, tenantB.id);

    const all = await client.retrieveApplications();
    assert.equal(all.statusCode, 200);
    assert.ok(Array.isArray(all.response.applications), 'response is wrapped as {applications:[…]}');
    const ids = all.response.applications.map((a) => a.id);
    assert.ok(ids.includes(app.id) && ids.includes(inTenantB.id), 'a global key lists every tenant\'s applications');
    const onlyB = (await inB.retrieveApplications()).response.applications;
    assert.ok(onlyB.every((a) => a.tenantId === tenantB.id), 'the tenant header narrows the list');
    assert.ok(onlyB.some((a) => a.id === inTenantB.id));
    assert.equal((await failure(inB.retrieveApplication(app.id))).statusCode, 404, 'another tenant\'s application is not found');
  });

  test('users in two tenants: the header chooses the tenant, the same email is two users', async () => {
    // Covered by users.test.mjs for one tenant; here what a second tenant changes.
    const address = email('two-tenants');
    const noTenant = await failure(client.createUser(null, { user: { email: address } }));
    assert.equal(noTenant.statusCode, 400);
    assert.equal(noTenant.exception.generalErrors?.[0]?.code, '[TenantIdRequired]', JSON.stringify(noTenant.exception));

    const a = (await inDefault.createUser(null, { user: { email: address } })).response.user;
    const b = (await inB.createUser(null, { user: { email: address.toUpperCase() } })).response.user;
    assert.notEqual(a.id, b.id);
    assert.equal(a.tenantId, defaultTenantId);
    assert.equal(b.tenantId, tenantB.id);

    const ambiguous = await failure(client.retrieveUserByEmail(address));
    assert.equal(ambiguous.statusCode, 400);
    assert.equal(ambiguous.exception.generalErrors?.[0]?.code, '[TenantIdRequired]');
    assert.equal((await inDefault.retrieveUserByEmail(address)).response.user.id, a.id);
    assert.equal((await inB.retrieveUserByEmail(address)).response.user.id, b.id);

    // By id, a global key finds the user in any tenant; narrowed, only in its own.
    assert.equal((await client.retrieveUser(b.id)).response.user.tenantId, tenantB.id);
    assert.equal((await failure(inDefault.retrieveUser(b.id))).statusCode, 404);
    assert.equal((await failure(inDefault.deleteUser(b.id))).statusCode, 404);
    const found = await inB.searchUsersByQuery({ search: { queryString: address } });
    assert.deepEqual(found.response.users.map((u) => u.id), [b.id]);
  });

  test('register, retrieveRegistration, updateRegistration, deleteRegistration', async () => {
    const app = (await inDefault.createApplication(null, {
      application: { name: unique('reg app'), roles: [{ name: 'user', isDefault: true }, { name: 'admin' }, { name: 'auditor' }] },
    })).response.application;
    const user = (await inDefault.createUser(null, { user: { email: email('reg'), password: 'compat password 1' } })).response.user;

    const reg = await inDefault.register(user.id, {
      registration: { applicationId: app.id, roles: ['admin'], data: { plan: 'gold' }, username: 'reggie', timezone: 'Europe/Paris' },
    });
    assert.equal(reg.statusCode, 200);
    const r = reg.response.registration;
    assert.ok(r, 'response is wrapped as {registration:{…}}');
    assert.match(r.id, UUID);
    assert.equal(r.applicationId, app.id);
    assert.deepEqual(r.roles, ['admin']);
    assert.deepEqual(r.data, { plan: 'gold' });
    assert.equal(r.username, 'reggie');
    assert.equal(typeof r.insertInstant, 'number');

    const got = await inDefault.retrieveRegistration(user.id, app.id);
    assert.equal(got.statusCode, 200);
    assert.equal(got.response.registration.id, r.id);
    assert.deepEqual(got.response.registration.data, { plan: 'gold' });
    const withRegs = (await inDefault.retrieveUser(user.id)).response.user;
    assert.deepEqual(withRegs.registrations.map((x) => x.applicationId), [app.id], 'retrieveUser shows the registration');

    const again = await failure(inDefault.register(user.id, { registration: { applicationId: app.id } }));
    assert.equal(again.statusCode, 400, 'one registration per user and application');
    assert.ok(again.exception.fieldErrors, JSON.stringify(again.exception));
    const badRole = await failure(inDefault.register(user.id, { registration: { applicationId: app.id, roles: ['nope'] } }));
    assert.equal(badRole.statusCode, 400);
    const noApp = await failure(inDefault.register(user.id, { registration: { applicationId: randomUUID() } }));
    assert.equal(noApp.statusCode, 400);
    assert.ok(noApp.exception.fieldErrors['registration.applicationId'], JSON.stringify(noApp.exception));

    const updated = await inDefault.updateRegistration(user.id, { registration: { applicationId: app.id, roles: ['auditor', 'user'], data: { plan: 'silver' } } });
    assert.equal(updated.statusCode, 200);
    assert.deepEqual([...updated.response.registration.roles].sort(), ['auditor', 'user']);
    assert.deepEqual(updated.response.registration.data, { plan: 'silver' });
    assert.equal(updated.response.registration.id, r.id);
    assert.equal(updated.response.registration.insertInstant, r.insertInstant);

    const del = await inDefault.deleteRegistration(user.id, app.id);
    assert.equal(del.statusCode, 200);
    assert.equal((await failure(inDefault.retrieveRegistration(user.id, app.id))).statusCode, 404);
    assert.equal((await failure(inDefault.deleteRegistration(user.id, app.id))).statusCode, 404);
    assert.deepEqual((await inDefault.retrieveUser(user.id)).response.user.registrations ?? [], []);

    // With a user, register creates both in one request (FusionAuth's combined form).
    const address = email('combined');
    const both = await inDefault.register(null, {
      user: { email: address, password: 'compat password 1' },
      registration: { applicationId: app.id },
      skipVerification: true,
    });
    assert.equal(both.statusCode, 200);
    assert.equal(both.response.user.email, address);
    assert.match(both.response.user.id, UUID);
    assert.equal(both.response.user.password, undefined);
    assert.equal(both.response.registration.applicationId, app.id);
    assert.deepEqual(both.response.registration.roles, ['user'], 'the default role is granted');
    // All or nothing: a bad registration creates no user either.
    const lost = email('combined-bad');
    const bad = await failure(inDefault.register(null, { user: { email: lost }, registration: { applicationId: app.id, roles: ['nope'] } }));
    assert.equal(bad.statusCode, 400);
    assert.equal((await failure(inDefault.retrieveUserByEmail(lost))).statusCode, 404);

    // An application of another tenant is not one this user can register for.
    const appB = (await inB.createApplication(null, { application: { name: unique('reg app B') } })).response.application;
    const cross = await failure(client.register(both.response.user.id, { registration: { applicationId: appB.id } }));
    assert.equal(cross.statusCode, 400, JSON.stringify(cross.exception));
  });

  test('createGroup, createGroupMembers: {group} with roles, {members} by group id', async () => {
    const app = (await inDefault.createApplication(null, {
      application: { name: unique('group app'), roles: [{ name: 'reader' }, { name: 'writer' }] },
    })).response.application;
    const writer = app.roles.find((x) => x.name === 'writer');
    const name = unique('group');
    const created = await inDefault.createGroup(null, { group: { name, data: { color: 'green' } }, roleIds: [writer.id] });
    assert.equal(created.statusCode, 200);
    const g = created.response.group;
    assert.ok(g, 'response is wrapped as {group:{…}}');
    assert.match(g.id, UUID);
    assert.equal(g.name, name);
    assert.equal(g.tenantId, defaultTenantId);
    assert.deepEqual(g.data, { color: 'green' });
    assert.deepEqual(Object.keys(g.roles), [app.id], 'roles are keyed by application id');
    assert.deepEqual(g.roles[app.id].map((x) => x.id), [writer.id]);
    assert.equal(g.roles[app.id][0].name, 'writer');

    const dup = await failure(inDefault.createGroup(null, { group: { name } }));
    assert.equal(dup.statusCode, 400);
    assert.equal(dup.exception.fieldErrors['group.name'][0].code, '[duplicate]group.name');
    const badRole = await failure(inDefault.createGroup(null, { group: { name: unique('bad role group') }, roleIds: [randomUUID()] }));
    assert.equal(badRole.statusCode, 400);
    assert.equal((await inDefault.retrieveGroup(g.id)).response.group.name, name);

    const u1 = (await inDefault.createUser(null, { user: { email: email('member1') } })).response.user;
    const u2 = (await inDefault.createUser(null, { user: { email: email('member2') } })).response.user;
    const added = await inDefault.createGroupMembers({ members: { [g.id]: [{ userId: u1.id, data: { since: 2020 } }, { userId: u2.id }] } });
    assert.equal(added.statusCode, 200);
    const m = added.response.members;
    assert.ok(m, 'response is wrapped as {members:{groupId:[…]}}');
    assert.deepEqual(Object.keys(m), [g.id]);
    assert.deepEqual(m[g.id].map((x) => x.userId).sort(), [u1.id, u2.id].sort());
    for (const x of m[g.id]) {
      assert.match(x.id, UUID);
      assert.equal(typeof x.insertInstant, 'number');
    }
    assert.deepEqual(m[g.id].find((x) => x.userId === u1.id).data, { since: 2020 });

    const memberships = (await inDefault.retrieveUser(u1.id)).response.user.memberships;
    assert.equal(memberships.length, 1);
    assert.equal(memberships[0].groupId, g.id);
    assert.deepEqual(memberships[0].data, { since: 2020 });

    const unknownUser = await failure(inDefault.createGroupMembers({ members: { [g.id]: [{ userId: randomUUID() }] } }));
    assert.equal(unknownUser.statusCode, 400);
    const unknownGroup = await failure(inDefault.createGroupMembers({ members: { [randomUUID()]: [{ userId: u1.id }] } }));
    assert.equal(unknownGroup.statusCode, 400);
    // A user of another tenant cannot join this tenant's group.
    const other = (await inB.createUser(null, { user: { email: email('member-b') } })).response.user;
    const cross = await failure(client.createGroupMembers({ members: { [g.id]: [{ userId: other.id }] } }));
    assert.equal(cross.statusCode, 400, JSON.stringify(cross.exception));
  });

  test('importUsers: 200, existing hashes kept, registrations included, all or nothing', async () => {
    const app = (await inDefault.createApplication(null, {
      application: { name: unique('import app'), roles: [{ name: 'member' }] },
    })).response.application;
    // A salted-pbkdf2-hmac-sha256 hash computed here from FusionAuth's
    // documented algorithm: PBKDF2-HMAC-SHA256 over the base64-decoded salt,
    // 32 bytes, base64.
    const password = `imported ${randomUUID()}`;
    const salt = randomBytes(16).toString('base64');
    const factor = 1000;
    const hash = pbkdf2Sync(password, Buffer.from(salt, 'base64'), factor, 32, 'sha256').toString('base64');
    const id = randomUUID();
    const quietId = randomUUID();
    const address = email('import');
    const res = await inDefault.importUsers({
      users: [
        {
          id,
          email: address,
          password: hash,
          salt,
          factor,
          encryptionScheme: 'salted-pbkdf2-hmac-sha256',
          firstName: 'Imported',
          data: { source: 'legacy' },
          insertInstant: 1331449200000,
          active: true, // FusionAuth's import defaults active and verified to false
          verified: true,
          registrations: [{ applicationId: app.id, roles: ['member'], data: { legacy: true } }],
        },
        { id: quietId, email: email('import-nopw'), username: `imported-${randomUUID().slice(0, 8)}` },
      ],
      validateDbConstraints: true,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.response, undefined, 'FusionAuth answers an import with an empty body');

    const u = (await inDefault.retrieveUser(id)).response.user;
    assert.equal(u.email, address);
    assert.equal(u.tenantId, defaultTenantId);
    assert.equal(u.firstName, 'Imported');
    assert.deepEqual(u.data, { source: 'legacy' });
    assert.equal(u.insertInstant, 1331449200000, 'insertInstant is kept as imported');
    assert.equal(u.password, undefined);
    assert.equal(u.encryptionScheme, 'salted-pbkdf2-hmac-sha256');
    assert.equal(u.registrations.length, 1);
    assert.equal(u.registrations[0].applicationId, app.id);
    assert.deepEqual(u.registrations[0].roles, ['member']);
    const quiet = (await inDefault.retrieveUser(quietId)).response.user;
    assert.equal(quiet.active, false, 'active defaults to false on import, as in FusionAuth');
    assert.equal(quiet.verified, false, 'verified defaults to false on import, as in FusionAuth');

    // The imported hash is the password: a login with it succeeds.
    const login = await inDefault.login({ loginId: address, password, applicationId: app.id });
    assert.equal(login.statusCode, 200);
    assert.equal(login.response.user.id, id);
    assert.equal((await failure(inDefault.login({ loginId: address, password: 'not it at all', applicationId: app.id }))).statusCode, 404);

    // All or nothing: one bad user (a duplicate email) imports none.
    const fresh = email('import-fresh');
    const bad = await failure(inDefault.importUsers({
      users: [{ email: fresh }, { email: address.toUpperCase() }],
      validateDbConstraints: true,
    }));
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.exception.fieldErrors || bad.exception.generalErrors, JSON.stringify(bad.exception));
    assert.match(JSON.stringify(bad.exception), /\[duplicate\]/, 'the error is a duplicate');
    assert.equal((await failure(inDefault.retrieveUserByEmail(fresh))).statusCode, 404);

    const empty = await failure(inDefault.importUsers({ users: [] }));
    assert.equal(empty.statusCode, 400);
  });
});
