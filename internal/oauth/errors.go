package oauth

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// oauthError is an RFC 6749 error with FusionAuth's error_reason.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Reason      string `json:"error_reason,omitempty"`
	// ChangePasswordID: the password grant's change_password_required.
	ChangePasswordID string `json:"change_password_id,omitempty"`
	// TwoFactorID: the password grant's two_factor_required.
	TwoFactorID string `json:"two_factor_id,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errInvalidRequest(reason, desc string) *oauthError {
	return &oauthError{Code: "invalid_request", Reason: reason, Description: desc}
}

// writeJSON writes a JSON answer that must not be cached (tokens, errors,
// introspection, userinfo).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError is the one renderer of OAuth JSON errors. invalid_client from
// a client that tried to authenticate through the Authorization header gets
// 401 with a challenge (RFC 6749 5.2).
func writeError(w http.ResponseWriter, status int, e *oauthError) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="latch"`)
	}
	writeJSON(w, status, e)
}
