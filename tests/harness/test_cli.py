"""`python -m claims summary|diff|matrix`: the tables, the exit codes, and clear errors for bad ledgers."""

import copy
import json
import subprocess
import sys

import pytest

from claims.cli import main
from claims.cli.summary import summary_rows
from claims.ledger import summarize


def make_ledger(verdicts: dict, torch: str = "2.14.1", **run) -> dict:
    """A ledger document with ``{claim id: {device: verdict or result dict}}``."""
    claims = []
    for n, (cid, results) in enumerate(verdicts.items()):
        entries = {d: (dict(v) if isinstance(v, dict) else {"verdict": v, "tests": 1}) for d, v in results.items()}
        claims.append(
            {
                "id": cid,
                "chapter": int(cid[2:4]),
                "page": 100 + n,
                "statement": "s",
                "amended": None,
                "refuted": None,
                "results": entries,
            }
        )
    return {
        "schema": 1,
        "created": "2026-01-01T00:00:00+00:00",
        "environment": {"torch": torch, "platform": "Linux", "gpu": None},
        "run": {"scope": "complete", "executed": True, **run},
        "claims": claims,
        "summary": summarize(claims),
    }


def write(tmp_path, document, name="ledger.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def write_ledger(tmp_path, verdicts, **kw):
    return write(tmp_path, make_ledger(verdicts, **kw))


def test_summary_prints_an_aligned_table_per_chapter_and_device(tmp_path, capsys):
    path = write_ledger(
        tmp_path,
        {
            "ch05.a": {"cpu": "holds", "cuda": "skipped"},
            "ch05.b": {"cpu": "amended", "cuda": "skipped"},
            "ch05.host-only": {"cpu": "holds"},
            "ch07.c": {"cpu": "refuted", "cuda": "holds"},
            "ch08.d": {},
        },
    )
    assert main(["summary", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == [
        "chapter",
        "device",
        "claims",
        "holds",
        "amended",
        "refuted",
        "fails",
        "skipped",
        "not-run",
        "none",
        "partial",
        "untested",
        "uncheckable",
    ]
    assert lines[3].split() == ["ch05", "cpu", "3", "2", "1", "0", "0", "0", "0", "0", "0", "0", "0"]
    assert lines[4].split() == ["cuda", "3", "0", "0", "0", "0", "2", "0", "1", "0"], "host-only: none on cuda"
    assert lines[5].split() == ["ch07", "cpu", "1", "0", "0", "1", "0", "0", "0", "0", "0", "0", "0"]
    assert lines[7].split() == ["ch08", "cpu", "1", "0", "0", "0", "0", "0", "0", "0", "0", "1", "0"]
    assert lines[9].split() == ["all", "cpu", "5", "2", "1", "1", "0", "0", "0", "0", "0", "1", "0"]
    assert len({len(line) for line in lines[1:3]}) == 1, "header and rule have the same width"
    assert lines[11].startswith("none: claims with no result on that device"), "the table says what none is"


def test_the_table_adds_up_to_the_ledgers_own_summary():
    document = make_ledger(
        {
            "ch05.a": {"cpu": "holds", "cuda": "skipped"},
            "ch05.b": {"cpu": "holds"},
            "ch06.c": {"cpu": "fails", "cuda": "fails"},
            "ch06.d": {},
        }
    )
    rows = summary_rows(document)
    header, totals = rows[0], rows[-2:]  # the "all" rows: cpu, then cuda
    added = {
        v: sum(int(row[header.index(v)] or 0) for row in totals) for v in ("holds", "fails", "skipped", "untested")
    }
    assert added == {v: document["summary"][v] for v in added}


def test_claims_lists_partial_results_with_their_reasons(tmp_path, capsys):
    partial = {
        "verdict": "holds",
        "tests": 3,
        "passed": 2,
        "skipped": 1,
        "partial": True,
        "skip_reasons": {"needs --cifar10-root DIR": 1},
    }
    path = write_ledger(
        tmp_path,
        {"ch07.a": {"cpu": partial, "cuda": {"verdict": "skipped", "tests": 3, "reason": "CUDA is not available"}}},
    )
    assert main(["summary", str(path), "--claims"]) == 0
    out = capsys.readouterr().out
    assert "ch07.a   100  holds (2/3)  skipped" in out
    assert "partial: ch07.a on cpu: 2 of 3 tests ran (1 needs --cifar10-root DIR)" in out
    assert "skipped on cuda (CUDA is not available): 1 claim: ch07.a" in out


def test_summary_exits_1_and_names_failing_claims(tmp_path, capsys):
    path = write_ledger(tmp_path, {"ch05.a": {"cpu": "holds"}, "ch07.broken": {"cpu": "fails"}})
    assert main(["summary", str(path), "--claims"]) == 1
    out = capsys.readouterr().out
    assert "1 claim(s) fail: ch07.broken" in out


def test_a_ledger_of_a_run_that_checked_nothing_is_never_green(tmp_path, capsys):
    path = write_ledger(tmp_path, {"ch05.a": {}}, executed=False, problem="3 errors during collection")
    assert main(["summary", str(path)]) == 1
    assert "this run checked nothing: 3 errors during collection" in capsys.readouterr().out


def test_missing_ledger_or_a_directory_is_one_clear_error(tmp_path, capsys):
    assert main(["summary", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip() == f"error: {tmp_path / 'nope.json'}: no such ledger file (a pytest run writes one; see --ledger)"
    )
    assert main(["summary", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path}: is a directory, not a ledger file"


@pytest.mark.parametrize(
    "content, problem",
    [
        ("", "is empty"),
        ("{not json", "not a JSON file"),
        ('{"schema": 1}', "not a valid ledger: 'created' is missing"),
        ('{"schema": 2, "created": "", "environment": {}, "claims": [], "summary": {}}', "schema is 2"),
        ('{"schema": 1, "created": "", "environment": {}, "claims": {}, "summary": {}}', "'claims' must be a list"),
        (
            '{"schema": 1, "created": "", "environment": {}, "claims": [{"id": "x", "chapter": "5", "page": 1, '
            '"statement": "s", "results": {}}], "summary": {}}',
            "claims[0].chapter must be an integer",
        ),
        (
            '{"schema": 1, "created": "", "environment": {}, "claims": [{"id": "x", "chapter": 5, "page": 1, '
            '"statement": "s", "results": {"cpu": {"verdict": "great"}}}], "summary": {}}',
            "results.cpu has no valid verdict",
        ),
        (
            '{"schema": 1, "created": "", "environment": {}, "claims": [], "summary": {"holds": "3"}}',
            "summary.holds must be a count",
        ),
    ],
)
def test_malformed_ledger_is_one_clear_error_with_exit_2(tmp_path, capsys, content, problem):
    path = tmp_path / "ledger.json"
    path.write_text(content)
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and problem in err
    assert len(err.strip().splitlines()) == 1


def test_summary_into_a_closed_pipe_prints_no_traceback(tmp_path):
    path = write_ledger(tmp_path, {f"ch05.claim-{n}": {"cpu": "holds"} for n in range(3000)})
    done = subprocess.run(
        f"{sys.executable} -m claims summary --claims {path} | head -1", shell=True, capture_output=True, text=True
    )
    assert done.stdout.startswith("ledger ")
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


def test_module_entry_point_runs(tmp_path):
    path = write_ledger(tmp_path, {"ch05.a": {"cpu": "holds"}})
    done = subprocess.run([sys.executable, "-m", "claims", "summary", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ch05" in done.stdout


# -- diff ----------------------------------------------------------------------------------------------


def test_diff_lists_verdict_changes_first_then_evidence_that_moved(tmp_path, capsys):
    before = make_ledger(
        {
            "ch05.a": {"cpu": {"verdict": "holds", "evidence": {"t": {"loss": 2.9276, "n": 5}}}},
            "ch05.b": {"cpu": "holds"},
            "ch05.c": {"cpu": "holds"},
        },
        torch="1.13.1",
    )
    after = copy.deepcopy(before)
    after["environment"]["torch"] = "2.0.1"
    after["claims"][0]["results"]["cpu"]["evidence"]["t"].update(loss=3.5)  # moved 20%
    after["claims"][1]["results"]["cpu"]["verdict"] = "amended"
    a, b = write(tmp_path, before, "a.json"), write(tmp_path, after, "b.json")
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2:] == [
        "verdicts that changed:",
        "  ch05.b on cpu: holds -> amended",
        "evidence that moved by more than rtol=0.01:",
        "  ch05.a on cpu: t.loss: 2.9276 -> 3.5",
    ]
    assert main(["diff", str(a), str(b), "--rtol", "0.5"]) == 0
    assert "evidence that moved" not in capsys.readouterr().out


def test_diff_exits_1_when_a_claim_that_held_now_fails(tmp_path, capsys):
    a = write(tmp_path, make_ledger({"ch05.a": {"cpu": "holds"}, "ch05.b": {"cpu": "fails"}}), "a.json")
    b = write(tmp_path, make_ledger({"ch05.a": {"cpu": "fails"}, "ch05.b": {"cpu": "holds"}}), "b.json")
    assert main(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert out.index("claims that held in A and fail in B:\n  ch05.a on cpu: holds -> fails") < out.index("ch05.b")


def test_diff_of_a_ledger_that_checked_nothing_fails(tmp_path, capsys):
    a = write(tmp_path, make_ledger({"ch05.a": {"cpu": "holds"}}), "a.json")
    b = write(tmp_path, make_ledger({"ch05.a": {}}, executed=False, problem="interrupted"), "b.json")
    assert main(["diff", str(a), str(b)]) == 1
    assert "B checked nothing: interrupted" in capsys.readouterr().out


# -- matrix --------------------------------------------------------------------------------------------


def test_matrix_shows_only_the_rows_that_differ_and_the_totals(tmp_path, capsys):
    old = make_ledger(
        {"ch05.zero-grad": {"cpu": "holds", "cuda": "skipped"}, "ch05.same": {"cpu": "holds", "cuda": "skipped"}},
        torch="1.13.1",
    )
    new = make_ledger({"ch05.zero-grad": {"cpu": "amended"}, "ch05.same": {"cpu": "holds"}}, torch="2.0.1")
    paths = [str(write(tmp_path, old, "old.json")), str(write(tmp_path, new, "new.json"))]
    assert main(["matrix", *paths]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 claims differ between the columns:" in out
    rows = [line.split() for line in out.splitlines()]
    assert ["ch05.zero-grad", "holds", "amended"] in rows
    assert not any(row[:1] == ["ch05.same"] for row in rows)
    assert "torch 1.13.1 cuda: every claim skipped" in out, "a device that ran nothing is left out, and said so"
    assert main(["matrix", *paths, "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| claim | torch 1.13.1 cpu | torch 2.0.1 cpu |" in md
    assert "| `ch05.zero-grad` | holds | amended |" in md


def test_matrix_marks_a_ledger_that_checked_nothing_and_fails(tmp_path, capsys):
    good = write(tmp_path, make_ledger({"ch05.a": {"cpu": "holds"}}), "good.json")
    empty = write(
        tmp_path,
        make_ledger({"ch05.a": {}}, torch="1.7.1", executed=False, problem="38 errors during collection"),
        "empty.json",
    )
    assert main(["matrix", str(good), str(empty)]) == 1
    assert "torch 1.7.1 - [checked nothing]" in capsys.readouterr().out


def test_matrix_counts_uncheckable_claims_apart_and_names_ledgers_of_one_release(tmp_path, capsys):
    """Two ledgers of the same torch (``nox -s matrix`` and ``nox -s lowest``) are told apart by file name;
    a claim no experiment can check is ``uncheckable`` in the totals, not ``untested``."""
    doc = make_ledger({"ch05.a": {"cpu": "holds"}, "ch06.history": {}, "ch08.nobody": {}}, torch="1.4.0")
    doc["claims"][1]["uncheckable"] = "history, not a behaviour"
    lowest = copy.deepcopy(doc)
    lowest["claims"][0]["results"]["cpu"]["verdict"] = "fails"
    paths = [str(write(tmp_path, doc, "1.4.0.json")), str(write(tmp_path, lowest, "lowest.json"))]
    assert main(["matrix", *paths]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["ch05.a", "holds", "fails"] in rows
    header = next(row for row in rows if row[:1] == ["claim"])
    assert header == ["claim", "torch", "1.4.0", "cpu", f"({paths[0]})", "torch", "1.4.0", "cpu", f"({paths[1]})"]
    assert ["untested", "1", "1"] in rows and ["uncheckable", "1", "1"] in rows


def test_matrix_doc_marks_where_each_amendment_flips(tmp_path):
    from claims.cli import matrix_doc

    docs = []
    for torch, verdict in (("1.13.1", "holds"), ("2.0.1", "amended"), ("2.1.0", "holds")):
        doc = make_ledger({"ch05.zero-grad": {"cpu": verdict}}, torch=torch)
        doc["claims"][0]["amended"] = {"since": "2.0", "now": "sets None"}
        if torch == "1.13.1":
            doc["claims"][0]["results"]["cpu"].update(partial=True, skip_reasons={"no set_to_none before 1.7": 1})
        docs.append(write(tmp_path, doc, f"{torch}.json"))
    page = matrix_doc.render(docs)
    flips = next(line for line in page.splitlines() if line.startswith("| `ch05.zero-grad` | 2.0 |"))
    assert flips == "| `ch05.zero-grad` | 2.0 | holds | amended | **holds** (expected amended) |"
    assert "- `ch05.zero-grad` on 1.13.1: no set_to_none before 1.7" in page.splitlines()
