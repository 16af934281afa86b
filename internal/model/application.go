package model

import "github.com/latchid/latch/internal/secrets"

// ApplicationConfig is the part of FusionAuth's Application that Latch's
// features read (see TenantConfig for why it is a view).
type ApplicationConfig struct {
	ID                 string                        `json:"id"`
	TenantID           string                        `json:"tenantId"`
	Name               string                        `json:"name"`
	Active             bool                          `json:"active"`
	JWTConfiguration   JWTConfiguration              `json:"jwtConfiguration"`
	LoginConfiguration LoginConfiguration            `json:"loginConfiguration"`
	OAuthConfiguration OAuth2Configuration           `json:"oauthConfiguration"`
	Registration       RegistrationConfigurationView `json:"registrationConfiguration"`
	VerifyRegistration bool                          `json:"verifyRegistration"`
	Roles              []ApplicationRole             `json:"roles"`
}

// LoginConfiguration is an application's Login API settings.
type LoginConfiguration struct {
	AllowTokenRefresh     bool `json:"allowTokenRefresh"`
	GenerateRefreshTokens bool `json:"generateRefreshTokens"`
	RequireAuthentication bool `json:"requireAuthentication"`
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
