"""Guards against known-bad Qt binding releases (they crash the app, not just a test)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from PySide6.QtCore import QCoreApplication, QObject, Signal
class Emitter(QObject):
    changed = Signal(bool)
app = QCoreApplication([])
e = Emitter(); seen = []
e.changed.connect(seen.append)
for _ in range(50000):
    e.changed.emit(True); e.changed.emit(False)
print(len(seen))
"""


def test_bool_signals_do_not_corrupt_refcounts():
    """PySide6 6.12.0 drops a reference to True/False per Signal(bool) emission and aborts."""
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "100000"
