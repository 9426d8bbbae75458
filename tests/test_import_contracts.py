"""The import-linter contracts (pyproject.toml: core and sim import no Qt, layers app > gui > core)
run as a test, so every route to the tests checks them: `make test`, `python -m pytest`, an IDE."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(monkeypatch, capsys):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(REPO)  # import-linter resolves the root package from the working folder
    monkeypatch.syspath_prepend(str(REPO))
    code = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "Contracts: 3 kept, 0 broken." in report, report
