//go:build systemtest

package systemtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cacheDir keeps debootstrap roots between runs, keyed by what they hold.
const cacheDir = "/var/cache/rabbitmq-consumer-systemtest"

// include is what the container needs besides a minimal Debian; python3
// is what `apt install` of the package brings along (Recommends), for the
// example handler.
const include = "systemd,systemd-sysv,dbus,ca-certificates,python3"

// rootfs returns a cached debootstrap root, making it when missing.
func rootfs(t *testing.T) string {
	t.Helper()
	sum := sha256.Sum256([]byte("bookworm minbase " + include))
	dir := filepath.Join(cacheDir, "rootfs-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "usr/lib/systemd/systemd")); err == nil {
		return dir
	}
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("debootstrap into %s (cached for later runs)", dir)
	run(t, "debootstrap", "--variant=minbase", "--include="+include, "bookworm", tmp)
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// container is a booted systemd container.
type container struct {
	t      *testing.T
	cmd    *exec.Cmd
	leader int // the container's PID 1, as the host sees it
	out    bytes.Buffer
}

// boot starts systemd in a container sharing the host's network (so the
// host's RabbitMQ is at 127.0.0.1), with the host directory share bound
// read-only at /share. --volatile=overlay keeps the cached root clean.
func boot(t *testing.T, root, share string) *container {
	t.Helper()
	c := &container{t: t}
	name := fmt.Sprintf("rcst%d", os.Getpid())
	c.cmd = exec.Command("systemd-nspawn", "-D", root, "--volatile=overlay", "--boot", "--register=no", "--keep-unit",
		"-M", name, "--bind-ro="+share+":/share", "--console=pipe", "--quiet")
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	c.cmd.Env = append(os.Environ(), "SYSTEMD_NSPAWN_TMPFS_TMP=1")
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.poweroff()
		if t.Failed() {
			t.Logf("container console:\n%s", c.out.String())
		}
	})
	// The container's init is the nspawn process's child running systemd;
	// while it starts, nspawn also has a short-lived child of its own
	// (still named systemd-nspawn), which must not be taken for it.
	deadline := time.Now().Add(60 * time.Second)
	for c.leader == 0 {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.cmd.Process.Pid, c.cmd.Process.Pid))
		for _, f := range strings.Fields(string(b)) {
			comm, _ := os.ReadFile("/proc/" + f + "/comm")
			if strings.TrimSpace(string(comm)) == "systemd" {
				c.leader, _ = strconv.Atoi(f)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the container did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		out, _ := c.exec("systemctl", "is-system-running")
		s := strings.TrimSpace(out)
		if s == "running" || s == "degraded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("systemd in the container is %q after 60s", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c
}

// sigPoweroff is SIGRTMIN+4 as systemd counts it (glibc's SIGRTMIN is 34):
// systemd as PID 1 powers off on it.
const sigPoweroff = syscall.Signal(38)

// poweroff stops the container through its own init (SIGRTMIN+4 asks
// systemd for a clean poweroff) and waits for nspawn to exit; killing
// nspawn alone would leave the container's systemd running. Only when the
// init does not stop within a minute is the whole container killed.
func (c *container) poweroff() {
	exited := make(chan struct{})
	go func() {
		_ = c.cmd.Wait()
		close(exited)
	}()
	if c.leader != 0 {
		_ = syscall.Kill(c.leader, sigPoweroff)
	} else {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-exited:
		return
	case <-time.After(time.Minute):
	}
	c.t.Errorf("the container did not power off within a minute; killing it")
	if c.leader != 0 {
		_ = syscall.Kill(c.leader, syscall.SIGKILL)
	}
	_ = c.cmd.Process.Kill()
	<-exited
}

// exec runs a command inside the container.
func (c *container) exec(name string, args ...string) (string, error) {
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(c.leader), "-m", "-u", "-i", "-p", "-r", "-w", "--", name}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "DEBIAN_FRONTEND=noninteractive"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs a command inside the container and fails the test if it fails.
func (c *container) must(name string, args ...string) string {
	c.t.Helper()
	out, err := c.exec(name, args...)
	if err != nil {
		c.t.Fatalf("in the container: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// write writes a file inside the container.
func (c *container) write(path, body string) {
	c.t.Helper()
	c.must("sh", "-c", fmt.Sprintf("mkdir -p %q && cat > %q <<'CONTAINER_EOF'\n%sCONTAINER_EOF", filepath.Dir(path), path, body))
}

// show reads one property of a unit.
func (c *container) show(unit, prop string) string {
	c.t.Helper()
	return strings.TrimSpace(c.must("systemctl", "show", "-p", prop, "--value", unit))
}

// waitFor polls cond for up to limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
