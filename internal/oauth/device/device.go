// Package device is the device authorization grant (RFC 8628) on
// FusionAuth's paths, less its hosted code page (a sign-in step of
// internal/oauth) and the approval by access token: the device asks
// /oauth2/device_authorize for a device code and a user code,
// /oauth2/device/validate and /oauth2/device/user-code describe a pending
// grant, and the device's polls of /oauth2/token (grant_type
// urn:ietf:params:oauth:grant-type:device_code) are answered here until
// the grant is approved, when the provider issues the tokens. The provider
// authenticates the client before a call reaches the Handler.
package device

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/clientcheck"
	"github.com/latchid/latch/internal/oauth/reply"
	"github.com/latchid/latch/internal/secrets"
)

// Grant is a device authorization grant.
type Grant struct {
	UserCode        string
	ClientID        string
	TenantID        string
	Scope           string
	IntervalSeconds int
	ExpiresInstant  int64
	UserID          string // "" until approved
	SessionID       string
	AuthInstant     int64
	AuthType        string
}

// Approval is who approved a grant: the user, the SSO session ("" for an
// approval through /oauth2/device/approve) and the sign-in it rests on.
type Approval struct {
	UserID      string
	SessionID   string
	AuthType    string
	AuthInstant int64 // epoch ms
}

// ErrNotFound: no such grant (as each Store method says).
var ErrNotFound = errors.New("device grant not found")

// ErrConflict: the user code is taken.
var ErrConflict = errors.New("user code taken")

// Store keeps device grants by the hash of their device code (internal/app
// implements it over internal/store).
type Store interface {
	// CreateDeviceGrant stores a grant; ErrConflict when the user code is taken.
	CreateDeviceGrant(ctx context.Context, deviceCodeHash string, d *Grant, now int64) error
	// PendingDeviceGrant reads an unexpired, unapproved grant by user code; ErrNotFound.
	PendingDeviceGrant(ctx context.Context, userCode string, now int64) (*Grant, error)
	// ApproveDeviceGrant approves a pending grant once; false when it was not pending.
	ApproveDeviceGrant(ctx context.Context, userCode string, a Approval, now int64) (bool, error)
	// TakeApprovedDeviceGrant consumes an approved grant atomically; ErrNotFound.
	TakeApprovedDeviceGrant(ctx context.Context, deviceCodeHash string, now int64) (*Grant, error)
	// PollDeviceGrant records a poll that respects the interval; ErrNotFound
	// when unknown, expired or too fast (DeviceGrantByHash tells them apart).
	PollDeviceGrant(ctx context.Context, deviceCodeHash string, now int64) (*Grant, error)
	DeviceGrantByHash(ctx context.Context, deviceCodeHash string) (*Grant, error)
}

// Handler answers the grant's calls.
type Handler struct {
	Store Store
	Now   func() int64 // epoch ms
	// PublicURL is Latch's base URL: the default verification URI.
	PublicURL string
	// Fail answers a failure of the server (logged, server_error).
	Fail func(w http.ResponseWriter, r *http.Request, what string, err error)
}

const (
	// userCodeAlphabet: consonants only (no vowels: no words; no look-alikes).
	userCodeAlphabet        = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength          = 8
	defaultDeviceTTLSeconds = 600
	maxDeviceTTLSeconds     = 1800
	intervalSeconds         = 5
	// maxParamLength bounds a device code or scope (the provider's bound on parameters).
	maxParamLength = 2048
)

func newUserCode() string {
	b := make([]byte, userCodeLength)
	_, _ = rand.Read(b)
	out := make([]byte, userCodeLength)
	for i, c := range b {
		out[i] = userCodeAlphabet[int(c)%len(userCodeAlphabet)] // 256 % 20 bias is negligible for a short-lived code
	}
	return string(out)
}

// NormalizeUserCode accepts what people type: any case, dashes and spaces;
// "" when it cannot be a user code.
func NormalizeUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != userCodeLength {
		return ""
	}
	for _, c := range s {
		if !strings.ContainsRune(userCodeAlphabet, c) {
			return ""
		}
	}
	return s
}

func invalidGrant(reason, desc string) *reply.Error {
	return &reply.Error{Code: "invalid_grant", Reason: reason, Description: desc}
}

// Authorize is POST /oauth2/device_authorize for an authenticated client.
func (h *Handler) Authorize(w http.ResponseWriter, r *http.Request, app *model.ApplicationConfig, tenant *model.TenantConfig) {
	if !slices.Contains(app.OAuthConfiguration.EnabledGrants, model.GrantDeviceCode) {
		reply.Fail(w, http.StatusBadRequest, &reply.Error{Code: "unauthorized_client", Reason: "grant_type_disabled", Description: "The application does not enable the device grant."})
		return
	}
	scope := clientcheck.NormalizeScope(r.PostForm.Get("scope"))
	if len(scope) > maxParamLength {
		reply.Fail(w, http.StatusBadRequest, &reply.Error{Code: "invalid_scope", Reason: "unknown_scope", Description: "The scope is too long."})
		return
	}
	ttl := int64(tenant.ExternalIdentifierConfiguration.DeviceCodeTimeToLiveInSeconds)
	if ttl <= 0 {
		ttl = defaultDeviceTTLSeconds
	}
	ttl = min(ttl, maxDeviceTTLSeconds)
	now := h.Now()
	deviceCode := secrets.Token(32)
	var userCode string
	for range 5 {
		userCode = newUserCode()
		err := h.Store.CreateDeviceGrant(r.Context(), secrets.HashToken(deviceCode), &Grant{UserCode: userCode, ClientID: app.ID,
			TenantID: tenant.ID, Scope: scope, IntervalSeconds: intervalSeconds, ExpiresInstant: now + ttl*1000}, now)
		if errors.Is(err, ErrConflict) {
			userCode = ""
			continue
		}
		if err != nil {
			h.Fail(w, r, "store device grant", err)
			return
		}
		break
	}
	if userCode == "" {
		h.Fail(w, r, "store device grant", errors.New("no free user code"))
		return
	}
	verification := app.OAuthConfiguration.DeviceVerificationURL
	if verification == "" {
		verification = h.PublicURL + "/oauth2/device"
	}
	complete, _ := url.Parse(verification)
	q := complete.Query()
	q.Set("user_code", userCode)
	complete.RawQuery = q.Encode()
	reply.JSON(w, http.StatusOK, map[string]any{"device_code": deviceCode, "user_code": userCode, "expires_in": ttl,
		"interval": intervalSeconds, "verification_uri": verification, "verification_uri_complete": complete.String()})
}

