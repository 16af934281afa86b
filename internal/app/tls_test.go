package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, PEM-encoded.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}

// With a certificate and key, serve speaks HTTPS only, sends HSTS, and prints
// an https setup link.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s := testutil.StartServer(t, testutil.WithEnv("LATCH_TLS_CERT_FILE", certFile, "LATCH_TLS_KEY_FILE", keyFile))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + s.Addr + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/status over TLS: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("no HSTS over TLS: %q", got)
	}
	if plain, err := http.Get("http://" + s.Addr + "/api/status"); err == nil {
		plain.Body.Close()
		if plain.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}
	if !strings.Contains(s.Stdout.String(), "https://") {
		t.Errorf("the setup link is not https: %q", s.Stdout.String())
	}

	// Without TLS: no HSTS (it would pin browsers to a scheme Latch does not serve).
	p := testutil.StartServer(t)
	if got := p.Do(t, "GET", "/api/status", "", nil).Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS without TLS: %q", got)
	}
}

func TestServeTLSMisconfigured(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"cert without key", []string{"LATCH_TLS_CERT_FILE", certFile}, "both"},
		{"key without cert", []string{"LATCH_TLS_KEY_FILE", keyFile}, "both"},
		{"swapped", []string{"LATCH_TLS_CERT_FILE", keyFile, "LATCH_TLS_KEY_FILE", certFile}, "TLS certificate and key"},
		{"missing file", []string{"LATCH_TLS_CERT_FILE", certFile + ".nope", "LATCH_TLS_KEY_FILE", keyFile}, "TLS certificate and key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := with(freshEnv(t, testutil.Backend{Name: "sqlite"}), c.env...)
			_, stderr, code := latchRun(t, env, "serve")
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
			}
		})
	}
}
