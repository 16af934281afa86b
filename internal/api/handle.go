package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// Call is what a handler knows of its request besides the body: the
// request's context (a Call is one), its path values and query, and who
// calls with which tenant scope.
type Call struct {
	context.Context
	r     *http.Request
	Actor kit.Actor
	Scope kit.TenantScope
}

// Path is the path value name ("" when the route has none).
func (c Call) Path(name string) string { return c.r.PathValue(name) }

// QueryTrue reads a boolean query parameter.
func (c Call) QueryTrue(name string) bool { return queryTrue(c.r, name) }

// Query is the request's query.
func (c Call) Query() url.Values { return c.r.URL.Query() }

// A reader decodes what a handler takes from the request body; its error is
// rendered as any handler error.
type reader[Req any] func(w http.ResponseWriter, r *http.Request) (Req, error)

// Patch is a PATCH body and the form its Content-Type names.
type Patch struct {
	Form model.PatchForm
	Body []byte
}

// The readers of the /api routes.
var (
	noBody     reader[struct{}]   = func(http.ResponseWriter, *http.Request) (struct{}, error) { return struct{}{}, nil }
	objectBody reader[kit.Object] = decodeObject
	patchBody  reader[Patch]      = func(w http.ResponseWriter, r *http.Request) (Patch, error) {
		form, body, err := readPatch(w, r)
		return Patch{form, body}, err
	}
	// ignoredBody accepts an optional body the handler does not need (event
	// information of FusionAuth's delete requests).
	ignoredBody reader[struct{}] = func(w http.ResponseWriter, r *http.Request) (struct{}, error) {
		var ignored any
		return struct{}{}, httpx.DecodeJSON(w, r, &ignored, true)
	}
)

// search reads search criteria from a POST body ({"search": …}) or, for GET,
// from the query through fromQuery.
func search[T any](fromQuery func(v url.Values, verrs *model.Errors) T) reader[T] {
	return func(w http.ResponseWriter, r *http.Request) (T, error) { return searchCriteria(w, r, fromQuery) }
}

// handle adapts a handler to net/http: read decodes the request, fn answers
// it, and reply renders the answer (200 with a JSON body, an empty 200 for a
// nil answer, errors the /api way).
func handle[Req, Resp any](s *Server, read reader[Req], fn func(Call, Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := read(w, r)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		p := PrincipalFrom(r.Context())
		resp, err := fn(Call{Context: r.Context(), r: r, Actor: p.Actor(r), Scope: p.Scope}, req)
		s.reply(w, r, resp, err)
	}
}

// jsonBody decodes a required JSON body into a T.
func jsonBody[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	err := httpx.DecodeJSON(w, r, &v, false)
	return v, err
}

// optionalBody decodes an optional JSON body into a T (zero when absent).
func optionalBody[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	err := httpx.DecodeJSON(w, r, &v, true)
	return v, err
}
