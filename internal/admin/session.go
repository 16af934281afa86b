package admin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Signing in: /admin/login sends the browser to /oauth2/authorize on the
// admin application with PKCE (S256) and a state, both kept in a short-lived
// flow cookie; /admin/callback checks the state, exchanges the code at the
// token endpoint (in-process, the same code path as any client) and starts
// an admin session: a random cookie value whose hash is stored.

const (
	sessionCookie = "latch.admin"
	flowCookie    = "latch.admin.flow"
	// sessionIdle: an admin session ends after this long without a request;
	// sessionMax: and this long after sign-in, whatever happens.
	sessionIdle = 30 * time.Minute
	sessionMax  = 12 * time.Hour
	// flowTTL bounds the time between leaving for the sign-in page and
	// coming back.
	flowTTL = 10 * time.Minute
)

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// csrfFor derives the session's CSRF token from its cookie value, so
// nothing more is stored and another session's token never fits.
func csrfFor(value string) string {
	m := hmac.New(sha256.New, []byte(value))
	m.Write([]byte("latch admin csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// flow is the sign-in in progress, kept in the flow cookie.
type flow struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Next     string `json:"n"`
}

// safeNext keeps only local /admin addresses as where to go after sign-in.
func safeNext(next string) string {
	if next == HomePath || strings.HasPrefix(next, HomePath+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		if u, err := url.Parse(next); err == nil && u.Scheme == "" && u.Host == "" {
			return next
		}
	}
	return HomePath
}

// login is GET /admin/login: start a sign-in (?next=, ?reauth=1 asks for
// the password again).
func (a *Admin) login(w http.ResponseWriter, r *http.Request, _ *pagekit.Session) {
	a.startSignIn(w, r, r.URL.Query().Get("next"), r.URL.Query().Get("reauth") == "1")
}

func (a *Admin) startSignIn(w http.ResponseWriter, r *http.Request, next string, reauth bool) {
	f := flow{State: newToken(), Verifier: newToken() + newToken()[:11], Next: safeNext(next)}
	raw, _ := json.Marshal(f)
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: base64.RawURLEncoding.EncodeToString(raw), Path: HomePath + "/",
		MaxAge: int(flowTTL / time.Second), HttpOnly: true, Secure: a.SecureCookies, SameSite: http.SameSiteLaxMode})
	sum := sha256.Sum256([]byte(f.Verifier))
	q := url.Values{
		"client_id":             {model.AdminApplicationID},
		"redirect_uri":          {a.PublicURL + CallbackPath},
		"response_type":         {"code"},
		"scope":                 {"openid"},
		"state":                 {f.State},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if reauth {
		q.Set("prompt", "login")
	}
	http.Redirect(w, r, "/oauth2/authorize?"+q.Encode(), http.StatusSeeOther)
}

func (a *Admin) readFlow(r *http.Request) (*flow, bool) {
	c, err := r.Cookie(flowCookie)
	if err != nil || len(c.Value) > 1024 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil, false
	}
	var f flow
	if json.Unmarshal(raw, &f) != nil || f.State == "" || f.Verifier == "" {
		return nil, false
	}
	return &f, true
}

