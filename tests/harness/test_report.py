"""`python -m claims report`: the static site and the Markdown form, from small ledgers written here and from
the version matrix's twelve ledgers (docs/matrix/), as a reader sees them (headless Chromium, where installed)."""

import json
import random
import time

import pytest

from claims.registry import load_registry
from claims.report import main, model, site
from tests.harness.helpers import make_project
from tests.harness.report_helpers import (
    AMENDED,
    BENCHMARKS,
    CHROMIUM,
    MATRIX,
    cells,
    claim,
    in_chromium,
    ledger,
    parse,
    standard_claims,
    write,
)

PNG = b"\x89PNG\r\n\x1a\n"
NEEDS_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"
)


@pytest.fixture
def root(tmp_path):
    return make_project(tmp_path / "project")


def report(root, *ledgers, extra=()):
    """Render ``ledgers`` (documents) into root/site; returns the site directory."""
    paths = [str(write(root / f"ledger{n}.json", doc)) for n, doc in enumerate(ledgers, start=1)]
    site_dir = root / "site"
    assert main([*paths, "-o", str(site_dir), "--root", str(root), *extra]) == 0
    return site_dir


def row(index, claim_id):
    return index.find("tr", id=claim_id)


def verdicts(index, claim_id):
    return [cell.find("span", cls="v").text for cell in cells(row(index, claim_id))]


def test_index_lists_every_claim_in_book_order_with_its_verdict_page_and_notes_line(root):
    site_dir = report(root, ledger(list(reversed(standard_claims()))))
    index = parse(site_dir / "index.html")

    rows = [r.attrs["id"] for r in index.find_all("tr") if r.attrs.get("id")]
    assert rows == ["ch05.plain-claim", "ch05.changed-claim", "ch07.wrong-claim"], "chapter then page order"
    assert verdicts(index, "ch05.plain-claim") == ["holds"]
    assert verdicts(index, "ch05.changed-claim") == ["amended"]
    assert "since torch 2.0" in row(index, "ch05.changed-claim").find("td", cls="verdict").text
    assert verdicts(index, "ch07.wrong-claim") == ["refuted"]
    plain = row(index, "ch05.plain-claim")
    assert plain.find("td", cls="page").text == "p. 110"
    assert plain.find("span", cls="notes").text == "The notes, p. 110: \u201ca line of the notes\u201d", (
        "an old ledger without 'source' gets the notes' line from the registry, labelled as the notes'"
    )
    assert plain.find("a", cls="statement").attrs["href"] == "claims/ch05.plain-claim.html"

    counts = {
        r.find("th").text: [td.text for td in r.find_all("td", cls="num")]
        for r in index.find("table", cls="counts").find_all("tr")[1:]
    }
    assert counts["holds"] == ["1"] and counts["amended"] == ["1"] and counts["refuted"] == ["1"]
    legend = index.find("dl", cls="meanings")
    meanings = {dt.text: dd.text for dt, dd in zip(legend.find_all("dt"), legend.find_all("dd"))}
    assert meanings["refuted"].startswith("the tests passed and show the notes' statement is wrong")
    folded = index.find("p", cls="folded").text
    assert folded == (
        "Not shown as a column: cuda on torch 2.14.1: all 3 claims with tests on cuda were skipped: "
        "CUDA is not available."
    )


