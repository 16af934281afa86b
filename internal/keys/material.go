package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/internal/model"
)

// Material is a key as generated or imported: what the signing package stores. Private
// is the private key (PKCS#8 PEM) or the HMAC secret, "" for a public key
// alone; it must only ever be sealed, never logged or returned.
type Material struct {
	Algorithm   string
	Type        string
	Length      int
	Kid         string
	PublicKey   string // PKIX PEM; "" for HMAC
	Certificate string // PEM; "" when the key has none
	Private     string
	Issuer      string
	NotAfter    time.Time // the certificate's expiry; zero without one
}

// Field names, as FusionAuth reports them in validation errors.
const (
	fieldAlgorithm   = "key.algorithm"
	fieldLength      = "key.length"
	fieldKid         = "key.kid"
	fieldType        = "key.type"
	fieldPublicKey   = "key.publicKey"
	fieldPrivateKey  = "key.privateKey"
	fieldCertificate = "key.certificate"
	fieldSecret      = "key.secret"
)

// certificateValidity is how long a generated key's self-signed certificate
// lasts, as FusionAuth's do.
const certificateValidity = 10 // years

// maxSecretLength bounds an imported HMAC secret.
const maxSecretLength = 1024

// GenerateRequest asks for a new key.
type GenerateRequest struct {
	Algorithm string
	Length    int    // RSA: required; EC: optional, must match the curve; others: ignored
	Issuer    string // the certificate's subject and issuer common name
	Serial    []byte // the certificate's serial number (FusionAuth uses the key id's bytes)
	Now       time.Time
}

// Generate makes a key pair with a self-signed certificate, or an HMAC secret.
// Invalid requests fail with *model.Errors.
func Generate(req GenerateRequest) (*Material, error) {
	verrs := &model.Errors{}
	sp, ok := lookup(req.Algorithm)
	switch {
	case strings.TrimSpace(req.Algorithm) == "":
		verrs.Field(fieldAlgorithm, "blank", "The algorithm is required: one of "+strings.Join(Algorithms(), ", ")+".")
	case !ok:
		verrs.Field(fieldAlgorithm, "invalid", "The algorithm must be one of "+strings.Join(Algorithms(), ", ")+".")
	case sp.typ == model.KeyTypeRSA:
		switch {
		case req.Length == 0:
			verrs.Field(fieldLength, "missing", "The length is required for an RSA key: 2048, 3072 or 4096.")
		case req.Length < minRSABits:
			verrs.Field(fieldLength, "tooShort", "An RSA key must be at least 2048 bits long.")
		case req.Length != 2048 && req.Length != 3072 && req.Length != 4096:
			verrs.Field(fieldLength, "invalid", "The length of an RSA key must be 2048, 3072 or 4096.")
		}
	case sp.typ == model.KeyTypeEC:
		if req.Length != 0 && req.Length != sp.bits {
			verrs.Field(fieldLength, "invalid", fmt.Sprintf("The length of an %s key is %d.", sp.name, sp.bits))
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}

	m := &Material{Algorithm: sp.name, Type: sp.typ}
	if sp.typ == model.KeyTypeHMAC {
		m.Private = randomText(sp.hash.Size())
		m.Kid = randomKid()
		return m, nil
	}
	var priv crypto.Signer
	var err error
	switch sp.typ {
	case model.KeyTypeRSA:
		priv, err = rsa.GenerateKey(rand.Reader, req.Length)
		m.Length = req.Length
	case model.KeyTypeEC:
		priv, err = ecdsa.GenerateKey(sp.curve, rand.Reader)
		m.Length = sp.bits
	case model.KeyTypeOKP:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
		m.Length = ed25519Length
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", sp.name, err)
	}
	cert, err := selfSign(sp, priv, req)
	if err != nil {
		return nil, err
	}
	if err := m.setPair(priv, priv.Public(), cert); err != nil {
		return nil, err
	}
	m.Kid = sha1Thumbprint(cert.Raw)
	m.Issuer = req.Issuer
	return m, nil
}

// selfSign makes the certificate a generated key pair carries.
func selfSign(sp spec, priv crypto.Signer, req GenerateRequest) (*x509.Certificate, error) {
	serial := new(big.Int).SetBytes(req.Serial)
	if serial.Sign() == 0 {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		serial.SetBytes(b)
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	notBefore := now.UTC().Truncate(time.Second)
	name := pkix.Name{CommonName: req.Issuer}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(certificateValidity, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    sp.certSig,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return nil, fmt.Errorf("self-sign %s certificate: %w", sp.name, err)
	}
	return x509.ParseCertificate(der)
}

// setPair fills the PEM forms of a key; priv and cert may be nil.
func (m *Material) setPair(priv crypto.Signer, pub crypto.PublicKey, cert *x509.Certificate) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode public key: %w", err)
	}
	m.PublicKey = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if priv != nil {
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return fmt.Errorf("encode private key: %w", err)
		}
		m.Private = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	if cert != nil {
		m.Certificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
		m.NotAfter = cert.NotAfter
	}
	return nil
}

