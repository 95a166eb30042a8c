"""``--falsify``: each claim's tests, once per fault it names, must go red by an assertion."""

import json

import pytest

from claims.cli import main

LIBRARY = """
def double(x):
    return 2 * x


def halve(x):
    return x / 2
"""
# Faults planted in the project's own little library: one breaks a value, one raises, one changes nothing.
FAULTS = """
import pytest

import lib
from claims.faults import fault


@fault("double-adds-one")
def double_adds_one():
    \"\"\"lib.double returns 2x + 1.\"\"\"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lib, "double", lambda x: 2 * x + 1)
        yield


@fault("double-raises")
def double_raises():
    \"\"\"lib.double raises a TypeError.\"\"\"
    def broken(x):
        raise TypeError("broken import")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lib, "double", broken)
        yield


@fault("halve-rounds-down")
def halve_rounds_down():
    \"\"\"lib.halve rounds down (no test here checks an odd number).\"\"\"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lib, "halve", lambda x: x // 2)
        yield
"""
REGISTRY = """
[[claim]]
id = "ch05.double-doubles"
chapter = 5
page = 110
statement = "double doubles."
source = "110 - double"
faults = ["double-adds-one"]

[[claim]]
id = "ch05.halve-halves"
chapter = 5
page = 111
statement = "halve halves."
source = "111 - halve"
faults = ["halve-rounds-down"]

[[claim]]
id = "ch05.double-is-pure"
chapter = 5
page = 112
statement = "double is a function."
source = "112 - pure"
faults = ["double-raises"]

[[claim]]
id = "ch05.about-the-gpu"
chapter = 5
page = 113
statement = "Something only a GPU run shows."
source = "113 - gpu"
unfalsifiable = "The falsify run plants faults on the CPU only."
"""
TESTS = """
import pytest

import lib


@pytest.mark.claim("ch05.double-doubles")
def test_double_of_three_is_six(device):
    assert lib.double(3) == 6


@pytest.mark.claim("ch05.double-doubles")
def test_double_weakened(device):
    lib.double(3)
    assert WEAK


@pytest.mark.claim("ch05.halve-halves")
def test_halve_of_four(device):
    assert lib.halve(4) == 2


@pytest.mark.claim("ch05.double-is-pure")
def test_double_twice(device):
    assert lib.double(lib.double(1)) == 4


@pytest.mark.claim("ch05.about-the-gpu")
def test_gpu_only(device):
    assert True
"""


@pytest.fixture
def falsify_project(project):
    project.pytester.makepyfile(lib=LIBRARY)
    project.pytester.makeconftest(FAULTS)
    project.write_registry(REGISTRY)
    return project


def run(project, weak: bool):
    project.write_tests(TESTS.replace("WEAK", "True" if weak else "lib.double(3) == 6"))
    return project.run("--falsify", "-rA")


def test_a_caught_fault_passes_and_every_miss_is_named(falsify_project):
    result = run(falsify_project, weak=False)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = result.stdout.str()
    # caught: both double tests go red by an assertion under double-adds-one
    section = falsify_falsification(falsify_project)
    assert section["claims"]["ch05.double-doubles"]["verdict"] == "falsifiable"
    # not caught: halve-rounds-down changes nothing the test checks
    assert section["claims"]["ch05.halve-halves"]["verdict"] == "survives"
    assert "ch05.halve-halves: fault halve-rounds-down turned none of its tests red" in lines
    assert "ch05.halve-halves: test_halve_of_four stayed green under every fault it names (halve-rounds-down)" in lines
    # a fault that raises proves nothing
    assert section["claims"]["ch05.double-is-pure"]["verdict"] == "survives"
    assert (
        "ch05.double-is-pure: fault double-raises turned none of its tests red by an assertion (it made them "
        "crash instead: test_double_twice: TypeError: broken import; a fault must break a value, not the "
        "harness)" in lines
    )
    assert "ch05.double-is-pure: test_double_twice went red under no fault by an assertion (it only crashed)" in lines
    assert section["claims"]["ch05.about-the-gpu"] == {
        "verdict": "unfalsifiable",
        "faults": {},
        "reason": "The falsify run plants faults on the CPU only.",
    }
    assert section["score"] == {
        "falsifiable": 1,
        "claims": 4,
        "unfalsifiable": 1,
        "uncheckable": 0,
        "not_run": 0,
        "failing": 2,
        "faults": {"tried": 3, "caught": 1},
        "skeptic_faults": {"tried": 0, "caught": 0},
        "claims_with_skeptic_faults": 0,
    }
    result.stdout.fnmatch_lines(
        [
            "*falsification (torch *): 1/4 claims proven falsifiable (2 failing, 1 unfalsifiable); "
            "planted faults 1/3 caught, skeptic's faults 0/0 caught*"
        ]
    )


def falsify_falsification(project) -> dict:
    return project.ledger()["falsification"]


def test_a_test_weakened_to_assert_true_fails_the_run_naming_its_claim(falsify_project):
    result = run(falsify_project, weak=True)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["ch05.double-doubles: test_double_weakened stayed green under every fault it names (double-adds-one)"]
    )
    assert falsify_falsification(falsify_project)["claims"]["ch05.double-doubles"]["verdict"] == "survives"


