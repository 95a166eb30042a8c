"""The plugin: the device fixture and --device, seeding, the report header, data-set options."""
import re

import pytest
import torch

DEVICE_TEST = """
import pytest

@pytest.mark.claim("ch05.plain-claim")
def test_on_device(device):
    print("RAN ON", device)
"""


def test_every_claim_runs_on_cpu_and_cuda_is_collected(project):
    project.write_tests(DEVICE_TEST)
    result = project.run("-v", "-rs")
    result.stdout.fnmatch_lines(["*test_on_device?cpu? PASSED*", "*test_on_device?cuda?*"])
    if not torch.cuda.is_available():
        result.stdout.fnmatch_lines(["*SKIPPED*CUDA is not available*"])


def test_device_option_restricts_the_devices(project):
    project.write_tests(DEVICE_TEST)
    result = project.run("--device", "cpu", "-v")
    result.assert_outcomes(passed=1)
    assert "cuda" not in result.stdout.str().split("test session starts")[1].split("claims ==")[0].replace(
        "CUDA", "")


@pytest.mark.parametrize("value", ["gpu", "cpu,tpu", ","])
def test_unknown_device_is_a_usage_error_naming_the_valid_names(project, value):
    project.write_tests(DEVICE_TEST)
    result = project.run("--device", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--device: unknown device*valid names are cpu, cuda, mps*"])


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
    result.stdout.fnmatch_lines([
        f"dlwpt-claims: torch {torch.__version__}, torchvision *, numpy *, SimpleITK *, Python *",
        "devices: cpu; CPU threads *; CUDA * (build), cuDNN *; GPU *",
    ])


def test_a_data_root_that_does_not_exist_is_a_usage_error(project):
    project.write_tests(DEVICE_TEST)
    result = project.run("--luna-root", "/nowhere/luna")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--luna-root /nowhere/luna: no such directory*"])


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
    result.stdout.fnmatch_lines(["*no the real CIFAR-10*pass --cifar10-root DIR or set $CIFAR10_ROOT*"])


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
