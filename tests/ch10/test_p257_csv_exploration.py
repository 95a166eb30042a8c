"""Chapter 10, page 257: exploring LUNA's CSV files from the shell with ``wc -l``, ``head`` and ``grep``.

The shell tools run for real (``subprocess``) where the machine has them, and the tests skip with that
reason where it does not. They are compared with what the book's code reads: ``list(csv.reader(f))[1:]``,
``read_rows`` in the rebuild. The synthetic tree's candidates.csv has 25 rows, 10 of class 1; the real one,
the book says, has 551,065 rows plus the header, and 1,351 nodules (errata for page 258).
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter

import pytest

from claims.book.luna.candidates import getCandidateInfoList, read_rows
from claims.book.luna.layout import ANNOTATION_COLUMNS, CANDIDATE_COLUMNS

WC_HEAD = "ch10.wc-and-head-show-the-csv-as-python-reads-it"
NODULE_ROWS = "ch10.rows-ending-in-1-are-the-nodules"
COUNTS = "ch10.candidates-csv-has-551065-rows-and-1351-nodules"


def shell(*args: str) -> str:
    if shutil.which(args[0]) is None:
        pytest.skip(f"`{args[0]}` is not on this machine's PATH")
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True).stdout


def lines_ending_in_1(path) -> int:
    """The lines that end in ",1" right before their newline, what `grep ',1$'` matches, counted in Python. Read as
    bytes and split at newlines only, as grep does: a CRLF line ends in ",1" and a carriage return, which `$` does
    not match."""
    with open(path, "rb") as f:
        return sum(line.rstrip(b"\n").endswith(b",1") for line in f)


def grep_c(path) -> int:
    """`grep -c ',1$'` where the machine has grep, else the same count in Python."""
    return int(shell("grep", "-c", ",1$", str(path))) if shutil.which("grep") else lines_ending_in_1(path)


def wc_l(path) -> int:
    """`wc -l` where the machine has wc, else its count in Python: the newlines."""
    if shutil.which("wc"):
        return int(shell("wc", "-l", str(path)).split()[0])
    with open(path, "rb") as f:
        return sum(line.endswith(b"\n") for line in f)


@pytest.mark.claim(WC_HEAD)
def test_wc_counts_the_header_and_every_row(luna_tree, evidence):
    """p.257: `wc -l candidates.csv` counts one line per row the book's code reads, plus the header line."""
    for name, columns, written in (
        ("candidates.csv", CANDIDATE_COLUMNS, luna_tree.candidate_rows),
        ("annotations.csv", ANNOTATION_COLUMNS, luna_tree.annotation_rows),
    ):
        path = luna_tree.root / name
        wc_lines = int(shell("wc", "-l", str(path)).split()[0])
        rows_read = len(read_rows(path, columns))
        evidence.record(**{name: {"wc_l": wc_lines, "rows_read": rows_read, "rows_written": len(written)}})
        assert wc_lines == 1 + len(written), f"{name}: wc -l says {wc_lines} for a header and {len(written)} rows"
        assert rows_read == wc_lines - 1, f"{name}: wc -l says {wc_lines} lines, the book's code reads {rows_read} rows"


@pytest.mark.claim(WC_HEAD)
def test_head_shows_the_columns_then_the_first_rows(luna_tree, evidence):
    """p.257: `head` shows each CSV's header (candidates.csv: seriesuid,coordX,coordY,coordZ,class;
    annotations.csv: seriesuid,coordX,coordY,coordZ,diameter_mm), then its first rows, field for field the rows
    the book's code reads first."""
    for name, columns, header in (
        ("candidates.csv", CANDIDATE_COLUMNS, "seriesuid,coordX,coordY,coordZ,class"),
        ("annotations.csv", ANNOTATION_COLUMNS, "seriesuid,coordX,coordY,coordZ,diameter_mm"),
    ):
        path = luna_tree.root / name
        head = shell("head", "-n", "4", str(path)).splitlines()
        first_rows = read_rows(path, columns)[:3]
        evidence.record(**{name: head[:2]})
        assert head[0] == header, f"{name}'s header: {head[0]!r}"
        assert len(head) == 4 and [line.split(",") for line in head[1:]] == first_rows, (
            f"{name}: head {head[1:]} != rows read {first_rows}"
        )


@pytest.mark.claim(NODULE_ROWS)
def test_rows_ending_in_1_are_the_nodules(luna_tree, evidence):
    """p.257-258: `grep ',1$'` matches the lines ending in ",1", and they are the candidates the book's code reads
    as nodules: the same 10 rows (series and centre), not only as many."""
    path = luna_tree.root / "candidates.csv"
    grepped = shell("grep", ",1$", str(path)).splitlines()
    by_grep = Counter(
        (uid, (float(x), float(y), float(z))) for uid, x, y, z, _ in (line.split(",") for line in grepped)
    )
    every_row = getCandidateInfoList(str(luna_tree.root), requireOnDisk_bool=False)
    read_as_nodules = Counter((c.series_uid, c.center_xyz) for c in every_row if c.isNodule_bool)
    written = sum(row[-1] == 1 for row in luna_tree.candidate_rows)
    evidence.record(grep_lines=len(grepped), read_as_nodules=sum(read_as_nodules.values()), rows_of_class_1=written)
    assert len(grepped) == lines_ending_in_1(path) == written == 10, f"grep ',1$': {len(grepped)}, class 1: {written}"
    assert by_grep == read_as_nodules, (
        f"{sum((by_grep - read_as_nodules).values())} of grep's rows not read as nodules, the first: "
        f"{sorted(by_grep - read_as_nodules)[:1]}; read as nodules instead: {sorted(read_as_nodules - by_grep)[:1]}"
    )


@pytest.mark.claim(COUNTS)
def test_real_candidates_csv_has_the_books_counts(real_luna, evidence):
    """p.257-258: the real candidates.csv has 551,065 candidates plus the header (`wc -l`: 551066) and 1,351
    lines end in ",1" (`grep ',1$'`; where the machine lacks wc or grep, the same counts in Python); the book's
    code, keeping every row, reads 551,065 candidates, 1,351 of them nodules."""
    path = real_luna / "candidates.csv"
    lines, nodule_lines = wc_l(path), grep_c(path)
    every_row = getCandidateInfoList(str(real_luna), requireOnDisk_bool=False)
    nodules_read = sum(c.isNodule_bool for c in every_row)
    evidence.record(lines=lines, lines_ending_in_1=nodule_lines, rows_read=len(every_row), nodules_read=nodules_read)
    assert lines == 551_065 + 1, f"expected 551,066 lines (with the header), counted {lines}"
    assert nodule_lines == 1_351, f"expected 1,351 lines ending in ',1', counted {nodule_lines}"
    assert len(every_row) == 551_065 and nodules_read == 1_351, (
        f"the book's code read {len(every_row)} rows, {nodules_read} of them nodules"
    )
