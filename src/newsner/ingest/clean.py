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


# ----------------------------------------------------------------------------------------- patterns
def _alternation(phrases: str) -> str:
    """One regex alternation from a block of lines; a line indented deeper continues the previous one."""
    items: list[str] = []
    for raw in phrases.strip("\n").splitlines():
        if raw.startswith("        ") and items:
            items[-1] += raw.strip()
        elif raw.strip():
            items.append(raw.strip())
    return "|".join(items)


# Whole lines that are interface text, not prose (compared after lower-casing and trimming punctuation).
_WIDGET_LINES = re.compile(r"^(?:" + _alternation(r"""
    support us|support our work|support independent journalism|donate|donate now|make a donation
    contribute|contribute now|give now|subscribe|subscribe now|subscribe today|sign up|sign up now|sign in
    log in|login|register|create an account|my account|read more|read more stories|see more|show more
    load more|view more|more|continue reading|keep reading|read the full story|read full article
    related|related articles|related stories|related content|related news|recommended|recommended for you
    you may also like|you might also like|more from .{1,40}|more on this story|more stories|most read|most popular
    trending|trending now|top stories|latest news|latest|advertisement|advert|ad|sponsored|sponsored content
    paid content|share|share this|share this article|share this story|share on .{1,20}|tweet|email|e-mail
    print|copy link|link copied|whatsapp|facebook|twitter|x|telegram|linkedin|reddit|comments|comment
    leave a comment|show comments|view comments|once|one-time|one time|monthly|annual|annually|yearly|weekly
    continue|next|previous|prev|back|back to top|skip to content|skip to main content|menu|close|open menu
    search|home|remind me later|maybe later|not now|no thanks|no, thanks|accept|accept all|accept cookies
    reject all|decline|cookie settings|manage cookies|cookie preferences|got it|ok|i agree|agree
    pa[iy]ment methods|payment options|secure payment|choose an amount|other amount|\$?\d{1,4}(?:[.,]\d\d)?
    [$€£]\s?\d{1,5}(?:[.,]\d\d)?(?: ?/ ?(?:month|mo|year|yr))?|not ready to support today
    listen|listen to this article|listen to article|play|watch|watch live|watch now|video|audio|gallery
    follow us|follow us on .{1,30}|join us on .{1,30}|get the app|download the app|newsletter
    newsletters|our newsletter|get our newsletter|subscribe to our newsletter|sign up for our newsletter
    enjoying ad-free content|updated|published|breaking|breaking news|live|live updates|opinion|analysis
    updated on|last updated|aktualisiert|aktualisiert am|mis à jour|mis à jour le|actualizado|zaktualizowano
    """) + r")$")

# Lines that are boilerplate when they *start* with these (and are short): "Read more: <other story>".
_WIDGET_PREFIX = re.compile(r"^(?:" + _alternation(r"""
    read more|read also|also read|see also|related|recommended|watch|listen|more on this|more from
    click here|tap here|follow us|sign up|subscribe|download our|get our|advertisement|sponsored
    share this|tags|topics|filed under|categories|keywords|all rights reserved|copyright
    lire aussi|à lire aussi|a lire aussi|voir aussi|à lire également|publicité|lesen sie auch|mehr zum thema
    anzeige|werbung|leer más|lea también|lee también|publicidad|leggi anche|pubblicità|leia também|publicidade
    czytaj też|czytaj także|zobacz też|reklama|dowiedz się więcej|learn more|find out more|en savoir plus
    mehr erfahren|spendenkonto|bankverbindung|donation account|bank details
    """) + r")\b\s*[:|\-–—>»]", re.I)

# Pattern rules are "stems :: regex" lines (a deeper-indented line continues the regex). A rule's regex can only
# match where one of its stems occurs in the lower-cased line, so a line is first checked for the stems (plain
# substring tests, fast) and runs a rule's regex only when a stem is there: prose without boilerplate costs no
# regex search at all. tests/test_ingest_clean.py checks that every alternative of every rule contains one of
# its stems.
@dataclass(frozen=True, eq=False)
class Rule:
    stems: tuple[str, ...]
    regex: re.Pattern[str]
    source: str


#: Word tokens as every ingest step counts them (on lower-cased text).
WORD = re.compile(r"\w+")


def _rules(block: str, *, prefix: str = "", flags: int = re.I) -> tuple[Rule, ...]:
    lines: list[str] = []
    for raw in block.strip("\n").splitlines():
        if raw.startswith("        ") and lines:
            lines[-1] += raw.strip()
        elif raw.strip():
            lines.append(raw.strip())
    rules = []
    for line in lines:
        stems, _, pattern = line.partition("::")
        rules.append(Rule(tuple(s.strip() for s in stems.split(",")),
                          re.compile(prefix + "(?:" + pattern.strip() + ")", flags), pattern.strip()))
    return tuple(rules)


