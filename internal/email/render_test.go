package email

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// userWithout is template data as a flow builds it for a user without
// data, with a null member and a number.
func userWithout(t *testing.T) map[string]any {
	t.Helper()
	u, err := kit.ParseObject(`{"email":"a@example.com","firstName":"Ann","middleName":null,"age":42,"roles":[{"name":"admin"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"user": u, "tenant": map[string]any{"name": "Default"}}
}

// A missing value renders empty at any depth, also through null members,
// variables and parenthesised pipelines, in text and HTML; what exists
// renders as before. Seen failing before: {{.user.data.company}} for a user
// without data was "nil pointer evaluating interface {}.company".
func TestMissingValuesRenderEmpty(t *testing.T) {
	for _, c := range []struct {
		name, src, want string
	}{
		{"present", "{{.user.firstName}}", "Ann"},
		{"missing member", "[{{.user.company}}]", "[]"},
		{"missing object", "[{{.user.data.company}}]", "[]"},
		{"missing deeper", "[{{.user.data.address.city}}]", "[]"},
		{"null member", "[{{.user.middleName.first}}]", "[]"},
		{"missing top level", "[{{.application.name}}]", "[]"},
		{"if on missing", "{{if .user.data.vip}}vip{{else}}plain{{end}}", "plain"},
		{"eq on missing", `{{if eq .user.data.plan "pro"}}pro{{else}}basic{{end}}`, "basic"},
		{"with on missing", "{{with .user.data.company}}{{.name}}{{else}}none{{end}}", "none"},
		{"range over missing", "{{range .user.data.items}}x{{else}}empty{{end}}", "empty"},
		{"variable", "{{$u := .user}}[{{$u.data.company}}]{{$u.firstName}}", "[]Ann"},
		{"pipeline", "[{{(.user).data.company}}]", "[]"},
		{"argument", `{{printf "%s|%v" .user.firstName .user.data.company}}`, "Ann|<nil>"},
		{"range element", "{{range .user.roles}}{{.name}}{{.data.x}}{{end}}", "admin"},
		{"number method", "{{.user.age.String}}", "42"},
		{"index", "{{(index .user.roles 0).name}}", "admin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl := &model.EmailTemplate{DefaultSubject: c.src, DefaultTextTemplate: c.src, DefaultHTMLTemplate: c.src}
			r, err := render(context.Background(), tpl, "", userWithout(t))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if r.text != c.want || r.html != strings.ReplaceAll(c.want, "<nil>", "&lt;nil&gt;") {
				t.Fatalf("text %q html %q, want %q", r.text, r.html, c.want)
			}
		})
	}
}

// A field of a value that cannot have fields is still an error, which
// names the field.
func TestFieldOfScalarIsAnError(t *testing.T) {
	tpl := &model.EmailTemplate{DefaultSubject: "s", DefaultTextTemplate: "Hi {{.user.email.domain}}"}
	_, err := render(context.Background(), tpl, "", userWithout(t))
	var rerr *renderError
	if !errors.As(err, &rerr) || rerr.Limit || !strings.Contains(rerr.Message, "can't evaluate field domain in type string") {
		t.Fatalf("error %v", err)
	}
}

// A template's run is bounded: loops by steps, template calls by count,
// output and built strings by size, time by a deadline and the caller's
// context; each stop is a limit error naming the part. A template within
// the limits renders. Seen failing before: {{range 200000000}}{{end}} ran
// for seconds, and a cancelled preview ran on.
func TestTemplateLimits(t *testing.T) {
	for _, c := range []struct {
		name, text, html string
		limit            bool
		want             string // in the message; a loop may meet the deadline first on a busy machine
	}{
		{name: "long loop", text: "{{range 200000000}}{{end}}x", limit: true, want: "loop iterations|did not finish"},
		{name: "nested loops", text: "{{range 1000}}{{range 1000}}{{end}}{{end}}", limit: true, want: "loop iterations|did not finish"},
		{name: "loop in html", html: "<p>{{range 10000000000}}{{end}}</p>", limit: true, want: "loop iterations|did not finish"},
		{name: "recursion", text: `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, limit: true, want: "called templates|did not finish"},
		{name: "output", text: `{{range 100000}}{{printf "%09999d" 1}}{{end}}`, limit: true, want: "bytes"},
		{name: "growing variable", text: `{{$x := "ab"}}{{range 64}}{{$x = printf "%s%s" $x $x}}{{end}}`, want: "more than"},
		{name: "growing escape", text: `{{$x := "<>"}}{{range 64}}{{$x = html $x $x}}{{end}}`, want: "more than"},
		{name: "within limits", text: "{{range 1000}}.{{end}}", html: "<p>{{range .user.roles}}{{.name}}{{end}}</p>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl := &model.EmailTemplate{DefaultSubject: "s", DefaultTextTemplate: c.text, DefaultHTMLTemplate: c.html}
			start := time.Now()
			_, err := render(context.Background(), tpl, "", userWithout(t))
			if took := time.Since(start); took > 3*renderTimeout {
				t.Errorf("took %v", took)
			}
			var rerr *renderError
			if c.want == "" {
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				return
			}
			if !errors.As(err, &rerr) || rerr.Limit != c.limit || !containsAny(rerr.Message, strings.Split(c.want, "|")) {
				t.Fatalf("error %#v, want a limit=%v error with %q", err, c.limit, c.want)
			}
			if b, _ := json.Marshal(rerr.fieldError()); !strings.Contains(string(b), `"[invalid]emailTemplate.default`) {
				t.Fatalf("answer %s", b)
			}
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// A run stops when its context ends (a preview whose client is gone) and at
// its deadline.
func TestTemplateStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tpl := &model.EmailTemplate{DefaultSubject: "s", DefaultTextTemplate: `{{range 50000}}{{end}}`}
	_, err := render(ctx, tpl, "", nil)
	var rerr *renderError
	if !errors.As(err, &rerr) || !rerr.Limit || !strings.Contains(rerr.Message, "request ended") {
		t.Fatalf("cancelled: %v", err)
	}
	// A deadline that passed stops it too.
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err = render(ctx, tpl, "", nil); !errors.As(err, &rerr) || !rerr.Limit || !strings.Contains(rerr.Message, "did not finish") {
		t.Fatalf("past deadline: %v", err)
	}
}

// The localized parts follow the recipient's languages in order, by locale
// then by language.
func TestLocaleOf(t *testing.T) {
	tpl := &model.EmailTemplate{LocalizedSubjects: map[string]string{"de": "x", "fr_CA": "y"}}
	for _, c := range []struct {
		langs []string
		want  string
	}{
		{nil, ""}, {[]string{"en"}, ""}, {[]string{"de"}, "de"}, {[]string{"de_AT"}, "de"}, {[]string{"en", "fr_CA", "de"}, "fr_CA"},
		{[]string{"fr"}, ""}, {[]string{"de-CH"}, "de"},
	} {
		if got := localeOf(tpl, c.langs); got != c.want {
			t.Errorf("%v: %q, want %q", c.langs, got, c.want)
		}
	}
}

// A flow's error never carries its secret values, which text/template
// quotes in some errors.
func TestRedactValues(t *testing.T) {
	data := map[string]any{"changePasswordId": "s3cret-id-value", "code": "123456", "baseURL": "https://latch.example"}
	tpl := &model.EmailTemplate{DefaultSubject: "s", DefaultTextTemplate: "{{range .changePasswordId}}{{end}}"}
	_, err := render(context.Background(), tpl, "", data)
	var rerr *renderError
	if !errors.As(err, &rerr) || !strings.Contains(rerr.Message, "s3cret-id-value") {
		t.Fatalf("the case this guards against no longer happens: %v", err)
	}
	if got := redactValues(rerr.Message, data); strings.Contains(got, "s3cret-id-value") || !strings.Contains(got, "[redacted]") {
		t.Fatalf("redacted: %q", got)
	}
}
