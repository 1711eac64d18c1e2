"""The stored-XSS corpus (plan D1) and the checks a rendered page must pass.

Pure Python plus lxml: no Django. `payloads()` reads payloads.txt; `pack()` fits several
payloads into a field of limited length; `scan_html()` parses a page the way a browser reads
it (entities decoded, tag and attribute names lower-cased) and lists what would run script:

- a `<script>` element that is not on the allowlist (our static files and Wagtail's own admin
  scripts, learnt from pages rendered before any payload was stored);
- any `on*` event-handler attribute;
- a `javascript:`, `vbscript:` or `data:` URL in an attribute that loads or navigates
  (href, src, action, formaction, xlink:href, data, poster, srcset, ...), after the clean-up
  a browser applies (leading spaces and control characters stripped, tabs and newlines removed);
- `javascript:` or `expression(` inside a style attribute or a `<style>` element, a
  `<meta http-equiv=refresh>` to a script URL, and `<iframe srcdoc>`.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import lxml.etree
import lxml.html

CORPUS = Path(__file__).with_name("payloads.txt")
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "xlink:href",
        "data",
        "poster",
        "background",
        "ping",
        "lowsrc",
        "dynsrc",
        "code",
        "codebase",
        "cite",
        "longdesc",
        "usemap",
        "manifest",
        "icon",
        "to",
        "values",
        "from",
    }
)
SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "data", "livescript"})
DATA_SCRIPT_TYPES = frozenset({"application/json", "application/ld+json"})
_LEADING = "".join(chr(c) for c in range(0x21))  # C0 controls and space, as browsers strip


def payloads(path: Path = CORPUS) -> list[str]:
    """The corpus: one payload per line, `#` comments, `esc:` lines decoded with escapes."""
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("esc:"):
            line = codecs.decode(line[4:], "unicode_escape")
        out.append(line)
    return out


def is_url_payload(payload: str) -> bool:
    """Payloads meant for URL fields: they start with a scheme (after browser clean-up)."""
    return url_scheme(payload) != "" or payload.lstrip().startswith(("//", "&#"))


def pack(items: Iterable[str], limit: int, *, separator: str = " ", start: int = 0) -> str:
    """As many items as fit in `limit` characters, from `start` on (wrapping around)."""
    items = list(items)
    chosen: list[str] = []
    length = 0
    for offset in range(len(items)):
        item = items[(start + offset) % len(items)]
        extra = len(item) + (len(separator) if chosen else 0)
        if length + extra > limit:
            continue
        chosen.append(item)
        length += extra
    return separator.join(chosen)


def url_scheme(value: str) -> str:
    """The scheme a browser would use for this attribute value (WHATWG URL parsing)."""
    cleaned = value.strip(_LEADING)
    cleaned = re.sub(r"[\t\n\r]", "", cleaned)
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", cleaned)
    return match.group(1).lower() if match else ""


_JS_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")


def _script_key(text: str) -> str:
    """An inline script's shape, for the allowlist: the contents of its string literals (data,
    e.g. Wagtail's escaped form templates), ids, numbers and whitespace evened out. Script
    that escaped from a string, or a new script element, changes the shape."""
    text = _JS_STRING.sub('""', text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"id_[\w\-]+", "id_*", text)
    return re.sub(r"\d+", "0", text)


def _path_of(src: str) -> str:
    return re.sub(r"[?#].*$", "", src)


@dataclass
class Allowlist:
    """Script elements seen on clean pages: external sources by path, inline code by shape."""

    sources: set[str] = field(default_factory=set)
    inline: set[str] = field(default_factory=set)
    # (tag, attribute, value) triples of URL attributes with a data: URL on clean admin pages.
    data_urls: set[tuple[str, str, str]] = field(default_factory=set)

    def learn(self, html: str) -> None:
        root = _parse(html)
        if root is None:
            return
        for script in root.iter("script"):
            src = script.get("src")
            if src:
                self.sources.add(_path_of(src))
            elif (script.get("type") or "").lower() not in DATA_SCRIPT_TYPES:
                self.inline.add(_script_key(script.text or ""))
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            for name, value in element.attrib.items():
                if name.lower() in URL_ATTRIBUTES and url_scheme(value) == "data":
                    self.data_urls.add((element.tag, name.lower(), value))


def _parse(html: str) -> lxml.html.HtmlElement | None:
    if not html.strip():
        return None
    parser = lxml.html.HTMLParser(recover=True, remove_comments=True)
    return lxml.html.document_fromstring(html, parser=parser)


def scan_html(html: str, allow: Allowlist | None = None) -> list[str]:
    """Everything in `html` that a browser would run as script (see the module docstring)."""
    allow = allow or Allowlist()
    root = _parse(html)
    if root is None:
        return []
    found: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "script":
            found.extend(_check_script(element, allow))
        if tag == "style" and re.search(r"javascript:|expression\(", element.text or "", re.I):
            found.append(f"<style> with script: {(element.text or '')[:80]!r}")
        if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            target = (element.get("content") or "").partition("=")[2]
            if url_scheme(target) in SCRIPT_SCHEMES:
                found.append(f"<meta refresh> to {target[:80]!r}")
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on"):
                found.append(f"<{tag} {name}={value[:60]!r}>")
            elif name == "srcdoc":
                found.append(f"<{tag} srcdoc={value[:60]!r}>")
            elif name == "style" and re.search(r"javascript:|expression\(", value, re.I):
                found.append(f"<{tag} style={value[:60]!r}>")
            elif name in URL_ATTRIBUTES or name == "srcset":
                for url in value.split(",") if name == "srcset" else [value]:
                    scheme = url_scheme(url)
                    if scheme in SCRIPT_SCHEMES and (tag, name, value) not in allow.data_urls:
                        found.append(f"<{tag} {name}={value[:80]!r}>")
    return found


def _check_script(script: lxml.html.HtmlElement, allow: Allowlist) -> Iterator[str]:
    src = script.get("src")
    kind = (script.get("type") or "").lower()
    text = script.text or ""
    if src is not None:
        if _path_of(src) not in allow.sources:
            yield f"<script src={src[:80]!r}> not on the allowlist"
    elif kind in DATA_SCRIPT_TYPES:
        try:
            json.loads(text)
        except ValueError:
            yield f"<script type={kind}> whose content is not JSON: {text[:80]!r}"
    elif _script_key(text) not in allow.inline:
        yield f"inline <script> not on the allowlist: {text[:80]!r}"


def feed_html_parts(xml: bytes) -> list[str]:
    """The HTML inside an RSS or Atom feed (item descriptions, Atom html summaries/content),
    decoded from the XML as a feed reader would before rendering it."""
    root = lxml.etree.fromstring(xml)
    parts: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = lxml.etree.QName(element).localname
        is_atom_html = local in ("summary", "content", "title", "subtitle") and (
            element.get("type") in ("html", "xhtml")
        )
        if local == "description" or is_atom_html:
            parts.append("".join(element.itertext()))
    return parts
