package pagekit

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// The token lifetimes and refresh-token policies of a jwtConfiguration, as
// the application and tenant pages both edit them. Inputs are named after
// the members they set, so that a refusal of tenancy marks its input.

// UsagePolicies are how often a refresh token may be used, FusionAuth's names.
var UsagePolicies = []Option{{Value: "Reusable", Label: "Reusable until it expires"},
	{Value: "OneTimeUse", Label: "One use: each refresh returns a new refresh token"}}

// ExpirationPolicies are when a refresh token expires, FusionAuth's names.
var ExpirationPolicies = []Option{{Value: "Fixed", Label: "A fixed lifetime from sign-in"},
	{Value: "SlidingWindow", Label: "Sliding: each use starts a new lifetime"},
	{Value: "SlidingWindowWithMaximumLifetime", Label: "Sliding, up to a maximum lifetime from sign-in"}}

// TokenForm is the lifetimes and policies, as stored or as entered: numbers
// stay text, so that a bad one is shown back as typed. Invalid marks the
// inputs (by name) a refusal names.
type TokenForm struct {
	TTL, RefreshTTL               string
	UsagePolicy, ExpirationPolicy string
	MaxLifetime, GracePeriod      string
	Invalid                       map[string]bool
}

// TokenFormOf is the stored settings.
func TokenFormOf(j model.JWTConfiguration) TokenForm {
	return TokenForm{TTL: strconv.Itoa(j.TimeToLiveInSeconds), RefreshTTL: strconv.Itoa(j.RefreshTokenTimeToLiveInMinutes),
		UsagePolicy: j.RefreshTokenUsagePolicy, ExpirationPolicy: j.RefreshTokenExpirationPolicy,
		MaxLifetime: strconv.Itoa(j.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes),
		GracePeriod: strconv.Itoa(j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds), Invalid: map[string]bool{}}
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
// jwtConfiguration (a policy left blank stays as stored); msgs are the
// numbers that are not whole numbers, their inputs marked.
func ReadTokenForm(f url.Values, jwt kit.Object) (form TokenForm, msgs []string) {
	form = TokenForm{UsagePolicy: f.Get("refreshTokenUsagePolicy"), ExpirationPolicy: f.Get("refreshTokenExpirationPolicy"), Invalid: map[string]bool{}}
	for member, v := range map[string]string{"refreshTokenUsagePolicy": form.UsagePolicy, "refreshTokenExpirationPolicy": form.ExpirationPolicy} {
		if v != "" {
			jwt[member] = v
		}
	}
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
