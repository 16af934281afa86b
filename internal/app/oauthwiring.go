package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/admin"
	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/entities"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth"
	"github.com/latchid/latch/internal/oauth/clientcreds"
	"github.com/latchid/latch/internal/oauth/device"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/throttle"
	"github.com/latchid/latch/internal/tokens"
	"github.com/latchid/latch/internal/ui"
)

// The OAuth provider's adapter: internal/oauth declares what it needs
// (clients, sign-in, tokens, users, sessions and codes); this file
// implements it over the domain services of the Set (authentication,
// identity, tenancy, signing, tokens) and the store.

// adminApplicationID is FusionAuth's built-in admin application; its tenant
// is the Default tenant.
const adminApplicationID = "3c219e58-ed0e-4b18-ad48-f4f92793ae32"

// newOAuthProvider wires the provider.
func newOAuthProvider(svc *services.Set, cfg *config.Config, log *slog.Logger, pages *ui.UI, publicURL string) *oauth.Provider {
	a := &oauthAdapter{svc: svc, adminCallback: publicURL + admin.CallbackPath, adminSignedOut: publicURL + admin.SignedOutPath}
	return oauth.New(oauth.Deps{
		Clients: a, Authenticator: a, Registerer: a, Passwordless: a, Tokens: a, Users: a, State: a, Entities: entityClients{svc.Entities}, Pages: pages,
		Clock: svc.Clock(), Log: log, PublicURL: publicURL, SecureCookies: cfg.SecureCookies(), CORS: svc.System.CORS,
		ParseDPoPProof: parseDPoPProof, MAC: svc.MAC,
		ClientIP: func(r *http.Request) string { return httpx.ClientIP(r, cfg.TrustedProxies).String() },
	})
}

type oauthAdapter struct {
	svc *services.Set
	// The admin UI signs admins in with the authorization-code flow on
	// the admin application: its callback is always a redirect URL of
	// that application, and its signed-out page the logout URL (when none is set).
	adminCallback, adminSignedOut string
	// algs caches SigningAlgorithms for one set of signing keys.
	algs atomic.Pointer[signingAlgs]
}

type signingAlgs struct {
	set  *keys.Set
	algs []string
}

func notFound(err error) error {
	if errors.Is(err, model.ErrNotFound) || errors.Is(err, store.ErrNoRows) {
		return oauth.ErrNotFound
	}
	return err
}

// Client implements oauth.Clients.
func (a *oauthAdapter) Client(ctx context.Context, clientID string) (*oauth.Client, error) {
	id, err := uuid.Parse(clientID)
	if err != nil || id.String() != strings.ToLower(clientID) {
		return nil, oauth.ErrNotFound
	}
	// From the settings cache, without the client secret (ClientSecret
	// reads it when a client presents one): the hosted pages need none.
	load := a.svc.Tenancy.LoginApplicationConfig
	if id.String() == adminApplicationID {
		load = a.svc.Tenancy.ApplicationConfig // withAdminUI looks at whether it has a secret
	}
	app, err := load(ctx, id.String())
	if err != nil {
		return nil, notFound(err)
	}
	// The tenant from the settings cache: the provider needs none of its
	// secrets (SMTP password, captcha key).
	t, err := a.svc.Tenancy.LoginTenantConfig(ctx, app.TenantID)
	if err != nil {
		return nil, notFound(err)
	}
	if app.ID == adminApplicationID {
		app = a.withAdminUI(app)
	}
	return &oauth.Client{App: app, Tenant: t}, nil
}

// ClientSecret implements oauth.Clients: the application's client secret,
// read and unsealed ("" when it has none).
func (a *oauthAdapter) ClientSecret(ctx context.Context, clientID string) (secrets.Secret, error) {
	secret, err := a.svc.Tenancy.ClientSecret(ctx, clientID)
	return secret, notFound(err)
}

// withAdminUI is the admin application as the admin UI needs it: its
// callback authorized, the authorization-code grant enabled, PKCE required.
// The stored settings are not changed (the public URL may change between
// starts); the cached object is copied, never modified.
func (a *oauthAdapter) withAdminUI(app *model.ApplicationConfig) *model.ApplicationConfig {
	cp := *app
	oc := &cp.OAuthConfiguration
	oc.AuthorizedRedirectURLs = append(slices.Clone(oc.AuthorizedRedirectURLs), a.adminCallback)
	if !slices.Contains(oc.EnabledGrants, model.GrantAuthorizationCode) {
		oc.EnabledGrants = append(slices.Clone(oc.EnabledGrants), model.GrantAuthorizationCode)
	}
	oc.ProofKeyForCodeExchangePolicy = "Required"
	if oc.ClientSecret == "" { // nothing to authenticate with: a public client, bound by PKCE
		oc.ClientAuthenticationPolicy = "NotRequiredWhenUsingPKCE"
	}
	if oc.LogoutURL == "" {
		oc.LogoutURL = a.adminSignedOut
	}
	return &cp
}