def test_columns_are_named_by_release_and_device_in_release_order_whatever_the_order_given(root):
    old = ledger(standard_claims(), torch="1.4.0")
    old["claims"][1]["results"]["cpu"]["verdict"] = "holds"  # before 2.0 the amended claim held
    new = ledger(standard_claims(plain="fails"), torch="2.14.1+cu130", gpu="NVIDIA H100 80GB HBM3")
    new["claims"][0]["results"]["cuda"] = {"verdict": "holds", "tests": 1, "seconds": 0.1}
    site_dir = report(root, new, old)  # the newer first
    index = parse(site_dir / "index.html")

    heads = [th.text for th in index.find("table", cls="claims").find_all("th", cls="col")]
    assert heads == [
        "torch 1.4.0 cpu",
        "torch 2.14.1 cpu",
        "torch 2.14.1 cuda: NVIDIA H100 80GB HBM3 (CUDA 13.0)",
    ]
    assert "+cu130: the wheel built for CUDA 13.0" in index.find("ol", cls="ledgers").text
    assert verdicts(index, "ch05.plain-claim") == ["holds", "fails", "holds"]
    plain = cells(row(index, "ch05.plain-claim"))
    assert "changed" not in plain[0].classes
    assert "changed" in plain[1].classes and plain[1].find("span", cls="was").text == "changed: was holds"
    assert "changed" not in plain[2].classes, "the cuda column has no cuda column to its left"
    changed = cells(row(index, "ch05.changed-claim"))
    assert [("changed" in c.classes) for c in changed] == [False, True, False]
    wrong = row(index, "ch07.wrong-claim").find_all("td", cls="verdict")
    assert [int(td.attrs.get("colspan") or 1) for td in wrong] == [2, 1], "two cpu columns that agree: one box"
    assert "2 cells in all" in index.find_all("p", cls="legend")[0].text
    listed = [[td.text for td in tr.find_all("td")] for tr in index.find("section", id="changes").find_all("tr")[1:]]
    assert listed == [
        ["p. 110", "The statement of ch05.plain-claim.", "cpu", "holds (torch 1.4.0)", "fails (torch 2.14.1)"],
        ["p. 127", "The statement of ch05.changed-claim.", "cpu", "holds (torch 1.4.0)", "amended (torch 2.14.1)"],
    ]
    assert "ledger 1" not in index.text and "ledger 2" not in index.text


def test_the_claim_page_says_who_said_what(root):
    claims = standard_claims()
    claims[2].update(
        source="180 - a line of the notes",
        book_code="p1ch8/1_convolution.ipynb",
        second_edition="dlwpt-code-2e builds the blocks in a loop (p2ch8/1_convolution.ipynb).",
    )
    site_dir = report(root, ledger(claims))
    page = parse(site_dir / "claims" / "ch07.wrong-claim.html")

    assert "The book says" not in page.text and "THE BOOK SAYS" not in page.text
    assert page.find("p", cls="kicker").text.startswith("The claim, as this suite states it")
    assert page.find("h1").text == "The statement of ch07.wrong-claim."
    facts = page.find("dl", cls="facts")
    assert facts.find("dt").text == "The notes, p. 180"
    assert facts.find("dd", cls="notes").find("q").text == "a line of the notes", "quoted, without its page number"
    code = facts.find("dd", cls="book-code").find("a")
    assert (
        code.attrs["href"]
        == "https://github.com/deep-learning-with-pytorch/dlwpt-code/blob/master/p1ch8/1_convolution.ipynb"
    )
    edition = page.find("aside", cls="second-edition")
    assert edition.find("h3").text == "The authors' own change, in the second edition"
    assert "builds the blocks in a loop" in edition.text
    assert "Second edition" in row(parse(site_dir / "index.html"), "ch07.wrong-claim").text
    refuted = page.find("section", cls="refuted")
    assert refuted.find("h2").text == "Refuted: the notes' statement is wrong or too broad"
    assert refuted.find("a").attrs["href"] == "https://github.com/deep-learning-with-pytorch/dlwpt-code/issues/89"
    amended = parse(site_dir / "claims" / "ch05.changed-claim.html").find("section", cls="amended")
    assert amended.find("h2").text == "What PyTorch does now: amended since torch 2.0"
    assert amended.find("a").attrs["href"] == "https://github.com/pytorch/pytorch/issues/137602"


