package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// forgot starts the forgot-password flow without email and returns the id.
func (e *usEnv) forgot(loginID string, headers ...string) string {
	e.t.Helper()
	r := e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": loginID, "sendForgotPasswordEmail": false}, headers...)
	if r.Status != 200 {
		e.t.Fatalf("forgot password %s: %d %s", loginID, r.Status, r.Body)
	}
	var body struct {
		ChangePasswordID string `json:"changePasswordId"`
	}
	r.JSON(e.t, &body)
	if body.ChangePasswordID == "" {
		e.t.Fatalf("forgot password answered no id: %s", r.Body)
	}
	return body.ChangePasswordID
}

// changeByID uses a change-password id anonymously.
func (e *usEnv) changeByID(id, pw string) *testutil.Response {
	e.t.Helper()
	return e.do("POST", "/api/user/change-password/"+id, "", map[string]any{"password": pw})
}

func (e *usEnv) changeByLogin(key, loginID, current, pw string) *testutil.Response {
	e.t.Helper()
	return e.do("POST", "/api/user/change-password", key, map[string]any{"loginId": loginID, "currentPassword": current, "password": pw})
}

func TestChangePasswordByLoginID(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := usStart(t, b)
		u := e.create(map[string]any{"email": "cp@example.com", "username": "cp", "password": "first password"})
		before := u["passwordLastUpdateInstant"]

		if r := e.changeByLogin("", "cp@example.com", "first password", "second password"); r.Status != 401 {
			t.Errorf("without a key: %d", r.Status)
		}
		// A key allowed only GET on users may not change passwords.
		r := e.do("POST", "/api/api-key", e.root, map[string]any{"apiKey": map[string]any{"permissions": map[string]any{
			"endpoints": map[string]any{"/api/user": []string{"GET"}}}}})
		var k struct {
			APIKey model.APIKey `json:"apiKey"`
		}
		r.JSON(t, &k)
		if r := e.changeByLogin(k.APIKey.Key, "cp@example.com", "first password", "second password"); r.Status != 401 {
			t.Errorf("with a key without the permission: %d", r.Status)
		}
		want400(t, "wrong current password", e.changeByLogin(e.root, "cp@example.com", "wrong password", "second password"), "[invalid]currentPassword")
		want400(t, "blank passwords", e.changeByLogin(e.root, "cp@example.com", "", ""), "[blank]password", "[blank]currentPassword")
		want400(t, "unknown login id", e.changeByLogin(e.root, "nobody@example.com", "first password", "second password"), "[invalid]loginId")
		want400(t, "weak new password", e.changeByLogin(e.root, "cp@example.com", "first password", "short"), "[tooShort]password")
		want400(t, "neither id nor login id", e.do("POST", "/api/user/change-password", e.root, map[string]any{"password": "whatever123"}), "[invalid]")
		want400(t, "no body", e.do("POST", "/api/user/change-password", e.root, nil), "[invalidJSON]")

		e.clock.Advance(time.Second)
		if r := e.changeByLogin(e.root, "CP", "first password", "second password"); r.Status != 200 || len(r.Body) != 0 {
			t.Fatalf("change by username: %d %s", r.Status, r.Body)
		}
		g := e.user("after change", e.do("GET", "/api/user/"+u["id"].(string), e.root, nil))
		if g["passwordLastUpdateInstant"] == before {
			t.Errorf("passwordLastUpdateInstant did not move")
		}
		want400(t, "old password no longer current", e.changeByLogin(e.root, "cp@example.com", "first password", "third password"), "[invalid]currentPassword")
		if r := e.changeByLogin(e.root, "cp@example.com", "second password", "third password"); r.Status != 200 {
			t.Errorf("change with the new password: %d %s", r.Status, r.Body)
		}
	})
}