// Tenant implements oauth.Clients from the settings cache: discovery needs
// no secret, and reading the rows per request made it a database-bound
// endpoint.
func (a *oauthAdapter) Tenant(ctx context.Context, tenantID string) (*model.TenantConfig, error) {
	if tenantID == "" {
		app, err := a.svc.Tenancy.LoginApplicationConfig(ctx, adminApplicationID)
		if err != nil {
			return nil, notFound(err)
		}
		tenantID = app.TenantID
	}
	t, err := a.svc.Tenancy.LoginTenantConfig(ctx, tenantID)
	return t, notFound(err)
}

// caller: the provider has checked the client itself, so the Login API's
// requireAuthentication is met; the attempt still counts per address
// unless an authenticated confidential client sends it.
// Register implements oauth.Registerer: the Registration API's combined
// create (user and registration in one transaction), rate limited per
// address and tenant like a sign-in.
func (a *oauthAdapter) Register(ctx context.Context, c *oauth.Client, in oauth.Registration, by oauth.Signer) (string, error) {
	if err := a.svc.Throttle.Allow(ctx, throttle.Request{Address: by.IP, Tenant: c.Tenant.ID}); err != nil {
		return "", err
	}
	user := kit.Object{"email": in.Email, "password": in.Password, "tenantId": c.Tenant.ID}
	if in.FirstName != "" {
		user["firstName"] = in.FirstName
	}
	if in.LastName != "" {
		user["lastName"] = in.LastName
	}
	res, err := a.svc.Identity.Register(ctx, kit.Actor{Type: kit.ActorSystem, Name: "hosted registration page", IP: by.IP},
		kit.TenantScope{Tenants: []string{c.Tenant.ID}}, "", c.App.ID, kit.Object{"user": user, "registration": kit.Object{"applicationId": c.App.ID}})
	var notBuilt *model.MailNotBuilt
	if errors.As(err, &notBuilt) {
		// A template's fault is the operator's to read (log, event log),
		// not the visitor's.
		a.svc.Audit.MailNotBuilt(ctx, "verification", "", notBuilt)
		return "", model.GeneralError("RegistrationNotCompleted", "The registration could not be completed. Please try again later.")
	}
	if err != nil {
		return "", err
	}
	id := ""
	if res.User != nil {
		id = res.User.ID
	}
	if id == "" {
		return "", errors.New("registration answered without a user")
	}
	return id, nil
}

// LogoutURLs implements oauth.Clients.
func (a *oauthAdapter) LogoutURLs(ctx context.Context, tenantID string) (map[string]string, error) {
	apps, err := a.svc.Tenancy.Applications(ctx, kit.TenantScope{Tenants: []string{tenantID}}, false)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, app := range apps {
		if u := app.OAuthConfiguration.LogoutURL; app.ID != "" && u != "" {
			out[app.ID] = u
		}
	}
	return out, nil
}

func (a *oauthAdapter) caller(c *oauth.Client, by oauth.Signer) authentication.LoginCaller {
	return authentication.LoginCaller{Authenticated: true, Scope: kit.TenantScope{Tenants: []string{c.Tenant.ID}}, IP: by.IP,
		EndUser: !by.ClientAuthenticated, OutcomeOnly: true}
}

