package model

// Key is FusionAuth's Key as the API returns it: a key pair, a public key or an
// HMAC secret used to sign and verify JWTs. It has no field for private
// material: private keys and secrets are never returned, so this type cannot
// carry them by mistake.
type Key struct {
	ID                     string                  `json:"id"`
	Algorithm              string                  `json:"algorithm"`
	Certificate            string                  `json:"certificate,omitempty"`
	CertificateInformation *CertificateInformation `json:"certificateInformation,omitempty"`
	ExpirationInstant      int64                   `json:"expirationInstant,omitempty"`
	HasPrivateKey          *bool                   `json:"hasPrivateKey,omitempty"` // omitted for HMAC keys, as FusionAuth does
	Issuer                 string                  `json:"issuer,omitempty"`
	Kid                    string                  `json:"kid"`
	Length                 int                     `json:"length,omitempty"`
	Name                   string                  `json:"name"`
	PublicKey              string                  `json:"publicKey,omitempty"`
	Type                   string                  `json:"type"`
	InsertInstant          int64                   `json:"insertInstant"`
	LastUpdateInstant      int64                   `json:"lastUpdateInstant"`
}

// CertificateInformation is FusionAuth's description of a key's X.509
// certificate: fingerprints are colon-separated upper-case hex, thumbprints
// base64url without padding, instants epoch milliseconds.
type CertificateInformation struct {
	Issuer            string `json:"issuer"`
	MD5Fingerprint    string `json:"md5Fingerprint"`
	SerialNumber      string `json:"serialNumber"`
	SHA1Fingerprint   string `json:"sha1Fingerprint"`
	SHA1Thumbprint    string `json:"sha1Thumbprint"`
	SHA256Fingerprint string `json:"sha256Fingerprint"`
	SHA256Thumbprint  string `json:"sha256Thumbprint"`
	Subject           string `json:"subject"`
	ValidFrom         int64  `json:"validFrom"`
	ValidTo           int64  `json:"validTo"`
}

// Key types, FusionAuth's KeyType values Latch supports.
const (
	KeyTypeRSA  = "RSA"
	KeyTypeEC   = "EC"
	KeyTypeOKP  = "OKP"
	KeyTypeHMAC = "HMAC"
)
