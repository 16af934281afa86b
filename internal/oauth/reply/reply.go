// Package reply is the one renderer of the OAuth surface's JSON answers
// and errors (RFC 6749's shape with FusionAuth's error_reason), shared by
// internal/oauth and the grant packages beside it.
package reply

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error is an RFC 6749 error with FusionAuth's error_reason.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Reason      string `json:"error_reason,omitempty"`
	// ChangePasswordID: the password grant's change_password_required.
	ChangePasswordID string `json:"change_password_id,omitempty"`
	// TwoFactorID: the password grant's two_factor_required.
	TwoFactorID string `json:"two_factor_id,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// InvalidRequest is invalid_request with a reason.
func InvalidRequest(reason, desc string) *Error {
	return &Error{Code: "invalid_request", Reason: reason, Description: desc}
}

// ServerError is server_error without detail (the detail goes to the log).
func ServerError() *Error {
	return &Error{Code: "server_error", Description: "The server could not complete the request."}
}

// JSON writes a JSON answer that must not be cached (tokens, errors,
// introspection, userinfo).
func JSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	Raw(w, status, body)
}

// Raw writes an encoded JSON body that must not be cached.
func Raw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Fail writes an OAuth error. invalid_client from a client that tried to
// authenticate through the Authorization header gets 401 with a challenge
// (RFC 6749 5.2).
func Fail(w http.ResponseWriter, status int, e *Error) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="latch"`)
	}
	JSON(w, status, e)
}

// StatusOf is the status of a refusal that is the request's fault (400)
// or, for server_error, the server's (500).
func StatusOf(e *Error) int {
	if e.Code == "server_error" {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}
