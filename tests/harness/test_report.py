"""`python -m claims report`: the static site and the Markdown form, from small ledgers written here."""

import json
import shutil
import subprocess
import time

import pytest

from claims.report import main
from tests.harness.report_helpers import claim, ledger, make_project, parse, standard_claims, write

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


def report(project, *ledgers, extra=()):
    """Render ``ledgers`` (documents) into project/site; returns the site directory."""
    paths = [str(write(project / f"ledger{n}.json", doc)) for n, doc in enumerate(ledgers, start=1)]
    site = project / "site"
    assert main([*paths, "-o", str(site), "--root", str(project), *extra]) == 0
    return site


def row(index, claim_id):
    return index.find("tr", id=claim_id)


def verdicts(index, claim_id):
    return [cell.find("span", cls="v").text for cell in row(index, claim_id).find_all("td", cls="verdict")]


def test_index_lists_every_claim_in_book_order_with_its_verdict_page_and_notes_line(project):
    site = report(project, ledger(list(reversed(standard_claims()))))
    index = parse(site / "index.html")

    rows = [r.attrs["id"] for r in index.find_all("tr") if r.attrs.get("id")]
    assert rows == ["ch05.plain-claim", "ch05.changed-claim", "ch08.wrong-claim"], "chapter then page order"
    assert verdicts(index, "ch05.plain-claim") == ["holds"]
    assert verdicts(index, "ch05.changed-claim") == ["amended"]
    assert "since torch 2.0" in row(index, "ch05.changed-claim").find("td", cls="verdict").text
    assert verdicts(index, "ch08.wrong-claim") == ["refuted"]
    plain = row(index, "ch05.plain-claim")
    assert plain.find("td", cls="page").text == "p. 110"
    assert "110 - the notes' line for the plain claim" in plain.find("span", cls="notes").text, (
        "an old ledger without 'source' gets the notes' line from the registry"
    )
    assert plain.find("a", cls="statement").attrs["href"] == "claims/ch05.plain-claim.html"

    counts = {
        r.find("th").text: [td.text for td in r.find_all("td", cls="num")]
        for r in index.find("table", cls="counts").find_all("tr")[1:]
    }
    assert counts["holds"] == ["1"] and counts["amended"] == ["1"] and counts["refuted"] == ["1"]
    folded = index.find("p", cls="folded").text
    assert "cuda" in folded and "all 3 claims with tests on cuda were skipped: CUDA is not available" in folded


def test_two_ledgers_are_two_columns_labelled_by_environment_with_differences_marked(project):
    old = ledger(standard_claims(), torch="1.4.0")
    old["claims"][1]["results"]["cpu"]["verdict"] = "holds"  # before 2.0 the amended claim held
    new = ledger(standard_claims(plain="fails"), torch="2.14.1", gpu="NVIDIA H100 80GB HBM3")
    new["claims"][0]["results"]["cuda"] = {"verdict": "holds", "tests": 1, "seconds": 0.1}
    site = report(project, old, new)
    index = parse(site / "index.html")

    heads = [th.text for th in index.find("table", cls="claims").find_all("th", cls="col")]
    assert heads == [
        "torch 1.4.0 cpu ledger 1: ledger1.json",
        "torch 2.14.1 cpu ledger 2: ledger2.json",
        "torch 2.14.1 cuda: NVIDIA H100 80GB HBM3 (CUDA 13.0) ledger 2: ledger2.json",
    ]
    assert verdicts(index, "ch05.plain-claim") == ["holds", "fails", "holds"]
    cells = row(index, "ch05.plain-claim").find_all("td", cls="verdict")
    assert "changed" not in cells[0].classes
    assert "changed" in cells[1].classes and cells[1].find("span", cls="was").text == "changed: was holds"
    assert "changed" not in cells[2].classes, "the cuda column has no cuda column to its left"
    changed = row(index, "ch05.changed-claim").find_all("td", cls="verdict")
    assert [("changed" in c.classes) for c in changed] == [False, True, False]
    assert not any("changed" in c.classes for c in row(index, "ch08.wrong-claim").find_all("td", cls="verdict"))
    assert "2 cells in all" in index.find_all("p", cls="legend")[0].text


