package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/tokens"
)

// The Login API, logout, JWT validation and issue, and refresh tokens.
//
// POST /api/login is Anonymous in the route table although FusionAuth's
// client marks it as a key call: FusionAuth asks for a key only when the
// application's loginConfiguration.requireAuthentication is on (the tenant's,
// when the request names no application), which only the login rules can know. The
// handler passes whether a key that may call /api/login with this method came
// with the request; the login rules answer 401 when one was needed and is missing.
// A key that lacks the permission counts as no key. The login ping (PUT)
// always needs a key: the guard checks it, and the login rules again.

// Cookie names FusionAuth uses for the tokens of a login.
const (
	accessTokenCookie  = "access_token"
	refreshTokenCookie = "refresh_token"
)

// loginCaller describes the caller of a Login API method: whether its key
// may call family with the request's method, and the tenants it may touch.
// Without such a key, X-FusionAuth-TenantId still narrows the request.
func loginCaller(r *http.Request, family string) authentication.LoginCaller {
	p := PrincipalFrom(r.Context())
	c := authentication.LoginCaller{}
	if p.IP.IsValid() {
		c.IP = p.IP.String()
	}
	if scope, ok := keyScope(r, family); ok {
		c.Authenticated, c.Scope = true, scope
	} else if h := strings.TrimSpace(r.Header.Get("X-FusionAuth-TenantId")); h != "" {
		c.Scope = kit.TenantScope{Tenants: []string{h}}
	}
	return c
}

// writeLoginError renders a Login API error; a 401 for a missing key is the
// not-permitted status when a key was sent.
func (s *Server) writeLoginError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, model.ErrUnauthorized) {
		s.refuseAnonymous(w, r)
		return
	}
	httpx.WriteError(w, r, s.log, err)
}

// login is POST /api/login.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req authentication.LoginRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.authentication.Login(r.Context(), loginCaller(r, "/api/login"), req)
	s.countLogin(res, err)
	if err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	s.writeLoginResult(w, r, res)
}

// loginOutcomeName names each outcome in the logins metric.
var loginOutcomeName = map[authentication.Outcome]string{
	authentication.Success:                 "success",
	authentication.NotRegistered:           "not_registered",
	authentication.PasswordChangeRequired:  "password_change_required",
	authentication.EmailNotVerified:        "email_not_verified",
	authentication.RegistrationNotVerified: "registration_not_verified",
	authentication.TwoFactorRequired:       "two_factor_required",
	authentication.LoginPrevented:          "locked_out",
	authentication.UserExpired:             "expired",
	authentication.UserLocked:              "deactivated",
}

// countLogin counts a login attempt by outcome, and the tokens it issued.
// Errors are "failed" (wrong password, unknown user, bad code: 404) or
// "refused" (anything else: bad request, missing key, database trouble).
func (s *Server) countLogin(res *authentication.LoginResult, err error) {
	switch {
	case err != nil && errors.Is(err, model.ErrNotFound):
		s.metrics.Login("failed")
	case err != nil:
		s.metrics.Login("refused")
	default:
		name, ok := loginOutcomeName[res.Outcome]
		if !ok {
			name = "other"
		}
		s.metrics.Login(name)
		if res.Response != nil {
			s.countTokens(res.Response.Token, res.Response.RefreshToken, "")
		}
	}
}

// countTokens counts the tokens a response carries: an access token, and a
// refresh token unless it is the one the client sent (not rotated).
func (s *Server) countTokens(access, refresh, sent string) {
	if access != "" {
		s.metrics.TokenIssued("access")
	}
	if refresh != "" && refresh != sent {
		s.metrics.TokenIssued("refresh")
	}
}

// loginStatus is FusionAuth's status of each login outcome.
var loginStatus = map[authentication.Outcome]int{
	authentication.Success:                 http.StatusOK,
	authentication.NotRegistered:           http.StatusAccepted,             // 202
	authentication.PasswordChangeRequired:  http.StatusNonAuthoritativeInfo, // 203
	authentication.EmailNotVerified:        212,                             // FusionAuth's own
	authentication.RegistrationNotVerified: 213,                             // FusionAuth's own
	authentication.TwoFactorRequired:       242,                             // FusionAuth's own
	authentication.LoginPrevented:          http.StatusConflict,             // 409
	authentication.UserExpired:             http.StatusGone,                 // 410
	authentication.UserLocked:              http.StatusLocked,               // 423
}

