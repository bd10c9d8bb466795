#!/usr/bin/env bash
# Ensure a working kube-apiserver and etcd for castui's real-cluster tests.
#
# No registry reachable here ships a kube-apiserver, so it is built offline
# from Debian's `kubernetes` source package (v1.20.2, vendored dependencies).
# Kubernetes 1.20 vendors github.com/modern-go/reflect2 v1.0.1, which breaks
# under Go >= 1.18 (the built server crashes whenever json-iterator encodes a
# map); the vendored copy is replaced with Debian's v1.0.2 before building.
#
# Result: $CASTUI_CACHE_DIR/kube-apiserver (default ~/.cache/castui) and
# `etcd` on PATH (Debian's etcd-server). Idempotent: when the cached binary
# exists and is the patched one, nothing is built and apt is not touched
# (except to install etcd-server if `etcd` is missing).
#
# Must run as root (apt-get). Progress goes to stderr. Building takes about
# 3-4 minutes on 2 cores and about 2 GB of disk, freed afterwards.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

CACHE_DIR="${CASTUI_CACHE_DIR:-$HOME/.cache/castui}"
BIN="$CACHE_DIR/kube-apiserver"
BUILD_ROOT="$CACHE_DIR/build"
# Present only in a binary whose reflect2 comes from v1.0.2 (the fixed one).
FIX_MARKER='modern-go/reflect2/go_above_118.go'
REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2
DEB_SRC_LIST=/etc/apt/sources.list.d/castui-deb-src.sources

log() { printf '[build_apiserver] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

binary_ok() {
    [ -x "$1" ] || return 1
    local n
    n=$(grep -c -F "$FIX_MARKER" "$1" 2>/dev/null || true)
    [ "${n:-0}" -gt 0 ]
}

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        apt-get update -q >&2
        APT_UPDATED=1
    fi
}

# Keep package post-install scripts from starting services (etcd-server would
# otherwise try to start a system-wide etcd on :2379). A policy-rc.d already
# in place is left alone; one we add is removed on exit.
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_ADDED=0
apt_install() {
    if [ ! -e "$POLICY_RC" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
        chmod 755 "$POLICY_RC"
        POLICY_RC_ADDED=1
    fi
    log "apt-get install $*"
    apt-get install -y -q --no-install-recommends "$@" >&2
}

WORK=""
cleanup() {
    if [ "$POLICY_RC_ADDED" = 1 ]; then rm -f "$POLICY_RC"; fi
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        log "removing build tree $WORK"
        chmod -R u+w "$WORK" 2>/dev/null || true
        rm -rf "$WORK"
        rmdir "$BUILD_ROOT" 2>/dev/null || true
    fi
}
trap cleanup EXIT

ensure_etcd() {
    if ! command -v etcd >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || die "etcd is missing and installing it needs root"
        apt_update_once
        apt_install etcd-server
    fi
    command -v etcd >/dev/null 2>&1 || die "etcd still not on PATH after installing etcd-server"
}

mkdir -p "$CACHE_DIR"

# Fast path.
if binary_ok "$BIN"; then
    ensure_etcd
    log "ok: $BIN (patched) and $(command -v etcd)"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "building kube-apiserver needs root (apt-get); run as root"

# Serialise concurrent builds (e.g. parallel test workers).
exec 9>"$CACHE_DIR/.build.lock"
log "waiting for build lock $CACHE_DIR/.build.lock"
flock 9
if binary_ok "$BIN"; then
    ensure_etcd
    log "ok: $BIN was built by a concurrent run"
    exit 0
fi

if [ -e "$BIN" ]; then
    log "$BIN exists but lacks the reflect2 fix: rebuilding"
fi

start=$(date +%s)

# apt-get source needs a deb-src entry; derive one from the machine's own
# Debian sources (deb822 format) unless one exists already.
if ! grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
        /etc/apt/sources.list /etc/apt/sources.list.d/; then
    [ -f /etc/apt/sources.list.d/debian.sources ] \
        || die "no deb-src entry and no /etc/apt/sources.list.d/debian.sources to derive one from"
    log "adding deb-src entry $DEB_SRC_LIST"
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$DEB_SRC_LIST"
fi

apt_update_once
apt_install golang-go rsync make dpkg-dev etcd-server golang-github-modern-go-reflect2-dev
[ -f "$REFLECT2_SRC/go_above_118.go" ] || die "$REFLECT2_SRC/go_above_118.go missing (need reflect2 >= 1.0.2)"

mkdir -p "$BUILD_ROOT"
WORK=$(mktemp -d "$BUILD_ROOT/kubernetes.XXXXXX")
cd "$WORK"

log "downloading Debian source package kubernetes"
apt-get source --download-only -q kubernetes 2>&1 | grep -v 'Download is performed unsandboxed' >&2 || true
dsc=$(ls -1 kubernetes_*.dsc 2>/dev/null | head -n1)
[ -n "$dsc" ] || die "apt-get source --download-only kubernetes fetched no .dsc"
log "unpacking $dsc"
dpkg-source -q -x "$dsc" src >&2
rm -f kubernetes_*.tar.* kubernetes_*.dsc   # free ~35 MB early
SRC="$WORK/src"

log "patching vendored modern-go/reflect2 with Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)"
VENDOR_R2="$SRC/vendor/github.com/modern-go/reflect2"
[ -d "$VENDOR_R2" ] || die "$VENDOR_R2 not found in the source tree"
rm -f "$VENDOR_R2"/*.go "$VENDOR_R2"/*.s
cp "$REFLECT2_SRC"/*.go "$VENDOR_R2"/
if compgen -G "$REFLECT2_SRC/*.s" >/dev/null; then cp "$REFLECT2_SRC"/*.s "$VENDOR_R2"/; fi
rm -f "$VENDOR_R2"/*_test.go
# vendor/modules.txt keeps saying v1.0.1 on purpose: it must match go.mod,
# or `go build -mod=vendor` rejects the vendor tree as inconsistent.

# GOPATH layout as in Debian's debian/rules.
mkdir -p "$SRC/.go/src/k8s.io"
[ -L "$SRC/.go/src/k8s.io/kubernetes" ] || ln -s ../../.. "$SRC/.go/src/k8s.io/kubernetes"

log "building cmd/kube-apiserver with $(go version) (takes a few minutes)"
build_start=$(date +%s)
(
    cd "$SRC/.go/src/k8s.io/kubernetes"
    # GOCACHE inside the build tree so the ~1 GB build cache goes away with it.
    env GOPATH="$SRC/.go" GOCACHE="$WORK/gocache" GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
        HOME="$WORK/home" PATH="/usr/lib/go/bin:$PATH" \
        make WHAT=cmd/kube-apiserver
) >&2
log "make finished in $(( $(date +%s) - build_start )) s"

built="$SRC/_output/bin/kube-apiserver"
[ -x "$built" ] || built=$(find "$SRC/_output" -type f -name kube-apiserver -perm -u+x | head -n1)
[ -n "$built" ] && [ -x "$built" ] || die "kube-apiserver binary not found under $SRC/_output"
binary_ok "$built" || die "built kube-apiserver lacks $FIX_MARKER: the reflect2 patch did not take"
"$built" --version >&2 || die "built kube-apiserver does not run"

cp "$built" "$BIN.tmp.$$"
chmod 755 "$BIN.tmp.$$"
mv -f "$BIN.tmp.$$" "$BIN"

ensure_etcd
log "done in $(( $(date +%s) - start )) s: $BIN ($(du -h "$BIN" | cut -f1))"
