"""Partial runs (a path, -k, -x, --lf, the benchmarks) keep the full ledger and say what they did."""

import json
import os

import pytest

TWO_CHAPTERS = {
    "test_ch05": """
        import pytest

        @pytest.mark.claim("ch05.plain-claim")
        def test_plain(device, evidence):
            evidence.record(run="first")

        @pytest.mark.claim("ch05.changed-claim")
        def test_adam_changed(device):
            pass
    """,
    "test_ch07": """
        import os
        import pytest

        @pytest.mark.claim("ch07.wrong-claim")
        def test_wrong(device):
            assert os.environ.get("BREAK_CH07") is None, "the behaviour broke"

        @pytest.mark.claim("ch07.future-change")
        def test_future(device):
            pass
    """,
}


@pytest.fixture
def full(project):
    """A project whose full run has written the ledger."""
    for name, source in TWO_CHAPTERS.items():
        project.write_tests(source, name=name)
    project.run("--device", "cpu").assert_outcomes(passed=4)
    assert project.ledger()["run"]["scope"] == "complete"
    return project


def test_one_file_updates_its_claims_and_keeps_the_others(full, monkeypatch):
    before = full.ledger()
    monkeypatch.setenv("BREAK_CH07", "1")
    result = full.run("--device", "cpu", "test_ch07.py")
    result.assert_outcomes(passed=1, failed=1)
    after = full.ledger()
    assert after["run"]["scope"] == "merged"
    assert after["run"]["updated"] == ["ch07.future-change", "ch07.wrong-claim"]
    assert after["run"]["base_created"] == before["created"]
    assert full.verdicts() == {
        "ch05.plain-claim": "holds",
        "ch05.changed-claim": before["claims"][1]["results"]["cpu"]["verdict"],
        "ch07.future-change": "holds",
        "ch07.wrong-claim": "fails",
        "ch08.nobody-tests-this": None,
    }
    result.stdout.fnmatch_lines(
        [
            "*partial run (only test_ch07.py): 2 claims updated in reports/ledger.json; "
            "the other 3 keep their results of*"
        ]
    )
    assert "untested:" not in result.stdout.str(), "a partial run does not call the others untested"


def test_k_selection_merges_and_names_the_selection(full):
    result = full.run("--device", "cpu", "-k", "adam")
    result.assert_outcomes(passed=1)
    run = full.ledger()["run"]
    assert run["scope"] == "merged" and run["updated"] == ["ch05.changed-claim"]
    assert run["selection"] == ["3 claim tests deselected (-k 'adam')"]
    assert full.verdicts()["ch07.wrong-claim"] == "refuted", "kept from the full run"


def test_a_claim_whose_tests_became_host_only_loses_its_stale_device_rows(project):
    """A claim once tested on every device, whose test now takes no ``device`` (a host-only experiment,
    recorded under the CPU), keeps no cuda row from the earlier ledger when a partial run asked for cuda."""
    for name, source in TWO_CHAPTERS.items():
        project.write_tests(source, name=name)
    project.run("--device", "cpu,cuda").assert_outcomes(passed=4, skipped=4)
    assert set(project.ledger()["claims"][1]["results"]) == {"cpu", "cuda"}
    project.write_tests(
        TWO_CHAPTERS["test_ch05"].replace("def test_adam_changed(device)", "def test_adam_changed()"), name="test_ch05"
    )
    project.run("--device", "cpu,cuda", "test_ch05.py").assert_outcomes(passed=2, skipped=1)
    results = {c["id"]: c["results"] for c in project.ledger()["claims"]}
    assert set(results["ch05.changed-claim"]) == {"cpu"}, results["ch05.changed-claim"]
    assert set(results["ch05.plain-claim"]) == {"cpu", "cuda"} and set(results["ch07.wrong-claim"]) == {"cpu", "cuda"}
    project.run("--device", "cpu", "test_ch07.py").assert_outcomes(passed=2)
    results = {c["id"]: c["results"] for c in project.ledger()["claims"]}
    assert set(results["ch07.wrong-claim"]) == {"cpu", "cuda"}, "a device the run was not asked for keeps its row"


def test_a_run_stopped_by_x_says_which_claims_did_not_run(project):
    for name, source in TWO_CHAPTERS.items():
        project.write_tests(source, name=name)
    os.environ["BREAK_CH07"] = "1"
    try:
        result = project.run("--device", "cpu", "-x", "-p", "no:randomly", "test_ch07.py", "test_ch05.py")
    finally:
        del os.environ["BREAK_CH07"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    ledger = project.ledger()  # no earlier ledger: this one holds what the run saw
    assert ledger["run"]["scope"] == "partial"
    results = {c["id"]: c["results"].get("cpu", {}) for c in ledger["claims"]}
    assert results["ch07.wrong-claim"]["verdict"] == "fails"
    for cid in ("ch05.plain-claim", "ch05.changed-claim", "ch07.future-change"):
        assert results[cid]["verdict"] == "not-run", cid
        assert results[cid]["reason"] == "the run stopped before it (-x, --maxfail or --sw)"
    assert ledger["summary"]["not-run"] == 3 and ledger["summary"]["untested"] == 1


def test_a_partial_run_of_another_environment_writes_its_own_file(full):
    path = full.path / "reports" / "ledger.json"
    doc = json.loads(path.read_text())
    doc["environment"]["torch"] = "0.4.1"  # no release this suite runs on
    path.write_text(json.dumps(doc))
    result = full.run("--device", "cpu", "test_ch05.py")
    result.stdout.fnmatch_lines(
        [
            "*not merged into reports/ledger.json (it was written with torch 0.4.1, this run "
            "has *); this run's ledger is reports/ledger.partial.json*"
        ]
    )
    assert json.loads(path.read_text())["environment"]["torch"] == "0.4.1", "the full ledger is untouched"
    partial = full.ledger("reports/ledger.partial.json")
    assert partial["run"]["scope"] == "partial"


def test_last_failed_merges_into_the_full_ledger(cached_project, monkeypatch):
    for name, source in TWO_CHAPTERS.items():
        cached_project.write_tests(source, name=name)
    monkeypatch.setenv("BREAK_CH07", "1")
    cached_project.run("--device", "cpu").assert_outcomes(passed=3, failed=1)
    monkeypatch.delenv("BREAK_CH07")
    result = cached_project.run("--device", "cpu", "--lf")
    result.assert_outcomes(passed=1)
    ledger = cached_project.ledger()
    assert ledger["run"]["scope"] == "merged" and ledger["run"]["updated"] == ["ch07.wrong-claim"]
    assert cached_project.verdicts()["ch07.wrong-claim"] == "refuted"
    assert cached_project.verdicts()["ch05.plain-claim"] == "holds"


def test_a_run_with_no_claim_test_leaves_the_ledger_alone(full):
    full.write_tests("def test_benchmark_like():\n    pass\n", name="test_other")
    before = (full.path / "reports" / "ledger.json").read_text()
    result = full.run("test_other.py")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*no claim test was collected: reports/ledger.json is left alone*"])
    assert (full.path / "reports" / "ledger.json").read_text() == before


def test_reports_and_hypothesis_data_go_under_the_project_root(full):
    sub = full.path / "sub"
    sub.mkdir()
    (sub / "test_inner.py").write_text(
        "import pytest\n\n@pytest.mark.claim('ch05.plain-claim')\ndef test_inner(device):\n    pass\n"
    )
    os.chdir(sub)
    result = full.run("--device", "cpu", ".")
    result.assert_outcomes(passed=1)
    assert not (sub / "reports").exists()
    assert full.ledger()["run"]["scope"] == "merged"
