#!/usr/bin/env bash
# Run the whole test suite headless. When GNOME Keyring and dbus are installed, the run happens
# inside a private D-Bus session with an unlocked, throwaway keyring, so the Secret Service
# tests run against the real thing; otherwise they skip. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
PY="$ROOT/.venv/bin/python"

# The import-linter contracts are a test (tests/test_import_contracts.py), so they run below.

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-run-session >/dev/null 2>&1 \
   && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  KR="$(mktemp -d)"
  mkdir -p -m 700 "$KR/run" "$KR/data"
  export XDG_RUNTIME_DIR="$KR/run" XDG_DATA_HOME="$KR/data"
  # dbus-daemon may print a harmless "Failed to set fd limit" notice first.
  set +e
  dbus-run-session -- sh -c \
    'echo -n evalsync-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$0" -m pytest -q "$@"' \
    "$PY" "$@"
  rc=$?
  rm -rf "$KR"
  exit $rc
fi
exec "$PY" -m pytest -q "$@"
