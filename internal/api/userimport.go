package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// POST /api/user/import: FusionAuth's bulk import. Success is a bare 200, as
// FusionAuth answers it.

// maxImportBody bounds an import request. It is far above the 1 MiB of other
// calls: FusionAuth suggests batches of 100,000 users.
const maxImportBody = 256 << 20

// importDeadline replaces the server's read and write deadlines for an
// import: 100,000 users, or plaintext passwords hashed on the way in, take
// longer than any other call.
const importDeadline = 30 * time.Minute

func (s *Server) importUsers(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if err := errors.Join(rc.SetReadDeadline(time.Now().Add(importDeadline)), rc.SetWriteDeadline(time.Now().Add(importDeadline))); err != nil {
		s.log.WarnContext(r.Context(), "user import keeps the server's deadlines", "err", err)
	}
	body, err := decodeImportBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if _, err := s.identity.ImportUsers(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), body); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteStatus(w, http.StatusOK)
}

// decodeImportBody reads the request as a JSON object, numbers kept exact.
func decodeImportBody(w http.ResponseWriter, r *http.Request) (kit.Object, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The request body is larger than 256 MiB; split the import.")
		}
		return nil, model.GeneralError(model.CodeInvalidJSON, "The request body could not be read.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, model.GeneralError(model.CodeInvalidJSON, "A JSON request body is required.")
	}
	v, err := model.DecodeJSONValue(data)
	if err != nil {
		return nil, model.GeneralError(model.CodeInvalidJSON, "Invalid JSON in the request body: "+err.Error())
	}
	o, ok := v.(kit.Object)
	if !ok {
		return nil, model.GeneralError(model.CodeInvalidJSON, "The request body must be a JSON object.")
	}
	return o, nil
}