func TestForgotAndChangePasswordByID(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := usStart(t, b)
		u := e.create(map[string]any{"email": "forgot@example.com", "password": "old password"})
		uid := u["id"].(string)

		want400(t, "blank login id", e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"sendForgotPasswordEmail": false}), "[blank]loginId")
		if r := e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": "nobody@example.com", "sendForgotPasswordEmail": false}); r.Status != 404 {
			t.Errorf("unknown user: %d", r.Status)
		}
		// Sending the email (the default) needs a template: without one the
		// feature is disabled, as in FusionAuth.
		e.patchTenant(e.defaultTenant(), map[string]any{"emailConfiguration": map[string]any{"forgotPasswordEmailTemplateId": nil}})
		if r := e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": "forgot@example.com"}); r.Status != 403 {
			t.Errorf("forgot password with email but no template: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", "/api/user/forgot-password", "", map[string]any{"loginId": "forgot@example.com", "sendForgotPasswordEmail": false}); r.Status != 401 {
			t.Errorf("forgot password without a key: %d", r.Status)
		}

		id := e.forgot("FORGOT@example.com")
		if g := e.user("retrieve by change-password id", e.do("GET", "/api/user?changePasswordId="+id, e.root, nil)); g["id"] != uid {
			t.Errorf("retrieve by change-password id: %v", g["id"])
		}
		if r := e.do("GET", "/api/user/change-password/"+id, "", nil); r.Status != 200 {
			t.Errorf("check the id: %d", r.Status)
		}
		want400(t, "weak password with the id", e.changeByID(id, "short"), "[tooShort]password")
		want400(t, "blank password with the id", e.changeByID(id, ""), "[blank]password")
		// A failed attempt does not use the id up.
		r := e.changeByID(id, "new password")
		if r.Status != 200 {
			t.Fatalf("change with the id: %d %s", r.Status, r.Body)
		}
		var res struct {
			OneTimePassword string `json:"oneTimePassword"`
		}
		r.JSON(t, &res)
		if res.OneTimePassword == "" {
			t.Errorf("no one-time password: %s", r.Body)
		}
		if r := e.changeByID(id, "newer password"); r.Status != 404 {
			t.Errorf("second use of the id: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/api/user/change-password/"+id, "", nil); r.Status != 404 {
			t.Errorf("check a used id: %d", r.Status)
		}
		if r := e.changeByLogin(e.root, "forgot@example.com", "new password", "newest password"); r.Status != 200 {
			t.Errorf("the password set with the id does not work: %d %s", r.Status, r.Body)
		}

		// The body form; a newer id replaces the older one.
		older := e.forgot("forgot@example.com")
		newer := e.forgot("forgot@example.com")
		if r := e.changeByID(older, "replaced password"); r.Status != 404 {
			t.Errorf("an id replaced by a newer one: %d", r.Status)
		}
		if r := e.do("POST", "/api/user/change-password", "", map[string]any{"changePasswordId": newer, "password": "body form password"}); r.Status != 200 {
			t.Errorf("change with the id in the body: %d %s", r.Status, r.Body)
		}

		// Expiry: the tenant's changePasswordIdTimeToLiveInSeconds (600 by default).
		id = e.forgot("forgot@example.com")
		e.clock.Advance(599 * time.Second)
		if r := e.do("GET", "/api/user/change-password/"+id, "", nil); r.Status != 200 {
			t.Errorf("id before expiry: %d", r.Status)
		}
		e.clock.Advance(2 * time.Second)
		if r := e.changeByID(id, "expired password"); r.Status != 404 {
			t.Errorf("expired id: %d", r.Status)
		}
		e.patchTenant(e.defaultTenant(), map[string]any{"externalIdentifierConfiguration": map[string]any{
			"changePasswordIdTimeToLiveInSeconds": 30, "changePasswordIdGenerator": map[string]any{"type": "randomDigits", "length": 12}}})
		id = e.forgot("forgot@example.com")
		if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
			t.Errorf("the tenant's generator gave %q", id)
		}
		e.clock.Advance(31 * time.Second)
		if r := e.changeByID(id, "expired password"); r.Status != 404 {
			t.Errorf("id past the tenant's 30s: %d", r.Status)
		}

		// A caller-chosen id, a template that makes email "sent", and a
		// deactivated user.
		r = e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": "forgot@example.com", "changePasswordId": "my-chosen-id", "sendForgotPasswordEmail": false})
		if r.Status != 200 || !strings.Contains(string(r.Body), "my-chosen-id") {
			t.Errorf("caller-chosen id: %d %s", r.Status, r.Body)
		}
		if r := e.changeByID("my-chosen-id", "chosen id password"); r.Status != 200 {
			t.Errorf("use the chosen id: %d %s", r.Status, r.Body)
		}
		// A tenant cannot name a template that does not exist, nor can a
		// named one be deleted through the API; one gone below it is a 400.
		gone := "0b0c9e8e-7a0e-4a4e-9a6a-0d1e2f3a4b5c"
		if r := e.do("POST", "/api/email/template/"+gone, e.root, map[string]any{"emailTemplate": map[string]any{"name": "Gone",
			"defaultSubject": "s", "defaultTextTemplate": "t"}}); r.Status != 200 {
			t.Fatalf("template: %d %s", r.Status, r.Body)
		}
		e.patchTenant(e.defaultTenant(), map[string]any{"emailConfiguration": map[string]any{"forgotPasswordEmailTemplateId": gone}})
		if err := e.st.InTx(context.Background(), func(tx *store.Tx) error { return tx.DeleteEmailTemplate(context.Background(), gone) }); err != nil {
			t.Fatal(err)
		}
		if r := e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": "forgot@example.com"}); r.Status != 400 ||
			!strings.Contains(string(r.Body), "[EmailTemplateMissing]") {
			t.Errorf("forgot password with a missing template: %d %s", r.Status, r.Body)
		}
		e.patchTenant(e.defaultTenant(), map[string]any{"emailConfiguration": map[string]any{"forgotPasswordEmailTemplateId": email.DefaultForgotPasswordTemplateID}})
		if r := e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": "forgot@example.com"}); r.Status != 200 {
			t.Errorf("forgot password with a template: %d %s", r.Status, r.Body)
		}
		id = e.forgot("forgot@example.com")
		if r := e.do("DELETE", "/api/user/"+uid, e.root, nil); r.Status != 200 {
			t.Fatal("deactivate")
		}
		if r := e.changeByID(id, "deactivated password"); r.Status != 404 {
			t.Errorf("change for a deactivated user: %d", r.Status)
		}
		if r := e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": "forgot@example.com", "sendForgotPasswordEmail": false}); r.Status != 404 {
			t.Errorf("forgot password of a deactivated user: %d", r.Status)
		}
		if r := e.changeByID("no-such-id", "whatever password"); r.Status != 404 {
			t.Errorf("unknown id: %d", r.Status)
		}
	})
}

