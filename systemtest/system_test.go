//go:build systemtest

package systemtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fernet/fernet-go"

	"github.com/rabbitmq-consumer/rabbitmq-consumer/client"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/config"
	"github.com/rabbitmq-consumer/rabbitmq-consumer/internal/testbroker"
)

// countHandler records every invocation, so the test can count them.
const countHandler = `#!/bin/sh
cat >/dev/null
echo "$RPC_CORRELATION_ID" >> /var/lib/rabbitmq-consumer/invocations
printf '{"success":true,"message":"counted by %s","data":{"version":"%s"}}' "$$" "@VERSION@"
`

// persistentCountHandler is countHandler as a persistent handler: one
// process serves many requests.
const persistentCountHandler = `#!/bin/sh
echo '{"protocol": "rabbitmq-consumer/1"}'
while IFS= read -r line; do
  cid=${line#*\"correlation_id\":\"}; cid=${cid%%\"*}
  echo "$cid" >> /var/lib/rabbitmq-consumer/invocations
  printf '{"correlation_id":"%s","response":{"success":true,"message":"counted by %s","data":{"version":"%s"}}}\n' "$cid" "$$" "@VERSION@"
done
`

const countContract = `{"description":"counts, version @VERSION@","lock_attribute":"n","timeout_seconds":30@MODE@,
 "request":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]},
 "response":{"type":"object","properties":{"version":{"type":"string"}},"required":["version"]}}
`

