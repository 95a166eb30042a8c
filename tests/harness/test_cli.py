"""`python -m claims summary`: the table, the exit code, and clear errors for bad ledgers."""
import json
import subprocess
import sys

import pytest

from claims.cli import main


def write_ledger(tmp_path, verdicts: dict[str, dict[str, str]]):
    claims = []
    for n, (cid, results) in enumerate(verdicts.items()):
        claims.append({"id": cid, "chapter": int(cid[2:4]), "page": 100 + n, "statement": "s",
                       "amended": None, "refuted": None,
                       "results": {d: {"verdict": v} for d, v in results.items()}})
    doc = {"schema": 1, "created": "2026-01-01T00:00:00+00:00",
           "environment": {"torch": "2.14.1", "platform": "Linux", "gpu": None},
           "claims": claims, "summary": {}}
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(doc))
    return path


def test_summary_prints_an_aligned_table_per_chapter_and_device(tmp_path, capsys):
    path = write_ledger(tmp_path, {
        "ch05.a": {"cpu": "holds", "cuda": "skipped"},
        "ch05.b": {"cpu": "amended", "cuda": "skipped"},
        "ch07.c": {"cpu": "refuted", "cuda": "holds"},
        "ch08.d": {},
    })
    assert main(["summary", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[1].split()
    assert header == ["chapter", "device", "claims", "holds", "amended", "refuted", "fails", "skipped", "untested"]
    assert lines[3].split() == ["ch05", "cpu", "2", "1", "1", "0", "0", "0", "0"]
    assert lines[4].split() == ["cuda", "2", "0", "0", "0", "0", "2"]
    assert lines[5].split() == ["ch07", "cpu", "1", "0", "0", "1", "0", "0", "0"]
    assert lines[7].split() == ["ch08", "cpu", "1", "0", "0", "0", "0", "0", "1"]
    widths = {len(line) for line in lines[1:3]}
    assert len(widths) == 1, "header and rule have the same width"


def test_summary_exits_1_and_names_failing_claims(tmp_path, capsys):
    path = write_ledger(tmp_path, {"ch05.a": {"cpu": "holds"}, "ch07.broken": {"cpu": "fails"}})
    assert main(["summary", str(path), "--claims"]) == 1
    out = capsys.readouterr().out
    assert "1 claim(s) fail: ch07.broken" in out
    assert "ch07.broken" in out.split("claim ")[1]


def test_missing_ledger_is_one_clear_error(tmp_path, capsys):
    assert main(["summary", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: {tmp_path / 'nope.json'}: no such ledger file (a pytest run writes one; see --ledger)"


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not a JSON file"),
    ('{"schema": 1}', "not a valid ledger: 'created' is missing"),
    ('{"schema": 2, "created": "", "environment": {}, "claims": [], "summary": {}}', "schema is 2"),
    ('{"schema": 1, "created": "", "environment": {}, "claims": [{"id": "x", "chapter": 5, "page": 1, '
     '"statement": "s", "results": {"cpu": {"verdict": "great"}}}], "summary": {}}', "results.cpu has no valid verdict"),
])
def test_malformed_ledger_is_one_clear_error(tmp_path, capsys, content, problem):
    path = tmp_path / "ledger.json"
    path.write_text(content)
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and problem in err
    assert len(err.strip().splitlines()) == 1


def test_module_entry_point_runs(tmp_path):
    path = write_ledger(tmp_path, {"ch05.a": {"cpu": "holds"}})
    done = subprocess.run([sys.executable, "-m", "claims", "summary", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ch05" in done.stdout
