package api

import (
	"net/http"
	"net/url"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/signing"
)

// /api/key: FusionAuth's Keys API (signing keys), and /api/jwt/public-key.
// Responses carry public material only; see model.Key.

type keyRequest struct {
	Key *signing.KeyInput `json:"key"`
}

type keyResponse struct {
	Key *model.Key `json:"key"`
}

type keysResponse struct {
	Keys []*model.Key `json:"keys"`
}

type keySearchResponse struct {
	Keys  []*model.Key `json:"keys"`
	Total int          `json:"total"`
}

func (s *Server) retrieveKeys(w http.ResponseWriter, r *http.Request) {
	all, err := s.svc.Signing.List(r.Context())
	s.reply(w, r, keysResponse{all}, err)
}

func (s *Server) retrieveKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.svc.Signing.Key(r.Context(), r.PathValue("id"))
	s.reply(w, r, keyResponse{k}, err)
}

func (s *Server) generateKey(w http.ResponseWriter, r *http.Request) {
	var req keyRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	k, err := s.svc.Signing.Generate(r.Context(), PrincipalFrom(r.Context()).Actor(r), r.PathValue("id"), req.Key)
	s.reply(w, r, keyResponse{k}, err)
}

func (s *Server) importKey(w http.ResponseWriter, r *http.Request) {
	var req keyRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	k, err := s.svc.Signing.Import(r.Context(), PrincipalFrom(r.Context()).Actor(r), r.PathValue("id"), req.Key)
	s.reply(w, r, keyResponse{k}, err)
}

func (s *Server) updateKey(w http.ResponseWriter, r *http.Request) {
	var req keyRequest
	if err := httpx.DecodeJSON(w, r, &req, false); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	k, err := s.svc.Signing.Update(r.Context(), PrincipalFrom(r.Context()).Actor(r), r.PathValue("id"), req.Key)
	s.reply(w, r, keyResponse{k}, err)
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	s.reply(w, r, nil, s.svc.Signing.Delete(r.Context(), PrincipalFrom(r.Context()).Actor(r), r.PathValue("id")))
}

// searchKeys answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchKeys(w http.ResponseWriter, r *http.Request) {
	q, err := searchCriteria(w, r, func(v url.Values, verrs *model.Errors) (q signing.KeySearch) {
		q.Name, q.Algorithm, q.Type, q.OrderBy = v.Get("name"), v.Get("algorithm"), v.Get("type"), v.Get("orderBy")
		q.StartRow = searchQueryInt(verrs, v, "startRow")
		q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
		return q
	})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	found, total, err := s.svc.Signing.Search(r.Context(), q)
	s.reply(w, r, keySearchResponse{Keys: found, Total: total}, err)
}

type publicKeyResponse struct {
	PublicKey string `json:"publicKey"`
}

type publicKeysResponse struct {
	PublicKeys map[string]string `json:"publicKeys"`
}

// retrieveJWTPublicKeys is FusionAuth's anonymous public-key API, answered from
// the in-memory key set: by kid, by application (the key that signs its access
// tokens), or all published keys by kid. HMAC keys and public keys imported
// alone are never published (see keys.Set).
func (s *Server) retrieveJWTPublicKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	set := s.svc.SigningKeys.Current()
	switch {
	case q.Has("kid"):
		pem, ok := set.PublicKey(q.Get("kid"))
		if !ok {
			httpx.WriteStatus(w, http.StatusNotFound)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, publicKeyResponse{pem})
	case q.Has("applicationId"):
		keyID, err := s.svc.Signing.AccessTokenKeyID(r.Context(), q.Get("applicationId"))
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		pem, ok := set.PublicKeyByID(keyID)
		if !ok {
			httpx.WriteStatus(w, http.StatusNotFound)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, publicKeyResponse{pem})
	default:
		httpx.WriteJSON(w, http.StatusOK, publicKeysResponse{set.PublicKeys()})
	}
}
