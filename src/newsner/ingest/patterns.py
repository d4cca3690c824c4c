"""The pattern tables `clean_text` classifies lines with: interface lines (widgets), reader appeals, credits,
bylines, datelines — and the stem index that keeps most lines from running any regex at all.

Kept apart from newsner.ingest.clean (which holds the positional logic) so each stays readable; add a phrase here,
with a test in tests/test_ingest_clean.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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


def text_stems(text: str) -> list[str]:
    """The rule stems found anywhere in the text: most news text holds few of them, so each line is then
    tested for those few instead of all (~80 substring tests a line)."""
    low = text.lower()
    return [stem for stem in _STEMS if stem in low]
