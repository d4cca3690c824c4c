"""Plain-text normalization and boilerplate removal.

`normalize()` makes the text every offset downstream refers to: NFC, one kind of newline, no control or
zero-width characters, runs of spaces collapsed, paragraph breaks (blank lines) kept as exactly one blank line.

`clean_text()` removes what news sites wrap around an article when it is copied as text: donation and
subscription appeals, payment widgets ("Once / Monthly / Annual / Continue"), "Read more", "Remind me later",
photo credits, newsletter prompts, share buttons. It works line by line with pattern lists plus a few
positional heuristics, none of them tied to one site:

- hard-wrapped paragraphs are first joined into one line each (`unwrap`);
- every line is classified (widget, appeal, appeal opener, credit, byline, dateline, text);
- widget and symbol-only lines go wherever they are;
- the *head* (everything before the first real body paragraph) keeps only the headline, which becomes the
  title; bylines and datelines there become metadata;
- the *tail* is cut at an appeal opener ("A message from ...", "Dear readers,") when what follows it is mostly
  appeal, then trailing boilerplate lines are dropped;
- in the middle, only lines that are boilerplate by themselves go: credits, widgets, and short appeal lines
  addressed to the reader (a paragraph that reports on donations or privacy policies, as news does, stays).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from newsner.ingest.patterns import (  # noqa: F401 - Rule, _APPEAL, _CREDIT: the rule tables tests inspect
    _ALNUM,
    _APPEAL,
    _APPEAL_OPENER,
    _APPEAL_SET,
    _BYLINE,
    _CREDIT,
    _CREDIT_SET,
    _DATE_DMY,
    _DATE_ISO,
    _DATE_MDY,
    _DATE_PREFIX,
    _ENDS_WITH_HANDLE,
    _HEADLINE_END_BAD,
    _MONTHS,
    _MORE_LINK,
    _QUOTES,
    _READER,
    _SECTION_PATH,
    _SENTENCE_END,
    _TRIM,
    _WIDGET_LINES,
    _WIDGET_PREFIX,
    Rule,
    _matching_rules,
    text_stems,
)

# ------------------------------------------------------------------------------------------ normalize
# C0/C1 controls except \t and \n; zero-width characters, soft hyphen and BOMs that survive decoding; bidi
# marks and embedding/isolate controls (U+200E/F, U+202A-E, U+2066-9), which publisher pages put around names:
# glued to a word ("Mosul\u200e") they stop the tokenizer from finding the word's end, and the span is lost.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalize(text: str) -> str:
    """NFC, newlines unified, invisible characters dropped, spaces collapsed, one blank line between paragraphs."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        # fast path: printable means no tab, NBSP, control or zero-width character (all "non-printable")
        if line.isprintable() and "  " not in line and line[:1] != " " and line[-1:] != " ":
            continue
        line = line.replace("\f", "\n\n").replace("\v", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
        line = _INVISIBLE.sub("", line)
        # str.split() splits on every Unicode space (NBSP, thin, ideographic ...): collapse and strip in one go
        lines[i] = "\n".join(" ".join(part.split()) for part in line.split("\n"))
    text = "\n".join(lines)
    return (_BLANK_RUNS.sub("\n\n", text) if "\n\n\n" in text else text).strip()


WIDGET, JUNK, APPEAL, OPENER, CREDIT, BYLINE, DATELINE, TEXT = (
    "widget", "junk", "appeal", "opener", "credit", "byline", "dateline", "text")
_BOILERPLATE = {WIDGET, JUNK, APPEAL, OPENER, CREDIT}


@dataclass
class Line:
    text: str
    kind: str
    words: int
    block: int  # index of the paragraph (blank-line separated block) the line belongs to


@dataclass
class Cleaned:
    """The article text with boilerplate removed, plus what the head told us."""

    text: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    removed: list[str] = field(default_factory=list)


def parse_date(line: str) -> str | None:
    """YYYY-MM-DD from a dateline such as "Published: July 27, 2024" or "27 juillet 2024" (English or French months)."""
    line = _DATE_PREFIX.sub("", line)
    if m := _DATE_ISO.search(line):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif (m := _DATE_DMY.search(line)) and m[2].lower() in _MONTHS:
        y, mo, d = int(m[3]), _MONTHS[m[2].lower()], int(m[1])
    elif (m := _DATE_MDY.search(line)) and m[1].lower() in _MONTHS:
        y, mo, d = int(m[3]), _MONTHS[m[1].lower()], int(m[2])
    else:
        return None
    if not (1900 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def _looks_like_dateline(line: str, words: int) -> bool:
    return words <= 10 and parse_date(line) is not None and not _SENTENCE_END.search(line.rstrip(")"))


def classify(line: str, stems: list[str] | None = None) -> tuple[str, int]:
    """The kind of one normalized line, and its word count. `stems`: the rule stems present in the whole text
    (see `text_stems`), to test a line for those only."""
    words = line.count(" ") + 1
    if not _ALNUM.search(line):
        return JUNK, words
    low = line.lower()
    if words <= 8 and _WIDGET_LINES.match(low.strip(_TRIM)):
        return WIDGET, words
    if words <= 25 and _WIDGET_PREFIX.match(line):
        return WIDGET, words
    matched = _matching_rules(low, line, stems) if words <= 60 else set()
    if words <= 40 and not matched.isdisjoint(_CREDIT_SET):
        return CREDIT, words
    if words <= 30 and _APPEAL_OPENER.match(line):
        return OPENER, words
    if not matched.isdisjoint(_APPEAL_SET):
        return APPEAL, words
    if words <= 25 and not _SENTENCE_END.search(line) and _ENDS_WITH_HANDLE.search(line[-100:]):
        return CREDIT, words
    if words <= 12 and _BYLINE.match(line):
        return BYLINE, words
    if _looks_like_dateline(line, words):
        return DATELINE, words
    return TEXT, words


def _is_body(line: Line) -> bool:
    """A line that reads like article prose: a sentence of some length."""
    if line.kind != TEXT:
        return False
    return line.words >= 20 or (line.words >= 6 and bool(_SENTENCE_END.search(line.text)))


def _is_headline(line: Line) -> bool:
    if line.kind != TEXT or not 2 <= line.words <= 30 or len(line.text) > 250:
        return False
    first = _ALNUM.search(line.text)
    if first is None or not (first.group().isupper() or first.group().isdigit() or not first.group().isalpha()):
        return False
    return not _HEADLINE_END_BAD.search(line.text)


def _pick_headline(head: list[Line], tainted: set[int]) -> int | None:
    """Index of the headline among the lines before the body: the first headline-shaped line of three or
    more words that is not a masthead in capitals or a section path ("Sahel | Security"); else the first."""
    candidates = [i for i, ln in enumerate(head) if ln.block not in tainted and _is_headline(ln)]
    for i in candidates:
        text = head[i].text
        if head[i].words >= 3 and not text.isupper() and not _SECTION_PATH.search(text):
            return i
    return candidates[0] if candidates else None


def unwrap(text: str) -> str:
    """Join hard-wrapped paragraphs (e-mail or terminal text wrapped at a fixed column) into one line each.

    A block is hard-wrapped when it has several lines, the longest 50-100 characters, all but the last at
    least 40 characters and close to the longest, and most of them ending mid-sentence. Lists of short
    lines (a payment widget, a byline and date) and one-line-per-paragraph text are left alone.
    """
    blocks = text.split("\n\n")
    for n, block in enumerate(blocks):
        lines = block.split("\n")
        if len(lines) < 2:
            continue
        longest = max(len(ln) for ln in lines)
        body = lines[:-1]
        if not 50 <= longest <= 100 or any(len(ln) < max(40, 0.55 * longest) for ln in body):
            continue
        if sum(1 for ln in body if _SENTENCE_END.search(ln)) * 2 > len(body):
            continue
        joined = lines[0]
        for ln in lines[1:]:
            # "well-\nknown" → "well-known": keep the hyphen, it may be a real one
            joined += ln if joined.endswith("-") and ln[:1].islower() else " " + ln
        blocks[n] = joined
    return "\n\n".join(blocks)


def _stray_appeal(line: Line) -> bool:
    """An appeal line inside the article that is boilerplate on its own: short, not a quotation, and either a
    bare button-like phrase or addressed to the reader ("you", "our") — "The company changed its privacy
    policy" is news, "By using this site you accept our privacy policy" is not."""
    if line.words > 30 or _QUOTES.search(line.text):
        return False
    return line.words <= 6 or _READER.search(line.text) is not None


def _lines(text: str) -> list[Line]:
    out: list[Line] = []
    block = 0
    raws = text.split("\n")
    for n, raw in enumerate(raws):
        if raw and (raw[0] == "|" or raw[-1] in "|]»›→"):
            raws[n] = _MORE_LINK.sub("", raw.strip("| "))
    # the stems of the lines short enough to be tested against the rules (see classify)
    stems = text_stems("\n".join(raw for raw in raws if raw.count(" ") < 60))
    for raw in raws:
        if not raw:
            block += 1
            continue
        kind, words = classify(raw, stems)
        out.append(Line(raw, kind, words, block))
    return out


def _tainted_blocks(lines: list[Line]) -> set[int]:
    """Blocks (paragraphs of several lines) that are mostly boilerplate: a donation box rendered as text."""
    total: dict[int, int] = {}
    bad: dict[int, int] = {}
    for ln in lines:
        total[ln.block] = total.get(ln.block, 0) + 1
        if ln.kind in _BOILERPLATE:
            bad[ln.block] = bad.get(ln.block, 0) + 1
    return {b for b, n in total.items() if n >= 2 and bad.get(b, 0) * 2 >= n}


def _tail_cut(lines: list[Line], start: int) -> int:
    """Index where the closing appeal begins (len(lines) when there is none)."""
    n = len(lines)
    for i in range(start, n):
        if lines[i].kind not in (OPENER, APPEAL):
            continue
        rest = lines[i:]
        boiler = sum(1 for ln in rest if ln.kind in _BOILERPLATE)
        # An opener starts the closing appeal if what follows is mostly appeal; prose about donations
        # in the middle of a story is followed by more prose and stays.
        if lines[i].kind == OPENER and boiler * 2 >= len(rest):
            return i
        if boiler * 4 >= len(rest) * 3:
            return i
    return n


def clean_text(text: str, *, find_title: bool = True) -> Cleaned:
    """Remove boilerplate from normalized plain text; with `find_title`, the headline becomes the title.

    Without `find_title` (text that came from an extractor or a JSONL field) the head keeps every line that
    is not boilerplate, since there is no headline block to skip.
    """
    text = unwrap(normalize(text))
    lines = _lines(text)
    if not lines:
        return Cleaned(text="")
    removed: list[str] = []
    title = author = published = None
    tainted = _tainted_blocks(lines)

    body_start = next((i for i, ln in enumerate(lines) if _is_body(ln) and ln.block not in tainted), None)
    keep = [True] * len(lines)
    if body_start is not None:
        headline = _pick_headline(lines[:body_start], tainted) if find_title else None
        for i in range(body_start):
            ln = lines[i]
            if ln.kind == BYLINE and author is None:
                m = _BYLINE.match(ln.text)
                author = m.group("who").strip() if m else None
            elif ln.kind == DATELINE and published is None:
                published = parse_date(ln.text)
            elif find_title and title is None and i == headline:
                title = ln.text
            elif not find_title and ln.kind == TEXT and ln.block not in tainted:
                continue  # extractor output: a short first paragraph is still article text
            keep[i] = False
        cut = _tail_cut(lines, body_start + 1)
        for i in range(cut, len(lines)):
            keep[i] = False
        # trailing boilerplate and orphan short lines after the last prose paragraph
        last = max((i for i in range(body_start, cut) if _is_body(lines[i])), default=body_start)
        for i in range(last + 1, cut):
            # after the last prose line: boilerplate, and short sign-offs ("RIRM", an author's initials)
            if lines[i].kind in _BOILERPLATE or lines[i].kind in (BYLINE, DATELINE) or lines[i].words <= 3:
                keep[i] = False
    for i, ln in enumerate(lines):
        if ln.kind in _BOILERPLATE and ln.kind != APPEAL and ln.kind != OPENER:
            keep[i] = False
        elif ln.kind in (APPEAL, OPENER) and (ln.block in tainted or _stray_appeal(ln)):
            keep[i] = False
    if title is not None:
        removed.append(title)
    out: list[str] = []
    prev_block = None
    for ln, k in zip(lines, keep, strict=True):
        if not k:
            if ln.text != title:
                removed.append(ln.text)
            continue
        if prev_block is not None:
            out.append("\n\n" if ln.block != prev_block else "\n")
        out.append(ln.text)
        prev_block = ln.block
    return Cleaned(text="".join(out), title=title, author=author, published=published, removed=removed)
