"""Untrusted text and HTML from providers, made safe to store and show.

HTML is cleaned by an allowlist (nh3): no script, style, event handlers, javascript: URLs, SVG,
base or form survive. Plain text loses control characters (NUL, escape sequences) but keeps
newlines, tabs and every printable script, emoji included.
"""

from __future__ import annotations

import re
import unicodedata

import nh3

ALLOWED_TAGS = frozenset(
    {"a", "b", "blockquote", "br", "code", "div", "em", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "table"}
    | {"tbody", "td", "th", "thead", "tr", "u", "ul", "h1", "h2", "h3", "h4", "hr", "sub", "sup", "abbr"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "td": {"colspan", "rowspan"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
# C0 and C1 controls except tab, newline and carriage return.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_html(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def clean_text(raw: str, max_chars: int | None = None) -> str:
    text = _CONTROLS.sub("", raw.replace("\r\n", "\n"))
    return text[:max_chars] if max_chars is not None else text


def single_line(raw: str, max_chars: int = 200) -> str:
    """For names and subjects that end up in headers: no CR/LF (header injection), no controls."""
    text = unicodedata.normalize("NFC", raw)
    return " ".join(clean_text(text).split())[:max_chars]
