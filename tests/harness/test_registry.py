"""The registry is validated when pytest collects: every problem is one clear error."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PASSING = """
import pytest

@pytest.mark.claim("ch05.plain-claim")
def test_plain(device):
    assert True
"""


def test_a_valid_registry_collects(project):
    project.write_tests(PASSING)
    result = project.run("--device", "cpu")
    result.assert_outcomes(passed=1)


def test_unknown_claim_id_is_a_collection_error_naming_test_and_id(project):
    project.write_tests("""
        import pytest

        @pytest.mark.claim("ch05.no-such-claim")
        def test_typo():
            pass
    """)
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_claims.py::test_typo: names unknown claim 'ch05.no-such-claim'*"])


def test_duplicate_id_names_both_places(project):
    project.write_registry(
        """
        [[claim]]
        id = "ch05.plain-claim"
        chapter = 5
        page = 111
        statement = "The same id again."
        source = "111 - again"
    """,
        name="zz_more.toml",
    )
    project.write_tests(PASSING)
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*duplicate claim id 'ch05.plain-claim':*claims.toml (claim #1) and *zz_more.toml (claim #1)*"]
    )


@pytest.mark.parametrize(
    "record, message",
    [
        ('id = "ch05.x"\nchapter = 5\nstatement = "s"\nsource = "s"', "field 'page' is missing"),
        (
            'id = "ch05.x"\nchapter = 5\npage = "ten"\nstatement = "s"\nsource = "s"',
            "field 'page' must be a positive integer, got 'ten'",
        ),
        ('id = "Ch5 bad id"\nchapter = 5\npage = 1\nstatement = "s"\nsource = "s"', "field 'id' must look like"),
        ('id = "ch05.x"\nchapter = 7\npage = 1\nstatement = "s"\nsource = "s"', "field 'chapter' is 7 but the id says"),
        ('id = "ch05.x"\nchapter = 5\npage = 1\nstatement = ""\nsource = "s"', "field 'statement' must be a non-empty"),
        (
            'id = "ch05.x"\nchapter = 5\npage = 1\nstatement = "s"\nsource = "s"\n'
            'amended = { since = "two" , now = "n" }',
            "field 'amended.since' must be a torch version",
        ),
        (
            'id = "ch05.x"\nchapter = 5\npage = 1\nstatement = "s"\nsource = "s"\nverdict = "holds"',
            "field 'verdict' is not a claim field",
        ),
    ],
)
def test_malformed_record_names_file_and_field(project, record, message):
    path = project.write_registry("[[claim]]\n" + record + "\n", name="bad.toml")
    project.write_tests(PASSING)
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*claim registry: {path}*(claim #1)*{message}*"])
    assert "Traceback" not in result.stderr.str()


def test_invalid_toml_names_the_file(project):
    path = project.write_registry("[[claim]\nid = ", name="broken.toml")
    project.write_tests(PASSING)
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*claim registry: {path}: not valid TOML*"])


def test_the_real_registry_loads_and_every_id_matches_its_file():
    from claims.registry import DEFAULT_DIR, load_registry

    claims = load_registry()
    assert claims, "the shipped registry must not be empty"
    for claim in claims.values():
        assert claim.origin.startswith(str(DEFAULT_DIR / f"ch{claim.chapter:02d}")), claim.origin


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("skeptic_faults", '"one-name"', "field 'skeptic_faults' must be a list of fault names"),
        ("skeptic_faults", '["a", "a"]', "field 'skeptic_faults' names a fault twice"),
        ("book_code", '""', "field 'book_code' must be a non-empty string"),
    ],
)
def test_a_malformed_new_field_names_file_and_field(project, field, value, message):
    record = f'id = "ch05.x"\nchapter = 5\npage = 1\nstatement = "s"\nsource = "s"\n{field} = {value}'
    path = project.write_registry("[[claim]]\n" + record + "\n", name="bad.toml")
    project.write_tests(PASSING)
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*claim registry: {path}*(claim #1)*{message}*"])


# A statement that says one thing causes, prevents, reduces or needs another states an effect, and a doubting
# reader can change the experiment so that the effect is absent: such a claim names a skeptic's fault.
EFFECT_WORDS = re.compile(
    r"\b(prevent(s|ed|ing)?|reduc(e|es|ed|ing)|caus(e|es|ed|ing)|needs?|better|saturat\w*|eas(e|es|ed|ing)|"
    r"los(e|es|ing)|improv\w*|help(s|ed)?|less sensitive|converg\w*|vanish\w*|explod\w*|generaliz\w*|faster|"
    r"slower|(un)?stable|robust)\b",
    re.IGNORECASE,
)
# Statements the words above match that state no effect a changed experiment could take away (each with why).
NOT_AN_EFFECT: dict[str, str] = {
    "ch07.view-shares-storage-with-its-base": "'needs' is view's precondition (compatible strides), not an effect",
    "ch07.minibatch-gradient-is-mean-of-sample-gradients": "'mean-reduced' names the loss's reduction argument",
    "ch06.conv2d-needs-a-batch-dimension-for-one-image": "'needs' is which inputs Conv2d accepts, an API's requirement",
    "ch06.modules-expect-a-leading-batch-dimension": "'need' is which inputs a layer accepts, an API's requirement",
    "ch06.modules-read-dimension-zero-as-the-batch": "'need' (the notes' words) is which inputs Linear accepts",
    "ch10.dataset-needs-len-and-getitem": "an API's requirement (refuted: only __getitem__ is), not an effect",
}


def effect_claims_without_a_skeptics_fault(chapter: int) -> list[str]:
    from claims.registry import load_registry

    return [
        f"{claim.id}: {sorted({m.group(0).lower() for m in EFFECT_WORDS.finditer(claim.statement)})}"
        for claim in load_registry().values()
        if claim.chapter == chapter
        and not claim.uncheckable
        and EFFECT_WORDS.search(claim.statement)
        and not claim.skeptic_faults
        and claim.id not in NOT_AN_EFFECT
    ]


@pytest.mark.parametrize("chapter", [5, 6, 7, 8, 10], ids=lambda c: f"ch{c:02d}")
def test_every_claim_that_states_an_effect_names_a_skeptics_fault(chapter):
    missing = effect_claims_without_a_skeptics_fault(chapter)
    assert not missing, "these statements state an effect but name no skeptic's fault:\n" + "\n".join(missing)


# MPS has no float64: a test that takes `device` and makes float64 tensors must compute them on the CPU (an
# expression that names "cpu") or skip that case on such a device (claims.devices.dtype_or_skip).
FLOAT64_NAMES = {"float64", "double", "float_dtypes"}


def _mentions_float64(node) -> bool:
    return any(
        (isinstance(n, ast.Attribute) and n.attr in FLOAT64_NAMES)
        or (isinstance(n, ast.Name) and n.id in FLOAT64_NAMES)
        or (isinstance(n, ast.Constant) and n.value == "float64")
        for n in ast.walk(node)
    )


def _names_cpu(node) -> bool:
    """The statement puts its float64 on the CPU: ``device="cpu"``, ``.cpu()``, ``.numpy()``."""
    return any(
        (isinstance(n, ast.Constant) and n.value == "cpu")
        or (isinstance(n, ast.Attribute) and n.attr in ("cpu", "numpy"))
        for n in ast.walk(node)
    )


def float64_on_a_device_without_a_skip(chapter: int) -> list[str]:
    found = []
    for path in sorted((Path(__file__).parents[1] / f"ch{chapter:02d}").glob("test_*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, ast.FunctionDef) or "device" not in [a.arg for a in fn.args.args]:
                continue
            if any(isinstance(n, ast.Call) and "dtype_or_skip" in ast.dump(n.func) for n in ast.walk(fn)):
                continue
            statements = [*fn.decorator_list, *(n for n in ast.walk(fn) if isinstance(n, ast.stmt) and n is not fn)]
            lines = sorted(
                {
                    s.lineno
                    for s in statements
                    if not isinstance(s, (ast.If, ast.For, ast.With)) and _mentions_float64(s) and not _names_cpu(s)
                }
            )
            if lines:
                found.append(f"{path.name}::{fn.name} (lines {', '.join(map(str, lines))})")
    return found


@pytest.mark.parametrize("chapter", [5, 6, 7, 8, 10], ids=lambda c: f"ch{c:02d}")
def test_float64_on_the_tests_device_is_skipped_where_the_device_has_none(chapter):
    found = float64_on_a_device_without_a_skip(chapter)
    assert not found, "float64 on `device` without claims.devices.dtype_or_skip (MPS has none):\n" + "\n".join(found)