func (s *Server) writeLoginResult(w http.ResponseWriter, r *http.Request, res *authentication.LoginResult) {
	status, ok := loginStatus[res.Outcome]
	if !ok {
		httpx.WriteError(w, r, s.log, fmt.Errorf("login outcome %d has no status", res.Outcome))
		return
	}
	if res.Response == nil {
		httpx.WriteStatus(w, status)
		return
	}
	s.setTokenCookies(w, r, res.Response.Token, res.TokenTTL, res.Response.RefreshToken, res.RefreshTTL)
	httpx.WriteJSON(w, status, res.Response)
}

// loginPing is PUT /api/login/{userId}/{applicationId} (ipAddress as a
// parameter) and PUT /api/login with a LoginPingRequest body.
func (s *Server) loginPing(w http.ResponseWriter, r *http.Request) {
	var req authentication.LoginPingRequest
	if r.PathValue("userId") != "" {
		req.UserID, req.ApplicationID = r.PathValue("userId"), r.PathValue("applicationId")
		req.IPAddress = r.URL.Query().Get("ipAddress")
	} else if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	res, err := s.authentication.LoginPing(r.Context(), loginCaller(r, "/api/login"), req)
	if err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	s.writeLoginResult(w, r, res)
}

// logoutRequest is FusionAuth's LogoutRequest.
type logoutRequest struct {
	Global       bool   `json:"global"`
	RefreshToken string `json:"refreshToken"`
}

// logout is POST /api/logout: global and refreshToken as parameters or in a
// body; the refresh_token cookie when neither names a token. It always
// answers 200 and clears the token cookies.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	var req logoutRequest
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	if v := q.Get("global"); v != "" {
		req.Global, _ = strconv.ParseBool(v)
	}
	if v := q.Get("refreshToken"); v != "" {
		req.RefreshToken = v
	}
	if req.RefreshToken == "" {
		if c, err := r.Cookie(refreshTokenCookie); err == nil {
			req.RefreshToken = c.Value
		}
	}
	subject := ""
	if req.Global {
		if tok := bearerToken(r); tok != "" {
			j, err := s.tokens.ValidateJWT(r.Context(), tok)
			switch {
			case err == nil:
				subject = j.Subject
			case !errors.Is(err, model.ErrUnauthorized):
				// Unchecked is not invalid: answering 200 would tell the
				// user every session ended while none did.
				httpx.WriteError(w, r, s.log, err)
				return
			}
		}
	}
	if err := s.tokens.Logout(r.Context(), req.RefreshToken, req.Global, subject); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.clearTokenCookies(w, r)
	httpx.WriteStatus(w, http.StatusOK)
}

// bearerToken is the access token of a request: "Authorization: Bearer …"
// (or FusionAuth's older "JWT …"), else the access_token cookie.
func bearerToken(r *http.Request) string {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok &&
		(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "JWT")) {
		return strings.TrimSpace(tok)
	}
	if c, err := r.Cookie(accessTokenCookie); err == nil {
		return c.Value
	}
	return ""
}

// validateJWT is GET /api/jwt/validate: 200 {"jwt":{claims}} or 401.
func (s *Server) validateJWT(w http.ResponseWriter, r *http.Request) {
	j, err := s.tokens.ValidateJWT(r.Context(), bearerToken(r))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		JWT json.RawMessage `json:"jwt"`
	}{j.Claims})
}

// issueJWT is GET /api/jwt/issue?applicationId=…[&refreshToken=…], with the
// access token as for validate. The refresh_token cookie takes precedence
// over the parameter, as in FusionAuth.
func (s *Server) issueJWT(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	refresh := q.Get("refreshToken")
	if c, err := r.Cookie(refreshTokenCookie); err == nil && c.Value != "" {
		refresh = c.Value
	}
	ip := ""
	if p := PrincipalFrom(r.Context()); p.IP.IsValid() {
		ip = p.IP.String()
	}
	res, err := s.tokens.IssueJWT(r.Context(), bearerToken(r), q.Get("applicationId"), refresh, ip)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.countTokens(res.Token, res.RefreshToken, refresh)
	s.setTokenCookies(w, r, res.Token, res.TokenTTL, res.RefreshToken, res.RefreshTTL)
	httpx.WriteJSON(w, http.StatusOK, res)
}

