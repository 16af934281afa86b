package userimport_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/identity/userimport"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/testutil"
)

var actor = kit.Actor{Type: kit.ActorSystem}

// fixture is what imports refer to: the default tenant, an application of
// it with a role, a group of it, and a group of a second tenant.
type fixture struct {
	svc                           *services.Set
	tenant, other, app, group, og string
}

func newFixture(t *testing.T, b testutil.Backend) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{svc: testutil.Services(t, b)}
	ts, err := f.svc.Tenancy.Tenants(ctx, kit.AllTenants)
	if err != nil || len(ts) != 1 {
		t.Fatalf("tenants: %v %v", ts, err)
	}
	f.tenant = ts[0].ID
	app, err := f.svc.Tenancy.CreateApplication(ctx, actor, kit.AllTenants, "", kit.Object{"application": kit.Object{
		"name": "Forum", "tenantId": f.tenant, "roles": []any{kit.Object{"name": "user"}}}})
	if err != nil {
		t.Fatal(err)
	}
	f.app = app.ID
	g, err := f.svc.Groups.CreateGroup(ctx, actor, kit.AllTenants, "", &groups.GroupRequest{Group: model.Group{Name: "Readers", TenantID: f.tenant}})
	if err != nil {
		t.Fatal(err)
	}
	f.group = g.ID
	return f
}

// secondTenant adds a tenant with a group: an import must then name its
// users' tenant.
func (f *fixture) secondTenant(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	tn, err := f.svc.Tenancy.CreateTenant(ctx, actor, "", kit.Object{"tenant": kit.Object{"name": "Second"}})
	if err != nil {
		t.Fatal(err)
	}
	f.other = tn.ID
	g, err := f.svc.Groups.CreateGroup(ctx, actor, kit.AllTenants, "", &groups.GroupRequest{Group: model.Group{Name: "Far", TenantID: f.other}})
	if err != nil {
		t.Fatal(err)
	}
	f.og = g.ID
}

func (f *fixture) importBody(ctx context.Context, body string) (int, error) {
	return f.svc.UserImport.ImportUsersFrom(ctx, actor, kit.AllTenants, strings.NewReader(body))
}

// codes lists an error's field error codes by field, and its general
// error codes under "".
func codes(t *testing.T, err error) map[string][]string {
	t.Helper()
	var verrs *model.Errors
	if !errors.As(err, &verrs) {
		t.Fatalf("not validation errors: %v", err)
	}
	out := map[string][]string{}
	for f, items := range verrs.FieldErrors {
		for _, it := range items {
			out[f] = append(out[f], it.Code)
		}
	}
	for _, it := range verrs.GeneralErrors {
		out[""] = append(out[""], it.Code)
	}
	return out
}

// message is the message of a field's first error.
func message(err error, field string) string {
	var verrs *model.Errors
	if !errors.As(err, &verrs) || len(verrs.FieldErrors[field]) == 0 {
		return ""
	}
	return verrs.FieldErrors[field][0].Message
}

func users(list ...string) string { return `{"users":[` + strings.Join(list, ",") + `]}` }

// Malformed JSON anywhere in the stream, or a body that is not one object,
// fails the whole request with kit.ErrStreamJSON and what was wrong; nothing
// is imported.
func TestImportMalformedJSON(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		ctx := context.Background()
		for _, c := range []struct{ name, body, says string }{
			{"empty", ``, "required"},
			{"an array", `[]`, "must be a JSON object"},
			{"cut short", `{"users":[{"email":"a@example.com"}`, "EOF"},
			{"cut inside a user", `{"users":[{"email":"a@exa`, "EOF"},
			{"a trailing comma", `{"users":[{"email":"a@example.com",}]}`, "invalid character"},
			{"trailing data", users(`{"email":"a@example.com"}`) + ` {}`, ""},
			{"a bad token after valid users", users(`{"email":"a@example.com"}`, `{"email":"b@example.com"}`, `nul`), ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				n, err := f.importBody(ctx, c.body)
				if !errors.Is(err, kit.ErrStreamJSON) || n != 0 {
					t.Fatalf("%d, %v: want ErrStreamJSON", n, err)
				}
				if !strings.Contains(err.Error(), c.says) {
					t.Errorf("%v does not say %q", err, c.says)
				}
			})
		}
		if got := countUsers(t, f); got != 0 {
			t.Errorf("%d users imported", got)
		}
	})
}

