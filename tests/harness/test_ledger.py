"""The ledger's shape and verdict rules, from real runs of a throwaway project."""

import pytest
import torch

from claims.ledger import DeviceResult, summarize, verdict
from claims.registry import Amendment, Claim, release
from tests.harness.helpers import PLAIN_TEST

TESTS = """
import pytest

@pytest.mark.claim("ch05.plain-claim")
def test_holds(device, evidence):
    evidence.record(loss=0.5, norms={10: 1.0, 100: float("inf")})

@pytest.mark.claim("ch05.plain-claim")
@pytest.mark.parametrize("depth", [10, 100])
def test_holds_too(device, depth):
    pass

@pytest.mark.claim("ch05.changed-claim")
def test_changed(device):
    pass

@pytest.mark.claim("ch07.future-change")
def test_future(device):
    pass

@pytest.mark.claim("ch07.wrong-claim")
def test_wrong(device):
    assert False, "the behaviour broke"
"""
NO_CUDA = not torch.cuda.is_available()


@pytest.fixture
def ledger(project):
    project.write_tests(TESTS)
    result = project.run("--ledger", "out/ledger.json")
    result.assert_outcomes(passed=5, failed=1, skipped=6 if NO_CUDA else 0)
    return project.ledger("out/ledger.json")


def by_id(ledger):
    return {c["id"]: c for c in ledger["claims"]}


def test_ledger_has_the_documented_shape(ledger):
    assert ledger["schema"] == 1
    assert set(ledger) == {"schema", "created", "environment", "run", "claims", "summary"}
    assert set(ledger["environment"]) == {
        "python",
        "torch",
        "torchvision",
        "numpy",
        "SimpleITK",
        "platform",
        "cuda",
        "gpu",
    }
    assert ledger["environment"]["torch"] == torch.__version__
    assert ledger["run"] == {
        "scope": "complete",
        "executed": True,
        "problem": None,
        "exitstatus": 1,
        "devices": ["cpu", "cuda"],
        "selection": [],
        "workers": 0,
    }
    claim = by_id(ledger)["ch05.changed-claim"]
    assert set(claim) == {
        "id",
        "chapter",
        "page",
        "statement",
        "source",
        "amended",
        "refuted",
        "uncheckable",
        "faults",
        "skeptic_faults",
        "unfalsifiable",
        "book_code",
        "second_edition",
        "checked_by",
        "results",
    }
    assert claim["amended"] == {"since": "2.0", "now": "What PyTorch does now."}
    assert claim["source"] == "127 - a line of the notes"
    assert claim["checked_by"] == ["test_claims.py::test_changed"]
    assert set(claim["results"]) == {"cpu", "cuda"}


def test_verdicts_follow_the_rules(ledger):
    cpu = {cid: c["results"].get("cpu", {}).get("verdict") for cid, c in by_id(ledger).items()}
    assert cpu == {
        "ch05.plain-claim": "holds",
        "ch05.changed-claim": "amended" if release(torch.__version__) >= (2, 0, 0) else "holds",
        "ch07.future-change": "holds",  # amended since 99.0: not yet, so the book's side holds
        "ch07.wrong-claim": "fails",  # a failing test fails the claim even when it is marked refuted
        "ch08.nobody-tests-this": None,
    }
    assert by_id(ledger)["ch08.nobody-tests-this"]["results"] == {}


def test_results_count_tests_time_and_evidence(ledger):
    cpu = by_id(ledger)["ch05.plain-claim"]["results"]["cpu"]
    assert {k: cpu[k] for k in ("tests", "passed", "failed", "skipped", "not_run", "partial")} == {
        "tests": 3,
        "passed": 3,
        "failed": 0,
        "skipped": 0,
        "not_run": 0,
        "partial": False,
    }
    assert cpu["seconds"] >= 0
    assert cpu["evidence"] == {"test_holds": {"loss": 0.5, "norms": {"10": 1.0, "100": "inf"}}}
    assert by_id(ledger)["ch05.plain-claim"]["checked_by"] == [
        "test_claims.py::test_holds",
        "test_claims.py::test_holds_too",
    ]


@pytest.mark.skipif(not NO_CUDA, reason="checks the report of a machine without CUDA")
def test_cuda_is_skipped_with_the_reason(ledger):
    for claim in ledger["claims"]:
        if claim["results"]:
            cuda = claim["results"]["cuda"]
            assert cuda["verdict"] == "skipped" and cuda["reason"] == "CUDA is not available"
            assert cuda["skipped"] == cuda["tests"] and cuda["skip_reasons"] == {"CUDA is not available": cuda["tests"]}


def test_summary_counts_one_verdict_per_claim_and_device(ledger):
    assert ledger["summary"]["untested"] == 1
    assert ledger["summary"]["fails"] == 1 + (0 if NO_CUDA else 1)
    assert ledger["summary"]["skipped"] == (4 if NO_CUDA else 0)
    verdicts = {k: v for k, v in ledger["summary"].items() if k not in ("partial", "uncheckable")}
    assert sum(verdicts.values()) == 4 * 2 + 1
    assert ledger["summary"] == summarize(ledger["claims"])