func TestPasswordHistoryAndMinimumAge(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := usStart(t, b)
		e.patchTenant(e.defaultTenant(), map[string]any{
			"passwordValidationRules": map[string]any{"rememberPreviousPasswords": map[string]any{"enabled": true, "count": 3}},
			"minimumPasswordAge":      map[string]any{"enabled": true, "seconds": 60}})
		u := e.create(map[string]any{"email": "hist@example.com", "password": "password one"})
		path := "/api/user/" + u["id"].(string)

		want400(t, "change too soon", e.changeByLogin(e.root, "hist@example.com", "password one", "password two"), "[tooYoung]password")
		e.clock.Advance(61 * time.Second)
		want400(t, "reuse the current password", e.changeByLogin(e.root, "hist@example.com", "password one", "password one"), "[previouslyUsed]password")
		if r := e.changeByLogin(e.root, "hist@example.com", "password one", "password two"); r.Status != 200 {
			t.Fatalf("change: %d %s", r.Status, r.Body)
		}
		e.clock.Advance(61 * time.Second)
		if r := e.changeByLogin(e.root, "hist@example.com", "password two", "password three"); r.Status != 200 {
			t.Fatalf("change: %d %s", r.Status, r.Body)
		}
		e.clock.Advance(61 * time.Second)
		want400(t, "reuse one of the last 3", e.changeByLogin(e.root, "hist@example.com", "password three", "password one"), "[previouslyUsed]password")
		want400(t, "reuse by update", e.do("PATCH", path, e.root, map[string]any{"user": map[string]any{"password": "password two"}}), "[previouslyUsed]user.password")
		// A reset with a change-password id is not held back by the minimum age,
		// but still may not reuse.
		id := e.forgot("hist@example.com")
		want400(t, "reuse with an id", e.changeByID(id, "password two"), "[previouslyUsed]password")
		if r := e.changeByID(id, "password four"); r.Status != 200 {
			t.Errorf("reset: %d %s", r.Status, r.Body)
		}
		e.clock.Advance(61 * time.Second)
		// password one has left the last 3 (four, three, two).
		if r := e.changeByLogin(e.root, "hist@example.com", "password four", "password one"); r.Status != 200 {
			t.Errorf("a password older than the last 3: %d %s", r.Status, r.Body)
		}
	})
}

