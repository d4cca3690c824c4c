"""HTML → article text and metadata with trafilatura (the kept extractor), then the plain-text cleaner.

trafilatura drops scripts, navigation, cookie banners, related links and comment sections and reads the
metadata (title, date, author, site name, canonical URL); the page language it does not report, so it is read
here from <html lang> / <meta> before extraction. The cleaner then removes appeal and widget lines that sit
inside the article body itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from newsner.errors import IngestError
from newsner.ingest.clean import clean_text, normalize

EXTRACTOR = "trafilatura"


def _extractor_version() -> str:
    try:
        return version("trafilatura")  # read from the package metadata: trafilatura itself loads in ~0.4 s
    except PackageNotFoundError:
        return "unknown"


EXTRACTOR_VERSION: str = _extractor_version()

#: A page whose main text has fewer words than this is an error page, a redirect or an index, not an article.
MIN_HTML_WORDS = 15

# htmldate's extensive search scans the whole page text for anything date-like; news pages carry the date in
# their metadata, and the scan costs a fifth of the extraction time. original_date prefers publication over
# last-modified dates.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}

_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?", re.I)
_META_LANG = re.compile(
    r"<meta\b[^>]*?(?:http-equiv\s*=\s*[\"']?content-language|property\s*=\s*[\"']?og:locale|"
    r"name\s*=\s*[\"']?(?:language|dc\.language))[\"']?[^>]*?content\s*=\s*[\"']?\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?",
    re.I)
_META_LANG_REVERSED = re.compile(
    r"<meta\b[^>]*?content\s*=\s*[\"']?\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?[\"']?[^>]*?(?:http-equiv\s*=\s*[\"']?"
    r"content-language|property\s*=\s*[\"']?og:locale|name\s*=\s*[\"']?(?:language|dc\.language))", re.I)
_META_REFRESH = re.compile(r"<meta\b[^>]*http-equiv\s*=\s*[\"']?refresh[^>]*content\s*=\s*[\"']?\s*\d*\s*;?\s*"
                           r"url\s*=\s*[\"']?([^\"'>\s]+)", re.I)
_JS_REDIRECT = re.compile(r"(?:location\.(?:replace|assign)\(|location\.href\s*=|navigateTo\()", re.I)
_WORD = re.compile(r"\w+")
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " · ", " :: ", " : ", " / ", " » ")


@dataclass
class HtmlArticle:
    text: str
    title: str | None
    url: str | None
    published: str | None
    language: str | None
    sitename: str | None
    languages: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def page_languages(html: str) -> list[str]:
    """Every ISO 639 language the page declares (<html lang>, <meta> content-language / og:locale /
    dc.language), lower-case primary subtags, first one first, without repeats."""
    # markup inside comments is not the page's: `<!--[if IE]><html lang="en"><![endif]-->` in old templates
    head = _COMMENT.sub(" ", html[:40000])[:20000]
    found: list[str] = []
    for pattern in (_HTML_LANG, _META_LANG, _META_LANG_REVERSED):
        for m in pattern.finditer(head):
            code = m.group(1).lower()
            if code not in found:
                found.append(code)
    return found


def page_language(html: str) -> str | None:
    """The first ISO 639 language the page declares, or None."""
    langs = page_languages(html)
    return langs[0] if langs else None


def _no_text_reason(html: str) -> str:
    refresh = _META_REFRESH.search(html[:20000])
    if refresh:
        return (f"no article text: the page is a redirect (meta refresh to {refresh.group(1)}); "
                "ingest the target page instead")
    if _JS_REDIRECT.search(html[:20000]) and len(html) < 5000:
        return "no article text: the page only redirects with JavaScript; ingest the target page instead"
    return ("no article text found (only navigation, scripts or too little prose); "
            "if this is an article, save the full page or its text as .txt")


def _letters(s: str) -> str:
    return "".join(ch for ch in s.casefold() if ch.isalnum())


def strip_site_name(title: str, sitename: str) -> str:
    """"Headline – Site" / "Site | Headline" → "Headline" (the outlet is kept in `source`)."""
    for sep in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and _letters(tail) == _letters(sitename):
            return head.strip()
        head, found, tail = title.partition(sep)
        if found and tail.strip() and _letters(head) == _letters(sitename):
            return tail.strip()
    return title


def _first_string(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def extract_html(html: str) -> HtmlArticle:
    """Main text and metadata of one decoded page; IngestError when there is no article in it."""
    try:
        import trafilatura  # here, not at the top: `newsner --help` must not pay for it

        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=True,
            date_extraction_params=_DATE_PARAMS)
    except Exception as exc:  # trafilatura/lxml raise assorted errors on broken markup; name it, never crash
        raise IngestError(f"the HTML could not be parsed ({type(exc).__name__}: {exc})") from None
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():
        raise IngestError(_no_text_reason(html))
    title = _first_string(doc.title)
    # trafilatura gives one line per block element; each is a paragraph of the article.
    extracted = normalize(doc.text or "").replace("\n", "\n\n")
    cleaned = clean_text(extracted, find_title=False)
    text = cleaned.text
    sitename = _first_string(doc.sitename)
    if title and sitename:
        title = strip_site_name(title, sitename)
    if title:
        # many pages repeat the headline as the first block of the article body
        first, _, rest = text.partition("\n\n")
        if _letters(first) == _letters(title) and rest:
            text = rest
    if len(_WORD.findall(text)) < MIN_HTML_WORDS:
        raise IngestError(_no_text_reason(html))
    meta: dict[str, Any] = {}
    for key in ("author", "sitename", "hostname", "description", "categories", "tags", "license", "image",
                "pagetype"):
        value = getattr(doc, key, None)
        if value:
            meta[key] = value
    published = _first_string(doc.date)
    languages = page_languages(html)  # once: it strips the comments of the page's first 40,000 characters
    return HtmlArticle(text=text, title=title, url=_first_string(doc.url), published=published,
                       language=languages[0] if languages else None, languages=languages, sitename=sitename,
                       meta=meta)
