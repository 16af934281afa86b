package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
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
	body := &readWatch{r: http.MaxBytesReader(w, r.Body, maxImportBody)}
	_, err := s.userImport.ImportUsersFrom(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(body.err, &tooBig):
		err = model.GeneralError(model.CodeInvalidJSON, "The request body is larger than 256 MiB; split the import.")
	case body.err != nil && !errors.Is(body.err, io.EOF):
		err = model.GeneralError(model.CodeInvalidJSON, "The request body could not be read.")
	case errors.Is(err, kit.ErrStreamJSON):
		err = model.GeneralError(model.CodeInvalidJSON, "Invalid JSON in the request body: "+strings.TrimPrefix(err.Error(), kit.ErrStreamJSON.Error()+": "))
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteStatus(w, http.StatusOK)
}

// readWatch remembers the first read error of the body (a body over the
// limit, a client gone), which the JSON decoder reports only as malformed.
type readWatch struct {
	r   io.Reader
	err error
}

func (w *readWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}
