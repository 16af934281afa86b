package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/signing"
)

// The signing keys pages: list, generate, import, rename, rotate, delete,
// through signing's rules (the same validation and audit entries as
// /api/key). Private keys and HMAC secrets travel inward only: no page
// shows one, and a refused import does not echo what was pasted.

type signingKeyRow struct {
	Key        *model.Key
	Uses       []signing.KeyUse
	VerifyOnly bool
}

func (a *Admin) signingKeys(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	list, err := a.Svc.Signing.List(r.Context())
	if err != nil {
		a.Fail(w, r, s, "list signing keys", err)
		return
	}
	rows := make([]signingKeyRow, 0, len(list))
	for _, k := range list {
		uses, err := a.Svc.Signing.Uses(r.Context(), k.ID)
		if err != nil {
			a.Fail(w, r, s, "signing key uses", err)
			return
		}
		rows = append(rows, signingKeyRow{k, uses, pagekit.VerifyOnly(k)})
	}
	a.Render(w, r, s, http.StatusOK, "signingkeys", "Signing keys", "signing-keys", struct {
		Keys      []signingKeyRow
		CanManage bool
	}{rows, pagekit.Allowed(s.Roles, pagekit.ManageSigningKeys)})
}

type signingKeyForm struct {
	Import                          bool
	Name, Algorithm, Length, Issuer string
	Certificate, PublicKey, Kid     string
	Algorithms                      []string
	Errors                          []string
}

func (a *Admin) signingKeyFormPage(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, p signingKeyForm) {
	p.Algorithms = keys.Algorithms()
	title := "Generate a signing key"
	if p.Import {
		title = "Import a signing key"
	}
	a.Render(w, r, s, status, "signingkey_new", title, "signing-keys", p)
}

func (a *Admin) newSigningKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	a.signingKeyFormPage(w, r, s, http.StatusOK, signingKeyForm{Import: r.URL.Query().Get("import") == "1", Algorithm: "ES256"})
}

// createSigningKey generates (POST /admin/signing-keys) or imports
// (POST /admin/signing-keys/import) a key.
func (a *Admin) createSigningKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := r.PostForm
	p := signingKeyForm{Import: strings.HasSuffix(r.URL.Path, "/import"), Name: strings.TrimSpace(f.Get("name")),
		Algorithm: f.Get("algorithm"), Length: strings.TrimSpace(f.Get("length")), Issuer: strings.TrimSpace(f.Get("issuer")),
		Certificate: f.Get("certificate"), PublicKey: f.Get("publicKey"), Kid: strings.TrimSpace(f.Get("kid"))}
	in := &signing.KeyInput{Name: p.Name, Algorithm: p.Algorithm, Issuer: p.Issuer}
	// The field is for RSA keys, 2048 bits unless given, as its label says;
	// other algorithms have one length and ignore it.
	rsa := strings.HasPrefix(p.Algorithm, "RS") || strings.HasPrefix(p.Algorithm, "PS")
	switch {
	case !p.Import && rsa && p.Length == "":
		in.Length = signing.KeyLength(2048)
	case !p.Import && !rsa:
		p.Length = ""
	}
	if p.Length != "" {
		n, err := strconv.Atoi(p.Length)
		if err != nil {
			p.Errors = []string{"The length must be a number of bits, such as 2048."}
			a.signingKeyFormPage(w, r, s, http.StatusBadRequest, p)
			return
		}
		in.Length = signing.KeyLength(n)
	}
	var k *model.Key
	var err error
	if p.Import {
		in.Certificate, in.PublicKey, in.Kid = p.Certificate, p.PublicKey, p.Kid
		in.PrivateKey, in.Secret = secrets.Secret(f.Get("privateKey")), secrets.Secret(f.Get("secret"))
		k, err = a.Svc.Signing.Import(r.Context(), a.Actor(r, s), "", in)
	} else {
		k, err = a.Svc.Signing.Generate(r.Context(), a.Actor(r, s), "", in)
	}
	if err != nil {
		msgs, ok := a.Refusal(w, r, s, "create signing key", err)
		if !ok {
			return
		}
		p.Errors = msgs
		a.signingKeyFormPage(w, r, s, http.StatusBadRequest, p)
		return
	}
	http.Redirect(w, r, "/admin/signing-keys/"+k.ID+"?done=created", http.StatusSeeOther)
}