// Validation: each problem is a field error naming the user by its index,
// and nothing is imported while any remains.
func TestImportValidation(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		ctx := context.Background()
		id := uuid.NewString()
		regID, memID := uuid.NewString(), uuid.NewString()
		big := `{"email":"big@example.com","data":{"blob":"` + strings.Repeat("x", userimport.MaxImportUserBytes) + `"}}`
		for _, c := range []struct {
			name string
			body string
			want map[string][]string
			// message: a field whose first message must be the one given.
			field, message string
		}{
			{"no users", `{}`, map[string][]string{"users": {"[missing]users"}}, "", ""},
			{"users not a list", `{"users":"all"}`, map[string][]string{"users": {"[invalid]users"}}, "", ""},
			{"no user in the list", `{"users":[]}`, map[string][]string{"users": {"[blank]users"}}, "", ""},
			{"a user not an object", users(`{"email":"a@example.com"}`, `5`),
				map[string][]string{"users[1]": {"[invalid]users[1]"}}, "users[1]", "[users[1]] must be a JSON object."},
			{"a member of the wrong type", users(`{"email":5}`),
				map[string][]string{"users[0].email": {"[invalid]users[0].email"}}, "", ""},
			{"flags and instants of the wrong type", users(`{"email":"a@example.com","active":"yes","insertInstant":"now"}`),
				map[string][]string{"users[0].active": {"[invalid]users[0].active"}, "users[0].insertInstant": {"[invalid]users[0].insertInstant"}},
				"users[0].active", "[users[0].active] must be true or false."},
			{"a user id not a UUID", users(`{"id":"x","email":"a@example.com"}`),
				map[string][]string{"users[0].id": {"[invalid]users[0].id"}}, "", ""},
			{"no login id", users(`{"firstName":"A"}`), map[string][]string{"users[0].email": {"[blank]users[0].email"}}, "", ""},
			{"a case variant of a request member", `{"Users":[]}`,
				map[string][]string{"Users": {"[invalid]Users"}}, "", ""},
			{"request members of the wrong type", `{"validateDbConstraints":"yes","encryptionScheme":"rot13","factor":-1,"users":[{"email":"a@example.com"}]}`,
				map[string][]string{"validateDbConstraints": {"[invalid]validateDbConstraints"}, "encryptionScheme": {"[invalid]encryptionScheme"},
					"factor": {"[invalid]factor"}}, "", ""},

			// Duplicates within the batch.
			{"the same id twice", users(`{"id":"`+id+`","email":"a@example.com"}`, `{"id":"`+strings.ToUpper(id)+`","email":"b@example.com"}`),
				map[string][]string{"users[1].id": {"[duplicate]users[1].id"}}, "users[1].id", "[users[1].id] is also the id of users[0]."},
			{"the same email twice, in other case", users(`{"email":"a@example.com"}`, `{"email":"b@example.com"}`, `{"email":"A@Example.com"}`),
				map[string][]string{"users[2].email": {"[duplicate]users[2].email"}}, "users[2].email", "[users[2].email] is also the email of users[0]."},
			{"an email that is another's username", users(`{"username":"a@example.com"}`, `{"email":"a@example.com"}`),
				map[string][]string{"users[1].email": {"[duplicate]users[1].email"}}, "users[1].email", "[users[1].email] is also the username of users[0]."},
			{"a username that looks like another's", users(`{"username":"paypal"}`, `{"username":"p\u0251yp\u0251l"}`),
				map[string][]string{"users[1].username": {"[duplicate]users[1].username"}}, "users[1].username",
				"[users[1].username] looks like the username of users[0] in other letters."},
			{"a user's own email as username", users(`{"email":"a@example.com","username":"a@example.com"}`), nil, "", ""},
			{"the same registration id twice", users(
				`{"email":"a@example.com","registrations":[{"id":"`+regID+`","applicationId":"`+f.app+`"}]}`,
				`{"email":"b@example.com","registrations":[{"id":"`+regID+`","applicationId":"`+f.app+`"}]}`),
				map[string][]string{"users[1].registrations[0].id": {"[duplicate]users[1].registrations[0].id"}}, "users[1].registrations[0].id",
				"[users[1].registrations[0].id] is also the id of users[0].registrations[0]."},
			{"one application twice for a user", users(`{"email":"a@example.com","registrations":[{"applicationId":"` + f.app + `"},{"applicationId":"` + f.app + `"}]}`),
				map[string][]string{"users[0].registrations[1].applicationId": {"[duplicate]users[0].registrations[1].applicationId"}}, "", ""},
			{"the same membership id twice", users(
				`{"email":"a@example.com","memberships":[{"id":"`+memID+`","groupId":"`+f.group+`"}]}`,
				`{"email":"b@example.com","memberships":[{"id":"`+memID+`","groupId":"`+f.group+`"}]}`),
				map[string][]string{"users[1].memberships[0].id": {"[duplicate]users[1].memberships[0].id"}}, "", ""},
			{"one group twice for a user", users(`{"email":"a@example.com","memberships":[{"groupId":"` + f.group + `"},{"groupId":"` + f.group + `","data":[]}]}`),
				map[string][]string{"users[0].memberships[1].groupId": {"[duplicate]users[0].memberships[1].groupId"}}, "", ""},

			// What a user holds, and references.
			{"a hash scheme without a hash", users(`{"email":"a@example.com","encryptionScheme":"bcrypt"}`),
				map[string][]string{"users[0].password": {"[blank]users[0].password"}}, "", ""},
			{"a bcrypt hash whose cost is not the factor", users(`{"email":"a@example.com","encryptionScheme":"bcrypt","factor":12,` +
				`"password":"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}`),
				map[string][]string{"users[0].factor": {"[invalid]users[0].factor"}}, "users[0].factor", "[users[0].factor] is 12 but the bcrypt hash has cost 10."},
			{"recovery codes", users(`{"email":"a@example.com","twoFactor":{"recoveryCodes":["x"]}}`),
				map[string][]string{"users[0].twoFactor.recoveryCodes": {"[invalid]users[0].twoFactor.recoveryCodes", "[invalid]users[0].twoFactor.recoveryCodes"}}, "", ""},
			{"an application that does not exist", users(`{"email":"a@example.com","registrations":[{"applicationId":"` + uuid.NewString() + `"}]}`),
				map[string][]string{"users[0].registrations[0].applicationId": {"[invalid]users[0].registrations[0].applicationId"}}, "", ""},
			{"a role the application does not define", users(`{"email":"a@example.com","registrations":[{"applicationId":"` + f.app + `","roles":["user","boss"]}]}`),
				map[string][]string{"users[0].registrations[0].roles": {"[invalid]users[0].registrations[0].roles"}}, "users[0].registrations[0].roles",
				"The application does not define the roles boss."},
			{"a group that does not exist", users(`{"email":"a@example.com","memberships":[{"groupId":"` + uuid.NewString() + `"}]}`),
				map[string][]string{"users[0].memberships[0].groupId": {"[invalid]users[0].memberships[0].groupId"}}, "", ""},

			// Per-user limits.
			{"a user larger than the User API takes", users(`{"email":"a@example.com"}`, big),
				map[string][]string{"users[1]": {"[tooLarge]users[1]"}}, "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				n, err := f.importBody(ctx, c.body)
				if c.want == nil {
					if err != nil {
						t.Fatalf("%v", err)
					}
					if n != 1 {
						t.Fatalf("imported %d", n)
					}
					return
				}
				if err == nil {
					t.Fatalf("imported %d", n)
				}
				if got := codes(t, err); !reflect.DeepEqual(got, c.want) {
					t.Errorf("errors %v\nwant %v", got, c.want)
				}
				if c.field != "" {
					if got := message(err, c.field); got != c.message {
						t.Errorf("message %q\nwant %q", got, c.message)
					}
				}
			})
		}
		if got := countUsers(t, f); got != 1 {
			t.Errorf("%d users stored, want the one valid import's", got)
		}
	})
}

