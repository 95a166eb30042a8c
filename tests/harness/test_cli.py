"""`python -m claims summary|diff|matrix`: the tables, the exit codes, and clear errors for bad ledgers."""

import ast
import copy
import json
import subprocess
import sys

import pytest

from claims.cli import main
from claims.cli.summary import summary_rows
from claims.ledger import MEANINGS, VERDICTS, summarize
from tests.harness.report_helpers import MATRIX


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
    out = capsys.readouterr().out.splitlines()
    lines = out[[n for n, line in enumerate(out) if line.startswith("chapter")][0] - 1 :]  # after the ledger's lines
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
    assert len({len(line) for line in lines[1:3]}) == 1 and len(lines[1]) <= 100, "fits 100 columns"
    legend = lines[lines.index("") + 1 :]
    assert legend[0] == f"holds        {MEANINGS['holds']}", "each verdict counted, in the words README uses"
    none = "none         no result on that device: its tests take no device and run once, under cpu"
    assert none in legend and "fails" not in " ".join(line.split()[0] for line in legend), "only what is counted"


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
    assert "ch07.a  100 holds (2/3) skipped" in out
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
        (
            '{"schema": 2, "created": "", "environment": {}, "claims": [], "summary": {}}',
            "written with ledger schema 2, newer than the schema 1 this tool reads (update the suite)",
        ),
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


def test_summary_keeps_a_long_ledger_path_on_its_first_line(tmp_path, capsys):
    """A ledger under a deep temporary directory (nox's, CI's): the path alone passes 100 columns."""
    deep = tmp_path.joinpath(*["a-long-directory-name"] * 6)
    deep.mkdir(parents=True)
    path = write_ledger(deep, {"ch05.a": {"cpu": "holds"}})
    assert main(["summary", str(path)]) == 0
    first, second = capsys.readouterr().out.splitlines()[:2]
    assert first == f"ledger {path}:" and second.startswith("  torch "), (first, second)


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
        "evidence that moved by more than rtol 0.01 + atol 1e-06:",
        "  ch05.a on cpu",
        "    t",
        "      loss: 2.928 -> 3.5 (+20%)",
    ]
    assert main(["diff", str(b), str(a)]) == 0, "given newer first, still compared older first"
    swapped = capsys.readouterr().out.splitlines()
    assert swapped[2] == "(older release first: A is the second file given)" and swapped[3:] == out[2:]
    assert main(["diff", str(a), str(b), "--rtol", "0.5"]) == 0
    assert "no evidence moved by more than rtol 0.5 + atol 1e-06" in capsys.readouterr().out


def test_diff_summarizes_sequences_leaves_timings_out_and_says_when_no_verdict_changed(tmp_path, capsys):
    evidence = {
        "test_shuffle": {"order": [3, 1, 2, 0], "noise": [1e-12, -2e-12]},
        "test_rates": {"x": [1.0, 2.0, 3.0], "y": [10.0, 20.0, 30.0]},
        "test_cached_request_is_faster": {"first_cpu_ms": [11.8, 13.6], "median_speedup": 4.98},
    }
    before = make_ledger({"ch05.a": {"cpu": {"verdict": "holds", "evidence": evidence}}})
    after = copy.deepcopy(before)
    moved = after["claims"][0]["results"]["cpu"]["evidence"]
    moved["test_shuffle"] = {"order": [0, 2, 1, 3], "noise": [1.8e-12, 1e-12]}
    moved["test_rates"]["y"] = [10.0, 25.0, 31.0]
    moved["test_cached_request_is_faster"] = {"first_cpu_ms": [10.9, 10.8], "median_speedup": 5.29}
    a, b = write(tmp_path, before, "a.json"), write(tmp_path, after, "b.json")
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()[2:]
    assert out == [
        "no verdict changed",
        "evidence that moved by more than rtol 0.01 + atol 1e-06:",
        "  ch05.a on cpu",
        "    test_rates",
        "      y: 2 of 3 values moved, the most at [1]: 20 -> 25",
        "    test_shuffle",
        "      order: the same 4 values in another order",
        "timings not compared: 2 quantities (--timings compares them)",
    ]
    assert main(["diff", str(a), str(b), "--atol", "0"]) == 0
    assert "      noise: 2 of 2 values moved, the most at [1]: -2e-12 -> 1e-12" in capsys.readouterr().out
    assert main(["diff", str(a), str(b), "--timings"]) == 0
    timed = capsys.readouterr().out
    assert "      median_speedup: 4.98 -> 5.29 (+6%)" in timed and "timings not compared" not in timed