// outcome maps a Login API answer to the provider's typed outcome.
func outcome(res *authentication.LoginResult, err error) (*oauth.LoginOutcome, error) {
	var verrs *model.Errors
	switch {
	case errors.Is(err, model.ErrNotFound), errors.As(err, &verrs), errors.Is(err, model.ErrUnauthorized):
		return &oauth.LoginOutcome{Status: oauth.LoginFailed}, nil
	case err != nil:
		return nil, err
	}
	out := &oauth.LoginOutcome{AuthType: res.AuthType}
	if out.AuthType == "" {
		out.AuthType = tokens.AuthTypePassword
	}
	switch res.Outcome {
	case authentication.Success, authentication.NotRegistered, authentication.EmailNotVerified, authentication.RegistrationNotVerified:
		out.Status, out.UserID = oauth.LoginOK, res.UserID
		if res.Response != nil {
			out.TwoFactorTrustID = res.Response.TwoFactorTrustID
		}
		if out.UserID == "" {
			return nil, errors.New("login answered without a user")
		}
		if res.Row != nil {
			if out.User, err = oauthUser(res.Row); err != nil {
				return nil, err
			}
			out.User.Roles, out.User.Registered = res.Roles, res.Registered
		}
	case authentication.TwoFactorRequired:
		out.Status, out.TwoFactorID = oauth.LoginTwoFactor, res.Response.TwoFactorID
		for _, m := range res.Response.Methods {
			out.EmailCode = out.EmailCode || m.Method == "email"
		}
	case authentication.PasswordChangeRequired:
		out.Status, out.ChangePasswordID, out.Reason = oauth.LoginChangePassword, res.Response.ChangePasswordID, res.Response.ChangePasswordReason
		out.TrustToken = res.Response.TrustToken
	case authentication.LoginPrevented:
		out.Status = oauth.LoginLocked
		if res.Response != nil && len(res.Response.Actions) > 0 {
			out.LockedUntil = res.Response.Actions[0].Expiry
		}
	default: // 410 expired, 423 inactive
		out.Status = oauth.LoginRefused
	}
	return out, nil
}

// Authenticate implements oauth.Authenticator with the Login API's rules.
func (a *oauthAdapter) Authenticate(ctx context.Context, c *oauth.Client, loginID, password string, by oauth.Signer) (*oauth.LoginOutcome, error) {
	return outcome(a.svc.Authentication.Login(ctx, a.caller(c, by), authentication.LoginRequest{ApplicationID: c.App.ID, LoginID: loginID,
		Password: password, IPAddress: by.IP, NoJWT: true, TwoFactorTrustID: by.TrustID}))
}

// CompleteTwoFactor implements oauth.Authenticator.
func (a *oauthAdapter) CompleteTwoFactor(ctx context.Context, c *oauth.Client, twoFactorID, code string, by oauth.Signer) (*oauth.LoginOutcome, error) {
	noJWT := true
	res, err := a.svc.Authentication.TwoFactorLogin(ctx, a.caller(c, by), authentication.TwoFactorLoginRequest{ApplicationID: c.App.ID,
		TwoFactorID: twoFactorID, Code: code, IPAddress: by.IP, NoJWT: &noJWT, TrustComputer: by.TrustDevice})
	var verrs *model.Errors
	switch {
	case errors.Is(err, authentication.ErrTwoFactorCodeInvalid), errors.As(err, &verrs):
		return &oauth.LoginOutcome{Status: oauth.LoginCodeInvalid}, nil
	case errors.Is(err, model.ErrNotFound):
		return &oauth.LoginOutcome{Status: oauth.LoginExpired}, nil
	}
	return outcome(res, err)
}

// SendTwoFactorCode implements oauth.Authenticator: POST
// /api/two-factor/send/{twoFactorId}'s rule, rate limited like a sign-in.
func (a *oauthAdapter) SendTwoFactorCode(ctx context.Context, c *oauth.Client, twoFactorID string, by oauth.Signer) error {
	if err := a.svc.Throttle.Allow(ctx, throttle.Request{Address: by.IP, Tenant: c.Tenant.ID}); err != nil {
		return err
	}
	err := a.svc.Authentication.SendTwoFactorCode(ctx, kit.Actor{Type: kit.ActorSystem, Name: "hosted sign-in page", IP: by.IP}, nil,
		twoFactorID, authentication.TwoFactorSendRequest{})
	var verrs *model.Errors
	if errors.As(err, &verrs) {
		return oauth.ErrNotFound
	}
	return notFound(err)
}

