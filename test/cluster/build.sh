#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from the Go module proxy for integration tests.
#
# Idempotent: binaries go to ${POTOO_CLUSTER_CACHE:-$HOME/.cache/potoo}/k8s-<version>/
# and are only built when missing. Versions come from the go.mod files next to this
# script (apiserver/go.mod: k8s.io/kubernetes, etcd/go.mod: go.etcd.io/etcd/server/v3).
#
# Build output goes to stderr; the last (only) line on stdout is the binary directory.
# Env: POTOO_CLUSTER_CACHE (cache root), POTOO_BUILD_PROCS (parallelism, default 2),
#      POTOO_CLUSTER_REBUILD=1 (force a rebuild).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

mod_version() { # <go.mod> <module path>
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1"
}

k8s_version="$(mod_version "$here/apiserver/go.mod" k8s.io/kubernetes)"
etcd_version="$(mod_version "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "build.sh: could not read versions from go.mod files" >&2
  exit 1
fi
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"

cache_root="${POTOO_CLUSTER_CACHE:-$HOME/.cache/potoo}"
out="$cache_root/k8s-$k8s_version"
procs="${POTOO_BUILD_PROCS:-2}"

have_all() {
  [[ -x "$out/kube-apiserver" && -x "$out/etcd" && "$(cat "$out/etcd.version" 2>/dev/null)" == "$etcd_version" ]]
}

if [[ "${POTOO_CLUSTER_REBUILD:-}" != "1" ]] && have_all; then
  echo "$out"
  exit 0
fi

mkdir -p "$out"

# Serialize concurrent builds (several test workers or shells may call this at once).
exec 9>"$out/.build.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
if [[ "${POTOO_CLUSTER_REBUILD:-}" != "1" ]] && have_all; then
  echo "$out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found on PATH (Go >= 1.25 is needed to build kube-apiserver/etcd)" >&2
  exit 1
fi

export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOMAXPROCS="$procs" GOFLAGS="-buildvcs=false -mod=readonly"

build() { # <module dir> <package> <output name> <ldflags>
  local dir="$1" pkg="$2" name="$3" ldflags="$4"
  local tmp="$out/.$name.tmp.$$"
  local start=$SECONDS
  echo "build.sh: building $name ($pkg) into $out ..." >&2
  (cd "$dir" && go build -p "$procs" -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg") >&2
  mv -f "$tmp" "$out/$name"
  echo "build.sh: built $name in $((SECONDS - start))s" >&2
}

if [[ "${POTOO_CLUSTER_REBUILD:-}" == "1" || ! -x "$out/etcd" || "$(cat "$out/etcd.version" 2>/dev/null)" != "$etcd_version" ]]; then
  build "$here/etcd" go.etcd.io/etcd/server/v3 etcd "-s -w"
  echo "$etcd_version" > "$out/etcd.version"
fi

if [[ "${POTOO_CLUSTER_REBUILD:-}" == "1" || ! -x "$out/kube-apiserver" ]]; then
  vpkg=k8s.io/component-base/version
  build "$here/apiserver" k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver \
    "-s -w -X $vpkg.gitVersion=$k8s_version -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$k8s_minor -X $vpkg.gitTreeState=clean"
fi

echo "$out"