// refreshJWT is POST /api/jwt/refresh: the refresh token in the body, else
// in the refresh_token cookie.
func (s *Server) refreshJWT(w http.ResponseWriter, r *http.Request) {
	var req tokens.RefreshRequest
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if req.RefreshToken == "" {
		if c, err := r.Cookie(refreshTokenCookie); err == nil {
			req.RefreshToken = c.Value
		}
	}
	ip := ""
	if p := PrincipalFrom(r.Context()); p.IP.IsValid() {
		ip = p.IP.String()
	}
	res, err := s.tokens.ExchangeRefreshToken(r.Context(), req, ip)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.countTokens(res.Token, res.RefreshToken, req.RefreshToken)
	s.setTokenCookies(w, r, res.Token, res.TokenTTL, res.RefreshToken, res.RefreshTTL)
	httpx.WriteJSON(w, http.StatusOK, res)
}

// retrieveRefreshTokens is GET /api/jwt/refresh?userId=….
func (s *Server) retrieveRefreshTokens(w http.ResponseWriter, r *http.Request) {
	userID := r.URL.Query().Get("userId")
	if userID == "" {
		httpx.WriteError(w, r, s.log, model.FieldError("userId", "blank", "A userId is required."))
		return
	}
	list, err := s.tokens.RefreshTokensOfUser(r.Context(), scopeOf(r), userID)
	s.reply(w, r, map[string]any{"refreshTokens": list}, err)
}

// retrieveRefreshToken is GET /api/jwt/refresh/{tokenId}.
func (s *Server) retrieveRefreshToken(w http.ResponseWriter, r *http.Request) {
	t, err := s.tokens.RefreshTokenByID(r.Context(), scopeOf(r), r.PathValue("tokenId"))
	s.reply(w, r, map[string]any{"refreshToken": t}, err)
}

// revokeRefreshTokens is DELETE /api/jwt/refresh (token, userId,
// applicationId as parameters or in a RefreshTokenRevokeRequest body) and
// DELETE /api/jwt/refresh/{tokenId}.
func (s *Server) revokeRefreshTokens(w http.ResponseWriter, r *http.Request) {
	var req tokens.RevokeRefreshTokensRequest
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	for name, to := range map[string]*string{"token": &req.Token, "userId": &req.UserID, "applicationId": &req.ApplicationID} {
		if v := q.Get(name); v != "" {
			*to = v
		}
	}
	req.TokenID = r.PathValue("tokenId")
	s.reply(w, r, nil, s.tokens.RevokeRefreshTokens(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), req))
}

// secureCookies says whether cookies must be HTTPS-only: when the request
// came over TLS or Latch's public address is https.
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || s.cfg.SecureCookies()
}

// setTokenCookies sets the access_token and refresh_token cookies of a
// login, as FusionAuth does: HttpOnly, SameSite=Strict, living as long as
// their tokens.
func (s *Server) setTokenCookies(w http.ResponseWriter, r *http.Request, token string, ttl int64, refresh string, refreshTTL int64) {
	for _, c := range []struct {
		name, value string
		ttl         int64
	}{{accessTokenCookie, token, ttl}, {refreshTokenCookie, refresh, refreshTTL}} {
		if c.value == "" || c.ttl <= 0 {
			continue
		}
		http.SetCookie(w, &http.Cookie{Name: c.name, Value: c.value, Path: "/", MaxAge: int(c.ttl), HttpOnly: true,
			Secure: s.secureCookies(r), SameSite: http.SameSiteStrictMode})
	}
}

// clearTokenCookies removes the token cookies (logout).
func (s *Server) clearTokenCookies(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{accessTokenCookie, refreshTokenCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			Secure: s.secureCookies(r), SameSite: http.SameSiteStrictMode})
	}
}
