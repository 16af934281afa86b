// Package oauth is Latch's OAuth 2.0 and OpenID Connect provider on
// FusionAuth's endpoints: /oauth2/* and /.well-known/openid-configuration,
// the hosted sign-in pages' flow, SSO sessions and authorization codes.
//
// It does not import the rules (internal/core): it declares the small
// interfaces below for what it needs, and internal/app implements them.
package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/clientcreds"
	"github.com/latchid/latch/internal/oauth/device"
	"github.com/latchid/latch/internal/secrets"
)

// Client is an application acting as an OAuth client, with its tenant.
type Client struct {
	App    *model.ApplicationConfig
	Tenant *model.TenantConfig
}

// ErrNotFound: no such client, user, session or code.
var ErrNotFound = errors.New("not found")

// Clients looks applications (OAuth clients) and tenants up.
type Clients interface {
	// Client returns an application (without its client secret) and its
	// tenant; ErrNotFound when there is none.
	Client(ctx context.Context, clientID string) (*Client, error)
	// ClientSecret returns an application's client secret ("" for none).
	ClientSecret(ctx context.Context, clientID string) (secrets.Secret, error)
	// Tenant returns a tenant's settings; ErrNotFound when there is none.
	// An empty id is the Default tenant.
	Tenant(ctx context.Context, tenantID string) (*model.TenantConfig, error)
	// LogoutURLs are the oauthConfiguration.logoutURL of the tenant's active
	// applications that set one, by application id.
	LogoutURLs(ctx context.Context, tenantID string) (map[string]string, error)
}

// LoginStatus is the typed outcome of a sign-in step.
type LoginStatus int

// Sign-in outcomes.
const (
	LoginOK              LoginStatus = iota + 1 // signed in
	LoginFailed                                 // unknown login id or wrong password (not told apart)
	LoginLocked                                 // too many failures: locked until LockedUntil
	LoginTwoFactor                              // password right, second factor due (TwoFactorID)
	LoginChangePassword                         // must change the password first (ChangePasswordID)
	LoginCodeInvalid                            // wrong two-factor code
	LoginExpired                                // the two-factor or change-password step is unknown or expired
	LoginRefused                                // the user is inactive or expired
	LoginPasswordInvalid                        // the new password breaks the tenant's rules (Message)
)

// LoginOutcome is what a sign-in step ended in.
type LoginOutcome struct {
	Status           LoginStatus
	UserID           string
	AuthType         string // FusionAuth's authenticationType of an OK
	TwoFactorID      string
	EmailCode        bool // of LoginTwoFactor: the user has an email method (SendTwoFactorCode)
	ChangePasswordID string
	TrustToken       string // of a 203 after a second factor: the password change needs it
	Reason           string // change-password reason (Administrative, Expired, Validation)
	LockedUntil      int64  // epoch ms
	Message          string // a reason to show (LoginPasswordInvalid)
	TwoFactorTrustID string // of an OK after Signer.TrustDevice: the browser's trust
	User             *User  // of an OK, when the sign-in read it (else Users.User)
}

// Signer is who sends a sign-in step: the client address, and whether a
// confidential client that authenticated speaks for the user (the password
// grant from an application's server). Like a Login API call with an API
// key, such a client is limited per tenant, not per address; a browser on
// the hosted pages and a public client are limited per address too.
type Signer struct {
	IP                  string
	ClientAuthenticated bool
	TrustID             string // the browser's two-factor trust (trustCookie): a valid one skips the second factor
	TrustDevice         bool   // the two-factor step asked to trust this browser
}

// Authenticator runs the Login API's rules (lockout, throttling, two-factor,
// password change, no user enumeration) for the hosted pages and the
// password grant. A throttled or busy attempt is an error that
// httpx.RetryLater recognises.
type Authenticator interface {
	Authenticate(ctx context.Context, c *Client, loginID, password string, by Signer) (*LoginOutcome, error)
	CompleteTwoFactor(ctx context.Context, c *Client, twoFactorID, code string, by Signer) (*LoginOutcome, error)
	// SendTwoFactorCode mails a code of the user's email method for the
	// pending two-factor step; ErrNotFound when the step is unknown or
	// expired or the user has no email method.
	SendTwoFactorCode(ctx context.Context, c *Client, twoFactorID string, by Signer) error
	ChangePassword(ctx context.Context, c *Client, changePasswordID, trustToken, newPassword string, by Signer) (*LoginOutcome, error)
}

// LinkCode is what a passwordless code was started for.
type LinkCode struct {
	TenantID      string
	ApplicationID string
	State         map[string]any // the starter's state (an authorization request's parameters)
}

