"""The claim tests' source, found without importing them: an ``ast`` scan of ``tests/`` under the
project root, and Pygments for the highlighting.

A test is found by its ``checked_by`` entry (``tests/ch05/test_x.py::test_name``, newer ledgers), by the
``@pytest.mark.claim(...)`` on it (a string or a module-level constant), or by the name under which it
recorded evidence (older ledgers).
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup


@dataclass
class FunctionSource:
    """One test function as it is written."""

    name: str
    path: str  # relative to the project root, with forward slashes
    line: int  # of its first decorator
    docstring: str
    source: str
    claims: list = field(default_factory=list)  # the ids its @pytest.mark.claim names, when literal

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def paragraphs(self) -> list:
        return paragraphs(self.docstring)

    def highlighted(self) -> Markup:
        """The source as Pygments HTML, numbered from its line in the file."""
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        formatter = HtmlFormatter(linenos="inline", linenostart=self.line, cssclass="highlight")
        return Markup(highlight(self.source, PythonLexer(), formatter))


def paragraphs(text: str) -> list:
    """A docstring's paragraphs, each on one line (the source's line breaks are the editor's, not the
    writer's)."""
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text or "") if block.strip()]


_CODE = re.compile(r"``(.+?)``|`([^`\n]+)`")


def code_segments(text: str) -> list:
    """``text`` as ``[(piece, is_code)]``: the docstrings' ``code`` and `code` marks become code spans."""
    out, pos = [], 0
    for match in _CODE.finditer(text or ""):
        if match.start() > pos:
            out.append((text[pos : match.start()], False))
        out.append((match.group(1) or match.group(2), True))
        pos = match.end()
    if pos < len(text or ""):
        out.append((text[pos:], False))
    return out


def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".highlight")


class SourceIndex:
    """Every test function in ``root/tests``, by name and by the claims its marks name."""

    def __init__(self, root: str | Path | None):
        """``root`` None: an empty index (a site written without the tests' source)."""
        self.root = Path(root) if root is not None else None
        self.by_name: dict[str, list[FunctionSource]] = {}
        self.by_claim: dict[str, list[FunctionSource]] = {}
        self.by_node: dict[str, FunctionSource] = {}
        self.module_text: dict[str, str] = {}
        self.module_doc: dict[str, str] = {}
        tests = self.root / "tests" if self.root is not None else None
        if tests is not None and tests.is_dir():
            for path in sorted(tests.rglob("*.py")):
                self._scan(path)

    def _scan(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=str(path))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            return  # a file the report cannot read is a test the report cannot show, not a failure
        rel = path.relative_to(self.root).as_posix()
        self.module_text[rel] = text
        self.module_doc[rel] = ast.get_docstring(tree) or ""
        lines = text.splitlines()
        constants = _string_constants(tree)
        module_claims = _module_claims(tree, constants)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test"):
                continue
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            last = getattr(node, "end_lineno", None) or _end_line(node)
            source = textwrap.dedent("\n".join(lines[first - 1 : last]))
            claims = module_claims + [c for d in node.decorator_list for c in _claim_ids(d, constants)]
            test = FunctionSource(node.name, rel, first, ast.get_docstring(node) or "", source, claims)
            self.by_name.setdefault(node.name, []).append(test)
            self.by_node[f"{rel}::{node.name}"] = test
            for claim in claims:
                self.by_claim.setdefault(claim, []).append(test)

    def find(self, claim_id: str, node: str | None = None, name: str | None = None) -> FunctionSource | None:
        """The test ``node`` (``path::name``) or, failing that, the function ``name``; where several
        modules define that name, the one that names ``claim_id``."""
        if node:
            path, _, func = node.partition("::")
            found = self.by_node.get(f"{path}::{func.split('[')[0].split('::')[-1]}")
            if found:
                return found
            name = name or func.split("::")[-1]
        if not name:
            return None
        candidates = self.by_name.get(name.split("[")[0], [])
        for test in candidates:
            if claim_id in test.claims or claim_id in self.module_text.get(test.path, ""):
                return test
        return candidates[0] if candidates else None

    def for_claim(self, claim_id: str) -> list[FunctionSource]:
        return list(self.by_claim.get(claim_id, []))


def _end_line(node) -> int:
    return max(getattr(n, "lineno", node.lineno) for n in ast.walk(node))


def _string_constants(tree: ast.Module) -> dict[str, str]:
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(_literal(stmt.value), str):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = _literal(stmt.value)
    return out


def _literal(node):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Str):  # pragma: no cover - Python 3.7 trees
        return node.s
    return None


def _claim_ids(node, constants: dict[str, str]) -> list[str]:
    """The ids in ``pytest.mark.claim(...)`` calls inside ``node`` that are literals or constants."""
    ids = []
    for call in ast.walk(node):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "claim"):
            continue
        for arg in call.args:
            value = _literal(arg)
            if isinstance(arg, ast.Name):
                value = constants.get(arg.id)
            if isinstance(value, str):
                ids.append(value)
    return ids


def _module_claims(tree: ast.Module, constants: dict[str, str]) -> list[str]:
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets):
            return _claim_ids(stmt.value, constants)
    return []
