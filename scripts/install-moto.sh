#!/usr/bin/env bash
# Installs moto (server mode) from PyPI into a venv in a cache directory outside the repo, once, and prints the
# path of its moto_server binary as the last line. Reuses the venv afterwards while it still works.
#
# moto emulates the ELB, ELBv2 and EC2 APIs the AWS provider calls (../shared/reference/aws.md section 6).
# Only pip downloads anything: `moto[server]` from PyPI, pinned.
#
# Env:
#   MOTO_SERVER       path of an existing moto_server binary: used as is, nothing is installed
#   LB_OPERATOR_CACHE cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator)
#   MOTO_VERSION      version to install (default 5.2.5)
#   PYTHON            interpreter that creates the venv (default python3; Debian needs the python3-venv package)
set -euo pipefail

MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
PYTHON="${PYTHON:-python3}"

log() { echo "install-moto: $*" >&2; }

if [ -n "${MOTO_SERVER:-}" ]; then
  if [ -x "$MOTO_SERVER" ]; then
    echo "$MOTO_SERVER"
    exit 0
  fi
  log "MOTO_SERVER=$MOTO_SERVER is not an executable file"
  exit 1
fi

cache="${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}"
venv="$cache/moto-$MOTO_VERSION/venv"
bin="$venv/bin/moto_server"

# "Working" = the venv's interpreter still runs (a system Python upgrade breaks venvs) and imports the pinned
# moto with its server dependencies.
works() {
  [ -x "$bin" ] && "$venv/bin/python" - "$MOTO_VERSION" >/dev/null 2>&1 <<'PY'
import sys
import moto, flask, werkzeug  # noqa: F401  (the server mode needs flask and werkzeug)
sys.exit(0 if moto.__version__ == sys.argv[1] else 1)
PY
}

if works; then
  echo "$bin"
  exit 0
fi

command -v "$PYTHON" >/dev/null || { log "$PYTHON is required to install moto"; exit 1; }
# Debian's python3 has the venv module but not ensurepip, without which `python3 -m venv` fails.
"$PYTHON" -m venv --help >/dev/null 2>&1 && "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1 ||
  { log "$PYTHON cannot create venvs (Debian: apt-get install python3-venv)"; exit 1; }

log "installing moto[server]==$MOTO_VERSION into $venv (first run only)"
# A broken or partial venv (an interrupted install fails works()) is rebuilt from scratch rather than patched.
# It is built in place: a venv's entry points carry its absolute path in their shebangs.
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "moto[server]==$MOTO_VERSION" >&2
works || { log "moto $MOTO_VERSION installed into $venv but does not import"; exit 1; }
echo "$bin"
