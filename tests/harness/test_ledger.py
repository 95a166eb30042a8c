"""The ledger's shape and verdict rules, from real runs of a throwaway project."""
import json

import pytest
import torch

from claims import torch_at_least
from claims.ledger import DeviceResult, verdict
from claims.registry import Amendment, Claim

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


@pytest.fixture
def ledger(project):
    project.write_tests(TESTS)
    result = project.run("--ledger", "out/ledger.json")
    result.assert_outcomes(passed=5, failed=1, skipped=0 if torch.cuda.is_available() else 6)
    return json.loads((project.pytester.path / "out" / "ledger.json").read_text())


def by_id(ledger):
    return {c["id"]: c for c in ledger["claims"]}


def test_ledger_has_the_documented_shape(ledger):
    assert ledger["schema"] == 1
    assert set(ledger) == {"schema", "created", "environment", "claims", "summary"}
    assert set(ledger["environment"]) == {"python", "torch", "torchvision", "numpy", "SimpleITK", "platform",
                                          "cuda", "gpu"}
    assert ledger["environment"]["torch"] == torch.__version__
    claim = by_id(ledger)["ch05.changed-claim"]
    assert set(claim) == {"id", "chapter", "page", "statement", "amended", "refuted", "results"}
    assert claim["amended"] == {"since": "2.0", "now": "What PyTorch does now."}
    assert set(claim["results"]) == {"cpu", "cuda"}


def test_verdicts_follow_the_rules(ledger):
    cpu = {cid: c["results"].get("cpu", {}).get("verdict") for cid, c in by_id(ledger).items()}
    assert cpu == {
        "ch05.plain-claim": "holds",
        "ch05.changed-claim": "amended" if torch_at_least("2.0") else "holds",
        "ch07.future-change": "holds",  # amended since 99.0: not yet, so the book's side holds
        "ch07.wrong-claim": "fails",  # a failing test fails the claim even when it is marked refuted
        "ch08.nobody-tests-this": None,
    }
    assert by_id(ledger)["ch08.nobody-tests-this"]["results"] == {}


def test_results_count_tests_time_and_evidence(ledger):
    cpu = by_id(ledger)["ch05.plain-claim"]["results"]["cpu"]
    assert cpu["tests"] == 3
    assert cpu["seconds"] >= 0
    assert cpu["evidence"] == {"test_holds": {"loss": 0.5, "norms": {"10": 1.0, "100": "inf"}}}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the report of a machine without CUDA")
def test_cuda_is_skipped_with_the_reason(ledger):
    for claim in ledger["claims"]:
        if claim["results"]:
            assert claim["results"]["cuda"] == {"verdict": "skipped", "reason": "CUDA is not available"}


def test_summary_counts_one_verdict_per_claim_and_device(ledger):
    expected_cuda_skips = 0 if torch.cuda.is_available() else 4
    assert ledger["summary"]["untested"] == 1
    assert ledger["summary"]["fails"] == 1 + (0 if expected_cuda_skips else 1)
    assert ledger["summary"]["skipped"] == expected_cuda_skips
    assert sum(ledger["summary"].values()) == 4 * 2 + 1


def test_terminal_summary_lists_untested_claims_and_the_ledger(project):
    project.write_tests(TESTS)
    result = project.run("--device", "cpu")
    result.stdout.fnmatch_lines(["*untested: ch08.nobody-tests-this*",
                                 "*ledger written to reports/ledger.json*"])


def _claim(**kw):
    return Claim(id="ch05.x", chapter=5, page=1, statement="s", source="s", **kw)


@pytest.mark.parametrize("claim, outcomes, torch_version, expected", [
    (_claim(), ["passed", "passed"], "2.14.1", "holds"),
    (_claim(), ["passed", "failed"], "2.14.1", "fails"),
    (_claim(), ["skipped", "skipped"], "2.14.1", "skipped"),
    (_claim(), ["passed", "skipped"], "2.14.1", "holds"),
    (_claim(), [], "2.14.1", "untested"),
    (_claim(refuted="r"), ["passed"], "2.14.1", "refuted"),
    (_claim(refuted="r"), ["failed"], "2.14.1", "fails"),
    (_claim(amended=Amendment("2.0", "n")), ["passed"], "2.0.0+cpu", "amended"),
    (_claim(amended=Amendment("2.0", "n")), ["passed"], "1.13.1", "holds"),
    (_claim(amended=Amendment("2.6", "n")), ["passed"], "2.14.1+cu130", "amended"),
    (_claim(amended=Amendment("2.6", "n")), ["skipped"], "2.14.1", "skipped"),
])
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
    a.outcomes.append("passed")
    assert b.outcomes == []