// Passwordless runs sign-in by emailed link (FusionAuth's passwordless
// login) for the hosted pages.
type Passwordless interface {
	// EmailLink mails a sign-in link to the user with loginID in c's
	// tenant, state in its code; nil whether or not there is such a user.
	// ErrNotFound: the tenant mails no sign-in links (no template). A
	// throttled attempt is an error httpx.RetryLater recognises.
	EmailLink(ctx context.Context, c *Client, loginID string, state map[string]any, by Signer) error
	// PeekLink reads what a live code was started for without using it;
	// ErrNotFound when it is unknown, used or expired.
	PeekLink(ctx context.Context, code string) (*LinkCode, error)
	// CompleteLink signs in with the code, once, under the Login API's
	// rules; LoginExpired when it is unknown, used or expired.
	CompleteLink(ctx context.Context, c *Client, code string, by Signer) (*LoginOutcome, error)
}

// Grant is what a token request was granted.
type Grant struct {
	UserID      string
	ClientID    string
	AuthType    string
	AuthInstant int64 // epoch ms
	Scope       string
	SessionID   string
	Refresh     bool
	IP          string
	Issuer      string // the tenant's issuer as discovery shows it
	// DPoPJKT binds the access token to a DPoP key (cnf.jkt); BindRefresh
	// binds the refresh token to it too (public clients, RFC 9449 5).
	DPoPJKT     string
	BindRefresh bool
	// CodeHash is the exchanged code's: it is used with the tokens issued
	// (its row naming the refresh token); ErrCodeReplayed when it was used
	// meanwhile.
	CodeHash string
}

// Tokens is an access token (and refresh token) issued for a grant.
type Tokens struct {
	AccessToken    string
	ExpiresIn      int64
	RefreshToken   string
	RefreshTokenID string
	UserID         string
	TenantID       string
	Scope          string
	AuthInstant    int64 // epoch ms
	SessionID      string
	DPoPJKT        string // the DPoP key the access token is bound to
}

// ErrGrantRefused: the user or refresh token may not get tokens (invalid_grant).
var ErrGrantRefused = errors.New("grant refused")

// ErrScopeWidened: a refresh asked for a scope not granted (invalid_scope).
var ErrScopeWidened = errors.New("scope wider than granted")

// ErrCodeReplayed: the code was used meanwhile by another exchange of it;
// nothing was issued (invalid_grant).
var ErrCodeReplayed = errors.New("authorization code replayed")

// AccessToken is a verified access token.
type AccessToken struct {
	Claims        map[string]any
	Subject       string
	TenantID      string
	ApplicationID string
	Audience      string
}

// RefreshStatus is a usable refresh token as introspection shows it.
type RefreshStatus struct {
	UserID         string
	TenantID       string
	ApplicationID  string
	ExpiresInstant int64 // epoch ms
	InsertInstant  int64 // epoch ms
}

// TokenIssuer issues, refreshes, revokes and verifies tokens.
type TokenIssuer interface {
	IssueTokens(ctx context.Context, g Grant) (*Tokens, error)
	// RefreshTokens exchanges the client's own refresh token under the
	// application's rotation and reuse rules; ErrGrantRefused when it cannot
	// be used (a token bound to a DPoP key other than jkt among them). A
	// non-empty jkt binds the new access token to that key. A non-empty
	// scope narrows the new tokens' (not the refresh token's);
	// ErrScopeWidened, with nothing changed, when it is not within it.
	RefreshTokens(ctx context.Context, refreshToken, clientID, issuer, ip, jkt, scope string) (*Tokens, error)
	RevokeRefreshToken(ctx context.Context, refreshToken, clientID string) error
	// RevokeCodeExchange revokes, on every node, what the exchange of an
	// authorization code (by its hash) issued: the refresh token
	// refreshTokenID ("" for none) with its family, and the access tokens
	// of the exchange and of that family.
	RevokeCodeExchange(ctx context.Context, codeHash, clientID, refreshTokenID string) error
	// VerifyAccessToken checks an access token's signature, expiry and
	// subject; ErrNotFound when it does not pass.
	VerifyAccessToken(ctx context.Context, token string) (*AccessToken, error)
	// VerifySignature checks only that Latch signed a token (an expired
	// id_token_hint still names its user) and returns its claims.
	VerifySignature(ctx context.Context, token string) (map[string]any, error)
	// RefreshTokenStatus describes the client's own refresh token for
	// introspection; ErrNotFound when it is unknown, another client's,
	// revoked, rotated or expired.
	RefreshTokenStatus(ctx context.Context, refreshToken, clientID string) (*RefreshStatus, error)
	// IDTokenAlgorithm is the JWS algorithm of the client's id-token key.
	IDTokenAlgorithm(ctx context.Context, c *Client) (string, error)
	// SignIDToken signs claims with the client's id-token key.
	SignIDToken(ctx context.Context, c *Client, claims map[string]any) (string, error)
	// SigningAlgorithms lists the JWS algorithms of the keys tokens are signed with.
	SigningAlgorithms() []string
}

