package model_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/latchid/latch/internal/model"
)

// jsonEqual compares two JSON texts as values.
func jsonEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON %s: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

func TestErrorsJSONShape(t *testing.T) {
	cases := []struct {
		name string
		errs *model.Errors
		want string
	}{
		{"field error",
			new(model.Errors).Field("user.email", "blank", "An email address is required."),
			`{"fieldErrors":{"user.email":[{"code":"[blank]user.email","message":"An email address is required."}]}}`},
		{"two errors on one field",
			new(model.Errors).Field("user.password", "blank", "a").Field("user.password", "tooShort", "b"),
			`{"fieldErrors":{"user.password":[{"code":"[blank]user.password","message":"a"},{"code":"[tooShort]user.password","message":"b"}]}}`},
		{"general error",
			new(model.Errors).General("LastKeyManagerKey", "m"),
			`{"generalErrors":[{"code":"[LastKeyManagerKey]","message":"m"}]}`},
		{"both",
			new(model.Errors).General("invalid", "Your JSON was invalid").Field("user.username", "duplicate", "taken"),
			`{"generalErrors":[{"code":"[invalid]","message":"Your JSON was invalid"}],
			  "fieldErrors":{"user.username":[{"code":"[duplicate]user.username","message":"taken"}]}}`},
		{"with data",
			&model.Errors{GeneralErrors: []model.ErrorItem{{Code: "[x]", Message: "m", Data: map[string]any{"n": 1.0}}}},
			`{"generalErrors":[{"code":"[x]","message":"m","data":{"n":1}}]}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.errs)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// FusionAuth's own error examples (copied from the reference,
// shared/reference/fusionauth/examples/_legacy-site-docs/errors.json and
// examples/errors/requires-trust-token-response.json) decode into Errors and
// encode back unchanged.
func TestErrorsMatchFusionAuthExamples(t *testing.T) {
	examples := []string{`{
  "generalErrors": [{"code": "[invalid]", "message": "Your JSON was invalid"}],
  "fieldErrors": {
    "user.username": [{"code": "[duplicate]user.username", "message": "A User with username = [neo] already exists."}]
  }
}`, `{
  "generalErrors": [{
    "code": "[TrustTokenRequired]",
    "message": "This request requires a Trust Token. Use the Start Two-Factor API to obtain a Trust Token required to complete this request."
  }]
}`}
	for _, example := range examples {
		var e model.Errors
		if err := json.Unmarshal([]byte(example), &e); err != nil {
			t.Fatal(err)
		}
		again, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, again, example) {
			t.Errorf("example does not survive a round trip:\n got %s\nwant %s", again, example)
		}
	}
}

func TestErrorsAsError(t *testing.T) {
	var empty model.Errors
	if empty.Err() != nil || (*model.Errors)(nil).Err() != nil {
		t.Error("empty Errors is an error")
	}
	err := fmt.Errorf("create key: %w", model.FieldError("apiKey.name", "duplicate", "taken"))
	var verrs *model.Errors
	if !errors.As(err, &verrs) || verrs.FieldErrors["apiKey.name"][0].Code != "[duplicate]apiKey.name" {
		t.Errorf("wrapped field error not found: %v", err)
	}
	if got := model.GeneralError("LastKeyManagerKey", "m").Error(); got != "validation failed: [LastKeyManagerKey]" {
		t.Errorf("Error() = %q", got)
	}
	multi := new(model.Errors).Field("b.x", "blank", "").Field("a.y", "invalid", "").General("g", "")
	if got := multi.Error(); got != "validation failed: [g], [invalid]a.y, [blank]b.x" {
		t.Errorf("Error() = %q: want general first, then fields in order", got)
	}
	if !errors.Is(model.NotFoundf("key %s", "k1"), model.ErrNotFound) {
		t.Error("NotFoundf does not wrap ErrNotFound")
	}
}

func TestHasFieldError(t *testing.T) {
	refused := fmt.Errorf("create user: %w", new(model.Errors).Field("user.email", "duplicate", "").Field("user.username", "blank", ""))
	for _, c := range []struct {
		name        string
		err         error
		field, kind string
		want        bool
	}{
		{"wrapped", refused, "user.email", "duplicate", true},
		{"another kind", refused, "user.username", "duplicate", false},
		{"another field", refused, "user.id", "duplicate", false},
		{"not a validation error", errors.New("user.email duplicate"), "user.email", "duplicate", false},
		{"nil", nil, "user.email", "duplicate", false},
	} {
		if got := model.HasFieldError(c.err, c.field, c.kind); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