def test_a_claim_where_only_some_tests_ran_is_partial_with_the_reasons(project):
    project.write_tests("""
        import pytest

        @pytest.mark.claim("ch05.plain-claim")
        def test_on_generated_files(device):
            pass

        @pytest.mark.claim("ch05.plain-claim")
        def test_on_the_real_data(device):
            pytest.skip("needs --cifar10-root DIR")
    """)
    project.run("--device", "cpu")
    cpu = project.ledger()["claims"][0]["results"]["cpu"]
    assert cpu["verdict"] == "holds" and cpu["partial"] is True
    assert (cpu["passed"], cpu["skipped"], cpu["tests"]) == (1, 1, 2)
    assert cpu["skip_reasons"] == {"needs --cifar10-root DIR": 1}
    assert project.ledger()["summary"]["partial"] == 1


def test_terminal_summary_lists_untested_claims_and_the_ledger(project):
    project.write_tests(TESTS)
    result = project.run("--device", "cpu")
    result.stdout.fnmatch_lines(["*untested: ch08.nobody-tests-this*", "*ledger written to reports/ledger.json*"])


def test_an_uncheckable_claim_is_counted_apart_from_untested(project):
    project.write_registry(
        """
        [[claim]]
        id = "ch06.state-of-the-art"
        chapter = 6
        page = 147
        statement = "ReLU is state of the art."
        source = "147 - ReLU"
        uncheckable = "A judgement of the field in 2020, not a behaviour of PyTorch."
    """,
        name="more.toml",
    )
    project.write_tests(TESTS)
    result = project.run("--device", "cpu")
    assert "untested: ch06.state-of-the-art" not in result.stdout.str()
    summary = project.ledger()["summary"]
    assert (summary["uncheckable"], summary["untested"]) == (1, 1)


def _claim(**kw):
    return Claim(id="ch05.x", chapter=5, page=1, statement="s", source="s", **kw)


@pytest.mark.parametrize(
    "claim, outcomes, torch_version, expected",
    [
        (_claim(), ["passed", "passed"], "2.14.1", "holds"),
        (_claim(), ["passed", "failed"], "2.14.1", "fails"),
        (_claim(), ["skipped", "skipped"], "2.14.1", "skipped"),
        (_claim(), ["passed", "skipped"], "2.14.1", "holds"),
        (_claim(), ["not-run", "skipped"], "2.14.1", "not-run"),
        (_claim(), ["passed", "not-run"], "2.14.1", "holds"),
        (_claim(), [], "2.14.1", "untested"),
        (_claim(refuted="r"), ["passed"], "2.14.1", "refuted"),
        (_claim(refuted="r"), ["failed"], "2.14.1", "fails"),
        (_claim(amended=Amendment("2.0", "n")), ["passed"], "2.0.0+cpu", "amended"),
        (_claim(amended=Amendment("2.0", "n")), ["passed"], "1.13.1", "holds"),
        (_claim(amended=Amendment("2.6", "n")), ["passed"], "2.14.1+cu130", "amended"),
        (_claim(amended=Amendment("2.6", "n")), ["passed"], "2.6.0.dev20241101", "amended"),
        (_claim(amended=Amendment("2.6", "n")), ["skipped"], "2.14.1", "skipped"),
    ],
)
def test_verdict_rules(claim, outcomes, torch_version, expected):
    assert verdict(claim, outcomes, torch_version) == expected


def test_evidence_rejects_what_json_cannot_hold(project):
    project.write_tests("""
        import pytest

        @pytest.mark.claim("ch05.plain-claim")
        def test_bad_evidence(evidence):
            evidence["model"] = object()
    """)
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*evidence values must be numbers, strings, lists or dicts, not object*"])


def test_device_result_defaults_are_independent():
    a, b = DeviceResult(), DeviceResult()
    a.outcomes["t"] = "passed"
    a.skip_reasons["why"] += 1
    assert b.outcomes == {} and not b.skip_reasons


def test_a_run_that_collects_nothing_is_marked_as_checking_nothing(project):
    project.write_tests(PLAIN_TEST)
    project.write_tests("import no_such_module\n", name="test_broken")
    result = project.run()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    run = project.ledger()["run"]
    assert run["executed"] is False and run["problem"] == "1 error during collection"
    result.stdout.fnmatch_lines(["*this run checked nothing (1 error during collection)*"])


def test_a_claim_with_a_host_test_is_partial_on_a_device_where_only_its_other_tests_ran():
    from claims.ledger import DeviceResult, build
    from claims.registry import Claim

    claim = Claim("ch05.mixed-claim", 5, 110, "s", "110 - s")
    cpu = DeviceResult(
        outcomes={"t.py::test_host": "passed", "t.py::test_dev[cpu]": "passed"}, host={"t.py::test_host"}
    )
    cuda = DeviceResult(outcomes={"t.py::test_dev[cuda]": "passed"})
    env = {"torch": "2.14.1"}
    results = build({claim.id: claim}, {claim.id: {"cpu": cpu, "cuda": cuda}}, env, {})["claims"][0]["results"]
    assert results["cpu"]["partial"] is False and "host_tests" not in results["cpu"]
    assert results["cuda"]["partial"] is True and results["cuda"]["host_tests"] == 1
    assert results["cuda"]["verdict"] == "holds"


def test_the_host_tests_of_a_claim_are_counted_on_its_other_devices(project):
    project.write_tests("""
        import pytest

        @pytest.mark.claim("ch05.plain-claim")
        def test_counts_on_the_host():
            pass

        @pytest.mark.claim("ch05.plain-claim")
        def test_computes_on_the_device(device):
            pass
    """)
    project.run("--device", "cpu,cuda")
    results = project.ledger()["claims"][0]["results"]
    assert "host_tests" not in results["cpu"] and results["cpu"]["tests"] == 2
    assert results["cuda"]["host_tests"] == 1 and results["cuda"]["tests"] == 1