// handlerDeb builds a handler package for dx_count at version, a
// persistent handler or a one-shot one.
func handlerDeb(t *testing.T, dir, version string, persistent bool) string {
	t.Helper()
	stage := t.TempDir()
	hdir := filepath.Join(stage, "usr/lib/rabbitmq-consumer/handlers/dx_count")
	if err := os.MkdirAll(filepath.Join(stage, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(hdir, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(stage, 0o755)
	control := fmt.Sprintf("Package: rabbitmq-consumer-handler-dx-count\nVersion: %s\nArchitecture: all\nMaintainer: test <t@invalid>\nDepends: rabbitmq-consumer\nDescription: test handler\n", version)
	mustWrite(t, filepath.Join(stage, "DEBIAN/control"), control, 0o644)
	program, mode := countHandler, ""
	if persistent {
		program, mode = persistentCountHandler, `,"mode":"persistent"`
	}
	mustWrite(t, filepath.Join(hdir, "handler"), strings.ReplaceAll(program, "@VERSION@", version), 0o755)
	mustWrite(t, filepath.Join(hdir, "contract.json"), strings.NewReplacer("@VERSION@", version, "@MODE@", mode).Replace(countContract), 0o644)
	out := filepath.Join(dir, "dx-count_"+version+".deb")
	run(t, "dpkg-deb", "--root-owner-group", "--build", stage, out)
	return out
}

func mustWrite(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

func configFor(vhost, queue string) string {
	return fmt.Sprintf("server: {host: 127.0.0.1, port: 5672, username: guest, password: guest}\nvirtual_hosts:\n  %s:\n    queue: %s\n    max_simultaneous_requests: 4\n    exchanges: {dx_count: {}}\n", vhost, queue)
}

func call(t *testing.T, c *client.Client, n int) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := client.CallTyped[map[string]int, map[string]string](ctx, c, "dx_count", map[string]int{"n": n})
	if err != nil {
		return "", err
	}
	if !r.Success {
		return "", fmt.Errorf("failure response: %s", r.Message)
	}
	return r.Data["version"], nil
}

func dial(t *testing.T, vhost, queue string) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), client.Config{Server: config.Server{Host: "127.0.0.1", Port: 5672, Username: "guest", Password: "guest"}, VirtualHost: vhost, Queue: queue})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestPackageUnderSystemd(t *testing.T) {
	repo, _ := filepath.Abs("..")
	debs, _ := filepath.Glob(filepath.Join(repo, "dist", "rabbitmq-consumer_*.deb"))
	if len(debs) == 0 {
		t.Fatal("no dist/rabbitmq-consumer_*.deb: run `make systemtest`, which builds it")
	}
	t.Run("lintian is clean; the configuration is shipped 0640", func(t *testing.T) {
		if out, err := exec.Command("lintian", "--fail-on", "error,warning,info", debs[len(debs)-1]).CombinedOutput(); err != nil {
			t.Errorf("lintian: %v\n%s", err, out)
		}
		if out := run(t, "dpkg-deb", "-c", debs[len(debs)-1]); !regexp.MustCompile(`(?m)^-rw-r----- root/root .* \./etc/rabbitmq-consumer/rabbitmq\.yml$`).MatchString(out) {
			t.Errorf("dpkg-deb -c does not show the configuration 0640 root/root:\n%s", out)
		}
	})
	share := t.TempDir()
	_ = os.Chmod(share, 0o755)
	run(t, "cp", debs[len(debs)-1], filepath.Join(share, "rabbitmq-consumer.deb"))
	// 1.0 is persistent, 1.1 one-shot: the upgrade drains the processes
	// of one and starts the other's.
	v1, v2 := handlerDeb(t, share, "1.0", true), handlerDeb(t, share, "1.1", false)
	v, w := testbroker.New(t), testbroker.New(t)

	c := boot(t, rootfs(t), share)

	// Install.
	c.must("dpkg", "-i", "/share/rabbitmq-consumer.deb")
	// The package alone serves its example configuration: the example
	// handler it names is shipped.
	if out, err := c.exec("rabbitmq-consumer", "--check", "--virtual-host-name", "example"); err != nil {
		t.Errorf("the installed example configuration does not check: %v\n%s", err, out)
	}
	c.must("dpkg", "-i", "/share/"+filepath.Base(v1))
	if out := c.must("sh", "-c", "systemd-analyze verify /lib/systemd/system/rabbitmq-consume@test.service /lib/systemd/system/rabbitmq-consume.target /lib/systemd/system/rabbitmq-consumer-logship.service /lib/systemd/system/rabbitmq-consumer-docs.service 2>&1"); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify says:\n%s", out)
	}
	c.write("/etc/rabbitmq-consumer/rabbitmq.yml", configFor(v.Name, "q-v"))

	t.Run("active only after READY=1, an RPC is answered, status OK", func(t *testing.T) {
		c.must("systemctl", "start", "rabbitmq-consume@"+v.Name)
		if s := c.show("rabbitmq-consume@"+v.Name, "ActiveState"); s != "active" {
			t.Fatalf("ActiveState = %s", s)
		}
		if s := c.show("rabbitmq-consume@"+v.Name, "StatusText"); !strings.HasPrefix(s, "consuming 1 exchanges on queue q-v") {
			t.Errorf("StatusText = %q", s)
		}
		// Type=notify: `systemctl start` returned once READY=1 came, and by
		// then the consumer is registered with the broker.
		if out := testbroker.Ctl(t, "list_consumers", "-p", v.Name, "queue_name", "--no-table-headers"); !strings.Contains(out, "q-v") {
			t.Errorf("active before the consumer was registered: %q", out)
		}
		if ver, err := call(t, dial(t, v.Name, "q-v"), 1); err != nil || ver != "1.0" {
			t.Fatalf("call: %q, %v", ver, err)
		}
		out, err := c.exec("rabbitmq-consumer-status")
		if err != nil || !strings.HasPrefix(out, "RABBITMQ-CONSUMER OK - 1 consumers active") {
			t.Errorf("status check: %v\n%s", err, out)
		}
	})

	t.Run("a drop-in pointing CONFIG_FILE_PATH elsewhere is honoured", func(t *testing.T) {
		c.write("/etc/rabbitmq-consumer/w.yml", configFor(w.Name, "q-w-from-dropin"))
		c.write("/etc/systemd/system/rabbitmq-consume@"+w.Name+".service.d/override.conf", "[Service]\nEnvironment=CONFIG_FILE_PATH=/etc/rabbitmq-consumer/w.yml\n")
		c.must("systemctl", "daemon-reload")
		c.must("systemctl", "start", "rabbitmq-consume@"+w.Name)
		if ver, err := call(t, dial(t, w.Name, "q-w-from-dropin"), 1); err != nil || ver != "1.0" {
			t.Fatalf("call through the drop-in's queue: %q, %v", ver, err)
		}
	})

	t.Run("a broken configuration fails without a restart loop; status CRITICAL", func(t *testing.T) {
		c.write("/etc/rabbitmq-consumer/broken.yml", "virtual_hosts:\n  broken:\n    queue: q\n    prefetch: 3\n    exchanges: {dx_count: {}}\n")
		c.write("/etc/systemd/system/rabbitmq-consume@broken.service.d/override.conf", "[Service]\nEnvironment=CONFIG_FILE_PATH=/etc/rabbitmq-consumer/broken.yml\n")
		c.must("systemctl", "daemon-reload")
		_, _ = c.exec("systemctl", "start", "rabbitmq-consume@broken")
		waitFor(t, "the broken unit to fail", 30*time.Second, func() bool { return c.show("rabbitmq-consume@broken", "ActiveState") == "failed" })
		if n := c.show("rabbitmq-consume@broken", "NRestarts"); n != "0" {
			t.Errorf("NRestarts = %s, want 0 (RestartPreventExitStatus)", n)
		}
		if s := c.show("rabbitmq-consume@broken", "ExecMainStatus"); s != "78" {
			t.Errorf("exit status = %s, want 78", s)
		}
		journal := c.must("journalctl", "-u", "rabbitmq-consume@broken", "-o", "cat", "--no-pager")
		if !strings.Contains(journal, "virtual_hosts.broken.prefetch: unknown key") {
			t.Errorf("the journal does not say what is wrong:\n%s", journal)
		}
		out, err := c.exec("rabbitmq-consumer-status")
		var ee *exec.ExitError
		if !asExit(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(out, "CRITICAL") || !strings.Contains(out, "rabbitmq-consume@broken.service") {
			t.Errorf("status check: %v\n%s", err, out)
		}
		c.must("systemctl", "reset-failed", "rabbitmq-consume@broken")
	})

	t.Run("secrets from LoadCredential: a call answered, the secrets nowhere to be seen", func(t *testing.T) {
		testSecretsFromCredentials(t, c)
	})

	t.Run("an upgrade restarts the running consumers and tightens the configuration's mode, unless dpkg-statoverride says otherwise", func(t *testing.T) {
		const conf = "/etc/rabbitmq-consumer/rabbitmq.yml"
		mode := func() string { return strings.TrimSpace(c.must("stat", "-c", "%a %U:%G", conf)) }
		c.must("chmod", "664", conf)
		c.must("chgrp", "root", conf)
		units := []string{"rabbitmq-consume@" + v.Name, "rabbitmq-consume@" + w.Name}
		pids := map[string]string{}
		for _, u := range units {
			pids[u] = c.show(u, "MainPID")
		}
		c.must("dpkg", "-i", "/share/rabbitmq-consumer.deb") // the same version again: an upgrade
		if m := mode(); m != "640 root:rabbitmq-consumer" {
			t.Errorf("after an upgrade over a 664 root:root file: %s, want 640 root:rabbitmq-consumer", m)
		}
		// The running consumers were restarted on the new programs, not left stopped.
		for _, u := range units {
			if s, pid := c.show(u, "ActiveState"), c.show(u, "MainPID"); s != "active" || pid == pids[u] {
				t.Errorf("%s after the upgrade: %s, MainPID %s -> %s; want active under a new process", u, s, pids[u], pid)
			}
		}
		c.must("dpkg-statoverride", "--update", "--add", "root", "root", "0644", conf)
		defer c.must("dpkg-statoverride", "--remove", conf)
		c.must("dpkg", "-i", "/share/rabbitmq-consumer.deb")
		if m := mode(); m != "644 root:root" {
			t.Errorf("after an upgrade with a statoverride 0644 root:root: %s, want it kept", m)
		}
		c.must("chmod", "640", conf)
		c.must("chgrp", "rabbitmq-consumer", conf)
	})

	t.Run("a handler package upgrade restarts the consumers; no call lost or answered twice", func(t *testing.T) {
		unit := "rabbitmq-consume@" + v.Name
		before := c.show(unit, "MainPID")
		defer func() {
			if t.Failed() {
				out, _ := c.exec("journalctl", "--no-pager", "-n", "150")
				t.Logf("the unit's journal:\n%s", out)
			}
		}()
		cl := dial(t, v.Name, "q-v")
		stop := make(chan struct{})
		var mu sync.Mutex
		versions := map[string]int{}
		var errs []error
		calls := 0
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					ver, err := call(t, cl, 1000+g*100000+i)
					mu.Lock()
					calls++
					if err != nil {
						errs = append(errs, err)
					} else {
						versions[ver]++
					}
					mu.Unlock()
				}
			}(g)
		}
		_ = c.must("truncate", "-s", "0", "/var/lib/rabbitmq-consumer/invocations")
		c.must("dpkg", "-i", "/share/"+filepath.Base(v2))
		waitFor(t, "calls answered by the new handler", 60*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			if versions["1.1"] < 20 && len(errs) > 0 {
				t.Fatalf("a call failed during the upgrade: %v (answered so far: %v)", errs[0], versions)
			}
			return versions["1.1"] >= 20
		})
		close(stop)
		wg.Wait()
		after := c.show(unit, "MainPID")
		if after == before || after == "0" {
			t.Errorf("MainPID %s -> %s: the consumer was not restarted", before, after)
		}
		lines := strings.Fields(c.must("cat", "/var/lib/rabbitmq-consumer/invocations"))
		seen := map[string]int{}
		dups := 0
		for _, l := range lines {
			seen[l]++
			if seen[l] == 2 {
				dups++
			}
		}
		t.Logf("during the upgrade: %d calls, %d errors, answered by version %v; %d handler runs, %d run twice; MainPID %s -> %s", calls, len(errs), versions, len(lines), dups, before, after)
		if len(errs) > 0 {
			t.Errorf("calls lost: %v", errs[0])
		}
		if dups > 0 {
			t.Errorf("%d requests ran twice", dups)
		}
	})

	t.Run("systemctl reload signals the consumer alone, which stays up", func(t *testing.T) {
		unit := "rabbitmq-consume@" + v.Name
		pid := c.show(unit, "MainPID")
		c.must("systemctl", "reload", unit)
		waitFor(t, "the consumer to log the SIGHUP", 30*time.Second, func() bool {
			return strings.Contains(c.must("journalctl", "-u", unit, "-o", "cat", "--no-pager"), "SIGHUP")
		})
		if s, now := c.show(unit, "ActiveState"), c.show(unit, "MainPID"); s != "active" || now != pid {
			t.Errorf("after reload: %s, MainPID %s -> %s; want active, same process", s, pid, now)
		}
		if ver, err := call(t, dial(t, v.Name, "q-v"), 7); err != nil || ver == "" {
			t.Errorf("call after reload: %q, %v", ver, err)
		}
	})

	t.Run("the docs server documents the installed handlers; a handler package reloads it", func(t *testing.T) {
		testDocsServer(t, c, v1, "1.0")
	})

	t.Run("the watchdog catches a wedged consumer", func(t *testing.T) {
		unit := "rabbitmq-consume@" + v.Name
		c.write("/etc/systemd/system/"+unit+".service.d/watchdog.conf", "[Service]\nWatchdogSec=2s\nTimeoutAbortSec=2s\nRestartSec=1s\n")
		c.must("systemctl", "daemon-reload")
		c.must("systemctl", "restart", unit)
		pid := c.show(unit, "MainPID")
		restarts := c.show(unit, "NRestarts")
		c.must("sh", "-c", "kill -STOP "+pid) // wedged: no more WATCHDOG=1
		deadline := time.Now().Add(60 * time.Second)
		for c.show(unit, "MainPID") == pid || c.show(unit, "ActiveState") != "active" {
			if time.Now().After(deadline) {
				t.Fatalf("no restart within 60s of the wedge: MainPID %s, %s/%s, result %s; journal:\n%s", c.show(unit, "MainPID"), c.show(unit, "ActiveState"), c.show(unit, "SubState"),
					c.show(unit, "Result"), c.must("journalctl", "-u", unit, "-o", "short-monotonic", "--no-pager", "-n", "30"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		journal := c.must("journalctl", "-u", unit, "-o", "cat", "--no-pager")
		if !strings.Contains(journal, "Watchdog timeout") {
			t.Errorf("no watchdog timeout in the journal:\n%s", journal)
		}
		if c.show(unit, "NRestarts") == restarts {
			t.Error("the unit was not restarted")
		}
	})

	t.Run("the status check's line, performance data and exit status for unit states", func(t *testing.T) {
		testStatusCheck(t, c, "rabbitmq-consume@"+v.Name+".service")
	})
}

// testStatusCheck brings the consumer units into several states (the one
// named restarted by its watchdog just before) and reads the status
// check's verdict on each.
func testStatusCheck(t *testing.T, c *container, restarted string) {
	restarts := c.show(restarted, "NRestarts")
	// A unit whose process fails at once and is restarted only after an
	// hour: "activating", sub-state "auto-restart", in the meantime.
	c.write("/etc/systemd/system/rabbitmq-consume@flaky.service.d/override.conf", "[Service]\nExecStart=\nExecStart=/bin/false\nRestartSec=1h\n")
	c.must("systemctl", "daemon-reload")
	steps := []struct {
		name   string
		before func()
		args   []string
		code   int
		line   *regexp.Regexp
	}{
		{name: "a unit restarted within the window: WARNING",
			code: 1, line: regexp.MustCompile(`^RABBITMQ-CONSUMER WARNING - ` + regexp.QuoteMeta(restarted) + ` restarted [0-9hms]+ ago \(` + restarts + ` restarts\) \| total=\d+;;;0 active=2;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=` + restarts + `c;;;0$`)},
		{name: "the same, out of a shorter window: OK", args: []string{"--restart-window", "2s"},
			before: func() {
				waitFor(t, "the restart to be 2 s old", 30*time.Second, func() bool {
					_, err := c.exec("rabbitmq-consumer-status", "--restart-window", "2s")
					return err == nil
				})
			},
			code: 0, line: regexp.MustCompile(`^RABBITMQ-CONSUMER OK - 2 consumers active: .* \| total=\d+;;;0 active=2;;;0 failed=0;;;0 activating=0;;;0 restarting=0;;;0 restarts=` + restarts + `c;;;0$`)},
		{name: "the shipper's metrics unreadable: WARNING", args: []string{"--restart-window", "0", "--logship-metrics", "127.0.0.1:1"},
			code: 1, line: regexp.MustCompile(`^RABBITMQ-CONSUMER WARNING - cannot read the log-shipping backlog: .*connection refused \| total=`)},
		{name: "a unit waiting to be restarted: WARNING", args: []string{"--restart-window", "0"},
			before: func() {
				_, _ = c.exec("systemctl", "start", "--no-block", "rabbitmq-consume@flaky")
				waitFor(t, "rabbitmq-consume@flaky to wait for its restart", 30*time.Second, func() bool { return c.show("rabbitmq-consume@flaky", "SubState") == "auto-restart" })
			},
			code: 1, line: regexp.MustCompile(`^RABBITMQ-CONSUMER WARNING - rabbitmq-consume@flaky.service \(restarting\) \| total=\d+;;;0 active=2;;;0 failed=0;;;0 activating=1;;;0 restarting=1;;;0 restarts=` + restarts + `c;;;0$`)},
		{name: "a failed unit: CRITICAL", args: []string{"--restart-window", "0"},
			before: func() {
				c.must("systemctl", "stop", "rabbitmq-consume@flaky")
				_, _ = c.exec("systemctl", "start", "rabbitmq-consume@broken")
				waitFor(t, "the broken unit to fail", 30*time.Second, func() bool { return c.show("rabbitmq-consume@broken", "ActiveState") == "failed" })
			},
			code: 2, line: regexp.MustCompile(`^RABBITMQ-CONSUMER CRITICAL - rabbitmq-consume@broken.service failed \| total=\d+;;;0 active=2;;;0 failed=1;;;0 activating=0;;;0 restarting=0;;;0 restarts=` + restarts + `c;;;0$`)},
		{name: "the same as JSON", args: []string{"--restart-window", "0", "--json"},
			code: 2, line: regexp.MustCompile(`(?s)^\{\n  "status": "CRITICAL",\n  "code": 2,.*"counts": \{\n    "total": \d+,\n    "active": 2,\n    "failed": 1,.*"name": "rabbitmq-consume@broken.service",\n      "active_state": "failed"`)},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		out, err := c.exec("rabbitmq-consumer-status", st.args...)
		code := 0
		var ee *exec.ExitError
		if asExit(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		out = strings.TrimSuffix(out, "\n")
		if code != st.code || !st.line.MatchString(out) {
			t.Errorf("%s: exit %d, want %d; output:\n%s\nwant it to match %s", st.name, code, st.code, out, st.line)
		}
		if !strings.HasPrefix(out, "{") && strings.Contains(out, "\n") {
			t.Errorf("%s: more than one line:\n%s", st.name, out)
		}
	}
	c.must("systemctl", "reset-failed", "rabbitmq-consume@broken")
}

// echoHandler answers with the request it got: after decryption.
const echoHandler = "#!/bin/sh\nbody=$(cat)\nprintf '{\"success\":true,\"message\":\"echo\",\"data\":%s}' \"$body\"\n"

const echoContract = `{"description":"echoes","lock_attribute":null,"timeout_seconds":30,
 "request":{"type":"object","properties":{"secret":{"type":"string"}},"required":["secret"]},
 "response":{"type":"object"}}
`

// testSecretsFromCredentials runs a consumer whose broker password and
// Fernet key come from systemd credentials through the drop-in the package
// ships as an example, and looks for the secrets where other local users
// could read them.
func testSecretsFromCredentials(t *testing.T, c *container) {
	s := testbroker.New(t)
	user, password := "rct-"+s.Name[len(s.Name)-8:], "pw-"+strconv.FormatInt(time.Now().UnixNano(), 36)
	testbroker.Ctl(t, "add_user", user, password)
	t.Cleanup(func() { _, _ = exec.Command("rabbitmqctl", "delete_user", user).CombinedOutput() })
	testbroker.Ctl(t, "set_permissions", "-p", s.Name, user, ".*", ".*", ".*")
	var key fernet.Key
	if err := key.Generate(); err != nil {
		t.Fatal(err)
	}
	unit := "rabbitmq-consume@" + s.Name
	c.write("/usr/lib/rabbitmq-consumer/handlers/dx_echo/contract.json", echoContract)
	c.write("/usr/lib/rabbitmq-consumer/handlers/dx_echo/handler", echoHandler)
	c.must("chmod", "755", "/usr/lib/rabbitmq-consumer/handlers/dx_echo/handler")
	c.write("/etc/rabbitmq-consumer/secrets.yml", fmt.Sprintf("server: {host: 127.0.0.1, port: 5672, username: %s}\nvirtual_hosts:\n  %s:\n    queue: q-s\n    exchanges: {dx_echo: {}}\n", user, s.Name))
	c.must("chmod", "640", "/etc/rabbitmq-consumer/secrets.yml")
	c.write("/etc/rabbitmq-consumer/credentials/server.password", password+"\n")
	c.write("/etc/rabbitmq-consumer/credentials/virtual_hosts."+s.Name+".fernet_key", key.Encode()+"\n")
	c.must("chmod", "-R", "go-rwx", "/etc/rabbitmq-consumer/credentials")
	// The documented drop-in, as an operator installs it, plus the file's path.
	c.must("install", "-D", "-m", "644", "/usr/share/doc/rabbitmq-consumer/examples/drop-ins/secrets.conf", "/etc/systemd/system/"+unit+".service.d/secrets.conf")
	c.write("/etc/systemd/system/"+unit+".service.d/config.conf", "[Service]\nEnvironment=CONFIG_FILE_PATH=/etc/rabbitmq-consumer/secrets.yml\n")
	c.must("systemctl", "daemon-reload")
	c.must("systemctl", "start", unit)
	t.Cleanup(func() { _, _ = c.exec("systemctl", "stop", unit) })

	cl, err := client.Dial(context.Background(), client.Config{Server: config.Server{Host: "127.0.0.1", Port: 5672, Username: user, Password: password}, VirtualHost: s.Name, Queue: "q-s", FernetKey: key.Encode()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := cl.Call(ctx, "dx_echo", map[string]string{"secret": "the plain text"}, client.Encrypt("secret"))
	if err != nil || !r.Success || !strings.Contains(string(r.Data), `"the plain text"`) {
		t.Fatalf("call: %v, %+v: want the field decrypted by the consumer", err, r)
	}
	pid := c.show(unit, "MainPID")
	// journald takes the consumer's lines through a stream: the request's
	// line may reach the journal a moment after the reply.
	journal := func() string { return c.must("journalctl", "-u", unit, "-o", "verbose", "--no-pager") }
	waitFor(t, "the journal to show the request with its encrypted field masked", 30*time.Second, func() bool {
		return strings.Contains(journal(), "*****")
	})
	places := map[string]string{
		"systemctl show":            c.must("systemctl", "show", unit),
		"/proc/" + pid + "/environ": c.must("cat", "/proc/"+pid+"/environ"),
		"/proc/" + pid + "/cmdline": c.must("cat", "/proc/"+pid+"/cmdline"),
		"the journal":               journal(),
		"the configuration file":    c.must("cat", "/etc/rabbitmq-consumer/secrets.yml"),
	}
	for where, text := range places {
		for what, secret := range map[string]string{"the password": password, "the Fernet key": key.Encode(), "the decrypted field": "the plain text"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s is in %s", what, where)
			}
		}
	}
	if mode := strings.TrimSpace(c.must("stat", "-c", "%a %U:%G", "/etc/rabbitmq-consumer/rabbitmq.yml")); mode != "640 root:rabbitmq-consumer" {
		t.Errorf("the installed configuration file is %s, want 640 root:rabbitmq-consumer", mode)
	}
}

func asExit(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// testDocsServer starts the docs server's unit on a free port and installs
// the handler package at version (installed: another version): the
// package's trigger reloads the server, which then documents the new
// contract, in the same process.
func testDocsServer(t *testing.T, c *container, deb, version string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	const unit = "rabbitmq-consumer-docs"
	c.write("/etc/systemd/system/"+unit+".service.d/listen.conf", "[Service]\nEnvironment=LISTEN="+addr+"\n")
	c.must("systemctl", "daemon-reload")
	c.must("systemctl", "start", unit) // Type=notify: listening once started
	defer c.must("systemctl", "stop", unit)
	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if s := get("/schemas"); !strings.Contains(s, `"dx_count.json"`) || !strings.Contains(s, `"dx_example.json"`) {
		t.Errorf("/schemas = %s", s)
	}
	pid := c.show(unit, "MainPID")
	c.must("dpkg", "-i", "/share/"+filepath.Base(deb))
	waitFor(t, "the docs of dx_count "+version, 30*time.Second, func() bool {
		return strings.Contains(get("/actions/dx_count.html"), "counts, version "+version)
	})
	if now := c.show(unit, "MainPID"); now != pid {
		t.Errorf("MainPID %s -> %s: the trigger restarted the docs server instead of reloading it", pid, now)
	}
}
