package model

import "github.com/latchid/latch/internal/secrets"

// A tenant and an application are typed objects: the fields Latch owns or
// acts on are struct fields, everything else a client sent rides in a raw
// bag (Extra) and is written back exactly as sent. Their JSON form is the
// one a client sends and gets back.

// TenantConfig is FusionAuth's Tenant, typed (see above). Other settings
// (captcha, connectors, data, themes…) are in Extra.
type TenantConfig struct {
	ID                                string                            `json:"id"`
	Name                              string                            `json:"name"`
	State                             string                            `json:"state"`
	InsertInstant                     int64                             `json:"insertInstant"`
	LastUpdateInstant                 int64                             `json:"lastUpdateInstant"`
	Issuer                            string                            `json:"issuer"`
	LogoutURL                         string                            `json:"logoutURL,omitempty"`
	HTTPSessionMaxInactiveInterval    int                               `json:"httpSessionMaxInactiveInterval"`
	ThemeID                           string                            `json:"themeId,omitempty"`
	EmailConfiguration                EmailConfiguration                `json:"emailConfiguration"`
	EventConfiguration                EventConfiguration                `json:"eventConfiguration"`
	ExternalIdentifierConfiguration   ExternalIdentifierConfiguration   `json:"externalIdentifierConfiguration"`
	FailedAuthenticationConfiguration FailedAuthenticationConfiguration `json:"failedAuthenticationConfiguration"`
	JWTConfiguration                  JWTConfiguration                  `json:"jwtConfiguration"`
	LoginConfiguration                TenantLoginConfiguration          `json:"loginConfiguration"`
	MaximumPasswordAge                MaximumPasswordAge                `json:"maximumPasswordAge"`
	MinimumPasswordAge                MinimumPasswordAge                `json:"minimumPasswordAge"`
	PasswordEncryptionConfiguration   PasswordEncryptionConfiguration   `json:"passwordEncryptionConfiguration"`
	PasswordValidationRules           PasswordValidationRules           `json:"passwordValidationRules"`
	LoginTheme                        *LoginTheme                       `json:"loginTheme,omitempty"`

	Extra Extra `json:"-"`
}

// tenantShape is TenantConfig without its JSON methods.
type tenantShape TenantConfig

// JSONShape gives model.FieldsOf the members of a tenant.
func (TenantConfig) JSONShape() any { return tenantShape{} }

// tree is the typed form's encoding, the SMTP password as it is (see
// ApplicationConfig.tree).
func (t *TenantConfig) tree() (map[string]any, error) {
	o, err := TreeOf((*tenantShape)(t))
	if err != nil {
		return nil, err
	}
	if s := t.EmailConfiguration.Password; s != "" {
		if ec, ok := o["emailConfiguration"].(map[string]any); ok {
			ec["password"] = s.Reveal()
		}
	}
	return o, nil
}

// MarshalJSON writes the typed fields and the raw bag.
func (t TenantConfig) MarshalJSON() ([]byte, error) { return EncodeWithExtra(t.Extra, t.tree) }

// UnmarshalJSON reads the typed fields and keeps the rest in the raw bag.
func (t *TenantConfig) UnmarshalJSON(data []byte) error {
	*t = TenantConfig{}
	x, err := DecodeWithExtra(data, tenantFields, (*tenantShape)(t), t.tree)
	t.Extra = x
	return err
}

// Tree is the tenant as a document tree (for PATCH and copies).
func (t *TenantConfig) Tree() (map[string]any, error) {
	o, err := t.tree()
	if err != nil {
		return nil, err
	}
	return CopyObject(t.Extra.Join(o)), nil
}

// tenantFields are the members of a tenant, for reading names exactly.
var tenantFields = FieldsOf(tenantShape{})

// PasswordValidationRules is the tenant's password policy.
type PasswordValidationRules struct {
	MinLength                 int                       `json:"minLength"`
	MaxLength                 int                       `json:"maxLength"`
	RequireMixedCase          bool                      `json:"requireMixedCase"`
	RequireNonAlpha           bool                      `json:"requireNonAlpha"`
	RequireNumber             bool                      `json:"requireNumber"`
	ValidateOnLogin           bool                      `json:"validateOnLogin"`
	RememberPreviousPasswords RememberPreviousPasswords `json:"rememberPreviousPasswords"`
	// RejectCommonPasswords (a Latch extension, off by default as FusionAuth
	// has none) refuses the most common leaked passwords (password.Common).
	RejectCommonPasswords bool `json:"rejectCommonPasswords"`
}

// RememberPreviousPasswords forbids reusing the last Count passwords.
type RememberPreviousPasswords struct {
	Enabled bool `json:"enabled"`
	Count   int  `json:"count"`
}

