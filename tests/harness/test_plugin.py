"""The plugin: the device fixture and --device, seeding, the report header, the entry point and where it
stays inert, and option forms as every pytest option has them."""

import re
import sys

import pytest
import torch

from tests.harness.helpers import PLAIN_TEST

DEVICE_TEST = """
import pytest

@pytest.mark.claim("ch05.plain-claim")
def test_on_device(device):
    print("RAN ON", device)
"""


def test_every_claim_runs_on_cpu_and_cuda_is_collected(project):
    project.write_tests(DEVICE_TEST)
    result = project.run("-v", "-rs")
    outcomes = {
        m.group(1): m.group(2)
        for m in (re.search(r"test_on_device\[(\w+)\] (PASSED|SKIPPED)", line) for line in result.stdout.lines)
        if m
    }
    assert outcomes["cpu"] == "PASSED"  # in whatever order the two ran
    assert outcomes["cuda"] == ("PASSED" if torch.cuda.is_available() else "SKIPPED")
    if not torch.cuda.is_available():
        result.stdout.fnmatch_lines(["*SKIPPED*CUDA is not available*"])


def test_device_option_restricts_the_devices(project):
    project.write_tests(DEVICE_TEST)
    result = project.run("--device", "cpu", "-v")
    result.assert_outcomes(passed=1)
    assert "test_on_device[cuda]" not in result.stdout.str()


