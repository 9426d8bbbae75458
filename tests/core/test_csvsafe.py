"""csvsafe: formula neutralising on export, bounded and sniffed reading on import."""

from __future__ import annotations

import csv

import pytest

from evalsync_gui.core.csvsafe import read_csv_limited, safe_cell, write_csv
from evalsync_gui.core.errors import UsageError


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"])
def test_formula_starts_become_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value,expected", [(None, ""), (12, "12"), ("Ann", "Ann"), ("a=b", "a=b")])
def test_plain_values_pass(value, expected):
    assert safe_cell(value) == expected


def test_write_then_read_round_trip(tmp_path):
    path = tmp_path / "out.csv"
    assert write_csv(path, ["Name", "E-mail"], [["Ann", "ann@x.org"], ["=HYPERLINK()", "b@x.org"]]) == 2
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[2][0] == "'=HYPERLINK()"
    assert read_csv_limited(path)[0] == {"name": "Ann", "e-mail": "ann@x.org"}
    assert not (tmp_path / "out.csv.part").exists()


def test_semicolon_dialect_is_sniffed(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name;email;identifier\nAnn;ann@x.org;A1\nBob;bob@x.org;B2\n", encoding="utf-8")
    assert read_csv_limited(path)[1] == {"name": "Bob", "email": "bob@x.org", "identifier": "B2"}


def test_oversized_file_refused(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("name\n" + "x\n" * 100, encoding="utf-8")
    with pytest.raises(UsageError, match="limit"):
        read_csv_limited(path, max_bytes=50)


def test_too_many_rows_refused(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("name\n" + "x\n" * 11, encoding="utf-8")
    with pytest.raises(UsageError, match="more than 10 rows"):
        read_csv_limited(path, max_rows=10)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(UsageError, match="Cannot read"):
        read_csv_limited(tmp_path / "nope.csv")
    bad = tmp_path / "latin.csv"
    bad.write_bytes("name\nJos\xe9\n".encode("latin-1"))
    with pytest.raises(UsageError, match="UTF-8"):
        read_csv_limited(bad)