// User is what userinfo and ID tokens show of a user.
type User struct {
	ID                        string
	TenantID                  string
	Active                    bool
	Email                     string
	EmailVerified             bool
	Username                  string
	FirstName                 string
	MiddleName                string
	LastName                  string
	FullName                  string
	ImageURL                  string
	Birthdate                 string
	MobilePhone               string
	PasswordLastUpdateInstant int64
	Roles                     []string // of the client's application, when registered
	Registered                bool
}

// Users loads users.
type Users interface {
	// User loads a user with its roles in the application; ErrNotFound when gone.
	User(ctx context.Context, userID, applicationID string) (*User, error)
	// SignInsEndedBefore is the instant (epoch ms) before which the user's
	// sign-ins no longer count for the application: a deactivation, a
	// deleted registration or a password change ended them (0: none did).
	SignInsEndedBefore(ctx context.Context, userID, applicationID string) (int64, error)
}

// Session is an SSO session.
type Session struct {
	ID             string
	UserID         string
	TenantID       string
	AuthInstant    int64
	AuthType       string
	KeepSignedIn   bool
	ExpiresInstant int64
}

// Code is an authorization code's binding.
type Code struct {
	ClientID       string
	TenantID       string
	UserID         string
	SessionID      string
	RedirectURI    string
	Scope          string
	Nonce          string
	CodeChallenge  string
	DPoPJKT        string // the authorization request's dpop_jkt
	AuthInstant    int64
	AuthType       string
	ExpiresInstant int64
	RefreshTokenID string
}

// State stores SSO sessions, authorization codes and device grants by the
// hashes of their secret values.
type State interface {
	device.Store

	CreateSession(ctx context.Context, tokenHash string, s *Session) error
	SessionByHash(ctx context.Context, tokenHash string, now int64) (*Session, error) // ErrNotFound
	ExtendSession(ctx context.Context, id string, expires int64) error
	DeleteSession(ctx context.Context, id string) error
	CreateCode(ctx context.Context, codeHash string, c *Code, now int64) error
	// CreateSessionAndCode stores a new SSO session and its first code in
	// one transaction (a sign-in's two writes, one commit).
	CreateSessionAndCode(ctx context.Context, sessionHash string, s *Session, codeHash string, c *Code, now int64) error
	// CodeByHash reads an unused, unexpired code (ErrNotFound otherwise);
	// the exchange then uses it with the tokens it issues (Grant.CodeHash).
	CodeByHash(ctx context.Context, codeHash string, now int64) (*Code, error)
	// ConsumeCode uses a code up, atomically, without issuing (a refused
	// exchange); ErrNotFound when unknown, expired or used.
	ConsumeCode(ctx context.Context, codeHash string, now int64) (*Code, error)
	// MarkCodeReplayed flags a used code presented again; ErrNotFound when it was never used.
	MarkCodeReplayed(ctx context.Context, codeHash string) (*Code, error)

	// RecordDPoPProof remembers a DPoP proof's id until expires; false when
	// it was seen before (a replay).
	RecordDPoPProof(ctx context.Context, id string, expires int64) (bool, error)

	// Consent is the space-separated scopes a user allowed a third-party
	// application ("" when none); SaveConsent replaces them.
	Consent(ctx context.Context, userID, clientID string) (string, error)
	SaveConsent(ctx context.Context, userID, clientID, scope string, now int64) error
}

// Pages renders the hosted pages (the UI's templates and layout).
type Pages interface {
	// Page renders a page template with data; formActions are extra
	// origins forms may post to, or be redirected to after a post
	// (form_post responses, the client's redirect URI). tenant's theme
	// styles the page (nil: none).
	Page(w http.ResponseWriter, r *http.Request, status int, page, title string, tenant *model.TenantConfig, data any, formActions ...string)
	// Error renders the one HTML error page, in tenant's theme (nil: none).
	Error(w http.ResponseWriter, r *http.Request, status int, tenant *model.TenantConfig, heading string, paragraphs ...string)
	// FrontChannelLogout renders the sign-out page that loads frames (other
	// applications' logout URLs), then continues to continueTo ("": none).
	FrontChannelLogout(w http.ResponseWriter, r *http.Request, continueTo string, frames []string)
}