def test_claim_page_has_its_tests_source_evidence_plot_and_the_way_around(root):
    site_dir = report(root, ledger(standard_claims()))
    page = parse(site_dir / "claims" / "ch07.wrong-claim.html")

    test = page.find("article", id="test_wrong_depth")
    assert test.find("p", cls="where").text == "tests/ch05/test_fake.py:14"
    assert test.find("div", cls="doc").text == "p.180: gradient norm against depth."
    source = test.find("div", cls="highlight")
    assert "def test_wrong_depth(device, evidence):" in source.text
    assert source.find("span", cls="linenos").text == "14", "numbered as in the file"
    assert "Module docstring: how the margins were measured." in page.find("div", cls="module-doc").text
    evidence = {
        r.find("th").text: [v.text for v in r.find("td").find_all("span", cls="value")]
        for r in test.find("table", cls="evidence").find_all("tr")[1:]
    }
    assert evidence["without_skips"] == ["10: 1", "50: 1e-06", "100: 0"]
    img = test.find("figure").find("img")
    assert (site_dir / "claims" / img.attrs["src"]).read_bytes()[:8] == PNG
    assert img.attrs["alt"].startswith("Plot: wrong depth.")
    assert "without skips: 0 at 100, not drawn on the log axis" in test.find("figcaption").text

    crumbs = page.find("nav", cls="crumbs")
    assert crumbs.find("a", cls="row-link").attrs["href"] == "../index.html#ch07.wrong-claim"
    assert crumbs.find("a", rel="prev").attrs["href"] == "ch05.changed-claim.html"
    assert not crumbs.find_all("a", rel="next"), "the last claim has no next"
    first = parse(site_dir / "claims" / "ch05.plain-claim.html").find("nav", cls="crumbs")
    assert first.find("a", rel="next").attrs["href"] == "ch05.changed-claim.html"


def test_a_loss_curve_is_plotted_and_a_test_without_series_is_not(root):
    site_dir = report(root, ledger(standard_claims()))
    page = parse(site_dir / "claims" / "ch05.plain-claim.html")
    figures = page.find_all("figure")
    assert len(figures) == 1 and "losses" in figures[0].find("img").attrs["alt"]
    assert sorted(p.name for p in (site_dir / "figures" / "ch05.plain-claim").iterdir()) == ["test_plain.png"]


def test_an_unknown_claim_is_shown_and_marked(root):
    doc = ledger(standard_claims() + [claim("ch07.gone-from-the-registry", 7, 190, {"cpu": {"verdict": "holds"}})])
    site_dir = report(root, doc)
    index = parse(site_dir / "index.html")
    assert verdicts(index, "ch07.gone-from-the-registry") == ["holds"]
    assert "unknown claim" in row(index, "ch07.gone-from-the-registry").find("span", cls="unknown").text
    page = parse(site_dir / "claims" / "ch07.gone-from-the-registry.html")
    assert "the registry no longer has the id" in page.find("p", cls="unknown").text


FALSIFICATION = {
    "created": "2026-11-27T07:00:00+00:00",
    "torch": "2.14.1",
    "score": {
        "falsifiable": 2,
        "claims": 3,
        "unfalsifiable": 1,
        "uncheckable": 0,
        "not_run": 0,
        "failing": 0,
        "faults": {"tried": 4, "caught": 3},
        "skeptic_faults": {"tried": 1, "caught": 1},
        "claims_with_skeptic_faults": 1,
    },
    "claims": {
        "ch07.wrong-claim": {
            "verdict": "falsifiable",
            "faults": {"view-copies": {"caught": ["test_wrong_depth"]}},
            "skeptic_faults": {"skips-too-weak": {"caught": ["test_wrong_depth"]}},
        }
    },
}
PRINTED = {"outputs": 80, "reproducible": 60, "asserted": 41, "not_asserted": {"unseeded": 20}}


