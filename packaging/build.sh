#!/usr/bin/env bash
# Build dist/EvalSync (PyInstaller one-folder), report its size, and run the frozen --self-test.
# Called by `make package` after packaging/bootstrap.sh package.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

rm -rf build/pyinstaller dist/EvalSync
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/evalsync.spec

if [ ! -x dist/EvalSync/EvalSync ] && [ ! -d dist/EvalSync.app ]; then
  echo "package: dist/EvalSync/EvalSync was not built" >&2
  exit 1
fi
echo "package: dist/EvalSync is $(du -sh dist/EvalSync | cut -f1) in $(find dist/EvalSync | wc -l) files"

# The self-test needs a keyring backend. Headless Linux has none unless a D-Bus session with an
# unlocked GNOME Keyring is running, so make a throwaway one when the tools are installed.
export QT_QPA_PLATFORM=offscreen
if [ "$(uname)" = Linux ] && [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] \
   && command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  KR="$(mktemp -d)"
  mkdir -p -m 700 "$KR/run" "$KR/data"
  set +e
  XDG_RUNTIME_DIR="$KR/run" XDG_DATA_HOME="$KR/data" dbus-run-session -- sh -c \
    'echo -n evalsync-selftest | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec dist/EvalSync/EvalSync --self-test'
  rc=$?
  set -e
  rm -rf "$KR"
else
  set +e
  dist/EvalSync/EvalSync --self-test
  rc=$?
  set -e
fi
[ "$rc" = 0 ] || { echo "package: the frozen self-test failed (exit $rc)" >&2; exit "$rc"; }
echo "package: dist/EvalSync --self-test passed"
