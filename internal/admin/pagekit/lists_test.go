package pagekit

import "testing"

func TestPlain(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"[user.email] is not a valid email address.", "Email is not a valid email address."},
		{"[tenant.passwordValidationRules.maxLength] must not be less than minLength.", "Max length must not be less than minLength."},
		{"[application.oauthConfiguration.deviceVerificationURL] is required.", "Device verification URL is required."},
		{"The value of [apiKey.expirationInstant] is in the past.", "The value of expiration instant is in the past."},
		{"[user.twoFactor.methods[0].secret] is too short.", "Secret is too short."},
		{"[users[2]] is not an object.", "Users is not an object."},
		{"The key [abc] and [x] stay.", "The key [abc] and [x] stay."},
	} {
		if got := Plain(c.in); got != c.want {
			t.Errorf("Plain(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
