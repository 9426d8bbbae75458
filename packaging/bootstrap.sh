#!/usr/bin/env bash
# Set up everything EvalSync needs, idempotently: Qt's system libraries (apt, when root),
# the .venv, and an editable install whose extras match MODE. Safe to run any number of times.
#
#   packaging/bootstrap.sh run|test|package
#
# The editable install is redone only when pyproject.toml (or the extras) change: a stamp file
# in .venv records the hash it was installed from.
set -euo pipefail

MODE="${1:-test}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"

APT_QT="libgl1 libegl1 libglib2.0-0 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core"
APT_TEST="gnome-keyring dbus"
APT_PACKAGE="binutils"

case "$MODE" in
  run)     EXTRAS="test";         APT_WANT="$APT_QT" ;;
  test)    EXTRAS="test";         APT_WANT="$APT_QT $APT_TEST" ;;
  package) EXTRAS="test,package"; APT_WANT="$APT_QT $APT_TEST $APT_PACKAGE" ;;
  *) echo "usage: $0 run|test|package" >&2; exit 2 ;;
esac

say() { printf 'bootstrap: %s\n' "$*"; }

missing_debs() {
  local pkg out=""
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || out="$out $pkg"
  done
  echo "${out# }"
}

ensure_system_packages() {
  command -v dpkg-query >/dev/null 2>&1 || { say "not a Debian/Ubuntu system; install Qt's runtime libraries yourself"; return 0; }
  local want="$APT_WANT"
  # Debian's own python needs python3-venv for `python3 -m venv`.
  if [ ! -x "$VENV/bin/python" ] && ! "$PYTHON" -c "import ensurepip" >/dev/null 2>&1; then
    want="$want python3-venv"
  fi
  local missing
  # shellcheck disable=SC2086
  missing="$(missing_debs $want)"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
      apt-get update -qq
      # shellcheck disable=SC2086
      apt-get install -y -qq --no-install-recommends $missing
    fi
  else
    say "missing system packages; run this once, then retry:"
    echo "    sudo apt-get install --no-install-recommends $missing"
    [ "$MODE" = "package" ] && case " $missing " in *" binutils "*) exit 1 ;; esac
  fi
}

ensure_venv() {
  # A venv left half-made (e.g. created before python3-venv was installed) has no pip: redo it.
  if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    say "$VENV has no pip; recreating it"
    rm -rf "$VENV"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
  fi
}

ensure_install() {
  local key stamp
  key="$( (cat pyproject.toml; echo "extras=$EXTRAS") | sha256sum | cut -d' ' -f1)"
  stamp="$VENV/.evalsync-install-$(echo "$EXTRAS" | tr ',' '-')"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
    return 0
  fi
  say "installing EvalSync and its [$EXTRAS] extras into .venv (pyproject.toml changed or first run)"
  # Build-backend chatter goes to a log; it is shown only when the install fails.
  if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]" >"$VENV/pip-install.log" 2>&1; then
    cat "$VENV/pip-install.log" >&2
    say "pip install failed (log above, also in .venv/pip-install.log)"
    exit 1
  fi
  echo "$key" > "$stamp"
}

ensure_system_packages
ensure_venv
ensure_install
say "ready ($MODE)"