// ChangePassword implements oauth.Authenticator: the change-password id of
// a 203, then a login with the one-time password it answers.
func (a *oauthAdapter) ChangePassword(ctx context.Context, c *oauth.Client, id, trustToken, password string, by oauth.Signer) (*oauth.LoginOutcome, error) {
	res, err := a.svc.Identity.ChangePasswordByID(ctx, kit.Actor{Type: kit.ActorSystem, Name: "hosted sign-in page", IP: by.IP}, id,
		identity.ChangePasswordRequest{ApplicationID: c.App.ID, Password: password, TrustToken: trustToken})
	var verrs *model.Errors
	switch {
	case errors.As(err, &verrs):
		msg := "The new password does not meet the requirements."
		if len(verrs.GeneralErrors) > 0 {
			msg = verrs.GeneralErrors[0].Message
		}
		for _, items := range verrs.FieldErrors {
			if len(items) > 0 {
				msg = items[0].Message
				break
			}
		}
		return &oauth.LoginOutcome{Status: oauth.LoginPasswordInvalid, Message: msg}, nil
	case errors.Is(err, model.ErrNotFound):
		return &oauth.LoginOutcome{Status: oauth.LoginExpired}, nil
	case err != nil:
		return nil, err
	}
	return outcome(a.svc.Authentication.Login(ctx, a.caller(c, by), authentication.LoginRequest{ApplicationID: c.App.ID,
		OneTimePassword: res.OneTimePassword, IPAddress: by.IP, NoJWT: true}))
}

// EmailLink implements oauth.Passwordless: the passwordless start and its
// email in one transaction, silent about unknown login ids, rate limited
// like a sign-in.
func (a *oauthAdapter) EmailLink(ctx context.Context, c *oauth.Client, loginID string, state map[string]any, by oauth.Signer) error {
	err := a.svc.Authentication.EmailPasswordlessLink(ctx, kit.Actor{Type: kit.ActorSystem, Name: "hosted sign-in page", IP: by.IP},
		a.caller(c, by), authentication.PasswordlessStartRequest{ApplicationID: c.App.ID, LoginID: loginID, State: state})
	var verrs *model.Errors
	if errors.Is(err, authentication.ErrPasswordlessUnavailable) {
		return oauth.ErrNotFound
	}
	if errors.As(err, &verrs) && len(verrs.GeneralErrors) == 0 { // a login id or state the page cannot send: nothing to mail
		return nil
	}
	return err
}

// PeekLink implements oauth.Passwordless.
func (a *oauthAdapter) PeekLink(ctx context.Context, code string) (*oauth.LinkCode, error) {
	info, err := a.svc.Authentication.PeekPasswordless(ctx, code)
	if err != nil {
		return nil, notFound(err)
	}
	return &oauth.LinkCode{TenantID: info.TenantID, ApplicationID: info.ApplicationID, State: info.State}, nil
}

// CompleteLink implements oauth.Passwordless with the rules of
// /api/passwordless/login.
func (a *oauthAdapter) CompleteLink(ctx context.Context, c *oauth.Client, code string, by oauth.Signer) (*oauth.LoginOutcome, error) {
	res, err := a.svc.Authentication.PasswordlessLogin(ctx, a.caller(c, by), authentication.PasswordlessLoginRequest{Code: code,
		ApplicationID: c.App.ID, IPAddress: by.IP, NoJWT: true})
	if errors.Is(err, model.ErrNotFound) {
		return &oauth.LoginOutcome{Status: oauth.LoginExpired}, nil
	}
	return outcome(res, err)
}

func tokensOf(t *tokens.OAuthTokens) *oauth.Tokens {
	return &oauth.Tokens{AccessToken: t.AccessToken, ExpiresIn: t.ExpiresIn, RefreshToken: t.RefreshToken,
		RefreshTokenID: t.RefreshTokenID, UserID: t.UserID, TenantID: t.TenantID, Scope: t.Scope,
		AuthInstant: t.AuthInstant, SessionID: t.SessionID, DPoPJKT: t.DPoPJKT}
}

// IssueTokens implements oauth.TokenIssuer.
func (a *oauthAdapter) IssueTokens(ctx context.Context, g oauth.Grant) (*oauth.Tokens, error) {
	t, err := a.svc.Tokens.IssueOAuthTokens(ctx, tokens.OAuthGrant{UserID: g.UserID, ApplicationID: g.ClientID, AuthType: g.AuthType,
		AuthInstant: g.AuthInstant, Scope: g.Scope, SessionID: g.SessionID, Refresh: g.Refresh, IP: g.IP, Issuer: g.Issuer,
		DPoPJKT: g.DPoPJKT, BindRefresh: g.BindRefresh, CodeHash: g.CodeHash})
	switch {
	case errors.Is(err, tokens.ErrOAuthGrantRefused):
		return nil, oauth.ErrGrantRefused
	case errors.Is(err, tokens.ErrOAuthCodeReplayed):
		return nil, oauth.ErrCodeReplayed
	}
	if err != nil {
		return nil, err
	}
	return tokensOf(t), nil
}