// Validation stops after 1000 errors, and a request of more users than one
// import takes is refused as a whole.
func TestImportLimits(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		ctx := context.Background()
		bad := make([]string, 1200)
		for i := range bad {
			bad[i] = `{"firstName":"no login id"}`
		}
		_, err := f.importBody(ctx, users(bad...))
		got := codes(t, err)
		if len(got) != 1001 || !slices.Equal(got[""], []string{"[TooManyErrors]"}) || got["users[999].email"] == nil || got["users[1000].email"] != nil {
			t.Errorf("%d fields, general %v", len(got), got[""])
		}
		if b.Name != "sqlite" || testing.Short() {
			return // the stream is read before the store is: once is enough
		}
		var sb strings.Builder
		sb.WriteString(`{"users":[`)
		for i := range userimport.MaxImportUsers + 1 {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"username":"u%d"}`, i)
		}
		sb.WriteString(`]}`)
		_, err = f.importBody(ctx, sb.String())
		if got := codes(t, err); !reflect.DeepEqual(got, map[string][]string{"users": {"[tooMany]users"}}) {
			t.Errorf("too many users: %v", got)
		}
		if n := countUsers(t, f); n != 0 {
			t.Errorf("%d users stored", n)
		}
	})
}

// A user's tenant: the only one, or the one named; with two tenants an
// unnamed one is [TenantIdRequired], and references must be of the user's
// tenant.
func TestImportTenants(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		f.secondTenant(t)
		ctx := context.Background()
		for _, c := range []struct {
			name, body string
			want       map[string][]string
		}{
			{"no tenant named", users(`{"email":"a@example.com"}`), map[string][]string{"": {"[TenantIdRequired]"}}},
			{"a tenant that does not exist", users(`{"email":"a@example.com","tenantId":"` + uuid.NewString() + `"}`),
				map[string][]string{"users[0].tenantId": {"[invalid]users[0].tenantId"}}},
			{"a group of another tenant", users(`{"email":"a@example.com","tenantId":"` + f.tenant + `","memberships":[{"groupId":"` + f.og + `"}]}`),
				map[string][]string{"users[0].memberships[0].groupId": {"[invalid]users[0].memberships[0].groupId"}}},
			{"an application of another tenant", users(`{"email":"a@example.com","tenantId":"` + f.other + `","registrations":[{"applicationId":"` + f.app + `"}]}`),
				map[string][]string{"users[0].registrations[0].applicationId": {"[invalid]users[0].registrations[0].applicationId"}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.importBody(ctx, c.body)
				if got := codes(t, err); !reflect.DeepEqual(got, c.want) {
					t.Errorf("errors %v\nwant %v", got, c.want)
				}
			})
		}
		// The same email in two tenants is two users.
		n, err := f.importBody(ctx, users(`{"email":"a@example.com","tenantId":"`+f.tenant+`"}`, `{"email":"a@example.com","tenantId":"`+f.other+`"}`))
		if err != nil || n != 2 {
			t.Fatalf("%d, %v", n, err)
		}
	})
}

// An import is stored whole: hashes as given, plaintext hashed, its
// registrations and memberships; importing it again finds every stored
// duplicate, whether checked first (validateDbConstraints) or met by the
// unique indexes.
func TestImportWritesAndFindsStoredDuplicates(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		ctx := context.Background()
		id1, id2, reg, mem := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
		batch := func(validate bool) string {
			return fmt.Sprintf(`{"validateDbConstraints":%t,"users":[`+
				`{"id":%q,"email":"alice@example.com","password":"correct horse","active":true,`+
				`"registrations":[{"id":%q,"applicationId":%q,"roles":["user"]}],"memberships":[{"id":%q,"groupId":%q,"data":{"n":1.50}}]},`+
				`{"id":%q,"username":"bob@example.com","encryptionScheme":"bcrypt","password":"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}]}`,
				validate, id1, reg, f.app, mem, f.group, id2)
		}
		n, err := f.importBody(ctx, batch(false))
		if err != nil || n != 2 {
			t.Fatalf("import: %d, %v", n, err)
		}
		rd := f.svc.Store().Read()
		alice, err := rd.UserRowByID(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		h, err := password.Decode(alice.PasswordHash)
		if err != nil || !alice.Active || alice.TenantID != f.tenant {
			t.Fatalf("alice: %+v (%v)", alice, err)
		}
		if ok, err := password.Check(h, "correct horse"); err != nil || !ok {
			t.Errorf("alice's plaintext password was not hashed: %v", err)
		}
		bob, err := rd.UserRowByID(ctx, id2)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := password.Decode(bob.PasswordHash); err != nil || h.Scheme != password.SchemeBcrypt || h.Factor != 10 {
			t.Errorf("bob's bcrypt hash: %+v (%v)", h, err)
		}
		members, err := f.svc.Groups.Memberships(ctx, nil, []string{id1})
		if err != nil || len(members[id1]) != 1 || members[id1][0].ID != mem {
			t.Errorf("memberships: %v (%v)", members, err)
		}

		stored := map[string][]string{
			"users[0].id": {"[duplicate]users[0].id"}, "users[1].id": {"[duplicate]users[1].id"},
			"users[0].email": {"[duplicate]users[0].email"}, "users[1].username": {"[duplicate]users[1].username"},
			"users[0].registrations[0].id": {"[duplicate]users[0].registrations[0].id"},
			"users[0].memberships[0].id":   {"[duplicate]users[0].memberships[0].id"},
		}
		for _, validate := range []bool{true, false} {
			_, err := f.importBody(ctx, batch(validate))
			if got := codes(t, err); !reflect.DeepEqual(got, stored) {
				t.Errorf("again, validateDbConstraints %t: %v\nwant %v", validate, got, stored)
			}
		}
		// A new user whose email is a stored username is found either way.
		for _, validate := range []bool{true, false} {
			_, err := f.importBody(ctx, fmt.Sprintf(`{"validateDbConstraints":%t,"users":[{"email":"BOB@example.com"}]}`, validate))
			if err == nil || message(err, "users[0].email") != "Another user of the tenant has this as their username." {
				t.Errorf("validateDbConstraints %t: %v", validate, err)
			}
		}
		if got := countUsers(t, f); got != 2 {
			t.Errorf("%d users stored", got)
		}
	})
}

func countUsers(t *testing.T, f *fixture) int {
	t.Helper()
	var n int
	if err := f.svc.Store().DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
