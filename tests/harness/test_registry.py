"""The registry is validated when pytest collects: every problem is one clear error."""

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
