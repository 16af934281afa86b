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

func (s *Server) retrieveKeys(c Call, _ struct{}) (any, error) {
	all, err := s.signing.List(c)
	return keysResponse{all}, err
}

func (s *Server) retrieveKey(c Call, _ struct{}) (any, error) {
	k, err := s.signing.Key(c, c.Path("id"))
	return keyResponse{k}, err
}

func (s *Server) generateKey(c Call, req keyRequest) (any, error) {
	k, err := s.signing.Generate(c, c.Actor, c.Path("id"), req.Key)
	return keyResponse{k}, err
}

func (s *Server) importKey(c Call, req keyRequest) (any, error) {
	k, err := s.signing.Import(c, c.Actor, c.Path("id"), req.Key)
	return keyResponse{k}, err
}

func (s *Server) updateKey(c Call, req keyRequest) (any, error) {
	k, err := s.signing.Update(c, c.Actor, c.Path("id"), req.Key)
	return keyResponse{k}, err
}

func (s *Server) deleteKey(c Call, _ struct{}) (any, error) {
	return nil, s.signing.Delete(c, c.Actor, c.Path("id"))
}

// searchKeys answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchKeys(c Call, q signing.KeySearch) (any, error) {
	found, total, err := s.signing.Search(c, q)
	return keySearchResponse{Keys: found, Total: total}, err
}

func keyQuery(v url.Values, verrs *model.Errors) (q signing.KeySearch) {
	q.Name, q.Algorithm, q.Type, q.OrderBy = v.Get("name"), v.Get("algorithm"), v.Get("type"), v.Get("orderBy")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
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
	set := s.signing.Cache.Current()
	switch {
	case q.Has("kid"):
		pem, ok := set.PublicKey(q.Get("kid"))
		if !ok {
			httpx.WriteStatus(w, http.StatusNotFound)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, publicKeyResponse{pem})
	case q.Has("applicationId"):
		keyID, err := s.signing.AccessTokenKeyID(r.Context(), q.Get("applicationId"))
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