def test_claim_entry_has_the_refutation_with_links_the_tests_source_evidence_and_plot(project):
    site = report(project, ledger(standard_claims()))
    page = parse(site / "claims" / "ch08.wrong-claim.html")

    assert page.find("h1").text == "The statement of ch08.wrong-claim."
    refuted = page.find("section", cls="refuted")
    assert "What is true instead (github.com/deep-learning-with-pytorch/dlwpt-code/issues/89)." in refuted.text
    assert refuted.find("a").attrs["href"] == "https://github.com/deep-learning-with-pytorch/dlwpt-code/issues/89"
    assert "227 - the notes' line for the wrong claim" in page.find("dl", cls="facts").text

    test = page.find("article", id="test_wrong_depth")
    assert test.find("p", cls="where").text == "tests/ch05/test_fake.py:14"
    assert test.find("div", cls="doc").text == "p.227: gradient norm against depth."
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
    png = site / "claims" / img.attrs["src"]
    assert png.read_bytes()[:8] == PNG
    assert img.attrs["alt"].startswith("Plot: wrong depth.")
    assert "without skips: 0 at 100, not drawn on the log axis" in test.find("figcaption").text

    amended = parse(site / "claims" / "ch05.changed-claim.html").find("section", cls="amended")
    assert amended.find("h2").text == "Amended since torch 2.0"
    assert amended.find("a").attrs["href"] == "https://github.com/pytorch/pytorch/issues/137602"


def test_a_loss_curve_is_plotted_and_a_test_without_series_is_not(project):
    site = report(project, ledger(standard_claims()))
    page = parse(site / "claims" / "ch05.plain-claim.html")
    figures = page.find_all("figure")
    assert len(figures) == 1 and "losses" in figures[0].find("img").attrs["alt"]
    assert sorted(p.name for p in (site / "figures" / "ch05.plain-claim").iterdir()) == ["test_plain.png"]


def test_an_unknown_claim_is_shown_and_marked(project):
    doc = ledger(standard_claims() + [claim("ch07.gone-from-the-registry", 7, 180, {"cpu": {"verdict": "holds"}})])
    site = report(project, doc)
    index = parse(site / "index.html")
    assert verdicts(index, "ch07.gone-from-the-registry") == ["holds"]
    assert "unknown claim" in row(index, "ch07.gone-from-the-registry").find("span", cls="unknown").text
    page = parse(site / "claims" / "ch07.gone-from-the-registry.html")
    assert "the registry no longer has the id" in page.find("p", cls="unknown").text


def test_newer_ledger_fields_partial_not_run_and_falsification(project):
    claims = standard_claims()
    claims[0]["results"]["cpu"].update(
        partial=True, passed=1, skipped=1, not_run=0, skip_reasons={"no the real CIFAR-10": 1}
    )
    claims[1]["results"]["cpu"] = {"verdict": "not-run", "tests": 2, "not_run": 2}
    claims[2]["checked_by"] = ["tests/ch05/test_fake.py::test_wrong_depth"]
    doc = ledger(
        claims,
        run={
            "scope": "partial",
            "executed": True,
            "problem": "interrupted",
            "selection": ["-k", "adam"],
            "devices": ["cpu", "cuda"],
        },
        falsification={
            "created": "2026-11-27T07:00:00+00:00",
            "torch": "2.14.1",
            "score": {"falsifiable": 2, "claims": 3, "unfalsifiable": 1, "uncheckable": 0, "failing": 0},
            "claims": {
                "ch08.wrong-claim": {
                    "verdict": "falsifiable",
                    "faults": {
                        "view-copies": {"caught": ["test_wrong_depth"], "survived": [], "crashed": {}, "skipped": []}
                    },
                }
            },
        },
    )
    site = report(project, doc)
    index = parse(site / "index.html")
    assert verdicts(index, "ch05.plain-claim") == ["holds (partial)"]
    assert "skipped (1): no the real CIFAR-10" in row(index, "ch05.plain-claim").text
    assert verdicts(index, "ch05.changed-claim") == ["not run"]
    notes = " ".join(w.text for w in index.find_all("div", cls="warning"))
    assert "the run had a problem: interrupted" in notes and "partial run (selected with -k adam)" in notes
    assert "2 of 3 claims are falsifiable" in index.find("p", cls="falsification").text
    page = parse(site / "claims" / "ch08.wrong-claim.html")
    assert "view-copies" in page.find("section", cls="falsify").text


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "no such ledger file"),
        ("", "the file is empty"),
        ("{not json", "not a JSON file (line 1"),
        ({"created": "x", "environment": {}, "claims": []}, "it has no 'schema' (an older ledger format"),
        ({"schema": 0, "created": "x", "environment": {}, "claims": []}, "written with ledger schema 0, older than"),
        ({"schema": 1, "created": "x", "environment": {}, "claims": []}, "the ledger holds no claims"),
        ({"schema": 1, "created": "x", "environment": {}, "claims": [{"id": "a"}]}, "claims[0] has no 'chapter'"),
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


