#!/usr/bin/env bash
# Runs the Python example against a Synod server. Installs Debian's gRPC and protobuf packages
# when they are missing, builds the synod-api wheel from ../proto into build/ (build_wheel.py),
# runs example.py with that wheel on its import path.
#
# Usage: client-python/run-example.sh HOST:PORT [NODE_PATH] [--timeout SECONDS]
#          [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]   (TLS; mutual TLS with a client certificate)
#          [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]
#
# The toolchain is Debian's, used as a set: protoc 3.21 with grpc_python_plugin generates code for
# the python3-protobuf 3.21 and python3-grpcio runtime of the system Python. (python3-grpc-tools
# bundles protoc 3.5, which rejects proto3 `optional` fields.)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
build="$here/build"
python=/usr/bin/python3
protoc=/usr/bin/protoc
plugin=/usr/bin/grpc_python_plugin
packages=(python3 python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc)

if [ $# -lt 1 ]; then
  echo "usage: $0 HOST:PORT [NODE_PATH] [--timeout SECONDS] [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]" >&2
  exit 2
fi

have_toolchain() {
  [ -x "$python" ] && [ -x "$protoc" ] && [ -x "$plugin" ] &&
    "$python" -c 'import grpc, google.protobuf' >/dev/null 2>&1
}

# apt-get quietly; its output is shown only when it fails.
apt_quiet() {
  local log
  log="$(mktemp)"
  if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 "$@" >"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  cat "$log" >&2
  rm -f "$log"
  return 1
}

install_toolchain() {
  if ! command -v apt-get >/dev/null; then
    echo "run-example: missing ${packages[*]} and there is no apt-get to install them" >&2
    exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "run-example: missing packages; as root run: apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
  echo "run-example: installing ${packages[*]}" >&2
  if ! apt_quiet install -y -q "${packages[@]}" 2>/dev/null; then
    # A fresh machine may have no package lists yet, or stale ones.
    apt_quiet update -q && apt_quiet install -y -q "${packages[@]}" || {
      echo "run-example: could not install ${packages[*]}" >&2
      exit 1
    }
  fi
  if ! have_toolchain; then
    echo "run-example: installed ${packages[*]} but $python still cannot import grpc" >&2
    exit 1
  fi
}

have_toolchain || install_toolchain

# The example uses the package users install: the wheel build_wheel.py makes from the proto, on
# every run so that it always matches. A pure-Python wheel is importable as it is (a zip file).
rm -rf "$build"
wheel="$(PATH="$(dirname "$protoc"):$PATH" "$python" "$here/build_wheel.py" "$build")"

# -s: no user site-packages, so a pip-installed protobuf of another version cannot shadow Debian's.
cd "$here"
unset PYTHONHOME
PYTHONPATH="$wheel" PYTHONDONTWRITEBYTECODE=1 exec "$python" -s example.py "$@"