type signingKeyPage struct {
	Key                  *model.Key
	Uses                 []signing.KeyUse
	Name                 string
	CanManage            bool
	Notice, RotatedFrom  string
	Errors               []string
	CanRotate, Verifying bool
}

func (a *Admin) showSigningKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, p signingKeyPage) {
	k, err := a.Svc.Signing.Key(r.Context(), r.PathValue("id"))
	if !a.Loaded(w, r, s, "signing key", err) {
		return
	}
	if p.Uses, err = a.Svc.Signing.Uses(r.Context(), k.ID); err != nil {
		a.Fail(w, r, s, "signing key uses", err)
		return
	}
	p.Key, p.CanManage = k, pagekit.Allowed(s.Roles, pagekit.ManageSigningKeys)
	if p.Name == "" {
		p.Name = k.Name
	}
	// A key without its private half only verifies: there is nothing to rotate.
	p.Verifying = pagekit.VerifyOnly(k)
	p.CanRotate = p.CanManage && !p.Verifying
	a.Render(w, r, s, status, "signingkey", "Signing key "+k.Name, "signing-keys", p)
}

func (a *Admin) signingKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	q := r.URL.Query()
	notice := map[string]string{"created": "The key was saved.", "renamed": "The key was renamed.",
		"rotated": "This new key replaced the old one wherever a tenant or application named it. The old key still verifies the tokens it signed: delete it once they have expired."}[q.Get("done")]
	p := signingKeyPage{Notice: notice}
	if _, ok := kit.CanonicalID(q.Get("from")); ok && q.Get("done") == "rotated" {
		p.RotatedFrom = q.Get("from")
	}
	a.showSigningKey(w, r, s, http.StatusOK, p)
}

func (a *Admin) renameSigningKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	k, err := a.Svc.Signing.Update(r.Context(), a.Actor(r, s), r.PathValue("id"), &signing.KeyInput{Name: name})
	if err != nil {
		a.signingKeyFailed(w, r, s, err, name)
		return
	}
	http.Redirect(w, r, "/admin/signing-keys/"+k.ID+"?done=renamed", http.StatusSeeOther)
}

func (a *Admin) signingKeyFailed(w http.ResponseWriter, r *http.Request, s *pagekit.Session, err error, name string) {
	if errors.Is(err, model.ErrNotFound) {
		a.Missing(w, r, s, "signing key")
		return
	}
	msgs, ok := a.Refusal(w, r, s, "signing key", err)
	if !ok {
		return
	}
	a.showSigningKey(w, r, s, http.StatusBadRequest, signingKeyPage{Name: name, Errors: msgs})
}

func (a *Admin) deleteSigningKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if err := a.Svc.Signing.Delete(r.Context(), a.Actor(r, s), r.PathValue("id")); err != nil {
		a.signingKeyFailed(w, r, s, err, "")
		return
	}
	http.Redirect(w, r, "/admin/signing-keys", http.StatusSeeOther)
}

// rotateSigningKey generates a key like this one (same algorithm, length
// and issuer) and names it instead of this one in every tenant and
// application setting, all in one transaction (signing.Rotate), each change
// audited with the admin as actor. The old key stays, published in the
// JWKS, so tokens it signed still verify. Settings it cannot change (in
// entity types, or in lists) stay listed on the old key's page.
func (a *Admin) rotateSigningKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	next, _, err := a.Svc.Signing.Rotate(r.Context(), a.Actor(r, s), a.Svc.Tenancy, r.PathValue("id"))
	if errors.Is(err, signing.ErrVerifyOnly) {
		a.showSigningKey(w, r, s, http.StatusBadRequest, signingKeyPage{Errors: []string{
			"This key has no private key: it only verifies. Import its successor instead."}})
		return
	}
	if err != nil {
		a.signingKeyFailed(w, r, s, err, "")
		return
	}
	http.Redirect(w, r, "/admin/signing-keys/"+next.ID+"?done=rotated&from="+r.PathValue("id"), http.StatusSeeOther)
}
