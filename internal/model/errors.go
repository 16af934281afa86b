// Package model holds Latch's domain types in FusionAuth's JSON shapes, and the
// error codes every surface renders.
package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrorItem is one entry of FusionAuth's Errors object.
type ErrorItem struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// Errors is FusionAuth's validation error body. It is also a Go error, so the
// rules can return it and the API renders it as a 400.
type Errors struct {
	FieldErrors   map[string][]ErrorItem `json:"fieldErrors,omitempty"`
	GeneralErrors []ErrorItem            `json:"generalErrors,omitempty"`
}

// Field adds a field error whose code is "[kind]field", FusionAuth's convention.
func (e *Errors) Field(field, kind, message string) *Errors {
	if e.FieldErrors == nil {
		e.FieldErrors = map[string][]ErrorItem{}
	}
	e.FieldErrors[field] = append(e.FieldErrors[field], ErrorItem{Code: "[" + kind + "]" + field, Message: message})
	return e
}

// General adds a general error with code "[code]".
func (e *Errors) General(code, message string) *Errors {
	e.GeneralErrors = append(e.GeneralErrors, ErrorItem{Code: "[" + code + "]", Message: message})
	return e
}

// Empty reports whether nothing was added.
func (e *Errors) Empty() bool { return len(e.FieldErrors) == 0 && len(e.GeneralErrors) == 0 }

// Err returns e as an error, or nil when it is empty.
func (e *Errors) Err() error {
	if e == nil || e.Empty() {
		return nil
	}
	return e
}

func (e *Errors) Error() string {
	var parts []string
	for _, g := range e.GeneralErrors {
		parts = append(parts, g.Code)
	}
	fields := make([]string, 0, len(e.FieldErrors))
	for f := range e.FieldErrors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		for _, it := range e.FieldErrors[f] {
			parts = append(parts, it.Code)
		}
	}
	return "validation failed: " + strings.Join(parts, ", ")
}

// HasFieldError reports whether err is (or wraps) validation errors with
// a "[kind]field" error.
func HasFieldError(err error, field, kind string) bool {
	var verrs *Errors
	if !errors.As(err, &verrs) {
		return false
	}
	for _, it := range verrs.FieldErrors[field] {
		if it.Code == "["+kind+"]"+field {
			return true
		}
	}
	return false
}

// FieldError is a shortcut for a one-field validation error.
func FieldError(field, kind, message string) error {
	return new(Errors).Field(field, kind, message)
}

// GeneralError is a shortcut for a one-entry general error.
func GeneralError(code, message string) error {
	return new(Errors).General(code, message)
}

// StatusError is an Errors body answered with a status of its own rather
// than 400 (change password's 409 while the user is locked out).
type StatusError struct {
	Status int
	Body   *Errors
}

func (e *StatusError) Error() string { return fmt.Sprintf("status %d: %v", e.Status, e.Body) }

// MailNotBuilt is a flow's email that could not be built: its template is
// gone, or did not render with the recipient's values or within its limits.
// A caller with an API key is answered Body (a 400). An anonymous caller
// never sees it: the flow answers as it would have, and the failure is
// logged and written to the event log (audit.Log.MailNotBuilt), so that an
// address's answer does not tell whether it has an account.
type MailNotBuilt struct {
	TemplateID string
	Body       *Errors
}

func (e *MailNotBuilt) Error() string {
	return fmt.Sprintf("email of template %s not built: %v", e.TemplateID, e.Body)
}
func (e *MailNotBuilt) Unwrap() error { return e.Body }

// Sentinel errors the surfaces map to status codes. Wrap them with %w to add
// detail for the log; the client only ever sees the status.
var (
	ErrNotFound     = errors.New("not found")    // 404, empty body
	ErrUnauthorized = errors.New("unauthorized") // 401, empty body
	ErrForbidden    = errors.New("forbidden")    // 403 (setup token missing, optional for keys)
	ErrConflict     = errors.New("conflict")     // 409
	ErrSetupDone    = errors.New("setup already done")
	ErrUnavailable  = errors.New("service unavailable")
)

// RetryLater is a refusal the client may retry after Seconds: Err is
// ErrTooManyRequests (a rate limit, 429) or ErrBusy (no capacity now, 503).
// Both answer with Retry-After.
type RetryLater struct {
	Err     error
	Seconds int
}

func (e *RetryLater) Error() string { return fmt.Sprintf("%v (retry after %ds)", e.Err, e.Seconds) }
func (e *RetryLater) Unwrap() error { return e.Err }

// More sentinels for RetryLater.
var (
	ErrTooManyRequests = errors.New("too many requests") // 429 + Retry-After
	ErrBusy            = errors.New("busy")              // 503 + Retry-After
)

// NotFoundf wraps ErrNotFound with a log-only detail.
func NotFoundf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotFound}, args...)...)
}