// Deps is what the provider is built on.
type Deps struct {
	Clients       Clients
	Authenticator Authenticator
	// Registerer runs self-service registration (nil: none offered).
	Registerer Registerer
	// Passwordless runs sign-in by emailed link (nil: none offered).
	Passwordless Passwordless
	Tokens       TokenIssuer
	Users        Users
	State        State
	Pages        Pages
	Clock        interface{ Now() time.Time }
	Log          *slog.Logger
	// PublicURL is Latch's base URL (no trailing slash): endpoint URLs, and
	// the issuer of tenants still on FusionAuth's placeholder.
	PublicURL string
	// ClientIP is a request's client address (trusted proxies applied).
	ClientIP func(*http.Request) string
	// CORS is the system configuration's current CORS policy (nil: none).
	CORS func() *model.CORSConfiguration
	// ParseDPoPProof checks a DPoP proof's form and signature
	// (internal/keys); the provider checks the rest.
	ParseDPoPProof func(proof string) (*DPoPProof, error)
	// MAC is an HMAC under a key every node shares (the master key's):
	// DPoP nonces are computed, not stored.
	MAC func(purpose, value string) string
	// SecureCookies: cookies carry Secure (browsers reach Latch over https,
	// directly or through a proxy; config.Config.SecureCookies).
	SecureCookies bool
	// Entities runs the client_credentials grant; nil: not offered.
	Entities clientcreds.Entities
}

// Provider is the OAuth/OIDC surface.
type Provider struct {
	Deps
	discoveryDocs sync.Map // tenant id ("" the Default) → *discoveryDoc
	entities      *clientcreds.Handler
	devices       *device.Handler
}

// New builds a provider.
func New(d Deps) *Provider {
	p := &Provider{Deps: d}
	p.entities = &clientcreds.Handler{Entities: d.Entities, Issuer: p.issuerOf, Proof: p.dpopProof, OfferNonce: p.offerDPoPNonce, Fail: p.serverError}
	p.devices = &device.Handler{Store: d.State, Now: p.now, PublicURL: d.PublicURL, Fail: p.serverError}
	return p
}

// Access is what a route demands of its caller.
type Access int

// Access rules of /oauth2/* routes.
const (
	// Anonymous: anyone (browsers, relying parties); the handler applies
	// the protocol's own checks.
	Anonymous Access = iota + 1
	// ClientAuthenticated: the client authenticates as its policy demands
	// (client_secret_basic / client_secret_post, or none for public
	// clients), checked by the handler against the application.
	ClientAuthenticated
	// BearerToken: an access token in Authorization: Bearer.
	BearerToken
	// AppCookie: the hosted backend's access or refresh token cookie
	// (app.at, app.rt), checked by the handler.
	AppCookie
)

// Route is one entry of the provider's route table.
type Route struct {
	Pattern string
	Access  Access
	Handler http.HandlerFunc
}

