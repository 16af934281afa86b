package oauth

import (
	"net/http"

	"github.com/latchid/latch/internal/oauth/reply"
)

// oauthError is an RFC 6749 error with FusionAuth's error_reason.
type oauthError = reply.Error

func errInvalidRequest(reason, desc string) *oauthError { return reply.InvalidRequest(reason, desc) }

// writeJSON writes a JSON answer that must not be cached.
func writeJSON(w http.ResponseWriter, status int, v any) { reply.JSON(w, status, v) }

// writeError renders an OAuth JSON error (reply.Fail, the one renderer).
func writeError(w http.ResponseWriter, status int, e *oauthError) { reply.Fail(w, status, e) }