def _stem_index(*rule_sets: tuple[Rule, ...]) -> tuple[tuple[str, ...], dict[str, tuple[Rule, ...]]]:
    stems = {stem for rules in rule_sets for rule in rules for stem in rule.stems}
    # a stem that contains a shorter stem ("supporter" ⊃ "support") is found whenever the shorter one is:
    # checking the shorter one alone is enough to know which rules to try
    def base(stem: str) -> str:
        return min((s for s in stems if s in stem), key=len)

    by_stem: dict[str, list[Rule]] = {}
    for rules in rule_sets:
        for rule in rules:
            for stem in rule.stems:
                group = by_stem.setdefault(base(stem), [])
                if rule not in group:
                    group.append(rule)
    return tuple(by_stem), {stem: tuple(rules) for stem, rules in by_stem.items()}


def _matching_rules(low: str, line: str, stems: tuple[str, ...] | list[str] | None = None) -> set[Rule]:
    """Rules whose regex matches the line, trying only those with a stem in it (of `stems`: those found in the
    whole text, when the caller looked them up once)."""
    present = [stem for stem in (_STEMS if stems is None else stems) if stem in low]
    if not present:
        return set()
    candidates = {rule for stem in present for rule in _RULES_BY_STEM[stem]}
    return {rule for rule in candidates if rule.regex.search(line)}


# Reader-directed appeal language: one hit makes a line an appeal.
_APPEAL = _rules(r"""
    support :: support us|support our (?:work|journalism|reporting|newsroom|mission)|please support|by supporting
    support :: support (?:independent|quality|free|honest) (?:journalism|media|press|reporting)
    support :: (?:your|monthly|annual|recurring|regular) support(?:,| (?:can|will|helps?|makes?|means|matters
        |keeps?|allows?|is|no matter))|not ready to support|reader[- ]supported
    donat :: your donation|donate (?:now|today|here|to us|to the|monthly)|make a donation|one-time donation
        |(?:monthly|annual|recurring|regular) donation|not ready to donate
    contribut :: your contribution|make a contribution|(?:monthly|annual|recurring|regular) contribution
    generosity :: your generosity
    gift :: your gift (?:can|will|helps?|makes?|means|matters)|(?:one-time|monthly|annual|recurring|regular) gift
    payment :: (?:one-time|monthly|annual|recurring|regular) payment
    need your :: (?:we|i) need your (?:help|support)
    help us :: help us (?:keep|continue|fill|stay|remain|fund|do|grow|reach|report)
    member, patron, supporter, friend, subscri :: become a (?:member|supporter|patron|subscriber|friend)
        |already a member
    join :: join (?:our|the) (?:community|members|supporters)
    subscri :: subscribe (?:now|today|to (?:our|the|get|read|continue)|for (?:just|only|\$|€|£))
        |your subscription|not ready to subscribe|already (?:a subscriber|subscribed)|become a subscriber
    sign up :: sign up (?:for|to) (?:our|the|get|receive)
    newsletter :: (?:our|the|daily|weekly|free) newsletter|newsletter (?:sign ?up|subscription)
    inbox :: inbox every
    ad-free, ad free, ads free :: ad-free|ad free|ads free
    blocker :: ads? blocker
    disabled :: disabled (?:all )?(?:ads|advertising)
    no ads, no advertising :: no ads|no advertising
    paywall :: paywall
    funded :: reader[- ]funded|funded by (?:our )?readers
    thank you for :: thank you for (?:reading|your support|standing with us|supporting|being a)
    remind me later :: remind me later
    dear :: dear (?:readers?|friends|subscribers)
    a message from :: a message from (?:the )?(?:editor|team|newsroom|our|[A-Z])
    log in, login :: (?:log in|login) to (?:read|continue)
    providing, bringing :: keep (?:providing|bringing) you
    starting, costs us, for just, for only :: starting (?:from|at) (?:just )?(?:\$|€|£)|costs us (?:\$|€|£)
        |(?:for just|for only) (?:\$|€|£)
    journalism :: our journalism is|independent journalism (?:is|needs|depends|relies)
        |journalism (?:is|remains) (?:free|open) (?:to|for)
    cookie :: we accept cookies|uses? cookies|cookie policy
    privacy policy :: privacy policy
    terms of :: terms of (?:use|service)
    soutenez :: soutenez (?:le|la|notre|nos|une)
    faites un don :: faites un don
    abonnez :: abonnez-vous
    spenden :: jetzt spenden|spenden sie
    unterstützen sie :: unterstützen sie uns
    wesprzyj :: wesprzyj (?:nas|nasz)
    darowizn :: przekaż darowiznę
    dona ahora :: dona ahora
    suscríb :: suscríbete
    hazte :: hazte (?:socio|suscriptor)
    """, prefix=r"\b")

# Lines that open an appeal block at the end of an article.
_APPEAL_OPENER = re.compile(r"^(?:" + _alternation(r"""
    a (?:message|note|word|letter) from\b
    dear (?:readers?|friends?|subscribers?|supporters?)\b
    before you go\b|one more thing\b|we have a (?:small )?favou?r to ask\b|if you (?:value|like|enjoy|appreciate)\b
    support (?:independent|our|the|us)\b|thank you for reading\b|thanks for reading\b
    enjoy(?:ing|ed)? (?:this|ad-free|our|reading)\b
    (?:you|you've) (?:have )?read \d+ (?:free )?articles?\b|this (?:article|story|content) is (?:free|made possible)\b
    """) + r")", re.I)