// PasswordEncryptionConfiguration is the scheme and factor new passwords are
// hashed with.
type PasswordEncryptionConfiguration struct {
	EncryptionScheme              string `json:"encryptionScheme"`
	EncryptionSchemeFactor        int    `json:"encryptionSchemeFactor"`
	ModifyEncryptionSchemeOnLogin bool   `json:"modifyEncryptionSchemeOnLogin"`
}

// JWTConfiguration is a tenant's or an application's token lifetimes and keys.
type JWTConfiguration struct {
	Enabled                                bool                                   `json:"enabled"`
	AccessTokenKeyID                       string                                 `json:"accessTokenKeyId,omitempty"`
	IDTokenKeyID                           string                                 `json:"idTokenKeyId,omitempty"`
	TimeToLiveInSeconds                    int                                    `json:"timeToLiveInSeconds"`
	RefreshTokenTimeToLiveInMinutes        int                                    `json:"refreshTokenTimeToLiveInMinutes"`
	RefreshTokenExpirationPolicy           string                                 `json:"refreshTokenExpirationPolicy"`
	RefreshTokenUsagePolicy                string                                 `json:"refreshTokenUsagePolicy"`
	RefreshTokenRevocationPolicy           RefreshTokenRevocationPolicy           `json:"refreshTokenRevocationPolicy"`
	RefreshTokenSlidingWindowConfiguration RefreshTokenSlidingWindowConfiguration `json:"refreshTokenSlidingWindowConfiguration"`
	RefreshTokenOneTimeUseConfiguration    RefreshTokenOneTimeUseConfiguration    `json:"refreshTokenOneTimeUseConfiguration"`
}

// RefreshTokenRevocationPolicy says when refresh tokens are revoked.
type RefreshTokenRevocationPolicy struct {
	OnLoginPrevented    bool `json:"onLoginPrevented"`
	OnMultiFactorEnable bool `json:"onMultiFactorEnable"`
	OnOneTimeTokenReuse bool `json:"onOneTimeTokenReuse"`
	OnPasswordChanged   bool `json:"onPasswordChanged"`
}

// RefreshTokenSlidingWindowConfiguration caps a sliding refresh token's life.
type RefreshTokenSlidingWindowConfiguration struct {
	MaximumTimeToLiveInMinutes int `json:"maximumTimeToLiveInMinutes"`
}

// RefreshTokenOneTimeUseConfiguration is the reuse grace period of one-time tokens.
type RefreshTokenOneTimeUseConfiguration struct {
	GracePeriodInSeconds int `json:"gracePeriodInSeconds"`
}

// FailedAuthenticationConfiguration is the lockout policy.
type FailedAuthenticationConfiguration struct {
	ActionCancelPolicy  ActionCancelPolicy `json:"actionCancelPolicy"`
	ActionDuration      int64              `json:"actionDuration"`
	ActionDurationUnit  string             `json:"actionDurationUnit"`
	ResetCountInSeconds int                `json:"resetCountInSeconds"`
	TooManyAttempts     int                `json:"tooManyAttempts"`
	UserActionID        string             `json:"userActionId,omitempty"`
}

// ActionCancelPolicy lets a password reset lift a lockout.
type ActionCancelPolicy struct {
	OnPasswordReset bool `json:"onPasswordReset"`
}

