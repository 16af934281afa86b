package pagekit

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// The token lifetimes, refresh-token policies and revocation policy of a
// jwtConfiguration, as the application and tenant pages both edit them. Inputs are named after
// the members they set, so that a refusal of tenancy marks its input.

// UsagePolicies are how often a refresh token may be used, FusionAuth's names.
var UsagePolicies = []Option{{Value: "Reusable", Label: "Reusable until it expires"},
	{Value: "OneTimeUse", Label: "One use: each refresh returns a new refresh token"}}

// ExpirationPolicies are when a refresh token expires, FusionAuth's names.
var ExpirationPolicies = []Option{{Value: "Fixed", Label: "A fixed lifetime from sign-in"},
	{Value: "SlidingWindow", Label: "Sliding: each use starts a new lifetime"},
	{Value: "SlidingWindowWithMaximumLifetime", Label: "Sliding, up to a maximum lifetime from sign-in"}}

// revocations are the refreshTokenRevocationPolicy members Latch applies,
// with what each revokes on. onOneTimeTokenReuse is not offered: a reused
// one-time token always ends its session in Latch.
var revocations = []Option{
	{Value: "onLoginPrevented", Label: "A failed-sign-in lockout: the user's refresh tokens are revoked"},
	{Value: "onPasswordChanged", Label: "A password change: the user's refresh tokens are revoked"},
	{Value: "onMultiFactorEnable", Label: "Two-factor authentication turned on: the user's refresh tokens are revoked"},
}

// Revocation is one revocation policy checkbox, as stored or as entered.
type Revocation struct {
	Option
	On bool
}

// TokenForm is the lifetimes and policies, as stored or as entered: numbers
// stay text, so that a bad one is shown back as typed. Invalid marks the
// inputs (by name) a refusal names.
type TokenForm struct {
	TTL, RefreshTTL               string
	UsagePolicy, ExpirationPolicy string
	MaxLifetime, GracePeriod      string
	Revocations                   []Revocation
	Invalid                       map[string]bool
}

// TokenFormOf is the stored settings.
func TokenFormOf(j model.JWTConfiguration) TokenForm {
	rp := j.RefreshTokenRevocationPolicy
	stored := map[string]bool{"onLoginPrevented": rp.OnLoginPrevented, "onPasswordChanged": rp.OnPasswordChanged,
		"onMultiFactorEnable": rp.OnMultiFactorEnable}
	return TokenForm{TTL: strconv.Itoa(j.TimeToLiveInSeconds), RefreshTTL: strconv.Itoa(j.RefreshTokenTimeToLiveInMinutes),
		UsagePolicy: j.RefreshTokenUsagePolicy, ExpirationPolicy: j.RefreshTokenExpirationPolicy,
		MaxLifetime: strconv.Itoa(j.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes),
		GracePeriod: strconv.Itoa(j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds),
		Revocations: revocationsOf(func(member string) bool { return stored[member] }), Invalid: map[string]bool{}}
}

func revocationsOf(on func(member string) bool) []Revocation {
	var out []Revocation
	for _, o := range revocations {
		out = append(out, Revocation{o, on(o.Value)})
	}
	return out
}

// tokenNumber is a whole-number input: its name (the member's), the
// jwtConfiguration object holding it ("" for none), and what a value that
// is not a number says.
type tokenNumber struct {
	input, object, say string
	text               *string
	optional           bool // only changed when the form sends it
}

func (form *TokenForm) numbers() []tokenNumber {
	return []tokenNumber{
		{"timeToLiveInSeconds", "", "The access token lifetime must be a whole number of seconds.", &form.TTL, false},
		{"refreshTokenTimeToLiveInMinutes", "", "The refresh token lifetime must be a whole number of minutes.", &form.RefreshTTL, false},
		{"maximumTimeToLiveInMinutes", "refreshTokenSlidingWindowConfiguration",
			"The maximum refresh token lifetime must be a whole number of minutes.", &form.MaxLifetime, true},
		{"gracePeriodInSeconds", "refreshTokenOneTimeUseConfiguration",
			"The reuse grace period must be a whole number of seconds.", &form.GracePeriod, true},
	}
}

// ReadTokenForm reads the form as entered into the merge patch jwt of a
// jwtConfiguration (a policy left blank stays as stored; a revocation
// checkbox not checked is off); msgs are the numbers that are not whole
// numbers, their inputs marked.
func ReadTokenForm(f url.Values, jwt kit.Object) (form TokenForm, msgs []string) {
	form = TokenForm{UsagePolicy: f.Get("refreshTokenUsagePolicy"), ExpirationPolicy: f.Get("refreshTokenExpirationPolicy"),
		Revocations: revocationsOf(func(member string) bool { return f.Get(member) == "on" }), Invalid: map[string]bool{}}
	for member, v := range map[string]string{"refreshTokenUsagePolicy": form.UsagePolicy, "refreshTokenExpirationPolicy": form.ExpirationPolicy} {
		if v != "" {
			jwt[member] = v
		}
	}
	policy := kit.Object{}
	for _, rv := range form.Revocations {
		policy[rv.Value] = rv.On
	}
	jwt["refreshTokenRevocationPolicy"] = policy
	for _, n := range form.numbers() {
		if n.optional && !f.Has(n.input) {
			continue
		}
		*n.text = strings.TrimSpace(f.Get(n.input))
		v, err := strconv.ParseInt(*n.text, 10, 64)
		if err != nil {
			msgs, form.Invalid[n.input] = append(msgs, n.say), true
			continue
		}
		if n.object == "" {
			jwt[n.input] = v
		} else {
			jwt[n.object] = kit.Object{n.input: v}
		}
	}
	return form, msgs
}

// MarkRefusal marks the inputs a refusal of tenancy names under prefix
// (the owner's jwtConfiguration, "tenant.jwtConfiguration."): the last
// part of a field's name is its input's name.
func (form *TokenForm) MarkRefusal(err error, prefix string) {
	var verrs *model.Errors
	if !errors.As(err, &verrs) {
		return
	}
	for field := range verrs.FieldErrors {
		if rest, ok := strings.CutPrefix(field, prefix); ok {
			form.Invalid[rest[strings.LastIndex(rest, ".")+1:]] = true
		}
	}
}