# Photo/video credits, captions with a credit, legal lines and wire sign-offs.
_CREDIT = _rules(r"""
    photo, image, picture, illustration, video, graphic, caption :: ^(?:photo|image|picture|illustration|video
        |graphic|caption|file photo|cover photo|main photo|top photo|header image)s?\s*(?::|by\b|credit\b|/|©|\|)
    photo, image, picture :: \b(?:photo|image|picture) (?:credit|courtesy|by|via)\b
    courtesy :: \bcourtesy (?:photo|image|of)\b
    photo, foto, bild, image, zdjęcie, fot., credit, crédit, source
        :: \b(?:photo|photos|foto|fotos|bild|image|zdjęcie|fot\.|credit|crédit|source)\s?:\s?[^.!?:]{1,60}$
    ©, (c) :: ©|\(c\) ?\d{4}
    all rights reserved :: \ball rights reserved\b
    copyright :: ^copyright\b
    /, | :: (?:/|\|) ?(?:AFP|Reuters|AP|EPA|Getty Images|Getty|Anadolu|Xinhua|TASS|Sputnik|Shutterstock|Alamy|dpa
        |ANSA|IMAGO|UPI|SIPA)\b[^.!?]{0,40}$
    (afp, (reuters, (ap, (epa, (getty, (xinhua, (tass, (dpa
        :: (?:\(AFP|\(Reuters|\(AP|\(EPA|\(Getty Images|\(Xinhua|\(TASS|\(dpa)(?: ?/ ?[^)]{1,40})?\)$
    reporting, writing, editing, compiled, translated, edited :: ^\((?:reporting|writing|editing
        |additional reporting|compiled|translated|edited) by\b.*\)$
    reporting, writing, editing :: ^(?:reporting|writing|editing|additional reporting) by\b[^.]{0,120}(?:;|$)
    """)
_APPEAL_SET, _CREDIT_SET = frozenset(_APPEAL), frozenset(_CREDIT)
_STEMS, _RULES_BY_STEM = _stem_index(_APPEAL, _CREDIT)

# A caption usually ends with the photographer's channel or site rather than a full stop.
_ENDS_WITH_HANDLE = re.compile(
    r"(?:https?://\S+|\bwww\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|info|io|me|ru|ua|fr|uk|de|ml|sn|bf|ne|tv|co)"
    r"(?:/\S*)?|\bt\.me/\S+|@\w{2,})$", re.I)

_BYLINE = re.compile(r"^(?:by|par|von|por|di|written by|words by|author:|auteur\s*:)\s+(?P<who>[^\d|•]{2,120}?)"
                     r"\s*(?:[|•,–—-]\s*.*)?$", re.I)
_MONTHS = {m: i for i, m in enumerate(
    ("january february march april may june july august september october november december").split(), 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTHS.update({m: i for i, m in enumerate(
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(), 1)})
_DATE_PREFIX = re.compile(r"^(?:published|posted|updated|last updated|first published|date)\s*(?:on|at)?\s*:?\s*",
                          re.I)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DATE_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|er)?\.? ([^\W\d_]{3,9})\.?,? (\d{4})\b")
_DATE_MDY = re.compile(r"\b([^\W\d_]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})\b")
_ALNUM = re.compile(r"[^\W_]")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$|[\"'”’»]$")
_HEADLINE_END_BAD = re.compile(r"[.,;:]$")
# "[read more]" / "[więcej]" / "Read more »" left at the end of a teaser paragraph by a link.
_MORE_LINK = re.compile(r"\s*(?:\[(?:…|\.\.\.)?\s*(?:read more|more|continue reading|czytaj więcej|więcej|"
                        r"lire la suite|suite|weiterlesen|mehr|leer más|leggi tutto|ler mais)\s*(?:…|\.\.\.)?\]"
                        r"|(?:read more|more) ?[»›→])$", re.I)
_SECTION_PATH = re.compile(r" [|›»>/] ")
# second person and first person plural; "us" only in lower case ("US" is the country), "Sie" only capitalised
_READER = re.compile(r"\b(?:[Yy]ou|[Yy]our|[Yy]ours|[Ww]e|[Oo]ur|us|[Vv]ous|[Vv]otre|[Vv]os|[Nn]ous|[Nn]otre|[Nn]os"
                     r"|Sie|Ihr|Ihre|[Ww]ir|[Uu]nser|[Uu]nsere|uns|[Uu]sted|[Nn]osotros|[Nn]uestr[oa]|[Tt]wój"
                     r"|[Nn]asz|[Nn]asza|nas)\b")
_QUOTES = re.compile("[\"“”«»„]")
_TRIM = " \t.,:;!?|•·*-–—>»«\"'“”‘’()[]"

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


def text_stems(text: str) -> list[str]:
    """The rule stems found anywhere in the text: most news text holds few of them, so each line is then
    tested for those few instead of all (~80 substring tests a line)."""
    low = text.lower()
    return [stem for stem in _STEMS if stem in low]


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
