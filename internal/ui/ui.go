// Package ui serves the server-rendered pages: the setup wizard now; hosted
// login and the admin UI later, on the same templates.
package ui

import (
	"log/slog"
	"net/http"

	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/core"
)

// UI is the pages surface.
type UI struct {
	svc *core.Service
	cfg *config.Config
	log *slog.Logger
}

// New wires the pages.
func New(svc *core.Service, cfg *config.Config, log *slog.Logger) *UI {
	return &UI{svc: svc, cfg: cfg, log: log}
}

// Mount registers the pages' routes on mux.
func (u *UI) Mount(mux *http.ServeMux) {}
