package model

import "github.com/latchid/latch/internal/secrets"

// ApplicationConfig is FusionAuth's Application, typed: the fields Latch
// owns or acts on are struct fields; everything else a client sent (data,
// SAML, lambdas, unknown members at any depth) rides in Extra and is written
// back exactly as sent (see Extra). Its JSON form is the one a client sends
// and gets back.
type ApplicationConfig struct {
	ID                 string                        `json:"id"`
	TenantID           string                        `json:"tenantId"`
	Name               string                        `json:"name"`
	Active             bool                          `json:"active"`
	State              string                        `json:"state"`
	InsertInstant      int64                         `json:"insertInstant"`
	LastUpdateInstant  int64                         `json:"lastUpdateInstant"`
	JWTConfiguration   JWTConfiguration              `json:"jwtConfiguration"`
	LoginConfiguration LoginConfiguration            `json:"loginConfiguration"`
	OAuthConfiguration OAuth2Configuration           `json:"oauthConfiguration"`
	Passwordless       PasswordlessConfiguration     `json:"passwordlessConfiguration"`
	Registration       RegistrationConfigurationView `json:"registrationConfiguration"`
	VerifyRegistration bool                          `json:"verifyRegistration"`
	Roles              []ApplicationRole             `json:"roles"`

	Extra Extra `json:"-"`
}

// applicationShape is ApplicationConfig without its JSON methods.
type applicationShape ApplicationConfig

// JSONShape gives model.FieldsOf the members of an application.
func (ApplicationConfig) JSONShape() any { return applicationShape{} }

// tree is the typed form's encoding. The client secret is written as it is
// (secrets.Secret writes itself redacted): the application's JSON form is
// what a client with the right to read it gets.
func (a *ApplicationConfig) tree() (map[string]any, error) {
	t, err := TreeOf((*applicationShape)(a))
	if err != nil {
		return nil, err
	}
	if s := a.OAuthConfiguration.ClientSecret; s != "" {
		if oc, ok := t["oauthConfiguration"].(map[string]any); ok {
			oc["clientSecret"] = s.Reveal()
		}
	}
	return t, nil
}

// MarshalJSON writes the typed fields and the raw bag.
func (a ApplicationConfig) MarshalJSON() ([]byte, error) { return EncodeWithExtra(a.Extra, a.tree) }

// UnmarshalJSON reads the typed fields and keeps the rest in the raw bag.
func (a *ApplicationConfig) UnmarshalJSON(data []byte) error {
	*a = ApplicationConfig{}
	x, err := DecodeWithExtra(data, applicationFields, (*applicationShape)(a), a.tree)
	a.Extra = x
	return err
}

// Tree is the application as a document tree (for PATCH and copies).
func (a *ApplicationConfig) Tree() (map[string]any, error) {
	t, err := a.tree()
	if err != nil {
		return nil, err
	}
	return CopyObject(a.Extra.Join(t)), nil
}

// applicationFields are the members of an application, for reading names exactly.
var applicationFields = FieldsOf(applicationShape{})

// LoginConfiguration is an application's Login API settings.
type LoginConfiguration struct {
	AllowTokenRefresh     bool `json:"allowTokenRefresh"`
	GenerateRefreshTokens bool `json:"generateRefreshTokens"`
	RequireAuthentication bool `json:"requireAuthentication"`
}

// PasswordlessConfiguration is whether the hosted sign-in page offers a
// sign-in link by email (passwordless login).
type PasswordlessConfiguration struct {
	Enabled bool `json:"enabled"`
}

// RegistrationConfigurationView is whether self-service registration is on.
type RegistrationConfigurationView struct {
	Enabled bool   `json:"enabled"`
	Type    string `json:"type,omitempty"`
}

// OAuth2Configuration is an application's OAuth 2.0 client. The client id is
// the application id; the secret is stored sealed under the master key.
type OAuth2Configuration struct {
	AuthorizedOriginURLs          []string       `json:"authorizedOriginURLs"`
	AuthorizedRedirectURLs        []string       `json:"authorizedRedirectURLs"`
	AuthorizedURLValidationPolicy string         `json:"authorizedURLValidationPolicy"`
	ClientAuthenticationPolicy    string         `json:"clientAuthenticationPolicy"`
	ClientID                      string         `json:"clientId"`
	ClientSecret                  secrets.Secret `json:"clientSecret,omitempty"` // redacts itself when printed
	ConsentMode                   string         `json:"consentMode,omitempty"`
	Debug                         bool           `json:"debug"`
	DeviceVerificationURL         string         `json:"deviceVerificationURL,omitempty"`
	EnabledGrants                 []string       `json:"enabledGrants"`
	GenerateRefreshTokens         bool           `json:"generateRefreshTokens"`
	LogoutBehavior                string         `json:"logoutBehavior"`
	LogoutURL                     string         `json:"logoutURL,omitempty"`
	ProofKeyForCodeExchangePolicy string         `json:"proofKeyForCodeExchangePolicy"`
	Relationship                  string         `json:"relationship,omitempty"`
	RequireClientAuthentication   bool           `json:"requireClientAuthentication"`
	RequireRegistration           bool           `json:"requireRegistration"`
	ScopeHandlingPolicy           string         `json:"scopeHandlingPolicy,omitempty"`
	UnknownScopePolicy            string         `json:"unknownScopePolicy,omitempty"`
}

// OAuth grant types an application may enable, as FusionAuth names them.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantImplicit          = "implicit"
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)
