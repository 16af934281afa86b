package pagekit

import (
	"crypto/subtle"
	"time"
)

const (
	// CSRFField is the hidden field of every form that carries the
	// session's CSRF token.
	CSRFField = "csrf_token"
	// ReauthWindow: sensitive actions (a key-manager key, forcing the
	// last-key guard) need a password or second factor entered this recently.
	ReauthWindow = 5 * time.Minute
)

// Session is a signed-in admin, as of this request.
type Session struct {
	ID          string
	UserID      string
	Email       string
	Roles       []string
	AuthInstant int64 // epoch ms: last password or second factor
	CSRF        string
}

// CSRFOK reports whether v is the session's CSRF token.
func (s *Session) CSRFOK(v string) bool {
	return v != "" && subtle.ConstantTimeCompare([]byte(v), []byte(s.CSRF)) == 1
}

// RecentlyAuthenticated reports whether the admin entered a credential within ReauthWindow.
func (s *Session) RecentlyAuthenticated(now time.Time) bool {
	return now.UnixMilli()-s.AuthInstant <= ReauthWindow.Milliseconds()
}

// May reports whether the admin's roles allow action.
func (s *Session) May(action Action) bool { return Allowed(s.Roles, action) }
