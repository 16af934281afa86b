package api

// Handlers of the API key API. Only key-manager keys reach them (the route
// table says KeyManager); the rules live in access/apikey_api.go.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/model"
)

type apiKeyResponse struct {
	APIKey *model.APIKey `json:"apiKey"`
}

type apiKeysResponse struct {
	APIKeys []*model.APIKey `json:"apiKeys"`
	Total   int             `json:"total"`
}

// keyCaller is the calling key as the access package's key API sees it. The
// X-FusionAuth-TenantId header does not narrow it: a key's authority over
// other keys is its own.
func keyCaller(r *http.Request) access.KeyCaller {
	p := PrincipalFrom(r.Context())
	return access.KeyCaller{Key: &p.Key.APIKey, Actor: p.Actor(r)}
}

// keyError renders a key API error; a key that lacks authority over another
// is "authenticated but not permitted".
func (s *Server) keyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, access.ErrKeyAuthority) {
		s.denied(r, PrincipalFrom(r.Context()), r.Method+" "+r.URL.Path, "the key does not cover the key it would make or change")
		httpx.WriteStatus(w, s.cfg.ForbiddenStatus)
		return
	}
	httpx.WriteError(w, r, s.log, err)
}

// forceParam reads ?force=true, which overrides the last-key guard.
func forceParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("force")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, model.FieldError("force", "invalid", "force must be true or false.")
	}
	return b, nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var req access.APIKeyRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	k, err := s.access.CreateAPIKey(r.Context(), keyCaller(r), r.PathValue("id"), req)
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, apiKeyResponse{APIKey: k})
}

func (s *Server) retrieveAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.access.RetrieveAPIKey(r.Context(), keyCaller(r), r.PathValue("id"))
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, apiKeyResponse{APIKey: k})
}

func (s *Server) updateAPIKey(w http.ResponseWriter, r *http.Request) {
	force, err := forceParam(r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var req access.APIKeyRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.writeChangedKey(w, r, req, access.KeyChangeOptions{Force: force})
}

// patchAPIKey applies a PATCH in the form the Content-Type names: FusionAuth's
// own (application/json: given fields replace, null removes, arrays append),
// RFC 7396 merge patch or RFC 6902 JSON Patch, to {"apiKey":{…}}.
func (s *Server) patchAPIKey(w http.ResponseWriter, r *http.Request) {
	force, err := forceParam(r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var body json.RawMessage
	if err := httpx.DecodeJSON(w, r, &body, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.writeChangedKey(w, r, access.APIKeyRequest{}, access.KeyChangeOptions{
		Patch: body, PatchForm: model.PatchFormOf(r.Header.Get("Content-Type")), Force: force})
}

func (s *Server) writeChangedKey(w http.ResponseWriter, r *http.Request, req access.APIKeyRequest, opt access.KeyChangeOptions) {
	k, err := s.access.UpdateAPIKey(r.Context(), keyCaller(r), r.PathValue("id"), req, opt)
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, apiKeyResponse{APIKey: k})
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request) {
	force, err := forceParam(r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if err := s.access.DeleteAPIKey(r.Context(), keyCaller(r), r.PathValue("id"), access.KeyChangeOptions{Force: force}); err != nil {
		s.keyError(w, r, err)
		return
	}
	httpx.WriteStatus(w, http.StatusOK)
}

// listAPIKeys pages through the keys the caller covers: ?startRow=&numberOfResults=.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	var q access.APIKeySearch
	errs := new(model.Errors)
	for name, dst := range map[string]*int{"startRow": &q.StartRow, "numberOfResults": &q.NumberOfResults} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs.Field(name, "invalid", name+" must be a whole number.")
				continue
			}
			*dst = n
		}
	}
	if err := errs.Err(); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.writeKeyPage(w, r, q, "")
}

type apiKeySearchRequest struct {
	Search access.APIKeySearch `json:"search"`
}

// searchAPIKeys filters by name (substring), tenantId, keyManager and expired.
func (s *Server) searchAPIKeys(w http.ResponseWriter, r *http.Request) {
	var req apiKeySearchRequest
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	s.writeKeyPage(w, r, req.Search, "search.")
}

func (s *Server) writeKeyPage(w http.ResponseWriter, r *http.Request, q access.APIKeySearch, field string) {
	keys, total, err := s.access.SearchAPIKeys(r.Context(), keyCaller(r), q, field)
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	if keys == nil {
		keys = []*model.APIKey{}
	}
	httpx.WriteJSON(w, http.StatusOK, apiKeysResponse{APIKeys: keys, Total: total})
}