def test_markdown_has_counts_the_claims_that_do_not_hold_and_the_differences(project, capsys):
    old = write(project / "old.json", ledger(standard_claims(), torch="1.4.0"))
    new = write(project / "new.json", ledger(standard_claims(plain="fails"), torch="2.14.1"))
    out = project / "summary.md"
    assert main([str(old), str(new), "--format", "markdown", "-o", str(out), "--root", str(project)]) == 0
    text = out.read_text()
    verdicts_section, others, diffs = text.split("\n### ")[1:4]
    assert "| holds | 1 | 0 |" in verdicts_section and "| fails | 0 | 1 |" in verdicts_section
    assert others.startswith("3 claims that do not simply hold")
    assert "`ch08.wrong-claim`" in others and "[github.com/deep-learning-with-pytorch/dlwpt-code/issues/89]" in others
    assert "**fails** (was holds)" in others
    assert diffs.startswith("What differs between the ledgers")
    assert "| 110 | `ch05.plain-claim` | cpu | holds (ledger 1) | **fails** (ledger 2) |" in diffs
    assert "<" not in text.replace("<br>", ""), "no HTML beyond line breaks in table cells"

    assert main([str(new), "--format", "markdown", "--root", str(project)]) == 0
    assert "One ledger: nothing to compare." in capsys.readouterr().out


def test_the_site_needs_no_network_and_rewrites_its_own_directory(project):
    site = report(project, ledger(standard_claims()))
    for page in [site / "index.html", *sorted((site / "claims").glob("*.html"))]:
        doc = parse(page)
        for element in doc.find_all("link") + doc.find_all("img") + doc.find_all("script"):
            ref = element.attrs.get("href") or element.attrs.get("src") or ""
            assert "//" not in ref and (page.parent / ref).is_file(), f"{page.name}: {ref}"
    (site / "claims" / "ch09.stale.html").write_text("from an earlier report")
    report(project, ledger(standard_claims()[:1]))
    assert sorted(p.name for p in (site / "claims").iterdir()) == ["ch05.plain-claim.html"]


def test_a_directory_that_is_not_a_site_is_left_alone(project, capsys):
    path = write(project / "ledger.json", ledger(standard_claims()))
    assert main([str(path), "-o", str(project), "--root", str(project)]) == 2
    assert "not empty and not a report site written before" in capsys.readouterr().err
    assert not (project / "index.html").exists()


def test_benchmarks_page_has_the_throughput_plot_and_table(project, capsys):
    info = {"model": "Net", "device": "cpu", "mode": "inference", "fraction_of_ceiling": 0.02, "flop_per_s": 2e9}
    benchmarks = [
        {
            "name": f"test_throughput[cpu-Net-inference-{b}]",
            "stats": {"median": b / r},
            "extra_info": dict(info, batch_size=b, samples_per_s=r),
        }
        for b, r in [(1, 900.0), (64, 5000.0)]
    ]
    benchmarks.append(
        {
            "name": "test_fp32_matmul_ceiling[cpu]",
            "stats": {"median": 0.01},
            "extra_info": {"n": 1024, "device": "cpu", "flop_per_s": 6.4e10},
        }
    )
    bench = write(project / "bench.json", {"benchmarks": benchmarks})
    site = report(project, ledger(standard_claims()), extra=["--benchmarks", str(bench)])
    page = parse(site / "benchmarks.html")
    assert (site / page.find("img").attrs["src"]).read_bytes()[:8] == PNG
    rows = [[td.text for td in tr.find_all("td")] for tr in page.find("table").find_all("tr")[1:]]
    assert rows[1][:5] == ["Net", "cpu", "inference", "64", "5,000"] and rows[1][6] == "2.0 %"
    assert "cpu 64.0 GFLOP/s" in page.text
    assert parse(site / "index.html").find("a", href="benchmarks.html")

    assert main([str(project / "ledger1.json"), "-o", str(site), "--benchmarks", str(project / "nope.json")]) == 2
    assert "nope.json: no such benchmark file" in capsys.readouterr().err


def test_the_real_registry_and_tests_render_quickly(tmp_path):
    """The whole suite's claims, with this project's tests as the sources: every claim gets a page."""
    from claims.registry import load_registry

    claims = [
        claim(
            c.id,
            c.chapter,
            c.page,
            c.statement,
        )
        for c in load_registry().values()
    ]
    for record in claims:
        record["results"] = {"cpu": {"verdict": "holds", "tests": 1, "seconds": 0.1}}
    path = write(tmp_path / "ledger.json", ledger(claims))
    start = time.perf_counter()
    assert main([str(path), "-o", str(tmp_path / "site")]) == 0
    assert time.perf_counter() - start < 60
    pages = list((tmp_path / "site" / "claims").glob("*.html"))
    assert len(pages) == len(claims)
    with_source = [p for p in pages if parse(p).find_all("div", cls="highlight")]
    assert len(with_source) >= 0.9 * len(claims), "the tests are found from their @pytest.mark.claim"


CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_index_renders_in_headless_chromium(project, tmp_path):
    old = ledger(standard_claims(), torch="1.4.0")
    site = report(project, old, ledger(standard_claims(plain="fails"), torch="2.14.1"))
    shot = tmp_path / "index.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1400,1800",
            (site / "index.html").as_uri(),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    data = shot.read_bytes()
    assert data[:8] == PNG and len(data) > 20_000, "a rendered page, not a blank one"


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
