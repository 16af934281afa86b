// Package httpx holds the HTTP plumbing shared by every surface: JSON in and
// out, the FusionAuth error renderer, client addresses and middleware.
package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
)

// MaxBody bounds request bodies.
const MaxBody = 1 << 20

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteStatus writes status with an empty body, as FusionAuth does for 401, 404, 500.
func WriteStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// WriteError renders err for the /api surface, FusionAuth's way: validation
// errors as a 400 Errors body (a StatusError's with its own status),
// sentinels as bare statuses, anything else as an empty 500 whose cause goes
// to the log only.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var verrs *model.Errors
	var serr *model.StatusError
	if status, after, ok := RetryLater(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(after))
		WriteStatus(w, status)
		return
	}
	switch {
	case errors.As(err, &serr):
		WriteJSON(w, serr.Status, serr.Body)
	case errors.As(err, &verrs):
		WriteJSON(w, http.StatusBadRequest, verrs)
	case errors.Is(err, model.ErrUnauthorized):
		WriteStatus(w, http.StatusUnauthorized)
	case errors.Is(err, model.ErrForbidden):
		WriteStatus(w, http.StatusForbidden)
	case errors.Is(err, model.ErrNotFound):
		WriteStatus(w, http.StatusNotFound)
	case errors.Is(err, model.ErrConflict):
		WriteStatus(w, http.StatusConflict)
	default:
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteStatus(w, http.StatusInternalServerError)
	}
}

// RetryLater reports whether err asks the client to come back later, with
// the status (429 for a rate limit, 503 for a full password-hash pool) and
// the seconds for Retry-After.
func RetryLater(err error) (status, seconds int, ok bool) {
	var rl *model.RetryLater
	switch {
	case errors.As(err, &rl):
		status = http.StatusServiceUnavailable
		if errors.Is(rl.Err, model.ErrTooManyRequests) {
			status = http.StatusTooManyRequests
		}
		return status, max(1, rl.Seconds), true
	case errors.Is(err, password.ErrBusy), errors.Is(err, model.ErrBusy):
		// A hash takes milliseconds; the queue drains within a second or so.
		return http.StatusServiceUnavailable, 1, true
	}
	return 0, 0, false
}

// DecodeJSON reads a JSON body into v, matching v's field names exactly (see
// model.UnmarshalExact). Malformed input is a 400 in FusionAuth's shape, never
// a 500. An empty body leaves v untouched when allowEmpty.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return model.GeneralError("invalidJSON", "The request body is larger than 1 MiB.")
		}
		return model.GeneralError("invalidJSON", "The request body could not be read.")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if allowEmpty {
			return nil
		}
		return model.GeneralError("invalidJSON", "A JSON request body is required.")
	}
	// Field names match exactly; a case variant of one is a field error.
	if err := model.UnmarshalExact(body, v, ""); err != nil {
		var verrs *model.Errors
		if errors.As(err, &verrs) {
			return err
		}
		return model.GeneralError("invalidJSON", "Invalid JSON in the request body: "+describeJSONError(err, body))
	}
	return nil
}

func describeJSONError(err error, body []byte) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := position(body, syntax.Offset)
		return syntax.Error() + " at line " + itoa(line) + ", column " + itoa(col) + "."
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return "the value of [" + field + "] must be of type " + typ.Type.String() + "."
	default:
		return err.Error()
	}
}

func position(body []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset && i < int64(len(body)); i++ {
		if body[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
