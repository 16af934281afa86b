package oauth

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/discovery"
)

// placeholderIssuer is FusionAuth's default tenant issuer; strict relying
// parties refuse discovery whose issuer is not the URL they fetched it
// from, so such a tenant's issuer is Latch's public URL.
const placeholderIssuer = "acme.com"

// issuer is the issuer of a tenant's tokens and discovery.
func (p *Provider) issuer(t *model.TenantConfig) string {
	if iss := strings.TrimSpace(t.Issuer); iss != "" && iss != placeholderIssuer {
		return iss
	}
	return p.PublicURL
}

// discovery is OpenID Connect Discovery, from memory (the tenant's
// issuer comes from the settings cache).
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenantId")
	if tenantID != "" {
		if _, err := uuid.Parse(tenantID); err != nil {
			writeError(w, http.StatusNotFound, &oauthError{Code: "invalid_request", Reason: "invalid_tenant_id", Description: "No tenant has this id."})
			return
		}
	}
	t, err := p.Clients.Tenant(r.Context(), tenantID)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, &oauthError{Code: "invalid_request", Reason: "invalid_tenant_id", Description: "No tenant has this id."})
		return
	}
	if err != nil {
		p.serverError(w, r, "discovery", err)
		return
	}
	algs := p.Tokens.SigningAlgorithms()
	// The document changes only with the tenant's settings (a new cached
	// value) or the signing keys: rendered once for each.
	d, _ := p.discoveryDocs.Load(tenantID)
	doc, _ := d.(*discoveryDoc)
	if doc == nil || doc.tenant != t || !slices.Equal(doc.algs, algs) {
		doc = &discoveryDoc{tenant: t, algs: algs, body: discovery.Document(p.PublicURL, p.issuer(t), algs, p.Entities != nil)}
		p.discoveryDocs.Store(tenantID, doc)
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(doc.body)
}

// discoveryDoc is a rendered discovery document and what it was rendered from.
type discoveryDoc struct {
	tenant *model.TenantConfig
	algs   []string
	body   []byte
}

// issuerOf is the issuer of a tenant's tokens on this surface.
func (p *Provider) issuerOf(tenantIssuer string) string {
	return p.issuer(&model.TenantConfig{Issuer: tenantIssuer})
}

// serverError logs an unexpected error and answers server_error (the
// detail only in the log).
func (p *Provider) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	// A throttled or busy sign-in is no fault: the client may retry after Retry-After.
	if status, after, ok := httpx.RetryLater(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(after))
		desc := "The server is busy; retry after the time Retry-After gives."
		if status == http.StatusTooManyRequests {
			desc = "Too many sign-in attempts; retry after the time Retry-After gives."
		}
		writeError(w, status, &oauthError{Code: "temporarily_unavailable", Description: desc})
		return
	}
	p.Log.ErrorContext(r.Context(), "oauth: "+what, "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, &oauthError{Code: "server_error", Description: "The server could not complete the request; the cause is in its log."})
}