// RefreshTokens implements oauth.TokenIssuer.
func (a *oauthAdapter) RefreshTokens(ctx context.Context, refreshToken, clientID, issuer, ip, jkt, scope string) (*oauth.Tokens, error) {
	t, err := a.svc.Tokens.ExchangeOAuthRefreshToken(ctx, refreshToken, clientID, issuer, ip, jkt, scope)
	var verrs *model.Errors
	if errors.As(err, &verrs) {
		return nil, oauth.ErrGrantRefused
	}
	if errors.Is(err, tokens.ErrOAuthScopeWidened) {
		return nil, oauth.ErrScopeWidened
	}
	if err != nil {
		return nil, err
	}
	return tokensOf(t), nil
}

// RevokeRefreshToken implements oauth.TokenIssuer.
func (a *oauthAdapter) RevokeRefreshToken(ctx context.Context, refreshToken, clientID string) error {
	_, err := a.svc.Tokens.RevokeOAuthRefreshToken(ctx, refreshToken, clientID)
	return err
}

// RevokeCodeExchange implements oauth.TokenIssuer.
func (a *oauthAdapter) RevokeCodeExchange(ctx context.Context, codeHash, clientID, refreshTokenID string) error {
	return a.svc.Tokens.RevokeCodeExchange(ctx, codeHash, clientID, refreshTokenID)
}

