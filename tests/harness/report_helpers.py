"""Small ledgers, an HTML reader and a headless Chromium for the report's tests (the project they are
rendered against is ``tests.harness.helpers.make_project``)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

MATRIX = Path(__file__).resolve().parents[2] / "docs" / "matrix"  # the version matrix's twelve ledgers
BENCHMARKS = Path(__file__).with_name("data") / "benchmarks.json"  # written by tests/benchmarks (3 of them)
CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)

INLINE = {"a", "span", "code", "em", "strong", "b", "i", "abbr", "sup", "sub"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def claim(cid: str, chapter: int, page: int, results: dict, **extra) -> dict:
    record = {
        "id": cid,
        "chapter": chapter,
        "page": page,
        "statement": f"The statement of {cid}.",
        "amended": None,
        "refuted": None,
        "results": results,
    }
    record.update(extra)
    return record


def ledger(claims: list, torch: str = "2.14.1", gpu: str | None = None, **extra) -> dict:
    document = {
        "schema": 1,
        "created": "2026-11-27T06:00:00+00:00",
        "environment": {
            "python": "3.11.7",
            "torch": torch,
            "torchvision": "0.29.1",
            "numpy": "2.4.6",
            "SimpleITK": "2.5.7",
            "platform": "Linux",
            "cuda": "13.0" if gpu else None,
            "gpu": gpu,
        },
        "claims": claims,
        "summary": {},
    }
    document.update(extra)
    return document


AMENDED = {"since": "2.0", "now": "What PyTorch does now (pytorch/pytorch#137602)."}
REFUTED = "What is true instead (github.com/deep-learning-with-pytorch/dlwpt-code/issues/89)."


def standard_claims(plain: str = "holds", evidence_scale: float = 1.0) -> list:
    """Three claims of the project's registry: plain (with a loss curve), amended, refuted (with a depth series)."""
    return [
        claim(
            "ch05.plain-claim",
            5,
            110,
            {
                "cpu": {
                    "verdict": plain,
                    "tests": 1,
                    "seconds": 0.1,
                    "evidence": {"test_plain": {"losses": [4.0, 2.0, 1.0, 0.5 * evidence_scale], "final": 0.5}},
                },
                "cuda": {"verdict": "skipped", "reason": "CUDA is not available"},
            },
        ),
        claim(
            "ch05.changed-claim",
            5,
            127,
            {
                "cpu": {"verdict": "amended", "tests": 2, "seconds": 0.2},
                "cuda": {"verdict": "skipped", "reason": "CUDA is not available"},
            },
            amended=AMENDED,
        ),
        claim(
            "ch07.wrong-claim",
            7,
            180,
            {
                "cpu": {
                    "verdict": "refuted",
                    "tests": 1,
                    "seconds": 0.3,
                    "evidence": {
                        "test_wrong_depth": {
                            "without_skips": {"10": 1.0, "50": 1e-6, "100": 0.0},
                            "with_skips": {"10": 1.0, "50": 2.0, "100": 3.0 * evidence_scale},
                        }
                    },
                },
                "cuda": {"verdict": "skipped", "reason": "CUDA is not available"},
            },
            refuted=REFUTED,
        ),
    ]


def write(path: Path, document) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


class Element:
    def __init__(self, tag: str, attrs: dict, parent: Element | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list = []
        self.parts: list = []

    @property
    def classes(self) -> set:
        return set((self.attrs.get("class") or "").split())

    @property
    def text(self) -> str:
        """All the text inside, whitespace collapsed."""
        return " ".join("".join(self._texts()).split())

    def _texts(self):
        for part in self.parts:
            if isinstance(part, Element):
                yield from part._texts()
                if part.tag not in INLINE:
                    yield " "
            else:
                yield part

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list:
        found = []
        for child in self.children:
            if (
                (tag is None or child.tag == tag)
                and (cls is None or cls in child.classes)
                and all(child.attrs.get(k) == v for k, v in attrs.items())
            ):
                found.append(child)
            found.extend(child.find_all(tag, cls, **attrs))
        return found

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> Element:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'}> with class {cls!r} and {attrs} in <{self.tag}>"
        return found[0]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        self.current.parts.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        self.current.parts.append(element)

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.parts.append(data)


def parse(path: Path) -> Element:
    parser = _Parser()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    parser.close()
    return parser.root


def cells(row: Element) -> list:
    """A row's verdict cells, one per column: a box that spans several columns counts for each."""
    out = []
    for td in row.find_all("td", cls="verdict"):
        out += [td] * int(td.attrs.get("colspan") or 1)
    return out


# -- the report as a reader's browser shows it ----------------------------------------------------------------

PROBE = (
    "<script>window.addEventListener('load', () => setTimeout(() => {{"
    " const measured = (() => {{ {script} }})();"
    " document.body.setAttribute('data-measured', JSON.stringify(measured)); }}, 20));</script></body>"
)


def in_chromium(probes: list, width: int = 1400, height: int = 900) -> list:
    """Open each ``(page, script)`` of ``probes`` in headless Chromium at ``width`` x ``height`` (scrollbars
    shown, as a reader's) and return what each ``script`` (a function body run once the page has loaded)
    returns, JSON-able. Each page is copied beside itself with the script added, so its stylesheets load as
    they would. One Chromium a page, run side by side (on two cores, two launches take the time of one); the
    pages must lie in different directories, each getting a browser profile beside it."""
    running = []
    for page, script in probes:
        probe = page.with_name(f"probe-{page.name}")
        probe.write_text(
            page.read_text(encoding="utf-8").replace("</body>", PROBE.format(script=script)), encoding="utf-8"
        )
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={page.parent / '.chromium-profile'}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            probe.as_uri(),
        ]
        running.append((probe, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    results = []
    for probe, process in running:
        stdout, stderr = process.communicate(timeout=120)
        probe.unlink()
        found = re.search(r'data-measured="([^"]*)"', stdout)
        assert found, f"Chromium measured nothing (exit {process.returncode}): {stderr[-800:]}"
        results.append(json.loads(html.unescape(found.group(1))))
    return results