@pytest.mark.parametrize(
    "value, problem",
    [
        ("gpu", "unknown device 'gpu'"),
        ("cpu,tpu", "unknown device 'tpu'"),
        (",", "no device named in ','"),
        ("", "no device named in ''"),
    ],
)
def test_unknown_or_empty_device_is_a_usage_error_naming_the_valid_names(project, value, problem):
    project.write_tests(DEVICE_TEST)
    result = project.run("--device", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--device: {problem}; valid names are cpu, cuda, mps*"])
    assert not (project.path / "reports").exists()


def test_devices_marker_skips_other_devices_with_the_reason(project):
    project.write_tests("""
        import pytest

        @pytest.mark.claim("ch05.plain-claim")
        @pytest.mark.devices("cuda", reason="map_location moves tensors saved on cuda")
        def test_cuda_only(device):
            pass
    """)
    result = project.run("--device", "cpu", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*map_location moves tensors saved on cuda*"])


def test_seed_comes_from_the_test_id_not_the_order(project):
    project.write_tests("""
        import pytest, torch

        @pytest.mark.claim("ch05.plain-claim")
        @pytest.mark.parametrize("n", [1, 2])
        def test_draw(n, seed):
            print(f"DRAW {n} {seed} {torch.rand(1).item():.8f}")
    """)

    def draws(result):  # {n: (seed, first draw)}
        found = (re.search(r"DRAW (\d) (\d+) ([0-9.]+)", line) for line in result.stdout.lines)
        return {m.group(1): m.group(2, 3) for m in found if m}

    forward = draws(project.run("-s"))
    backward = draws(project.run("-s", "test_claims.py::test_draw[2]", "test_claims.py::test_draw[1]"))
    assert forward == backward and len(forward) == 2
    assert forward["1"] != forward["2"], "two tests, two different seeds"


def test_report_header_names_versions_and_devices(project):
    project.write_tests(DEVICE_TEST)
    result = project.run("--device", "cpu")
    result.stdout.fnmatch_lines(
        [
            f"dlwpt-claims: torch {torch.__version__}, torchvision *, numpy *, SimpleITK *, Python *",
            "devices: cpu; CPU threads *; CUDA * (build), cuDNN *; GPU *",
        ]
    )


def test_the_amended_fixture_reads_the_side_from_the_registry(project):
    project.write_tests("""
        import pytest

        @pytest.mark.claim("ch05.changed-claim")
        def test_since_2_0(amended):
            print("AMENDED", amended)

        @pytest.mark.claim("ch07.future-change")
        def test_since_99(amended):
            print("AMENDED", amended)

        @pytest.mark.claim("ch05.plain-claim")
        def test_not_amended_at_all(amended):
            pass
    """)
    result = project.run("-s", "-v")
    result.assert_outcomes(passed=2, errors=1)
    past_2_0 = tuple(int(p) for p in re.findall(r"\d+", torch.__version__)[:2]) >= (2, 0)
    result.stdout.fnmatch_lines([f"*AMENDED {past_2_0}*", "*AMENDED False*"])
    result.stdout.fnmatch_lines(["*needs a claim with an 'amended' entry*ch05.plain-claim*"])


# -- the entry point ----------------------------------------------------------------------------------


def test_the_plugin_is_an_entry_point_loaded_once(project):
    """The entry point is named after the module, so ``-p claims.plugin`` names the same plugin: it loads
    once, under one name, however it is asked for."""
    from importlib import metadata

    points = (
        metadata.entry_points().get("pytest11", [])
        if sys.version_info < (3, 10)
        else metadata.entry_points(group="pytest11")
    )
    assert {ep.value for ep in points if ep.name == "claims.plugin"} == {"claims.plugin"}
    project.write_tests(PLAIN_TEST)
    result = project.run("-p", "claims.plugin", "--device", "cpu", "--trace-config")
    result.assert_outcomes(passed=1)
    registered = [line for line in result.stdout.lines if line.startswith("PLUGIN registered: <module 'claims.plugin'")]
    assert len(registered) == 1, registered


def test_options_take_their_value_after_a_space(project, tmp_path):
    """--ledger PATH, --luna-root DIR, --cifar10-root DIR: the entry point registers them before pytest reads
    the command line, so the value may follow after a space, even a path in another project."""
    project.write_tests(PLAIN_TEST)
    outside = tmp_path / "elsewhere" / "ledger.json"
    outside.parent.mkdir()
    (outside.parent / "pytest.ini").write_text("[pytest]\nmarkers = theirs\n")  # another project's
    for _ in range(2):  # the second time the file exists: it must not be taken for a test path
        result = project.run("--ledger", str(outside), "--device", "cpu")
        result.assert_outcomes(passed=1)
        seeded = [line for line in result.stdout.lines if "randomly-seed" in line]  # pytest-randomly's header
        assert not seeded, f"the project's addopts say -p no:randomly, yet: {seeded}"
    assert outside.is_file()
    result = project.run("--luna-root", str(tmp_path / "nowhere"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--luna-root {tmp_path / 'nowhere'}: no such directory*"])
    result = project.run("--cifar10-root", str(tmp_path / "nowhere"))
    result.stderr.fnmatch_lines([f"*--cifar10-root {tmp_path / 'nowhere'}: no such directory*"])


def test_the_suite_runs_from_another_directory_with_the_plugin_named_too(project, tmp_path, monkeypatch):
    project.write_tests(PLAIN_TEST)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = project.run("-p", "claims.plugin", str(project.path), "--device", "cpu")
    result.assert_outcomes(passed=1)
    assert (project.path / "reports" / "ledger.json").is_file(), "the ledger goes under the project root"
    assert not (elsewhere / "reports").exists()


def test_in_another_project_the_plugin_stays_inert(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:randomly\n")
    pytester.makepyfile(
        test_other="""
        import random

        def test_unseeded(device):
            assert device.type == "cpu"  # the fixture exists, but nothing is parametrized
            assert random.random() != 0.5
    """
    )
    result = pytester.runpytest_inprocess("-v")
    result.assert_outcomes(passed=1)
    assert "dlwpt-claims: torch" not in result.stdout.str() and "devices:" not in result.stdout.str()
    assert "[cuda]" not in result.stdout.str() and "claims ==" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()
    result = pytester.runpytest_inprocess("--ledger", "x.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ledger: the dlwpt-claims plugin is not on in this project*"])


# -- data sets ------------------------------------------------------------------------------------------


def test_data_root_fixtures_skip_with_the_reason_when_not_given(project, monkeypatch):
    monkeypatch.delenv("CIFAR10_ROOT", raising=False)
    project.write_tests("""
        import pytest

        @pytest.mark.claim("ch05.plain-claim")
        def test_real_cifar(cifar10_root):
            pass
    """)
    result = project.run("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*needs --cifar10-root DIR (or $CIFAR10_ROOT): the real CIFAR-10*"])


@pytest.mark.parametrize("option, env", [("--luna-root", "LUNA16_ROOT"), ("--cifar10-root", "CIFAR10_ROOT")])
def test_a_data_root_that_is_not_the_data_set_stops_the_run_in_one_line(project, tmp_path, monkeypatch, option, env):
    monkeypatch.delenv(env, raising=False)
    project.write_tests(PLAIN_TEST)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = project.run(option, str(empty))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR")]
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: {option} {empty}: not the real"), result.stderr.str()
    assert "passed" not in result.stdout.str()
    monkeypatch.setenv(env, str(empty))
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: ${env} {empty}: not the real*"])


def test_bad_input_is_reported_in_one_line_naming_the_file(project):
    project.write_tests("""
        import pytest
        from claims.errors import DataFileError

        @pytest.fixture
        def data():
            raise DataFileError("data/candidates.csv", "row 7 has 4 fields instead of 5")

        @pytest.mark.claim("ch05.plain-claim")
        def test_reads_data(data):
            pass
    """)
    result = project.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["bad input: data/candidates.csv: row 7 has 4 fields instead of 5"])
    assert "Traceback" not in result.stdout.str() and "raise DataFileError" not in result.stdout.str()
