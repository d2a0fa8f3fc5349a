// Package systemtest proves the Debian package under a real systemd: it
// boots a Debian 12 container (systemd-nspawn on a cached debootstrap
// root), installs the .deb, and drives the units with systemctl. Its tests
// build only with -tags systemtest and need root: `make systemtest`.
package systemtest