// Routes is the provider's whole surface, each route with its access rule.
func (p *Provider) Routes() []Route {
	return []Route{
		{Pattern: "GET /.well-known/openid-configuration", Access: Anonymous, Handler: p.discovery},
		{Pattern: "GET /.well-known/openid-configuration/{tenantId}", Access: Anonymous, Handler: p.discovery},
		{Pattern: "GET /oauth2/authorize", Access: Anonymous, Handler: p.authorize},
		{Pattern: "POST /oauth2/authorize", Access: Anonymous, Handler: p.authorize},
		{Pattern: "POST /oauth2/two-factor", Access: Anonymous, Handler: p.twoFactorStep},
		{Pattern: "POST /oauth2/change-password", Access: Anonymous, Handler: p.changePasswordStep},
		{Pattern: "POST /oauth2/consent", Access: Anonymous, Handler: p.consentStep},
		{Pattern: "GET /oauth2/passwordless", Access: Anonymous, Handler: p.passwordlessStart},
		{Pattern: "POST /oauth2/passwordless", Access: Anonymous, Handler: p.passwordlessStart},
		{Pattern: "GET /oauth2/passwordless/{code}", Access: Anonymous, Handler: p.passwordlessLink},
		{Pattern: "POST /oauth2/passwordless/{code}", Access: Anonymous, Handler: p.passwordlessLink},
		{Pattern: "GET /oauth2/register", Access: Anonymous, Handler: p.register},
		{Pattern: "POST /oauth2/register", Access: Anonymous, Handler: p.register},
		{Pattern: "POST /oauth2/token", Access: ClientAuthenticated, Handler: p.token},
		{Pattern: "POST /oauth2/device_authorize", Access: ClientAuthenticated, Handler: p.deviceAuthorize},
		{Pattern: "GET /oauth2/device/validate", Access: Anonymous, Handler: p.devices.Validate},
		{Pattern: "GET /oauth2/device/user-code", Access: ClientAuthenticated, Handler: p.deviceUserCode},
		{Pattern: "POST /oauth2/device/user-code", Access: ClientAuthenticated, Handler: p.deviceUserCode},
		{Pattern: "POST /oauth2/device/approve", Access: ClientAuthenticated, Handler: p.deviceApprove},
		{Pattern: "GET /oauth2/device", Access: Anonymous, Handler: p.devicePage},
		{Pattern: "POST /oauth2/device", Access: Anonymous, Handler: p.devicePage},
		{Pattern: "GET /oauth2/userinfo", Access: BearerToken, Handler: p.userinfo},
		{Pattern: "POST /oauth2/userinfo", Access: BearerToken, Handler: p.userinfo},
		{Pattern: "POST /oauth2/introspect", Access: ClientAuthenticated, Handler: p.introspect},
		{Pattern: "POST /oauth2/revoke", Access: ClientAuthenticated, Handler: p.revoke},
		{Pattern: "GET /oauth2/logout", Access: Anonymous, Handler: p.logout},
		{Pattern: "POST /oauth2/logout", Access: Anonymous, Handler: p.logout},

		// FusionAuth's hosted backend for its front-end SDKs (hosted.go):
		// the client id as a path segment or as client_id.
		{Pattern: "GET /app/login", Access: Anonymous, Handler: p.appLogin},
		{Pattern: "GET /app/login/{$}", Access: Anonymous, Handler: p.appLogin},
		{Pattern: "GET /app/login/{clientId}", Access: Anonymous, Handler: p.appLogin},
		{Pattern: "GET /app/register", Access: Anonymous, Handler: p.appRegister},
		{Pattern: "GET /app/register/{$}", Access: Anonymous, Handler: p.appRegister},
		{Pattern: "GET /app/register/{clientId}", Access: Anonymous, Handler: p.appRegister},
		{Pattern: "GET /app/callback", Access: Anonymous, Handler: p.appCallback},
		{Pattern: "GET /app/callback/{$}", Access: Anonymous, Handler: p.appCallback},
		{Pattern: "POST /app/refresh", Access: AppCookie, Handler: p.appRefresh},
		{Pattern: "POST /app/refresh/{$}", Access: AppCookie, Handler: p.appRefresh},
		{Pattern: "POST /app/refresh/{clientId}", Access: AppCookie, Handler: p.appRefresh},
		{Pattern: "GET /app/me", Access: AppCookie, Handler: p.appMe},
		{Pattern: "GET /app/me/{$}", Access: AppCookie, Handler: p.appMe},
		{Pattern: "GET /app/logout", Access: Anonymous, Handler: p.appLogout},
		{Pattern: "GET /app/logout/{$}", Access: Anonymous, Handler: p.appLogout},
		{Pattern: "GET /app/logout/{clientId}", Access: Anonymous, Handler: p.appLogout},
	}
}

// Mount registers the routes on mux; another method on a route's path is
// a JSON 405 with the methods it answers (RFC 9110 15.5.6), and the rest
// of /oauth2/ and /app/ a JSON 404 (never a page meant for people, never
// a 500).
func (p *Provider) Mount(mux *http.ServeMux) {
	var paths []string
	methods := map[string][]string{}
	for _, rt := range p.Routes() {
		if rt.Access == 0 {
			panic("oauth: route without an access rule: " + rt.Pattern)
		}
		mux.HandleFunc(rt.Pattern, rt.Handler)
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if methods[path] == nil {
			paths = append(paths, path)
		}
		methods[path] = append(methods[path], method)
		if method == http.MethodGet { // the mux answers HEAD with GET's handler
			methods[path] = append(methods[path], http.MethodHead)
		}
	}
	for _, path := range paths {
		allow := strings.Join(methods[path], ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, &oauthError{Code: "invalid_request", Reason: "unknown", Description: "This endpoint does not answer this method; Allow lists those it does."})
		})
	}
	mux.HandleFunc("/oauth2/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, &oauthError{Code: "invalid_request", Description: "There is no OAuth endpoint at this address or for this method.", Reason: "unknown"})
	})
	mux.HandleFunc("/app/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, &oauthError{Code: "invalid_request", Description: "There is no hosted backend endpoint at this address or for this method.", Reason: "unknown"})
	})
}

func (p *Provider) clientIP(r *http.Request) string {
	if p.ClientIP != nil {
		return p.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (p *Provider) now() int64 { return p.Clock.Now().UnixMilli() }
