"""Citations in ``amended`` and ``refuted`` texts, turned into links.

Recognised: full URLs; ``github.com/owner/repo/issues/89`` (and ``/pull/``) without a scheme;
``owner/repo#123``; ``dlwpt-code issue #96`` (the book's code repository). Everything else stays text.
"""

from __future__ import annotations

import re

BOOK_CODE = "deep-learning-with-pytorch/dlwpt-code"
_PATTERN = re.compile(
    r"(?P<url>https?://[^\s<>()\"']+[^\s<>()\"'.,;:])"
    r"|(?P<bare>(?<![\w/.])github\.com/[\w.-]+/[\w.-]+/(?:issues|pull)/\d+)"
    r"|(?P<ref>(?<![\w/.-])(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<repo>[\w.-]+)#(?P<num>\d+))"
    r"|(?P<book>dlwpt-code (?:issue|pull request|PR) #?(?P<booknum>\d+))"
)


def segments(text: str | None) -> list[tuple[str, str | None]]:
    """``text`` as ``[(piece, href or None), ...]``, so a template can link the citations."""
    if not text:
        return []
    out: list[tuple[str, str | None]] = []
    pos = 0
    for match in _PATTERN.finditer(text):
        if match.start() > pos:
            out.append((text[pos : match.start()], None))
        out.append((match.group(0), href(match)))
        pos = match.end()
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def href(match) -> str:
    if match.group("url"):
        return match.group("url")
    if match.group("bare"):
        return "https://" + match.group("bare")
    if match.group("ref"):
        return f"https://github.com/{match.group('owner')}/{match.group('repo')}/issues/{match.group('num')}"
    return f"https://github.com/{BOOK_CODE}/issues/{match.group('booknum')}"


def links(text: str | None) -> list[str]:
    """Just the links, in order (for the Markdown form)."""
    return [h for _, h in segments(text) if h]