// callback is GET /admin/callback: the end of the authorization-code flow.
func (a *Admin) callback(w http.ResponseWriter, r *http.Request, _ *pagekit.Session) {
	q := r.URL.Query()
	f, ok := a.readFlow(r)
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: HomePath + "/", MaxAge: -1, HttpOnly: true, Secure: a.SecureCookies, SameSite: http.SameSiteLaxMode})
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		a.Render(w, r, nil, http.StatusBadRequest, "message", "Sign-in expired", "", pagekit.MessageData{Heading: "This sign-in has expired",
			Paragraphs: []string{"The sign-in took too long, or it was started in another browser. Nothing was changed."},
			Links:      []pagekit.Link{{Label: "Sign in again", Href: "/admin/login"}}})
		return
	}
	if e := q.Get("error"); e != "" || q.Get("code") == "" {
		a.Render(w, r, nil, http.StatusBadRequest, "message", "Sign-in failed", "", pagekit.MessageData{Heading: "The sign-in did not complete",
			Paragraphs: []string{"Latch's sign-in page answered: " + strings.TrimSpace(e+" "+q.Get("error_description"))},
			Links:      []pagekit.Link{{Label: "Sign in again", Href: "/admin/login"}}})
		return
	}
	userID, authInstant, err := a.exchange(r, q.Get("code"), f.Verifier)
	if err != nil {
		a.Log.WarnContext(r.Context(), "admin: code exchange refused", "err", err)
		a.Render(w, r, nil, http.StatusBadRequest, "message", "Sign-in failed", "", pagekit.MessageData{Heading: "The sign-in did not complete",
			Paragraphs: []string{"The sign-in could not be verified. Nothing was changed."},
			Links:      []pagekit.Link{{Label: "Sign in again", Href: "/admin/login"}}})
		return
	}
	ctx := r.Context()
	u, roles, err := a.adminUser(ctx, userID)
	if err != nil {
		a.Fail(w, r, nil, "load admin", err)
		return
	}
	if u == nil || !pagekit.IsAdmin(roles) {
		a.Render(w, r, nil, http.StatusForbidden, "message", "Not an administrator", "", pagekit.MessageData{Heading: "This account is not an administrator",
			Paragraphs: []string{"You signed in, but your account has no role in the admin application. Ask an administrator to give you one."},
			Links:      []pagekit.Link{{Label: "Sign out", Href: "/oauth2/logout?client_id=" + model.AdminApplicationID}}})
		return
	}
	value := newToken()
	now := a.Now().UnixMilli()
	row := &store.AdminSession{ID: uuid.NewString(), TokenHash: hashToken(value), UserID: userID, AuthInstant: authInstant,
		ExpiresInstant: now + sessionIdle.Milliseconds(), InsertInstant: now}
	err = a.Svc.Store().InTx(ctx, func(tx *store.Tx) error {
		if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" && len(old.Value) <= 128 {
			if s, err := tx.AdminSessionByHash(ctx, hashToken(old.Value), now); err == nil {
				if err := tx.DeleteAdminSession(ctx, s.ID, now); err != nil {
					return err
				}
			}
		}
		return tx.InsertAdminSession(ctx, row)
	})
	if err != nil {
		a.Fail(w, r, nil, "store admin session", err)
		return
	}
	// Lax, not Strict: an admin following a link to /admin from elsewhere
	// must arrive signed in. Every POST carries the CSRF token besides.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: HomePath, HttpOnly: true, Secure: a.SecureCookies, SameSite: http.SameSiteLaxMode})
	a.Log.InfoContext(ctx, "admin signed in", "user", userID)
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// tokenResponse is the part of the token endpoint's answer the callback reads.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	UserID      string `json:"userId"`
	Error       string `json:"error"`
}

// exchange redeems the code at the token endpoint and verifies the access
// token it answers; it returns the user and when they authenticated.
func (a *Admin) exchange(r *http.Request, code, verifier string) (string, int64, error) {
	ctx := r.Context()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.PublicURL + CallbackPath},
		"code_verifier": {verifier}, "client_id": {model.AdminApplicationID}}
	if app, err := a.Svc.Tenancy.ApplicationConfig(ctx, model.AdminApplicationID); err == nil && app.OAuthConfiguration.ClientSecret != "" {
		form.Set("client_secret", app.OAuthConfiguration.ClientSecret.Reveal())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = r.RemoteAddr
	rec := &recorder{header: http.Header{}}
	a.Token.ServeHTTP(rec, req)
	var tr tokenResponse
	if err := json.Unmarshal(rec.body.Bytes(), &tr); err != nil || rec.status != http.StatusOK || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("token endpoint answered %d %s", rec.status, tr.Error)
	}
	j, err := a.Svc.Tokens.ValidateJWT(ctx, tr.AccessToken)
	if err != nil {
		return "", 0, err
	}
	if j.ApplicationID != model.AdminApplicationID && j.ApplicationID != "" {
		return "", 0, errors.New("the token is for another application")
	}
	auth := int64(j.AuthTime * 1000)
	if auth <= 0 {
		auth = a.Now().UnixMilli()
	}
	return j.Subject, auth, nil
}

// recorder is the in-process token call's response.
type recorder struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (rc *recorder) Header() http.Header { return rc.header }
func (rc *recorder) WriteHeader(s int) {
	if rc.status == 0 {
		rc.status = s
	}
}
func (rc *recorder) Write(b []byte) (int, error) {
	if rc.status == 0 {
		rc.status = http.StatusOK
	}
	return rc.body.Write(b)
}

