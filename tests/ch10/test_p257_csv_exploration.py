"""Chapter 10, page 257: exploring LUNA's CSV files from the shell with ``wc -l`` and ``head``.

The shell tools run for real (``subprocess``) where the machine has them, and the tests skip with
that reason where it does not. The synthetic tree's candidates.csv has 23 rows (9 of class 1); the
real one, the book says, has 551,065 rows plus the header, and 1,351 nodules (errata for page 258).
"""
from __future__ import annotations

import csv
import shutil
import subprocess

import pytest

WC_HEAD = "ch10.wc-and-head-show-the-csv-as-python-reads-it"
COUNTS = "ch10.candidates-csv-has-551065-rows-and-1351-nodules"


def shell(*args: str) -> str:
    if shutil.which(args[0]) is None:
        pytest.skip(f"`{args[0]}` is not on this machine's PATH")
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def python_rows(path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def nodule_lines(path) -> int:
    """The rows that end in ",1": class 1, a nodule."""
    with open(path) as f:
        return sum(line.rstrip("\r\n").endswith(",1") for line in f)


@pytest.mark.claim(WC_HEAD)
def test_wc_counts_the_header_and_every_row(luna_tree, evidence):
    """p.257: `wc -l candidates.csv` counts one line per candidate plus the header line."""
    for name in ("candidates.csv", "annotations.csv"):
        path = luna_tree.root / name
        wc_lines = int(shell("wc", "-l", str(path)).split()[0])
        rows = python_rows(path)
        evidence.record(**{name: {"wc_l": wc_lines, "python_rows": len(rows)}})
        assert wc_lines == len(rows), f"{name}: wc -l says {wc_lines}, Python's csv reads {len(rows)} rows"
    assert wc_lines - 1 == len(luna_tree.annotation_rows)


@pytest.mark.claim(WC_HEAD)
def test_head_shows_the_columns_then_the_first_rows(luna_tree, evidence):
    """p.257: `head` shows the header (seriesuid,coordX,coordY,coordZ,class) and the first rows,
    the same lines Python reads first."""
    path = luna_tree.root / "candidates.csv"
    head = shell("head", "-n", "4", str(path)).splitlines()
    rows = python_rows(path)[:4]
    evidence.record(head=head[:2])
    assert head[0] == "seriesuid,coordX,coordY,coordZ,class", f"header: {head[0]!r}"
    assert [line.split(",") for line in head] == rows, f"head {head} != Python's first rows {rows}"


@pytest.mark.claim(COUNTS)
def test_rows_ending_in_1_count_the_nodules(luna_tree, evidence):
    """p.257-258: the rows that end in ",1" are the nodules: `grep -c ',1$'` and Python agree with the
    candidates the synthetic tree flagged (the real file's figure is the test below)."""
    path = luna_tree.root / "candidates.csv"
    expected = sum(row[-1] == 1 for row in luna_tree.candidate_rows)
    grep_count = int(shell("grep", "-c", ",1$", str(path)))
    evidence.record(grep_nodules=grep_count, python_nodules=nodule_lines(path), planted=expected)
    assert grep_count == nodule_lines(path) == expected == 9, f"nodule rows: grep {grep_count}, expected {expected}"


@pytest.mark.claim(COUNTS)
def test_real_candidates_csv_has_the_books_counts(real_luna, evidence):
    """p.257-258: the real candidates.csv has 551,065 candidates plus the header; 1,351 are nodules."""
    path = real_luna / "candidates.csv"
    lines = len(python_rows(path))
    nodules = nodule_lines(path)
    evidence.record(lines=lines, nodules=nodules)
    assert lines == 551_065 + 1, f"expected 551,066 lines (with the header), read {lines}"
    assert nodules == 1_351, f"expected 1,351 rows ending in ',1', counted {nodules}"
    if shutil.which("wc"):
        assert int(shell("wc", "-l", str(path)).split()[0]) == lines