// ImportRequest is a key brought in from elsewhere: any of a certificate, a
// public key and a private key that belong together, or an HMAC secret.
type ImportRequest struct {
	Algorithm   string // inferred from the key when empty
	Type        string // checked against the key when given
	Kid         string // derived when empty
	PublicKey   string // PEM: PKIX or PKCS#1
	PrivateKey  string // PEM: PKCS#8, PKCS#1 or SEC 1
	Certificate string // PEM, or the bare base64 of the DER
	Secret      string // HMAC
}

// Import checks what the caller brought and returns it in stored form. Input
// that does not parse or does not fit together fails with *model.Errors.
func Import(req ImportRequest) (*Material, error) {
	verrs := &model.Errors{}
	var sp spec
	algGiven := strings.TrimSpace(req.Algorithm) != ""
	if algGiven {
		var ok bool
		if sp, ok = lookup(req.Algorithm); !ok {
			verrs.Field(fieldAlgorithm, "invalid", "The algorithm must be one of "+strings.Join(Algorithms(), ", ")+".")
			algGiven = false
		}
	}
	typ := ""
	if strings.TrimSpace(req.Type) != "" {
		var ok bool
		if typ, ok = CanonicalType(req.Type); !ok {
			verrs.Field(fieldType, "invalid", "The type must be one of "+strings.Join(Types(), ", ")+".")
		}
	}
	if req.Kid != "" && !validKid(req.Kid) {
		verrs.Field(fieldKid, "invalid", "The kid must be 1 to 128 printable ASCII characters without spaces.")
	}
	isHMAC := req.Secret != "" || typ == model.KeyTypeHMAC || (algGiven && sp.typ == model.KeyTypeHMAC)
	var m *Material
	if isHMAC {
		m = importSecret(req, sp, algGiven, typ, verrs)
	} else {
		m = importPair(req, sp, algGiven, typ, verrs)
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	if req.Kid != "" {
		m.Kid = req.Kid
	}
	return m, nil
}

func importSecret(req ImportRequest, sp spec, algGiven bool, typ string, verrs *model.Errors) *Material {
	for field, v := range map[string]string{fieldPublicKey: req.PublicKey, fieldPrivateKey: req.PrivateKey, fieldCertificate: req.Certificate} {
		if v != "" {
			verrs.Field(field, "invalid", "An HMAC key takes a secret only.")
		}
	}
	if typ != "" && typ != model.KeyTypeHMAC {
		verrs.Field(fieldType, "invalid", "A key with a secret is of type HMAC.")
	}
	if !algGiven {
		sp, _ = lookup("HS256")
	} else if sp.typ != model.KeyTypeHMAC {
		verrs.Field(fieldAlgorithm, "invalid", "A key with a secret takes one of HS256, HS384 or HS512.")
		return nil
	}
	switch {
	case req.Secret == "":
		verrs.Field(fieldSecret, "blank", "The secret is required for an HMAC key.")
	case len(req.Secret) < sp.hash.Size():
		verrs.Field(fieldSecret, "tooShort", fmt.Sprintf("An %s secret must be at least %d bytes long.", sp.name, sp.hash.Size()))
	case len(req.Secret) > maxSecretLength:
		verrs.Field(fieldSecret, "tooLong", fmt.Sprintf("The secret must be at most %d bytes long.", maxSecretLength))
	}
	return &Material{Algorithm: sp.name, Type: model.KeyTypeHMAC, Private: req.Secret, Kid: randomKid()}
}

func importPair(req ImportRequest, sp spec, algGiven bool, typ string, verrs *model.Errors) *Material {
	if req.Certificate == "" && req.PublicKey == "" && req.PrivateKey == "" {
		verrs.Field(fieldPublicKey, "blank", "A certificate, a public key or a private key is required (or a secret for an HMAC key).")
		return nil
	}
	var cert *x509.Certificate
	var pub crypto.PublicKey
	var priv crypto.Signer
	var err error
	if req.Certificate != "" {
		if cert, err = parseCertificate(req.Certificate); err != nil {
			verrs.Field(fieldCertificate, "invalid", "The certificate could not be read: "+err.Error())
		}
	}
	if req.PublicKey != "" {
		if pub, err = parsePublicKey(req.PublicKey); err != nil {
			verrs.Field(fieldPublicKey, "invalid", "The public key could not be read: "+err.Error())
		}
	}
	if req.PrivateKey != "" {
		if priv, err = parsePrivateKey(req.PrivateKey); err != nil {
			verrs.Field(fieldPrivateKey, "invalid", "The private key could not be read: "+err.Error())
		}
	}
	if !verrs.Empty() {
		return nil
	}

	// The key is the private key's, else the public key's, else the
	// certificate's; whatever else was sent must be the same key.
	key, source := crypto.PublicKey(nil), ""
	switch {
	case priv != nil:
		key, source = priv.Public(), fieldPrivateKey
	case pub != nil:
		key, source = pub, fieldPublicKey
	default:
		key, source = cert.PublicKey, fieldCertificate
	}
	if pub != nil && source != fieldPublicKey && !samePublic(pub, key) {
		verrs.Field(fieldPublicKey, "invalid", "The public key does not belong to the private key.")
	}
	if cert != nil && source != fieldCertificate && !samePublic(cert.PublicKey, key) {
		verrs.Field(fieldCertificate, "invalid", "The certificate is for a different key.")
	}
	if !verrs.Empty() {
		return nil
	}

	m := &Material{}
	var keyType string
	switch k := key.(type) {
	case *rsa.PublicKey:
		keyType, m.Length = model.KeyTypeRSA, k.N.BitLen()
		min := minRSAPublicBits
		if priv != nil {
			min = minRSABits
		}
		switch {
		case m.Length < min:
			verrs.Field(fieldLength, "tooShort", fmt.Sprintf("The RSA key is %d bits long; it must be at least %d.", m.Length, min))
		case m.Length > maxRSABits:
			verrs.Field(fieldLength, "invalid", fmt.Sprintf("The RSA key is %d bits long; it must be at most %d.", m.Length, maxRSABits))
		}
		if !algGiven {
			sp, _ = lookup("RS256")
		}
	case *ecdsa.PublicKey:
		keyType, m.Length = model.KeyTypeEC, k.Curve.Params().BitSize
		var curveSpec spec
		for _, s := range specs {
			if s.curve != nil && s.curve == k.Curve {
				curveSpec = s
			}
		}
		switch {
		case curveSpec.curve == nil:
			verrs.Field(source, "invalid", "The EC key must be on curve P-256, P-384 or P-521.")
		case !algGiven:
			sp = curveSpec
		case sp.typ == model.KeyTypeEC && sp.curve != k.Curve:
			verrs.Field(fieldAlgorithm, "invalid", fmt.Sprintf("The key is on curve %s; its algorithm is %s.", k.Curve.Params().Name, curveSpec.name))
		}
	case ed25519.PublicKey:
		keyType, m.Length = model.KeyTypeOKP, ed25519Length
		if !algGiven {
			sp, _ = lookup("Ed25519")
		}
	default:
		verrs.Field(source, "invalid", fmt.Sprintf("Keys of type %T are not supported: use RSA, EC (P-256, P-384, P-521) or Ed25519.", key))
		return nil
	}
	if algGiven && sp.typ != keyType {
		verrs.Field(fieldAlgorithm, "invalid", fmt.Sprintf("The key is of type %s; %s is for %s keys.", keyType, sp.name, sp.typ))
	}
	if typ != "" && typ != keyType {
		verrs.Field(fieldType, "invalid", fmt.Sprintf("The key is of type %s.", keyType))
	}
	if !verrs.Empty() {
		return nil
	}
	m.Algorithm, m.Type = sp.name, keyType
	if err := m.setPair(priv, key, cert); err != nil {
		verrs.Field(source, "invalid", "The key could not be encoded: "+err.Error())
		return nil
	}
	if cert != nil {
		m.Kid = sha1Thumbprint(cert.Raw)
		m.Issuer = commonNameOr(cert.Issuer)
	} else {
		tp, err := (&jose.JSONWebKey{Key: key}).Thumbprint(crypto.SHA256)
		if err != nil {
			verrs.Field(source, "invalid", "The key could not be read: "+err.Error())
			return nil
		}
		m.Kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	return m
}

// samePublic compares two public keys of any supported type.
func samePublic(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// singlePEM decodes the first PEM block of text and refuses encrypted blocks.
func singlePEM(text string) (*pem.Block, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil {
		return nil, errors.New("it is not PEM")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, errors.New("encrypted keys are not supported; send the key unencrypted")
	}
	return block, nil
}

// parsePrivateKey reads PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) PEM.
func parsePrivateKey(text string) (crypto.Signer, error) {
	block, err := singlePEM(text)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("a PEM block of type %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys of type %T are not supported", key)
	}
	if k, ok := key.(*rsa.PrivateKey); ok {
		if err := k.Validate(); err != nil {
			return nil, err
		}
	}
	return signer, nil
}

// parsePublicKey reads PKIX ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") PEM.
func parsePublicKey(text string) (crypto.PublicKey, error) {
	block, err := singlePEM(text)
	if err != nil {
		return nil, err
	}
	switch block.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		return nil, errors.New("this is a certificate: send it as the certificate")
	default:
		return nil, fmt.Errorf("a PEM block of type %q is not a public key", block.Type)
	}
}

// parseCertificate reads a PEM certificate, or the bare base64 of its DER as
// FusionAuth's import example sends it.
func parseCertificate(text string) (*x509.Certificate, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "-----") {
		block, err := singlePEM(text)
		if err != nil {
			return nil, err
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("a PEM block of type %q is not a certificate", block.Type)
		}
		return x509.ParseCertificate(block.Bytes)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
	if err != nil {
		return nil, errors.New("it is neither PEM nor base64")
	}
	return x509.ParseCertificate(der)
}

// ParseCertificatePEM reads a stored certificate.
func ParseCertificatePEM(text string) (*x509.Certificate, error) { return parseCertificate(text) }

// DescribeCertificate is FusionAuth's certificateInformation for a stored
// certificate.
func DescribeCertificate(certPEM string) (*model.CertificateInformation, error) {
	cert, err := parseCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	md5sum := md5.Sum(cert.Raw)
	sha1sum := sha1.Sum(cert.Raw)
	sha256sum := sha256.Sum256(cert.Raw)
	return &model.CertificateInformation{
		Issuer:            cert.Issuer.String(),
		Subject:           cert.Subject.String(),
		SerialNumber:      colonHex(serialBytes(cert.SerialNumber)),
		MD5Fingerprint:    colonHex(md5sum[:]),
		SHA1Fingerprint:   colonHex(sha1sum[:]),
		SHA256Fingerprint: colonHex(sha256sum[:]),
		SHA1Thumbprint:    base64.RawURLEncoding.EncodeToString(sha1sum[:]),
		SHA256Thumbprint:  base64.RawURLEncoding.EncodeToString(sha256sum[:]),
		ValidFrom:         cert.NotBefore.UnixMilli(),
		ValidTo:           cert.NotAfter.UnixMilli(),
	}, nil
}

// serialBytes is the two's-complement form FusionAuth prints: a leading zero
// byte when the high bit of a positive serial is set.
func serialBytes(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{c}))
	}
	return strings.Join(parts, ":")
}

// sha1Thumbprint is FusionAuth's kid for a key with a certificate: the
// certificate's SHA-1 thumbprint, base64url.
func sha1Thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// commonNameOr is the certificate name's CN, or the whole name without one.
func commonNameOr(n pkix.Name) string {
	if n.CommonName != "" {
		return n.CommonName
	}
	return n.String()
}

// validKid accepts what can travel in a JOSE header and a URL unharmed.
func validKid(kid string) bool {
	if len(kid) == 0 || len(kid) > 128 {
		return false
	}
	for i := 0; i < len(kid); i++ {
		if kid[i] < 0x21 || kid[i] > 0x7e {
			return false
		}
	}
	return true
}

// randomText is n random bytes as base64url text: the HMAC key is the text's
// bytes, so a generated secret is used exactly as an imported one would be.
func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomKid is a short random kid for HMAC keys, as FusionAuth's are (ten hex
// digits); the unique index catches the unlikely collision.
func randomKid() string {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// ExpirationMillis is the certificate's expiry in epoch milliseconds, FusionAuth's
// expirationInstant; 0 for a key without a certificate.
func (m *Material) ExpirationMillis() int64 {
	if m.NotAfter.IsZero() {
		return 0
	}
	return m.NotAfter.UnixMilli()
}