// ExternalIdentifierConfiguration holds the lifetimes and shapes of one-time
// identifiers (change-password ids, codes…).
type ExternalIdentifierConfiguration struct {
	AuthorizationGrantIDTimeToLiveInSeconds          int             `json:"authorizationGrantIdTimeToLiveInSeconds"`
	ChangePasswordIDGenerator                        SecureGenerator `json:"changePasswordIdGenerator"`
	ChangePasswordIDTimeToLiveInSeconds              int             `json:"changePasswordIdTimeToLiveInSeconds"`
	DeviceCodeTimeToLiveInSeconds                    int             `json:"deviceCodeTimeToLiveInSeconds"`
	DeviceUserCodeIDGenerator                        SecureGenerator `json:"deviceUserCodeIdGenerator"`
	EmailVerificationIDGenerator                     SecureGenerator `json:"emailVerificationIdGenerator"`
	EmailVerificationIDTimeToLiveInSeconds           int             `json:"emailVerificationIdTimeToLiveInSeconds"`
	EmailVerificationOneTimeCodeGenerator            SecureGenerator `json:"emailVerificationOneTimeCodeGenerator"`
	ExternalAuthenticationIDTimeToLiveInSeconds      int             `json:"externalAuthenticationIdTimeToLiveInSeconds"`
	LoginIntentTimeToLiveInSeconds                   int             `json:"loginIntentTimeToLiveInSeconds"`
	OneTimePasswordTimeToLiveInSeconds               int             `json:"oneTimePasswordTimeToLiveInSeconds"`
	PasswordlessLoginGenerator                       SecureGenerator `json:"passwordlessLoginGenerator"`
	PasswordlessLoginTimeToLiveInSeconds             int             `json:"passwordlessLoginTimeToLiveInSeconds"`
	PendingAccountLinkTimeToLiveInSeconds            int             `json:"pendingAccountLinkTimeToLiveInSeconds"`
	RegistrationVerificationIDGenerator              SecureGenerator `json:"registrationVerificationIdGenerator"`
	RegistrationVerificationIDTimeToLiveInSeconds    int             `json:"registrationVerificationIdTimeToLiveInSeconds"`
	RegistrationVerificationOneTimeCodeGenerator     SecureGenerator `json:"registrationVerificationOneTimeCodeGenerator"`
	SetupPasswordIDGenerator                         SecureGenerator `json:"setupPasswordIdGenerator"`
	SetupPasswordIDTimeToLiveInSeconds               int             `json:"setupPasswordIdTimeToLiveInSeconds"`
	TrustTokenTimeToLiveInSeconds                    int             `json:"trustTokenTimeToLiveInSeconds"`
	TwoFactorIDTimeToLiveInSeconds                   int             `json:"twoFactorIdTimeToLiveInSeconds"`
	TwoFactorOneTimeCodeIDGenerator                  SecureGenerator `json:"twoFactorOneTimeCodeIdGenerator"`
	TwoFactorOneTimeCodeIDTimeToLiveInSeconds        int             `json:"twoFactorOneTimeCodeIdTimeToLiveInSeconds"`
	TwoFactorTrustIDTimeToLiveInSeconds              int             `json:"twoFactorTrustIdTimeToLiveInSeconds"`
	RememberOAuthScopeConsentChoiceTimeToLiveInSecs  int             `json:"rememberOAuthScopeConsentChoiceTimeToLiveInSeconds"`
	Samlv2AuthNRequestIDTimeToLiveInSeconds          int             `json:"samlv2AuthNRequestIdTimeToLiveInSeconds"`
	WebAuthnAuthenticationChallengeTimeToLiveInSecs  int             `json:"webAuthnAuthenticationChallengeTimeToLiveInSeconds"`
	WebAuthnRegistrationChallengeTimeToLiveInSeconds int             `json:"webAuthnRegistrationChallengeTimeToLiveInSeconds"`
}

// SecureGenerator describes a generated one-time identifier.
type SecureGenerator struct {
	Length int    `json:"length"`
	Type   string `json:"type"` // randomBytes, randomAlpha, randomAlphaNumeric, randomDigits
}

// EmailConfiguration is the tenant's SMTP server and email workflow settings.
type EmailConfiguration struct {
	Host                             string                   `json:"host"`
	Port                             int                      `json:"port"`
	Security                         string                   `json:"security"`
	Username                         string                   `json:"username,omitempty"`
	Password                         secrets.Secret           `json:"password,omitempty"` // stored sealed; redacts itself when printed
	DefaultFromEmail                 string                   `json:"defaultFromEmail"`
	DefaultFromName                  string                   `json:"defaultFromName"`
	ForgotPasswordEmailTemplateID    string                   `json:"forgotPasswordEmailTemplateId,omitempty"`
	VerificationEmailTemplateID      string                   `json:"verificationEmailTemplateId,omitempty"`
	PasswordlessEmailTemplateID      string                   `json:"passwordlessEmailTemplateId,omitempty"`
	SetPasswordEmailTemplateID       string                   `json:"setPasswordEmailTemplateId,omitempty"`
	ImplicitEmailVerificationAllowed bool                     `json:"implicitEmailVerificationAllowed"`
	VerifyEmail                      bool                     `json:"verifyEmail"`
	VerifyEmailWhenChanged           bool                     `json:"verifyEmailWhenChanged"`
	VerificationStrategy             string                   `json:"verificationStrategy,omitempty"`
	Unverified                       EmailUnverifiedOptions   `json:"unverified"`
	AdditionalHeaders                []EmailAdditionalHeaders `json:"additionalHeaders,omitempty"`
}

// EmailUnverifiedOptions is what happens to users with an unverified email.
type EmailUnverifiedOptions struct {
	AllowEmailChangeWhenGated bool   `json:"allowEmailChangeWhenGated"`
	Behavior                  string `json:"behavior"`
}

// EmailAdditionalHeaders is one extra SMTP header.
type EmailAdditionalHeaders struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TenantLoginConfiguration says whether the Login API needs a key without an application id.
type TenantLoginConfiguration struct {
	RequireAuthentication bool `json:"requireAuthentication"`
}

// MaximumPasswordAge forces a change after Days.
type MaximumPasswordAge struct {
	Enabled bool `json:"enabled"`
	Days    int  `json:"days"`
}

// MinimumPasswordAge forbids a change within Seconds of the last.
type MinimumPasswordAge struct {
	Enabled bool `json:"enabled"`
	Seconds int  `json:"seconds"`
}