// adminUser loads an active user and their roles in the admin application
// (their own and their groups'); nil when the user is gone or inactive.
func (a *Admin) adminUser(ctx context.Context, userID string) (*store.UserRow, []string, error) {
	rd := a.Svc.Store().Read()
	u, err := kit.LoadUser(ctx, rd, kit.TenantScope{}, userID)
	if errors.Is(err, model.ErrNotFound) || errors.Is(err, store.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !u.Active {
		return nil, nil, nil
	}
	roles, registered, err := kit.EffectiveRoles(ctx, rd, userID, model.AdminApplicationID)
	if err != nil || !registered {
		return nil, nil, err
	}
	return u, roles, nil
}

// currentSession is the request's admin session, with the admin's roles as
// they are now; nil when there is none (or the admin lost every role).
func (a *Admin) currentSession(w http.ResponseWriter, r *http.Request) (*pagekit.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, nil
	}
	ctx := r.Context()
	now := a.Now().UnixMilli()
	row, err := a.Svc.Store().Read().AdminSessionByHash(ctx, hashToken(c.Value), now)
	if errors.Is(err, store.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if now-row.InsertInstant > sessionMax.Milliseconds() {
		return nil, nil
	}
	u, roles, err := a.adminUser(ctx, row.UserID)
	if err != nil {
		return nil, err
	}
	// A password changed since sign-in ends the session, as it ends SSO sessions.
	if u == nil || !pagekit.IsAdmin(roles) || u.PasswordLastUpdateInstant > row.AuthInstant {
		return nil, nil
	}
	if err := a.Svc.Store().InTx(ctx, func(tx *store.Tx) error {
		return tx.ExtendAdminSession(ctx, row.ID, now+sessionIdle.Milliseconds())
	}); err != nil {
		return nil, err
	}
	name := u.Email
	if name == "" {
		name = u.Username
	}
	return &pagekit.Session{ID: row.ID, UserID: u.ID, Email: name, Roles: roles, AuthInstant: row.AuthInstant, CSRF: csrfFor(c.Value)}, nil
}

// logout is POST /admin/logout: end the admin session, then the SSO
// session through the provider's logout.
func (a *Admin) logout(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	ctx := r.Context()
	if err := a.Svc.Store().InTx(ctx, func(tx *store.Tx) error {
		return tx.DeleteAdminSession(ctx, s.ID, a.Now().UnixMilli())
	}); err != nil {
		a.Fail(w, r, s, "end admin session", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: HomePath, MaxAge: -1, HttpOnly: true, Secure: a.SecureCookies, SameSite: http.SameSiteLaxMode})
	q := url.Values{"client_id": {model.AdminApplicationID}, "post_logout_redirect_uri": {a.PublicURL + SignedOutPath}}
	http.Redirect(w, r, "/oauth2/logout?"+q.Encode(), http.StatusSeeOther)
}

// signedOut is where the provider's logout comes back to.
func (a *Admin) signedOut(w http.ResponseWriter, r *http.Request, _ *pagekit.Session) {
	a.Render(w, r, nil, http.StatusOK, "message", "Signed out", "", pagekit.MessageData{Heading: "You are signed out",
		Paragraphs: []string{"Your admin session and your sign-in session have ended."},
		Links:      []pagekit.Link{{Label: "Sign in again", Href: "/admin/login"}}})
}

// requireReauth shows the re-authentication page when the admin's last
// password or second factor is older than pagekit.ReauthWindow; false means stop.
func (a *Admin) requireReauth(w http.ResponseWriter, r *http.Request, s *pagekit.Session, back, what string) bool {
	if s.RecentlyAuthenticated(a.Now()) {
		return true
	}
	a.Render(w, r, s, http.StatusForbidden, "message", "Confirm it is you", "", pagekit.MessageData{Heading: "Confirm it is you",
		Paragraphs: []string{what + " needs your password entered within the last 5 minutes. Nothing was changed: sign in again, then repeat the action."},
		Links:      []pagekit.Link{{Label: "Sign in again", Href: "/admin/login?reauth=1&next=" + url.QueryEscape(back)}}})
	return false
}