// VerifyAccessToken implements oauth.TokenIssuer.
func (a *oauthAdapter) VerifyAccessToken(ctx context.Context, token string) (*oauth.AccessToken, error) {
	j, err := a.svc.Tokens.ValidateJWT(ctx, token)
	if errors.Is(err, model.ErrUnauthorized) {
		return nil, oauth.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(j.Claims, &claims); err != nil {
		return nil, oauth.ErrNotFound
	}
	aud, _ := claims["aud"].(string)
	return &oauth.AccessToken{Claims: claims, Subject: j.Subject, TenantID: j.TenantID, ApplicationID: j.ApplicationID, Audience: aud}, nil
}

// VerifySignature implements oauth.TokenIssuer.
func (a *oauthAdapter) VerifySignature(_ context.Context, token string) (map[string]any, error) {
	v, err := a.svc.SigningKeys.Current().Verify(token)
	if err != nil {
		return nil, oauth.ErrNotFound
	}
	var claims map[string]any
	if err := json.Unmarshal(v.Payload, &claims); err != nil || claims == nil {
		return nil, oauth.ErrNotFound
	}
	return claims, nil
}

// idTokenSigner is the signer of the client's id-token key: the
// application's (JWT configuration enabled), else the tenant's, else its
// access-token key.
func (a *oauthAdapter) idTokenSigner(ctx context.Context, c *oauth.Client) (*keys.Signer, error) {
	id := c.Tenant.JWTConfiguration.IDTokenKeyID
	if c.App.JWTConfiguration.Enabled && c.App.JWTConfiguration.IDTokenKeyID != "" {
		id = c.App.JWTConfiguration.IDTokenKeyID
	}
	if id == "" {
		var err error
		if id, err = a.svc.Signing.AccessTokenKeyID(ctx, c.App.ID); err != nil {
			return nil, err
		}
	}
	if id == "" {
		return nil, fmt.Errorf("no id token key for application %s", c.App.ID)
	}
	return a.svc.SigningKeys.Current().Signer(id)
}

// IDTokenAlgorithm implements oauth.TokenIssuer.
func (a *oauthAdapter) IDTokenAlgorithm(ctx context.Context, c *oauth.Client) (string, error) {
	sg, err := a.idTokenSigner(ctx, c)
	if err != nil {
		return "", err
	}
	return sg.Algorithm(), nil
}

// SignIDToken implements oauth.TokenIssuer.
func (a *oauthAdapter) SignIDToken(ctx context.Context, c *oauth.Client, claims map[string]any) (string, error) {
	sg, err := a.idTokenSigner(ctx, c)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return sg.Sign(payload)
}

// SigningAlgorithms implements oauth.TokenIssuer: the algorithms of the
// published (asymmetric) keys, as the JWKS lists them, worked out once per
// set of keys (discovery asks on every request).
func (a *oauthAdapter) SigningAlgorithms() []string {
	cur := a.svc.SigningKeys.Current()
	if c := a.algs.Load(); c != nil && c.set == cur {
		return c.algs
	}
	algs := jwksAlgorithms(cur.JWKS())
	a.algs.Store(&signingAlgs{set: cur, algs: algs})
	return algs
}

func jwksAlgorithms(jwks []byte) []string {
	var set struct {
		Keys []struct {
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	_ = json.Unmarshal(jwks, &set)
	var out []string
	for _, k := range set.Keys {
		if k.Alg != "" && !slices.Contains(out, k.Alg) {
			out = append(out, k.Alg)
		}
	}
	if len(out) == 0 {
		out = []string{"RS256"}
	}
	slices.Sort(out)
	return out
}

// User implements oauth.Users.
//
// It reads the stored row and the few profile members of its data, not the
// whole user object (registrations, memberships, the raw bag): a sign-in
// and a code exchange each read the user once, beside one password hash.
func (a *oauthAdapter) User(ctx context.Context, userID, applicationID string) (*oauth.User, error) {
	row, err := a.st().UserRowByID(ctx, userID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, oauth.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u, err := oauthUser(row)
	if err != nil {
		return nil, err
	}
	if applicationID != "" {
		if u.Roles, u.Registered, err = kit.EffectiveRoles(ctx, a.st(), userID, applicationID); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// SignInsEndedBefore implements oauth.Users: the user's token cut-off for
// the application (tokens.Service.EndSessions).
func (a *oauthAdapter) SignInsEndedBefore(ctx context.Context, userID, applicationID string) (int64, error) {
	return a.st().TokenCutoff(ctx, userID, applicationID)
}

// oauthUser is the provider's view of a user row: the profile claims.
func oauthUser(row *store.UserRow) (*oauth.User, error) {
	var profile struct {
		FirstName   string `json:"firstName"`
		MiddleName  string `json:"middleName"`
		LastName    string `json:"lastName"`
		ImageURL    string `json:"imageUrl"`
		BirthDate   string `json:"birthDate"`
		MobilePhone string `json:"mobilePhone"`
	}
	if err := json.Unmarshal([]byte(row.Data), &profile); err != nil {
		return nil, fmt.Errorf("user %s data: %w", row.ID, err)
	}
	u := &oauth.User{ID: row.ID, TenantID: row.TenantID, Active: row.Active, Email: row.Email, EmailVerified: row.Verified,
		Username: row.Username, FirstName: profile.FirstName, MiddleName: profile.MiddleName, LastName: profile.LastName,
		FullName: row.FullName, ImageURL: profile.ImageURL, Birthdate: profile.BirthDate, MobilePhone: profile.MobilePhone,
		PasswordLastUpdateInstant: row.PasswordLastUpdateInstant}
	return u, nil
}

// The oauth.State implementation: SSO sessions and authorization codes.

func (a *oauthAdapter) st() *store.Tx { return a.svc.Store().Read() }

// Consent implements oauth.State.
func (a *oauthAdapter) Consent(ctx context.Context, userID, clientID string) (string, error) {
	return a.st().OAuthConsent(ctx, userID, clientID)
}

// SaveConsent implements oauth.State.
func (a *oauthAdapter) SaveConsent(ctx context.Context, userID, clientID, scope string, now int64) error {
	return a.st().PutOAuthConsent(ctx, userID, clientID, scope, now)
}

func (a *oauthAdapter) CreateSession(ctx context.Context, tokenHash string, s *oauth.Session) error {
	return a.st().InsertOAuthSession(ctx, sessionRow(tokenHash, s))
}

func sessionRow(tokenHash string, s *oauth.Session) *store.OAuthSession {
	return &store.OAuthSession{ID: s.ID, TokenHash: tokenHash, UserID: s.UserID, TenantID: s.TenantID,
		AuthInstant: s.AuthInstant, AuthType: s.AuthType, KeepSignedIn: s.KeepSignedIn, ExpiresInstant: s.ExpiresInstant,
		InsertInstant: s.AuthInstant}
}

// CreateSessionAndCode implements oauth.State.
func (a *oauthAdapter) CreateSessionAndCode(ctx context.Context, sessionHash string, s *oauth.Session, codeHash string, c *oauth.Code, now int64) error {
	return a.svc.Store().InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertOAuthSession(ctx, sessionRow(sessionHash, s)); err != nil {
			return err
		}
		return tx.InsertOAuthCode(ctx, codeRow(codeHash, c, now))
	})
}

func (a *oauthAdapter) SessionByHash(ctx context.Context, tokenHash string, now int64) (*oauth.Session, error) {
	s, err := a.st().OAuthSessionByHash(ctx, tokenHash, now)
	if err != nil {
		return nil, notFound(err)
	}
	return &oauth.Session{ID: s.ID, UserID: s.UserID, TenantID: s.TenantID, AuthInstant: s.AuthInstant, AuthType: s.AuthType,
		KeepSignedIn: s.KeepSignedIn, ExpiresInstant: s.ExpiresInstant}, nil
}

func (a *oauthAdapter) ExtendSession(ctx context.Context, id string, expires int64) error {
	return a.st().ExtendOAuthSession(ctx, id, expires)
}

func (a *oauthAdapter) DeleteSession(ctx context.Context, id string) error {
	_, err := a.st().DeleteOAuthSession(ctx, id)
	return err
}

// RecordDPoPProof implements oauth.State.
func (a *oauthAdapter) RecordDPoPProof(ctx context.Context, id string, expires int64) (bool, error) {
	return a.st().RecordDPoPProof(ctx, id, expires)
}

// parseDPoPProof checks a DPoP proof's form and signature (oauth.Deps.ParseDPoPProof).
func parseDPoPProof(proof string) (*oauth.DPoPProof, error) {
	p, err := keys.ParseDPoPProof(proof, oauth.DPoPAlgorithms())
	if err != nil {
		return nil, err
	}
	return &oauth.DPoPProof{JKT: p.JKT, JTI: p.JTI, HTM: p.HTM, HTU: p.HTU, IAT: p.IAT, ATH: p.ATH, Nonce: p.Nonce}, nil
}

func (a *oauthAdapter) CreateCode(ctx context.Context, codeHash string, c *oauth.Code, now int64) error {
	return a.st().InsertOAuthCode(ctx, codeRow(codeHash, c, now))
}

func codeRow(codeHash string, c *oauth.Code, now int64) *store.OAuthCode {
	return &store.OAuthCode{CodeHash: codeHash, ClientID: c.ClientID, TenantID: c.TenantID,
		UserID: c.UserID, SessionID: c.SessionID, RedirectURI: c.RedirectURI, Scope: c.Scope, Nonce: c.Nonce,
		CodeChallenge: c.CodeChallenge, DPoPJKT: c.DPoPJKT, AuthInstant: c.AuthInstant, AuthType: c.AuthType,
		ExpiresInstant: c.ExpiresInstant, InsertInstant: now}
}

func codeOf(c *store.OAuthCode) *oauth.Code {
	return &oauth.Code{ClientID: c.ClientID, TenantID: c.TenantID, UserID: c.UserID, SessionID: c.SessionID,
		RedirectURI: c.RedirectURI, Scope: c.Scope, Nonce: c.Nonce, CodeChallenge: c.CodeChallenge, DPoPJKT: c.DPoPJKT, AuthInstant: c.AuthInstant,
		AuthType: c.AuthType, ExpiresInstant: c.ExpiresInstant, RefreshTokenID: c.RefreshTokenID}
}

func (a *oauthAdapter) CodeByHash(ctx context.Context, codeHash string, now int64) (*oauth.Code, error) {
	c, err := a.st().OAuthCodeByHash(ctx, codeHash, now)
	if err != nil {
		return nil, notFound(err)
	}
	return codeOf(c), nil
}

func (a *oauthAdapter) ConsumeCode(ctx context.Context, codeHash string, now int64) (*oauth.Code, error) {
	c, err := a.st().ConsumeOAuthCode(ctx, codeHash, now)
	if err != nil {
		return nil, notFound(err)
	}
	return codeOf(c), nil
}

func (a *oauthAdapter) MarkCodeReplayed(ctx context.Context, codeHash string) (*oauth.Code, error) {
	c, err := a.st().MarkOAuthCodeReplayed(ctx, codeHash)
	if err != nil {
		return nil, notFound(err)
	}
	return codeOf(c), nil
}

// The device.Store implementation (oauth.State embeds it).

// deviceNotFound maps a missing row to device.ErrNotFound.
func deviceNotFound(err error) error {
	if errors.Is(err, store.ErrNoRows) {
		return device.ErrNotFound
	}
	return err
}

func deviceOf(d *store.OAuthDeviceCode) *device.Grant {
	return &device.Grant{UserCode: d.UserCode, ClientID: d.ClientID, TenantID: d.TenantID, Scope: d.Scope,
		IntervalSeconds: d.IntervalSeconds, ExpiresInstant: d.ExpiresInstant, UserID: d.UserID, SessionID: d.SessionID,
		AuthInstant: d.AuthInstant, AuthType: d.AuthType}
}

func (a *oauthAdapter) CreateDeviceGrant(ctx context.Context, hash string, d *device.Grant, now int64) error {
	err := a.st().InsertOAuthDeviceCode(ctx, &store.OAuthDeviceCode{DeviceCodeHash: hash, UserCode: d.UserCode, ClientID: d.ClientID,
		TenantID: d.TenantID, Scope: d.Scope, IntervalSeconds: d.IntervalSeconds, ExpiresInstant: d.ExpiresInstant, InsertInstant: now})
	if store.IsUnique(err) {
		return device.ErrConflict
	}
	return err
}

func (a *oauthAdapter) PendingDeviceGrant(ctx context.Context, userCode string, now int64) (*device.Grant, error) {
	d, err := a.st().PendingOAuthDeviceCode(ctx, userCode, now)
	if err != nil {
		return nil, deviceNotFound(err)
	}
	return deviceOf(d), nil
}

func (a *oauthAdapter) ApproveDeviceGrant(ctx context.Context, userCode string, ap device.Approval, now int64) (bool, error) {
	return a.st().ApproveOAuthDeviceCode(ctx, userCode, ap.UserID, ap.SessionID, ap.AuthType, ap.AuthInstant, now)
}

func (a *oauthAdapter) TakeApprovedDeviceGrant(ctx context.Context, hash string, now int64) (*device.Grant, error) {
	d, err := a.st().TakeApprovedOAuthDeviceCode(ctx, hash, now)
	if err != nil {
		return nil, deviceNotFound(err)
	}
	return deviceOf(d), nil
}

func (a *oauthAdapter) PollDeviceGrant(ctx context.Context, hash string, now int64) (*device.Grant, error) {
	d, err := a.st().PollOAuthDeviceCode(ctx, hash, now)
	if err != nil {
		return nil, deviceNotFound(err)
	}
	return deviceOf(d), nil
}

func (a *oauthAdapter) DeviceGrantByHash(ctx context.Context, hash string) (*device.Grant, error) {
	d, err := a.st().OAuthDeviceCodeByHash(ctx, hash)
	if err != nil {
		return nil, deviceNotFound(err)
	}
	return deviceOf(d), nil
}

// RefreshTokenStatus implements oauth.TokenIssuer.
func (a *oauthAdapter) RefreshTokenStatus(ctx context.Context, refreshToken, clientID string) (*oauth.RefreshStatus, error) {
	if refreshToken == "" || len(refreshToken) > 1024 {
		return nil, oauth.ErrNotFound
	}
	rt, err := a.st().RefreshTokenByHash(ctx, secrets.HashToken(refreshToken))
	if err != nil {
		return nil, notFound(err)
	}
	now := a.svc.Clock().Now().UnixMilli()
	if rt.ApplicationID != clientID || rt.Revoked || rt.RotatedInstant != nil || rt.ExpiresInstant <= now {
		return nil, oauth.ErrNotFound
	}
	return &oauth.RefreshStatus{UserID: rt.UserID, TenantID: rt.TenantID, ApplicationID: rt.ApplicationID,
		ExpiresInstant: rt.ExpiresInstant, InsertInstant: rt.InsertInstant}, nil
}

// entityClients implements clientcreds.Entities over Entity Management.
type entityClients struct{ s *entities.Service }

func (c entityClients) ClientCredentials(ctx context.Context, r clientcreds.TokenRequest) (*clientcreds.Token, error) {
	t, err := c.s.ClientCredentials(ctx, entities.ClientCredentialsRequest{TenantID: r.TenantID, ClientID: r.ClientID,
		Secret: r.Secret, Scope: r.Scope, Issuer: r.Issuer, DPoPJKT: r.DPoPJKT})
	var ge *entities.GrantError
	if errors.As(err, &ge) {
		return nil, &clientcreds.GrantError{Code: ge.Code, Reason: ge.Reason, Description: ge.Description}
	}
	if err != nil {
		return nil, err
	}
	return &clientcreds.Token{AccessToken: t.AccessToken, ExpiresIn: t.ExpiresIn, Scope: t.Scope}, nil
}

func (c entityClients) IntrospectEntityToken(ctx context.Context, token, tenantID string) ([]byte, bool, error) {
	return c.s.IntrospectClientToken(ctx, token, tenantID)
}