def test_falsify_runs_claim_tests_only_on_the_cpu_once_per_fault(falsify_project):
    falsify_project.write_tests("def test_not_a_claim():\n    pass\n", name="test_plain")
    result = run(falsify_project, weak=False)
    ran = [line for line in result.stdout.lines if "::" in line and ("PASSED" in line or "FAILED" in line)]
    assert all("[cpu-" in line for line in ran) and not any("cuda" in line for line in ran), ran
    assert "test_not_a_claim" not in result.stdout.str()


def test_an_unknown_fault_name_in_the_registry_is_one_collection_error(project):
    project.write_registry(REGISTRY.replace('"double-adds-one"', '"double-add-one"'))
    project.pytester.makepyfile(lib=LIBRARY)
    project.pytester.makeconftest(FAULTS)
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1
    assert (
        "(id 'ch05.double-doubles'): field 'faults': unknown fault 'double-add-one' (did you mean "
        "double-adds-one?)" in errors[0]
    )


def test_summary_shows_the_falsification_score(falsify_project, capsys):
    run(falsify_project, weak=False)
    path = falsify_project.path / "reports" / "ledger.json"
    assert main(["summary", str(path)]) == 1, "a claim that survives its faults fails the summary"
    assert "falsification (torch " in capsys.readouterr().out
    assert json.loads(path.read_text())["run"]["scope"] == "falsify"


def test_a_plain_run_after_it_keeps_the_score_and_another_environment_drops_it(falsify_project):
    run(falsify_project, weak=False)
    path = falsify_project.path / "reports" / "ledger.json"
    score = json.loads(path.read_text())["falsification"]["score"]
    falsify_project.run("--device", "cpu")
    document = json.loads(path.read_text())
    assert document["run"]["scope"] == "complete" and document["falsification"]["score"] == score
    document["environment"]["torch"] = "0.4.1"  # as if the falsify run had been on another release
    path.write_text(json.dumps(document))
    falsify_project.run("--device", "cpu")
    assert "falsification" not in json.loads(path.read_text()), "a score from another torch is not this one's"


# A skeptic's fault changes the experiment, not the library: here the input the statement is about.
SKEPTIC_FAULTS = """
from claims.faults import fault, replace, skeptic


@fault("double-is-the-identity")
def double_is_the_identity():
    \"\"\"lib.double returns its input.\"\"\"
    yield from replace(lib, "double", lambda x: x)


@skeptic("an-input-of-zero")
def an_input_of_zero():
    \"\"\"The experiment doubles 0, where adding one to the result would be seen and doubling would not.\"\"\"
    yield from replace("test_claims", "INPUT", 0)


@skeptic("an-even-input")
def an_even_input():
    \"\"\"The experiment halves 8 instead of 4: still an even number, so rounding down cannot show.\"\"\"
    yield from replace("test_claims", "INPUT", 8)
"""
SKEPTIC_REGISTRY = """
[[claim]]
id = "ch05.doubling-changes-the-input"
chapter = 5
page = 110
statement = "double changes every input it is given."
source = "110 - double"
faults = ["double-is-the-identity"]
skeptic_faults = ["an-input-of-zero"]

[[claim]]
id = "ch05.halving-leaves-no-remainder"
chapter = 5
page = 111
statement = "halve of an even number leaves no remainder."
source = "111 - halve"
faults = ["double-adds-one"]
skeptic_faults = ["an-even-input"]
"""
SKEPTIC_TESTS = """
import pytest

import lib

INPUT = 3


@pytest.mark.claim("ch05.doubling-changes-the-input")
def test_double_changes_its_input():
    assert lib.double(INPUT) != INPUT


@pytest.mark.claim("ch05.halving-leaves-no-remainder")
def test_halve_then_double_round_trips():
    assert lib.double(lib.halve(4)) == 4
"""


def test_a_skeptics_fault_must_turn_its_claims_tests_red_too(falsify_project):
    falsify_project.pytester.makeconftest(FAULTS + SKEPTIC_FAULTS)
    falsify_project.write_registry(SKEPTIC_REGISTRY)
    falsify_project.write_tests(SKEPTIC_TESTS)
    result = falsify_project.run("--falsify", "-rA")
    section = falsify_falsification(falsify_project)
    doubling = section["claims"]["ch05.doubling-changes-the-input"]
    assert doubling["verdict"] == "falsifiable", doubling
    assert doubling["skeptic_faults"]["an-input-of-zero"]["caught"] == ["test_double_changes_its_input"]
    # the halving test never reads INPUT: a skeptic's fault that changes nothing it checks is a weak test
    assert section["claims"]["ch05.halving-leaves-no-remainder"]["verdict"] == "survives"
    result.stdout.fnmatch_lines(
        ["ch05.halving-leaves-no-remainder: skeptic's fault an-even-input left every test green by an assertion*"]
    )
    assert section["score"]["skeptic_faults"] == {"tried": 2, "caught": 1}
    assert section["score"]["claims_with_skeptic_faults"] == 2
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_fault_of_the_other_kind_in_a_registry_field_is_a_usage_error(falsify_project):
    falsify_project.pytester.makeconftest(FAULTS + SKEPTIC_FAULTS)
    falsify_project.write_registry(
        SKEPTIC_REGISTRY.replace('faults = ["double-is-the-identity"]', 'faults = ["an-even-input"]')
    )
    falsify_project.write_tests(SKEPTIC_TESTS)
    result = falsify_project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*(id 'ch05.doubling-changes-the-input'): field 'faults': 'an-even-input' is a skeptic fault; "
            "skeptic_faults is where it goes*"
        ]
    )
