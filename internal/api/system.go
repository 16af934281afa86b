package api

import (
	"context"
	"net/http"
	"time"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/version"
)

// StatusDatabaseDown is FusionAuth's status when the database does not answer.
const StatusDatabaseDown = 452

func (s *Server) dbHealthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.store.Ping(ctx) == nil
}

// status answers 200 or 452; a caller with a valid key also gets the details.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ok := s.dbHealthy(r.Context())
	code, state := http.StatusOK, "ok"
	if !ok {
		code, state = StatusDatabaseDown, "error"
	}
	body := map[string]any{"status": state}
	if PrincipalFrom(r.Context()).Key != nil {
		body["version"] = version.Version
		body["database"] = map[string]any{"type": string(s.store.Dialect()), "status": state}
		body["checks"] = map[string]any{"database": state}
	}
	httpx.WriteJSON(w, code, body)
}

// health is status without a body.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if s.dbHealthy(r.Context()) {
		httpx.WriteStatus(w, http.StatusOK)
		return
	}
	httpx.WriteStatus(w, StatusDatabaseDown)
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"version": version.Version})
}

// prometheusMetrics is GET /api/prometheus/metrics: this process's figures in
// Prometheus' text format (each node reports its own).
func (s *Server) prometheusMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil { // a server built without metrics (in-process tools)
		httpx.WriteStatus(w, http.StatusNotFound)
		return
	}
	s.metrics.Handler().ServeHTTP(w, r)
}

// /api/system-configuration: FusionAuth's system configuration.

type systemConfigurationRequest struct {
	SystemConfiguration kit.Object `json:"systemConfiguration"`
}

type systemConfigurationResponse struct {
	SystemConfiguration kit.Object `json:"systemConfiguration"`
}

func (s *Server) retrieveSystemConfiguration(c Call, _ struct{}) (any, error) {
	doc, err := s.system.Get(c)
	return systemConfigurationResponse{doc}, err
}

func (s *Server) updateSystemConfiguration(c Call, req systemConfigurationRequest) (any, error) {
	if req.SystemConfiguration == nil {
		return nil, model.FieldError("systemConfiguration", "required", "The request needs a systemConfiguration object.")
	}
	doc, err := s.system.Update(c, c.Actor, req.SystemConfiguration)
	return systemConfigurationResponse{doc}, err
}

// patchSystemConfiguration applies FusionAuth's PATCH, an RFC 7396 merge
// patch or an RFC 6902 JSON Patch to {"systemConfiguration":{…}}.
func (s *Server) patchSystemConfiguration(c Call, p Patch) (any, error) {
	doc, err := s.system.Patch(c, c.Actor, p.Form, p.Body)
	return systemConfigurationResponse{doc}, err
}