@pytest.mark.parametrize("option", ["--rtol", "--atol"])
def test_diff_refuses_a_negative_tolerance(tmp_path, capsys, option):
    a = write(tmp_path, make_ledger({"ch05.a": {"cpu": "holds"}}), "a.json")
    with pytest.raises(SystemExit) as stop:
        main(["diff", str(a), str(a), option, "-0.5"])
    assert stop.value.code == 2
    assert f"argument {option}: -0.5 is negative: give 0 or more" in capsys.readouterr().err


def test_diff_of_two_releases_of_the_matrix_is_signal_within_120_columns(capsys):
    """docs/matrix: 1.4.0 against 2.14.1 printed 2 verdict lines and over 70 evidence lines before: one
    shuffled permutation, float32 rounding, timings."""
    assert main(["diff", str(MATRIX / "2.14.1.json"), str(MATRIX / "1.4.0.json")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"A: {MATRIX / '1.4.0.json'} (torch 1.4.0")
    assert out[3:9] == [
        "verdicts that changed:",
        "  ch05.optimizer-zero-grad-zeros-its-parameters-grads on cpu: holds -> amended",
        "  ch06.conv2d-needs-a-batch-dimension-for-one-image on cpu: holds -> amended",
        "  ch07.torchvision-datasets-are-datasets-of-image-label-pairs on cpu: holds -> amended",
        "  ch07.download-true-fetches-only-a-missing-or-corrupt-copy on cpu: holds -> amended",
        "  ch07.float32-mean-of-a-cifar10-channel-drifts-in-the-fourth-decimal on cpu: holds -> amended",
    ]
    quantities = [line for line in out if line.startswith("      ")]
    assert len(quantities) <= 30 and max(len(line) for line in out) <= 120, "\n".join(out)
    assert not any("printed_today" in line for line in out), "the book's digits within rtol are no change"
    assert "      printed: tensor([0.4468]) -> tensor([0.4466])" in out, "the digit the matrix shows moving"
    assert "      first_epoch_order: the same 20 values in another order" in out
    assert not any("cpu_ms" in line for line in out)
    assert main(["diff", str(MATRIX / "1.4.0.json"), str(MATRIX / "lowest.json")]) == 0
    same_torch = capsys.readouterr().out.splitlines()
    assert same_torch[2] == "no verdict changed" and len(same_torch) <= 9, same_torch


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
    new = make_ledger({"ch05.zero-grad": {"cpu": "amended"}, "ch05.same": {"cpu": "holds"}}, torch="2.0.1+cu117")
    paths = [str(write(tmp_path, new, "new.json")), str(write(tmp_path, old, "old.json"))]  # the newer first
    assert main(["matrix", *paths]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 claims differ between the columns:" in out
    rows = [line.split() for line in out.splitlines()]
    assert ["ch05.zero-grad", "holds", "amended"] in rows, "release order, whatever the order given"
    assert not any(row[:1] == ["ch05.same"] for row in rows)
    assert "cuda on torch 1.13.1: every claim skipped" in out, "a device that ran nothing is left out, and said so"
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


def test_matrix_exits_1_when_a_column_has_a_failing_claim(tmp_path, capsys):
    good = write(tmp_path, make_ledger({"ch05.a": {"cpu": "holds"}}, torch="1.4.0"), "good.json")
    bad = write(tmp_path, make_ledger({"ch05.a": {"cpu": "fails"}}), "bad.json")
    assert main(["matrix", str(good), str(bad)]) == 1, "as summary does"
    assert "1 claim(s) fail in some column: ch05.a" in capsys.readouterr().out


def test_matrix_counts_uncheckable_claims_apart_and_names_ledgers_of_one_release(tmp_path, capsys):
    """Two ledgers of the same torch (``nox -s matrix`` and ``nox -s lowest``) are told apart by file name,
    the one named after its release plainly; a claim no experiment can check is ``uncheckable``."""
    doc = make_ledger({"ch05.a": {"cpu": "holds"}, "ch06.history": {}, "ch08.nobody": {}}, torch="1.4.0")
    doc["claims"][1]["uncheckable"] = "history, not a behaviour"
    lowest = copy.deepcopy(doc)
    lowest["claims"][0]["results"]["cpu"]["verdict"] = "amended"
    paths = [str(write(tmp_path, lowest, "lowest.json")), str(write(tmp_path, doc, "1.4.0.json"))]
    assert main(["matrix", *paths]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["ch05.a", "holds", "amended"] in rows
    header = next(row for row in rows if row[:1] == ["claim"])
    assert header == ["claim", "torch", "1.4.0", "cpu", "torch", "1.4.0", "(lowest)", "cpu"]
    assert ["untested", "1", "1"] in rows and ["uncheckable", "1", "1"] in rows


def matrix_ledgers(tmp_path):
    docs = []
    for torch, verdict in (("2.1.0", "holds"), ("1.13.1+cu117", "holds"), ("2.0.1+cu117", "amended")):
        doc = make_ledger({"ch05.zero-grad": {"cpu": verdict}, "ch05.same": {"cpu": "holds"}}, torch=torch)
        doc["claims"][0].update(amended={"since": "2.0", "now": "sets None"}, statement="zero_grad zeros")
        doc["environment"].update(python="3.10.13", torchvision="0.15.2", numpy="1.26.4")
        if torch.startswith("1.13"):
            doc["claims"][1]["results"]["cpu"].update(
                partial=True, tests=2, passed=1, skipped=1, skip_reasons={"no set_to_none before 1.7": 1}
            )
        docs.append(write(tmp_path, doc, f"{torch.split('+')[0]}.json"))
    return docs


def test_matrix_doc_says_at_a_glance_what_changed_where_and_why_each_release_is_there(tmp_path, capsys):
    paths = matrix_ledgers(tmp_path)
    out = tmp_path / "docs" / "matrix.md"
    why = ["--why", "1.13.1=the last before zero_grad sets None"]
    assert main(["matrix-doc", *map(str, paths), "-o", str(out), *why]) == 0
    page = out.read_text().splitlines()
    assert (
        "- **p.100** `ch05.zero-grad`, since torch 2.0; in this matrix amended from 2.0.1: zero_grad zeros "
        "*Now:* sets None" in page
    )
    rows = [line for line in page if line.startswith("| [")]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| [1.13.1](matrix/1.13.1.json)", "the last before zero_grad sets None"],
        ["| [2.0.1](matrix/2.0.1.json)", "the first from 2.0 (p.100 amended)"],
        ["| [2.1.0](matrix/2.1.0.json)", "the newest in this matrix"],
    ], "release order; --why, else what the registry's since says"
    assert rows[1].endswith("| p.100 `zero-grad`: holds → amended; p.101 `same`: holds (1/2) → holds |")
    assert rows[2].endswith("| p.100 `zero-grad`: amended → holds |")
    assert "+cu117" not in "\n".join(page[page.index("## The releases") :]), "no build tag in the tables"
    assert "(+cu117: the CUDA version the wheel was built for, unused on a CPU)" in "\n".join(page)
    differs = page[page.index("## What differs between the releases") + 2 :]
    assert differs[0] == "| torch | (1) p.100 | (2) p.101 |", "releases as rows, numbered heads: the page stays narrow"
    assert differs[4] == "| 2.1.0 | **holds** (expected amended) | holds |", "a verdict the registry did not predict"
    assert differs[6:8] == ["(1) p.100 `zero-grad`  ", "(2) p.101 `same`"], "the claims named below, one a line"
    assert (tmp_path / "docs" / "matrix" / "2.0.1.json").is_file(), "the ledgers beside the page"


def test_matrix_doc_runs_as_its_own_module_too(tmp_path):
    paths = matrix_ledgers(tmp_path)
    out = tmp_path / "matrix.md"
    done = subprocess.run(
        [sys.executable, "-m", "claims.cli.matrix_doc", *map(str, paths), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("# The book's claims across PyTorch releases")


def nox_why() -> dict:
    """What ``nox -s matrix_doc`` passes as ``--why``: noxfile.py's RELEASES and LOWEST, read without nox."""
    tree = ast.parse((MATRIX.parents[1] / "noxfile.py").read_text())
    found = {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in ("RELEASES", "LOWEST")
    }
    return dict({release[0]: release[4] for release in found["RELEASES"]}, lowest=found["LOWEST"])


def test_docs_matrix_md_is_what_matrix_doc_writes_from_its_ledgers(tmp_path):
    """docs/matrix.md is regenerated from docs/matrix/*.json (nox -s matrix_doc): apart from its date, the same."""
    from claims.cli.matrix_doc import render

    ours = (MATRIX.parent / "matrix.md").read_text().splitlines()
    fresh = render(sorted(MATRIX.glob("*.json")), why=nox_why()).splitlines()
    assert [line for line in fresh if not line.startswith("Written by")] == [
        line for line in ours if not line.startswith("Written by")
    ]
    assert max(len(line) for line in fresh if line.startswith("| torch |")) < 400, "GitHub wraps the rest"


def test_the_readme_verdict_table_uses_the_words_of_the_ledger():
    """One wording for the verdicts: README.md's table, the report and summary all say claims.ledger.MEANINGS."""
    readme = (MATRIX.parents[1] / "README.md").read_text()
    table = readme[readme.index("| verdict | meaning |") :].split("\n\n")[0].splitlines()[2:]
    assert {row.split(" | ")[0].strip("|` "): row.split(" | ", 1)[1].rstrip(" |") for row in table} == MEANINGS
    assert tuple(MEANINGS) == VERDICTS + ("uncheckable",), "the verdicts listed once, in claims.ledger.VERDICTS"


def test_gate_refuses_a_negative_slowdown(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["gate", "a.json", "b.json", "--max-slowdown", "-5"])
    assert stop.value.code == 2
    assert "argument --max-slowdown: -5 is negative" in capsys.readouterr().err


def test_summary_of_a_long_ledger_fits_100_columns(capsys):
    assert main(["summary", str(MATRIX / "2.14.1.json"), "--claims"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in out) <= 100, max(out, key=len)


def readme_block(after: str) -> list:
    """The indented example that follows the line ending with ``after`` in README.md, without its indent."""
    readme = (MATRIX.parents[1] / "README.md").read_text().split("\n")
    start = next(n for n, line in enumerate(readme) if line.endswith(after)) + 2
    block = []
    for line in readme[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    while block and not block[-1]:
        block.pop()
    return block


@pytest.mark.parametrize(
    "after, argv",
    [
        ("ledgers it prints:", ["diff", "2.0.1.json", "1.13.1.json"]),
        ("(`docs/matrix/2.14.1.json`):", ["summary", "2.14.1.json"]),
    ],
)
def test_the_readme_examples_show_what_the_commands_print(capsys, monkeypatch, after, argv):
    """Each line of the README's example is a line the command prints, in that order ("..." leaves some out)."""
    monkeypatch.chdir(MATRIX.parents[1])
    argv = [arg if not arg.endswith(".json") else f"docs/matrix/{arg}" for arg in argv]
    main(argv)
    printed = [line.replace("docs/matrix/", "reports/matrix/") for line in capsys.readouterr().out.splitlines()]
    position = 0
    for line in readme_block(after):
        if line.strip() == "...":
            continue
        assert line in printed[position:], f"README shows {line!r}, not printed after line {position}"
        position = printed.index(line, position) + 1
