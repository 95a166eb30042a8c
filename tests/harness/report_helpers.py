"""Small ledgers, a throwaway project and an HTML reader for the report's tests."""

from __future__ import annotations

import json
import textwrap
from html.parser import HTMLParser
from pathlib import Path

INLINE = {"a", "span", "code", "em", "strong", "b", "i", "abbr", "sup", "sub"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

REGISTRY = """
[[claim]]
id = "ch05.plain-claim"
chapter = 5
page = 110
statement = "A claim that holds."
source = "110 - the notes' line for the plain claim"

[[claim]]
id = "ch05.changed-claim"
chapter = 5
page = 123
statement = "A claim PyTorch changed."
source = "123 - the notes' line for the changed claim"
amended = { since = "2.0", now = "What PyTorch does now (pytorch/pytorch#137602)." }

[[claim]]
id = "ch08.wrong-claim"
chapter = 8
page = 227
statement = "A claim the book gets wrong."
source = "227 - the notes' line for the wrong claim"
refuted = "What is true instead (github.com/deep-learning-with-pytorch/dlwpt-code/issues/89)."
"""

TESTS = '''
"""Module docstring: how the margins were measured."""
import pytest

CLAIM = "ch08.wrong-claim"


@pytest.mark.claim("ch05.plain-claim")
def test_plain(device, evidence):
    """p.110: the plain claim's docstring."""
    evidence.record(losses=[4.0, 2.0, 1.0, 0.5], final=0.5)
    assert True


@pytest.mark.claim(CLAIM)
def test_wrong_depth(device, evidence):
    """p.227: gradient norm against depth."""
    evidence.record(without_skips={"10": 1.0, "50": 1e-6, "100": 0.0}, with_skips={"10": 1.0, "50": 2.0, "100": 3.0})
'''


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


def standard_claims(plain: str = "holds", evidence_scale: float = 1.0) -> list:
    """The three registry claims: plain (with a loss curve), amended, refuted (with a depth series)."""
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
            123,
            {
                "cpu": {"verdict": "amended", "tests": 2, "seconds": 0.2},
                "cuda": {"verdict": "skipped", "reason": "CUDA is not available"},
            },
            amended={"since": "2.0", "now": "What PyTorch does now (pytorch/pytorch#137602)."},
        ),
        claim(
            "ch08.wrong-claim",
            8,
            227,
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
            refuted="What is true instead (github.com/deep-learning-with-pytorch/dlwpt-code/issues/89).",
        ),
    ]


def make_project(root: Path) -> Path:
    """A project root with its own registry and one test module, as ``--root`` expects."""
    (root / "claims" / "registry").mkdir(parents=True)
    (root / "claims" / "registry" / "claims.toml").write_text(textwrap.dedent(REGISTRY))
    (root / "tests" / "ch05").mkdir(parents=True)
    (root / "tests" / "ch05" / "test_fake.py").write_text(TESTS.lstrip())
    return root


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