def test_newer_ledger_fields_partial_not_run_faults_of_both_kinds_and_printed_outputs(root):
    claims = standard_claims()
    claims[0]["results"]["cpu"].update(
        partial=True, passed=1, skipped=1, not_run=0, skip_reasons={"no the real CIFAR-10": 1}
    )
    claims[1]["results"]["cpu"] = {"verdict": "not-run", "tests": 2, "not_run": 2}
    claims[2].update(
        checked_by=["tests/ch05/test_fake.py::test_wrong_depth"],
        faults=["view-copies"],
        skeptic_faults=["skips-too-weak"],
    )
    run = {"scope": "partial", "executed": True, "problem": "interrupted", "selection": ["-k", "adam"]}
    doc = ledger(claims, run=dict(run, devices=["cpu", "cuda"]), falsification=FALSIFICATION, printed=PRINTED)
    site_dir = report(root, doc)
    index = parse(site_dir / "index.html")
    assert verdicts(index, "ch05.plain-claim") == ["holds (partial)"]
    assert "skipped (1): no the real CIFAR-10" in row(index, "ch05.plain-claim").text
    assert verdicts(index, "ch05.changed-claim") == ["not run"]
    notes = " ".join(w.text for w in index.find_all("div", cls="warning"))
    assert "the run had a problem: interrupted" in notes and "partial run (selected with -k adam)" in notes
    score = index.find("p", cls="falsification").text
    assert "2/3 claims proven falsifiable" in score
    assert "planted faults 3/4 caught" in score and "skeptic's faults 1/1 caught" in score
    assert "41 asserted of the 60 a test can reproduce (80 listed" in index.find("p", cls="printed").text

    page = parse(site_dir / "claims" / "ch07.wrong-claim.html")
    facts = page.find("dl", cls="facts").text
    assert "Planted faults view-copies" in facts and "Skeptic's faults skips-too-weak" in facts
    tables = page.find("section", cls="falsify").find_all("table")
    assert [t.find("th").text for t in tables] == ["planted fault", "skeptic's fault"]
    assert "skips-too-weak" in tables[1].text

    printed = parse(site_dir / "claims" / "ch05.plain-claim.html").find("section", cls="printed")
    cell = printed.find("tbody").find("tr")
    assert cell.find("a").attrs["href"].endswith("dlwpt-code/blob/master/p1ch5/1_parameter_estimation.ipynb")
    assert "In[17]" in cell.text and "1763.884644" in cell.text and "test_plain" in cell.text
    assert not parse(site_dir / "claims" / "ch07.wrong-claim.html").find_all("section", cls="printed")


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "no such ledger file"),
        ("", "the file is empty"),
        ("{not json", "not a JSON file (line 1"),
        ({"created": "x", "environment": {}, "claims": []}, "it has no 'schema' (an older ledger format"),
        ({"schema": 0, "created": "x", "environment": {}, "claims": []}, "written with ledger schema 0, older than"),
        ({"schema": 1, "created": "x", "environment": {}, "claims": [], "summary": {}}, "the ledger holds no claims"),
        (
            {"schema": 1, "created": "x", "environment": {}, "claims": [{"id": "a"}], "summary": {}},
            "claims[0] has no 'chapter'",
        ),
        (
            {"schema": 1, "created": "x", "environment": {}, "claims": [claim("ch05.a", 5, 1, {}, book_code=7)]},
            "'summary' is missing",
        ),
    ],
)
def test_a_bad_ledger_is_one_error_line_naming_the_file(tmp_path, capsys, content, problem):
    path = tmp_path / "ledger.json"
    if content is not None:
        write(path, content if isinstance(content, str) else json.dumps(content))
    assert main([str(path), "-o", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: ") and problem in err, err
    assert not (tmp_path / "site").exists()


def test_the_report_and_the_commands_read_ledgers_through_one_check():
    """One validator (claims.ledger.validate): a field a newer run adds is checked where present, and an
    older ledger without it reads."""
    from claims.ledger import validate

    doc = ledger(standard_claims())
    assert validate(doc) is None, "no run, falsification, printed, book_code or skeptic_faults: still a ledger"
    doc["claims"][0]["book_code"] = 7
    problem = "claims[0] ('ch05.plain-claim').book_code must be a string or null, got 7"
    assert validate(doc) == f"not a valid ledger: {problem}"
    doc["claims"][0]["book_code"] = None
    doc["printed"] = {"outputs": "80"}
    assert validate(doc) == 'not a valid ledger: printed.outputs must be a count, got "80"'


def test_markdown_has_counts_the_claims_that_do_not_hold_and_the_differences(root, capsys):
    old = write(root / "old.json", ledger(standard_claims(), torch="1.4.0"))
    new = write(root / "new.json", ledger(standard_claims(plain="fails"), torch="2.14.1"))
    out = root / "summary.md"
    assert main([str(new), str(old), "--format", "markdown", "-o", str(out), "--root", str(root)]) == 0
    text = out.read_text()
    verdicts_section, others, diffs = text.split("\n### ")[1:4]
    assert "| verdict | torch 1.4.0, cpu | torch 2.14.1, cpu |" in verdicts_section, "release order, named"
    assert "| holds | 1 | 0 |" in verdicts_section and "| fails | 0 | 1 |" in verdicts_section
    assert "- `refuted`: the tests passed and show the notes' statement is wrong" in verdicts_section
    assert "\n- cuda on all 2 ledgers: all 3 claims with tests on cuda were skipped" in verdicts_section
    assert others.startswith("3 claims that do not simply hold")
    assert "**Instead:** What is true instead ([github.com/deep-learning-with-pytorch/dlwpt-code/issues/89](" in others
    assert "**fails** (was holds)" in others
    assert diffs.startswith("What differs between the ledgers")
    assert "| 110 | `ch05.plain-claim` | cpu | holds (torch 1.4.0) | **fails** (torch 2.14.1) |" in diffs
    assert "<" not in text.replace("<br>", ""), "no HTML beyond line breaks in table cells"

    assert main([str(new), "--format", "markdown", "--root", str(root)]) == 0
    assert "One ledger: nothing to compare." in capsys.readouterr().out


def test_markdown_keeps_the_space_before_a_citation_and_lists_falsification_and_printed_outputs(root, capsys):
    claims = standard_claims()
    claims[1]["amended"] = dict(AMENDED, now="Many layers gained no-batch-dim support, pytorch/pytorch#60585, in 1.11.")
    path = write(root / "ledger.json", ledger(claims, falsification=FALSIFICATION, printed=PRINTED))
    assert main([str(path), "--format", "markdown", "--root", str(root)]) == 0
    text = capsys.readouterr().out
    assert "support, [pytorch/pytorch#60585](https://github.com/pytorch/pytorch/issues/60585), in 1.11." in text
    lines = text.splitlines()
    score = next(n for n, line in enumerate(lines) if line.startswith("- Falsification: "))
    assert "planted faults 3/4 caught, skeptic's faults 1/1 caught" in lines[score]
    assert lines[score + 1].startswith("- Printed outputs: the book's printed outputs: 41 asserted of the 60")


def test_the_site_needs_no_network_and_rewrites_its_own_directory(root):
    site_dir = report(root, ledger(standard_claims()))
    for page in [site_dir / "index.html", *sorted((site_dir / "claims").glob("*.html"))]:
        doc = parse(page)
        for element in doc.find_all("link") + doc.find_all("img") + doc.find_all("script"):
            ref = element.attrs.get("href") or element.attrs.get("src") or ""
            assert "//" not in ref and (page.parent / ref).is_file(), f"{page.name}: {ref}"
    (site_dir / "claims" / "ch09.stale.html").write_text("from an earlier report")
    report(root, ledger(standard_claims()[:1]))
    assert sorted(p.name for p in (site_dir / "claims").iterdir()) == ["ch05.plain-claim.html"]


def test_a_directory_that_is_not_a_site_is_left_alone(root, capsys):
    path = write(root / "ledger.json", ledger(standard_claims()))
    assert main([str(path), "-o", str(root), "--root", str(root)]) == 2
    assert "not empty and not a report site written before" in capsys.readouterr().err
    assert not (root / "index.html").exists()


def test_outside_the_project_root_the_report_is_one_error_line_unless_asked_for_no_sources(root, tmp_path, capsys):
    path = str(write(root / "ledger.json", ledger(standard_claims())))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert main([path, "-o", str(tmp_path / "site"), "--root", str(elsewhere)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {elsewhere / 'tests'}: no test sources there"), err
    assert not (tmp_path / "site").exists()

    assert main([path, "-o", str(tmp_path / "site"), "--root", str(elsewhere), "--no-sources"]) == 0
    page = parse(tmp_path / "site" / "claims" / "ch05.plain-claim.html")
    assert "Source not found" not in page.text and page.find("table", cls="evidence")


def test_benchmarks_page_shows_the_ceiling_a_real_benchmark_run_wrote(root):
    """tests/harness/data/benchmarks.json is the file `pytest tests/benchmarks --benchmark-json` wrote (three
    benchmarks): its matmul ceiling is the file's dlwpt_matmul_ceiling, not a benchmark of its own."""
    recorded = json.loads(BENCHMARKS.read_text())
    ceiling = recorded["dlwpt_matmul_ceiling"]["cpu"]["flop_per_s"]
    site_dir = report(root, ledger(standard_claims()), extra=["--benchmarks", str(BENCHMARKS)])
    page = parse(site_dir / "benchmarks.html")
    assert (site_dir / page.find("img").attrs["src"]).read_bytes()[:8] == PNG
    assert f"Measured float32 matrix-multiply ceiling: cpu {ceiling / 1e9:.1f} GFLOP/s" in page.text
    rows = [[td.text for td in tr.find_all("td")] for tr in page.find("table").find_all("tr")[1:]]
    first = recorded["benchmarks"][0]["extra_info"]
    assert rows[0][:4] == ["fc_deep", "cpu", "inference", "1"]
    assert rows[0][6] == f"{100 * first['fraction_of_ceiling']:.1f} %"
    assert parse(site_dir / "index.html").find("a", href="benchmarks.html")


def test_a_missing_benchmark_file_is_one_error_line(root, capsys):
    path = str(write(root / "ledger.json", ledger(standard_claims())))
    assert main([path, "-o", str(root / "site"), "--root", str(root), "--benchmarks", str(root / "nope.json")]) == 2
    assert "nope.json: no such benchmark file" in capsys.readouterr().err


# -- the version matrix's twelve ledgers -----------------------------------------------------------------------


def changed_cells(report) -> list:
    return [(c.id, col.ledger.name, cell.changed_from, cell.text) for c, col, cell in report.differences()]


def test_the_matrix_ledgers_give_the_same_report_in_any_order():
    """docs/matrix/: twelve ledgers, 1.10.2 sorting after 1.4.0 and lowest.json placed by its torch: 9 cells
    changed (six amendments where they flip, three claims that rest on all their tests from a release on)."""
    paths = sorted(MATRIX.glob("*.json"))
    registry = load_registry()
    shuffled = list(paths)
    random.Random(0).shuffle(shuffled)
    reports = [model.build(order, registry) for order in (paths, paths[::-1], shuffled)]
    first = reports[0]
    assert [ledger_.name for ledger_ in first.ledgers] == [
        "torch 1.4.0",
        "torch 1.4.0 (lowest)",
        "torch 1.6.0",
        "torch 1.7.0",
        "torch 1.10.2",
        "torch 1.11.0",
        "torch 1.13.1",
        "torch 2.0.1",
        "torch 2.5.1",
        "torch 2.6.0",
        "torch 2.14.1",
        "torch 2.15.0",
    ]
    assert changed_cells(first) == [
        ("ch05.optimizer-zero-grad-zeros-its-parameters-grads", "torch 2.0.1", "holds", "amended"),
        ("ch06.conv2d-needs-a-batch-dimension-for-one-image", "torch 1.11.0", "holds", "amended"),
        ("ch07.torchvision-datasets-are-datasets-of-image-label-pairs", "torch 1.7.0", "holds", "amended"),
        ("ch07.download-true-fetches-only-a-missing-or-corrupt-copy", "torch 2.6.0", "holds", "amended"),
        ("ch07.to-tensor-is-not-deprecated-and-v2-gives-the-same-tensor", "torch 2.5.1", "holds (partial)", "holds"),
        ("ch07.float32-mean-of-a-cifar10-channel-drifts-in-the-fourth-decimal", "torch 1.7.0", "holds", "amended"),
        ("ch08.torch-save-writes-the-state-dict-to-a-file", "torch 1.6.0", "holds (partial)", "holds"),
        ("ch08.torch-load-reads-back-the-state-dict", "torch 1.13.1", "holds (partial)", "holds"),
        ("ch08.legacy-checkpoints-load-on-every-release", "torch 1.13.1", "holds (partial)", "holds"),
    ]
    for other in reports[1:]:
        assert changed_cells(other) == changed_cells(first)
    when = "2026-11-27 06:00 UTC"
    assert site.render_index(reports[1], when) == site.render_index(first, when)
    assert site.markdown(reports[2]) == site.markdown(first)
    assert [(d, names) for d, _, names in first.folded_groups()] == [("cuda", [n.name for n in first.ledgers])]


@pytest.fixture(scope="module")
def matrix_site(tmp_path_factory):
    """The site of the twelve ledgers, with this project's tests as the sources; without plots (the tests
    that read it look at the pages, the plots have tests of their own), which take most of its 2 s."""
    out = tmp_path_factory.mktemp("matrix") / "site"
    start = time.perf_counter()
    assert main([*map(str, sorted(MATRIX.glob("*.json"))), "-o", str(out), "--no-plots"]) == 0
    assert not (out / "figures").exists() or not any((out / "figures").rglob("*.png"))
    assert time.perf_counter() - start < 60
    return out


def test_every_claim_of_the_registry_gets_a_page_with_its_tests_source(matrix_site):
    pages = list((matrix_site / "claims").glob("*.html"))
    assert len(pages) == len(json.loads((MATRIX / "2.15.0.json").read_text())["claims"]) == 165
    with_source = [p for p in pages if '<div class="highlight">' in p.read_text(encoding="utf-8")]
    assert len(with_source) >= 0.9 * len(pages), "the tests are found from checked_by and @pytest.mark.claim"


ANCHORS = """
const bar = document.querySelector('nav.top').getBoundingClientRect().bottom;
const out = {width: document.documentElement.scrollWidth, room: document.documentElement.clientWidth, at: {}};
for (const id of %s) {
  location.hash = '#' + id;
  const target = document.getElementById(id);
  const head = target.closest('table') ? target.closest('table').querySelector('thead th') : null;
  out.at[id] = {top: target.getBoundingClientRect().top, bar: bar,
                head: head ? head.getBoundingClientRect().bottom : bar};
}
%s
return out;
"""
FILTER = """
const shown = () => [...document.querySelectorAll('tr.claim-row')].filter(r => r.offsetParent !== null).map(r => r.id);
out.all = shown().length;
document.getElementById('show-amended').checked = true;
out.amended = shown();
document.getElementById('in-ch06').checked = true;
out.amended_in_ch06 = shown();
document.getElementById('show-all').checked = true;
out.ch06 = shown().length;
"""


@pytest.mark.browser
@NEEDS_CHROMIUM
def test_twelve_ledgers_read_at_1400_px_with_sticky_heads_anchors_below_the_bar_and_a_filter(matrix_site):
    rows = ["ch05.optimizer-zero-grad-zeros-its-parameters-grads", "ch10.xyz2irc-inverts-irc2xyz"]
    index, page = in_chromium(
        [
            (matrix_site / "index.html", ANCHORS % (json.dumps(["ch07", "changes", *rows]), FILTER)),
            (matrix_site / rows[0].join(["claims/", ".html"]), ANCHORS % ("[]", "")),
        ]
    )
    assert index["width"] <= index["room"], f"the index scrolls sideways: {index['width']} px in {index['room']}"
    for where, at in index["at"].items():
        assert at["top"] >= at["bar"] and at["top"] >= at["head"] - 0.5, f"#{where} lands under the bar: {at}"
    for where in rows:
        assert index["at"][where]["head"] > index["at"][where]["bar"], "the column heads stay in view, below the bar"
    assert index["all"] == 165
    assert index["amended"] == [
        "ch05.optimizer-zero-grad-zeros-its-parameters-grads",
        "ch06.conv2d-needs-a-batch-dimension-for-one-image",
        "ch07.torchvision-datasets-are-datasets-of-image-label-pairs",
        "ch07.download-true-fetches-only-a-missing-or-corrupt-copy",
        "ch07.float32-mean-of-a-cifar10-channel-drifts-in-the-fourth-decimal",
    ]
    assert index["amended_in_ch06"] == ["ch06.conv2d-needs-a-batch-dimension-for-one-image"]
    assert index["ch06"] == 21

    assert page["width"] <= page["room"], f"a claim page scrolls sideways: {page['width']} px in {page['room']}"


def test_twelve_ledgers_fold_identical_skips_into_one_box(matrix_site):
    index = parse(matrix_site / "index.html")
    assert len(index.find_all("p", cls="folded")) == 1
    page = parse(matrix_site / "claims" / "ch05.optimizer-zero-grad-zeros-its-parameters-grads.html")
    folded = page.find_all("p", cls="folded")
    assert [p.text for p in folded] == ["cuda on all 12 ledgers: skipped (CUDA is not available)."]
    boxes = page.find("table", cls="verdict-table").find_all("td", cls="verdict")
    assert [(td.find("span", cls="v").text, td.attrs.get("colspan")) for td in boxes] == [
        ("holds", "7"),
        ("amended", "5"),
    ]


def test_every_figure_hint_names_a_test_of_the_suite():
    """claims/report/figures.toml labels plots by test name: a renamed test must not leave its hint behind."""
    from pathlib import Path

    from claims.report.figures import load_hints

    root = Path(__file__).resolve().parents[2]
    defined = set()
    for path in (root / "tests").glob("ch*/test_*.py"):
        defined.update(
            line.split("(")[0][len("def ") :] for line in path.read_text().splitlines() if line.startswith("def test_")
        )
    stale = sorted(set(load_hints()) - defined)
    assert not stale, f"figures.toml names tests that do not exist: {stale}"


def test_the_per_parameter_rates_plot_draws_the_shared_rates_alone_with_readable_keys(tmp_path):
    """p.119's test records the shared rates (keys in float32 noise) beside the sizes of the normalized runs:
    its plot draws the rates only, on a log axis, and the table shows the keys to 7 digits."""
    from claims.report import entries, figures

    name = "test_raw_inputs_need_a_rate_per_input_and_normalized_ones_share_one"
    recorded = json.loads((MATRIX / "2.14.1.json").read_text())
    evidence = next(
        r["evidence"][name] for c in recorded["claims"] for r in c["results"].values() if name in r.get("evidence", {})
    )
    drawn = figures.draw(name, [("cpu", evidence)], tmp_path / "p119.png")
    assert drawn.title.startswith("One learning rate for all 33 parameters")
    assert drawn.notes == ["one shared rate, raw inputs: nan at 0.003162 to 10 (8 points), not drawn"]
    keys = [line.split(":")[0] for line in entries.lines(evidence["shared rates"])]
    assert keys[:3] == ["1e-08", "3.162278e-08", "1e-07"]