// Two nodes on one PostgreSQL: a change-password id used at once on both
// works exactly once, and so does the one-time password it answers.
func TestChangePasswordIDSingleUseAcrossNodes(t *testing.T) {
	t.Parallel()
	pg := testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)}
	clock := testutil.NewFakeClock()
	nodeA := testutil.StartServer(t, testutil.WithBackend(pg), testutil.WithClock(clock))
	nodeB := testutil.StartServer(t, testutil.WithBackend(pg), testutil.WithClock(clock))
	root := nodeA.Setup(t)
	r := nodeA.Do(t, "POST", "/api/user", root, map[string]any{"user": map[string]any{"email": "race@example.com", "password": "old password"}})
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	for round := range 5 {
		r := nodeB.Do(t, "POST", "/api/user/forgot-password", root, map[string]any{"loginId": "race@example.com", "sendForgotPasswordEmail": false})
		var body struct {
			ChangePasswordID string `json:"changePasswordId"`
		}
		r.JSON(t, &body)
		const tries = 8
		race := func(path, key string, body func(i int) map[string]any) (won *testutil.Response) {
			t.Helper()
			results := make([]*testutil.Response, tries)
			var wg sync.WaitGroup
			for i := range tries {
				node := nodeA
				if i%2 == 1 {
					node = nodeB
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = node.Do(t, "POST", path, key, body(i))
				}()
			}
			wg.Wait()
			var statuses []int
			for _, r := range results {
				statuses = append(statuses, r.Status)
				switch r.Status {
				case 200:
					won = r
				case 404:
				default:
					t.Errorf("%s: status %d %s", path, r.Status, r.Body)
				}
			}
			if n := len(statuses) - len(slices.DeleteFunc(statuses, func(s int) bool { return s == 200 })); n != 1 {
				t.Fatalf("round %d, %s: %d uses succeeded, want exactly 1", round, path, n)
			}
			return won
		}
		won := race("/api/user/change-password/"+body.ChangePasswordID, "", func(i int) map[string]any {
			return map[string]any{"password": fmt.Sprintf("password %d-%d", round, i)}
		})
		var changed struct {
			OneTimePassword string `json:"oneTimePassword"`
		}
		won.JSON(t, &changed)
		race("/api/login", root, func(int) map[string]any { return map[string]any{"oneTimePassword": changed.OneTimePassword} })
	}
}

