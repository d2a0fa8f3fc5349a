//go:build systemtest

package systemtest

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLogServerPackageUnderSystemd installs rabbitmq-consumer-log-server
// alone, starts its unit, posts a record with the token its postinst made
// and reads it back with the GUI password.
func TestLogServerPackageUnderSystemd(t *testing.T) {
	repo, _ := filepath.Abs("..")
	debs, _ := filepath.Glob(filepath.Join(repo, "dist", "rabbitmq-consumer-log-server_*.deb"))
	if len(debs) == 0 {
		t.Fatal("no dist/rabbitmq-consumer-log-server_*.deb: run `make systemtest`, which builds it")
	}
	deb := debs[len(debs)-1]
	t.Run("lintian is clean", func(t *testing.T) {
		if out, err := exec.Command("lintian", "--fail-on", "error,warning,info", deb).CombinedOutput(); err != nil {
			t.Errorf("lintian: %v\n%s", err, out)
		}
	})
	share := t.TempDir()
	_ = os.Chmod(share, 0o755)
	run(t, "cp", deb, filepath.Join(share, "rabbitmq-consumer-log-server.deb"))
	c := boot(t, rootfs(t), share)
	c.must("dpkg", "-i", "/share/rabbitmq-consumer-log-server.deb")
	if out := c.must("sh", "-c", "systemd-analyze verify /lib/systemd/system/rabbitmq-consumer-log-server.service 2>&1"); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify says:\n%s", out)
	}
	for _, f := range []string{"log-server.api_token", "log-server.gui_password"} {
		if out := c.must("stat", "-c", "%a %U", "/etc/rabbitmq-consumer/credentials/"+f); strings.TrimSpace(out) != "600 root" {
			t.Errorf("%s: %s, want 600 root", f, out)
		}
	}
	if s := c.show("rabbitmq-consumer-log-server", "ActiveState"); s != "inactive" {
		t.Errorf("started on installation: %s", s)
	}
	// The container shares the host's network: a free port of the host.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	conf := c.must("cat", "/etc/rabbitmq-consumer/log-server.yml")
	c.write("/etc/rabbitmq-consumer/log-server.yml", regexp.MustCompile(`(?m)^listen: .*$`).ReplaceAllString(conf, "listen: "+addr))
	token := strings.TrimSpace(c.must("cat", "/etc/rabbitmq-consumer/credentials/log-server.api_token"))
	password := strings.TrimSpace(c.must("cat", "/etc/rabbitmq-consumer/credentials/log-server.gui_password"))

	t.Run("active once it serves; a record posted is stored", func(t *testing.T) {
		c.must("systemctl", "start", "rabbitmq-consumer-log-server")
		if s := c.show("rabbitmq-consumer-log-server", "ActiveState"); s != "active" {
			t.Fatalf("ActiveState = %s", s)
		}
		body := `{"correlation_id":"st-1","request_payload":{"n":1},"virtual_host_name":"v","queue_name":"q","rabbitmq_username":"u","hostname":"h","exchange_name":"dx"}`
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/rpc-requests", strings.NewReader(body))
		req.Header.Set("X-API-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("POST: %s", resp.Status)
		}
		req, _ = http.NewRequest("GET", "http://"+addr+"/api/v1/rpc-requests?correlation_id=st-1", nil)
		req.SetBasicAuth("", password)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"correlation_id":"st-1"`) {
			t.Errorf("GET: %s %s", resp.Status, b)
		}
		// The database is in the unit's state directory.
		c.must("test", "-s", "/var/lib/rabbitmq-consumer-log-server/log.db")
	})

	t.Run("a stop is clean", func(t *testing.T) {
		c.must("systemctl", "stop", "rabbitmq-consumer-log-server")
		if s := c.show("rabbitmq-consumer-log-server", "Result"); s != "success" {
			t.Errorf("Result = %s after a stop", s)
		}
	})

	t.Run("a broken configuration fails at once without a restart loop", func(t *testing.T) {
		c.write("/etc/rabbitmq-consumer/log-server.yml", "listen: "+addr+"\nkeep_days: -1\n")
		_, _ = c.exec("systemctl", "start", "rabbitmq-consumer-log-server")
		waitFor(t, "the unit to fail", 30*time.Second, func() bool { return c.show("rabbitmq-consumer-log-server", "ActiveState") == "failed" })
		if s := c.show("rabbitmq-consumer-log-server", "ExecMainStatus"); s != "78" {
			t.Errorf("ExecMainStatus = %s, want 78", s)
		}
		if out, _ := c.exec("journalctl", "-u", "rabbitmq-consumer-log-server", "--no-pager", "-o", "cat"); !strings.Contains(out, `keep_days: \"-1\" is not a number of days`) {
			t.Errorf("journal does not say what is wrong:\n%s", out)
		}
		if n := c.show("rabbitmq-consumer-log-server", "NRestarts"); n != "0" {
			t.Errorf("NRestarts = %s", n)
		}
	})
}