// Validate is GET /oauth2/device/validate: 200 when the user code is
// pending for the client, else 400.
func (h *Handler) Validate(w http.ResponseWriter, r *http.Request) {
	uc := NormalizeUserCode(r.URL.Query().Get("user_code"))
	clientID := r.URL.Query().Get("client_id")
	if uc == "" {
		reply.Fail(w, http.StatusBadRequest, reply.InvalidRequest("invalid_user_code", "The user code is not valid."))
		return
	}
	d, err := h.Store.PendingDeviceGrant(r.Context(), uc, h.Now())
	if err != nil && !errors.Is(err, ErrNotFound) {
		h.Fail(w, r, "read device grant", err)
		return
	}
	if err != nil || (clientID != "" && d.ClientID != clientID) {
		reply.Fail(w, http.StatusBadRequest, reply.InvalidRequest("invalid_user_code", "The user code is unknown, expired or used."))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// PendingOf reads the client's own pending grant by the form's user_code;
// an unknown, expired, used or another client's code answers
// invalid_user_code and ok is false.
func (h *Handler) PendingOf(w http.ResponseWriter, r *http.Request, clientID string) (*Grant, bool) {
	raw := r.PostForm.Get("user_code")
	if raw == "" {
		reply.Fail(w, http.StatusBadRequest, reply.InvalidRequest("missing_user_code", "The request has no user_code."))
		return nil, false
	}
	uc := NormalizeUserCode(raw)
	var d *Grant
	var err error
	if uc != "" {
		d, err = h.Store.PendingDeviceGrant(r.Context(), uc, h.Now())
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		h.Fail(w, r, "read device grant", err)
		return nil, false
	}
	if uc == "" || err != nil || d.ClientID != clientID {
		reply.Fail(w, http.StatusBadRequest, reply.InvalidRequest("invalid_user_code", "The user code is unknown, expired, used or another client's."))
		return nil, false
	}
	return d, true
}

// UserCode is GET|POST /oauth2/device/user-code for an authenticated client.
func (h *Handler) UserCode(w http.ResponseWriter, r *http.Request, clientID string) {
	d, ok := h.PendingOf(w, r, clientID)
	if !ok {
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"client_id": d.ClientID, "expires_in": max(0, (d.ExpiresInstant-h.Now())/1000),
		"scope": d.Scope, "tenantId": d.TenantID, "user_code": d.UserCode})
}

// Poll answers the token endpoint's device_code grant for an
// authenticated client: issue gets the approved grant (taken, once), or
// the device is told to wait, slow down, or give up.
func (h *Handler) Poll(w http.ResponseWriter, r *http.Request, clientID string, issue func(*Grant)) {
	code := r.PostForm.Get("device_code")
	if code == "" {
		reply.Fail(w, http.StatusBadRequest, reply.InvalidRequest("missing_device_code", "The request has no device_code."))
		return
	}
	if len(code) > maxParamLength {
		reply.Fail(w, http.StatusBadRequest, invalidGrant("invalid_device_code", "The device code is unknown."))
		return
	}
	ctx, hash, now := r.Context(), secrets.HashToken(code), h.Now()
	mismatch := invalidGrant("client_id_mismatch", "The device code was issued to another client.")
	d, err := h.Store.TakeApprovedDeviceGrant(ctx, hash, now)
	if err == nil {
		if d.ClientID != clientID {
			reply.Fail(w, http.StatusBadRequest, mismatch)
			return
		}
		issue(d)
		return
	}
	if !errors.Is(err, ErrNotFound) {
		h.Fail(w, r, "take device grant", err)
		return
	}
	if d, err := h.Store.PollDeviceGrant(ctx, hash, now); err == nil {
		if d.ClientID != clientID {
			reply.Fail(w, http.StatusBadRequest, mismatch)
			return
		}
		// error_reason as on every error; FusionAuth's list has none more precise.
		reply.Fail(w, http.StatusBadRequest, &reply.Error{Code: "authorization_pending", Reason: "unknown", Description: "The user has not approved the device yet."})
		return
	} else if !errors.Is(err, ErrNotFound) {
		h.Fail(w, r, "poll device grant", err)
		return
	}
	d, err = h.Store.DeviceGrantByHash(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		reply.Fail(w, http.StatusBadRequest, invalidGrant("invalid_device_code", "The device code is unknown."))
	case err != nil:
		h.Fail(w, r, "read device grant", err)
	case d.ClientID != clientID:
		reply.Fail(w, http.StatusBadRequest, mismatch)
	case d.ExpiresInstant <= now:
		reply.Fail(w, http.StatusBadRequest, &reply.Error{Code: "expired_token", Reason: "invalid_device_code", Description: "The device code has expired."})
	default:
		reply.Fail(w, http.StatusBadRequest, &reply.Error{Code: "slow_down", Reason: "unknown", Description: "Poll no more often than the interval."})
	}
}