// The password never appears in an answer, a log line, an audit entry or the
// database; nor does a two-factor secret or a change-password id at rest.
func TestPasswordsNeverLeak(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := usStart(t, b)
		secrets := []string{"Pw-Create-7f3a9", "Pw-Put-19c2e4", "Pw-Patch-8d1b7", "Pw-Change-2e9f0", "Pw-Reset-6a4c3", "TOTPSECRETxyz123-160bits"}
		var bodies []string
		keep := func(r *testutil.Response) *testutil.Response { bodies = append(bodies, string(r.Body)); return r }

		u := e.user("create", keep(e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": "leak@example.com",
			"password": secrets[0], "twoFactor": map[string]any{"methods": []any{map[string]any{"method": "authenticator", "secret": secrets[5]}}}}})))
		id := u["id"].(string)
		u["password"] = secrets[1]
		e.user("update", keep(e.do("PUT", "/api/user/"+id, e.root, map[string]any{"user": u})))
		e.user("patch", keep(e.do("PATCH", "/api/user/"+id, e.root, map[string]any{"user": map[string]any{"password": secrets[2]}})))
		// The user has a second factor: each change spends a trust token.
		ok := func(r *testutil.Response) (m map[string]any) {
			if keep(r).Status != 200 {
				t.Fatalf("step-up: %d %s", r.Status, r.Body)
			}
			r.JSON(t, &m)
			return m
		}
		trust := func() string {
			st := ok(e.do("POST", "/api/two-factor/start", e.root, map[string]any{"loginId": "leak@example.com"}))
			done := ok(e.do("POST", "/api/two-factor/login", e.root, map[string]any{"twoFactorId": st["twoFactorId"], "code": st["code"]}))
			return done["trustToken"].(string)
		}
		if r := keep(e.do("POST", "/api/user/change-password", e.root, map[string]any{"loginId": "leak@example.com",
			"currentPassword": secrets[2], "password": secrets[3], "trustToken": trust()})); r.Status != 200 {
			t.Fatalf("change: %d %s", r.Status, r.Body)
		}
		code := e.forgot("leak@example.com")
		if r := keep(e.do("POST", "/api/user/change-password/"+code, "", map[string]any{"password": secrets[4], "trustToken": trust()})); r.Status != 200 {
			t.Fatalf("reset: %d %s", r.Status, r.Body)
		}
		// Failed attempts log nothing of the password either.
		keep(e.changeByLogin(e.root, "leak@example.com", "Wrong-"+secrets[4], "x"))
		keep(e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": "leak@example.com", "password": secrets[4]}}))
		keep(e.do("GET", "/api/user/"+id, e.root, nil))
		keep(e.do("POST", "/api/user/search", e.root, map[string]any{"search": map[string]any{"queryString": "*"}}))

		var dump strings.Builder
		for _, q := range []string{"SELECT data || COALESCE(secrets_sealed, '') || password_hash FROM users",
			"SELECT code_hash || data FROM one_time_codes", "SELECT password_hash FROM user_password_history"} {
			rows, err := e.st.DB().Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s sql.NullString
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				dump.WriteString(s.String + "\n")
			}
			rows.Close()
		}
		places := map[string]string{
			"answers":  strings.Join(bodies, "\n"),
			"logs":     e.s.Stdout.String() + e.s.Stderr.String(),
			"audit":    e.auditText(),
			"database": dump.String(),
		}
		for where, text := range places {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("%s contain %q", where, s)
				}
			}
			if where != "answers" && strings.Contains(text, code) {
				t.Errorf("%s contain the change-password id", where)
			}
		}
		// The audit trail shows the changes without their values.
		audit := places["audit"]
		for _, want := range []string{"Created user [leak@example.com]", "Updated user [leak@example.com]",
			"Changed the password of user [leak@example.com]", "Started the forgot password flow"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit lacks %q", want)
			}
		}
		var n int
		if err := e.st.DB().QueryRow("SELECT COUNT(*) FROM audit_log WHERE target_id = $1", id).Scan(&n); err != nil || n < 6 {
			t.Errorf("%d audit entries for the user (%v), want one per change", n, err)
		}
	})
}

// Ending a user's sessions (a password change, here) ends the tokens issued
// before it for good, and only those: a sign-in right after the change, in
// the same second of the clock, gets tokens that live, although access
// tokens know their issue time to the second only.
func TestTokensIssuedRightAfterAPasswordChangeLive(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := usStart(t, b)
		e.create(map[string]any{"email": "same-second@example.com", "password": "first password"})
		login := func(pw string) string {
			t.Helper()
			r := e.do("POST", "/api/login", e.root, map[string]any{"loginId": "same-second@example.com", "password": pw})
			var body struct{ Token string }
			r.JSON(t, &body)
			if r.Status != 200 || body.Token == "" {
				t.Fatalf("login: %d %s", r.Status, r.Body)
			}
			return body.Token
		}
		validate := func(token string) int {
			return e.do("GET", "/api/jwt/validate", "", nil, "Authorization", "Bearer "+token).Status
		}
		e.clock.Set(time.Date(2026, 1, 2, 3, 4, 5, 400*int(time.Millisecond), time.UTC))
		before := login("first password")
		if r := e.changeByLogin(e.root, "same-second@example.com", "first password", "second password"); r.Status != 200 {
			t.Fatalf("change password: %d %s", r.Status, r.Body)
		}
		after := login("second password")
		if got := validate(before); got != 401 {
			t.Errorf("a token from before the change: %d, want 401", got)
		}
		if got := validate(after); got != 200 {
			t.Errorf("a token from right after the change: %d, want 200", got)
		}
	})
}
