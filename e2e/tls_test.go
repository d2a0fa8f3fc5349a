package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testrpc"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testutil"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverPEM issues a certificate for localhost and returns cert and key as PEM.
func (ca *testCA) serverPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})...)
}

// startStunnel puts a TLS listener in front of the local broker and returns its port.
func startStunnel(t *testing.T, serverPEM []byte) int {
	t.Helper()
	bin, err := exec.LookPath("stunnel4")
	if err != nil {
		if bin, err = exec.LookPath("stunnel"); err != nil {
			t.Fatal("stunnel4 is not installed (make test installs it)")
		}
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	write(t, filepath.Join(dir, "server.pem"), string(serverPEM), 0o600)
	conf := fmt.Sprintf("foreground = yes\npid =\n[amqps]\naccept = 127.0.0.1:%d\nconnect = 127.0.0.1:5672\ncert = %s\n", port, filepath.Join(dir, "server.pem"))
	write(t, filepath.Join(dir, "stunnel.conf"), conf, 0o600)
	cmd := exec.Command(bin, filepath.Join(dir, "stunnel.conf"))
	var out testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("stunnel:\n%s", out.String())
		}
	})
	testutil.WaitFor(t, "stunnel to listen", 60*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return port
}

func TestTLS(t *testing.T) {
	ca := newCA(t, "rabbitmq-consumer test CA")
	port := startStunnel(t, ca.serverPEM(t))
	w := newWorld(t, 2)
	cfg := strings.Replace(mustRead(t, w.cfgPath), "server: {host: 127.0.0.1, port: 5672,", fmt.Sprintf("server: {host: localhost, port: %d, ssl: true,", port), 1)
	write(t, w.cfgPath, cfg, 0o644)
	caFile := filepath.Join(w.dir, "ca.pem")
	write(t, caFile, string(ca.pem), 0o644)

	t.Run("verified", func(t *testing.T) {
		p := w.start("SSL_CERT_FILE=" + caFile)
		p.waitLog(t, `"message":"consuming"`)
		if r := testrpc.New(t, w.vh.URL(), true).Call("dx_record", w.queue, map[string]int{"n": 1}); !r.Success {
			t.Fatalf("reply = %+v", r)
		}
	})
	t.Run("wrong CA", func(t *testing.T) {
		other := newCA(t, "some other CA")
		otherFile := filepath.Join(w.dir, "other-ca.pem")
		write(t, otherFile, string(other.pem), 0o644)
		p := w.start("SSL_CERT_FILE=" + otherFile)
		code, _ := p.wait(t, 30*time.Second)
		log := p.stderr.String()
		if code != 77 || !strings.Contains(log, "TLS: the certificate of broker localhost:") || !strings.Contains(log, "does not verify") {
			t.Errorf("exit status %d, log:\n%s", code, log)
		}
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
