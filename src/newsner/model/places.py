"""LOCATION spans of one rule-suggester document (used by `newsner.model.rules`).

Two ways a place is found:
- a gazetteer name (`newsner.model.gazetteer`, up to five tokens, longest first) that starts with a capital (or
  is a lexicon place name that starts lower-case, "lac Tchad"); a one-word name glued to another capitalised
  word ("Niger Delta Power") needs a location cue, and so does an ambiguous name (kind 2);
- a capitalised name no gazetteer knows, from its frame: a strong cue before it ("near Djibo", "à Tawila"), a
  suffix after it ("Mopti region") or a prefix with "de" ("région de X").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsner.model.rules import RuleSuggester


def place_spans(rs: RuleSuggester, doc: Any) -> list[tuple[int, int, str, float]]:
    """(start, end, "LOCATION", priority) candidates of `doc` (a `RuleSuggester.make_doc`), code points."""
    out: list[tuple[int, int, str, float]] = []
    i = 0
    n = len(doc)
    texts = [t.text for t in doc]
    spaces = [t.whitespace_ for t in doc]
    while i < n:
        found = 0
        if not texts[i][:1].isupper() and texts[i] not in rs.lower_place_starts:  # names start with a capital
            i += 1
            continue
        for j in range(min(n, i + 5), i, -1):
            phrase = "".join(texts[k] + spaces[k] for k in range(i, j - 1)) + texts[j - 1]
            kind = rs.places.lookup(phrase)
            if not kind:
                continue
            before = doc[i - 1] if i > 0 else None
            after = doc[j] if j < n else None
            cue = before is not None and (before.lower_ in rs.location_cues
                                          or (before.lower_ in ("the", "la", "le", "l'") and i > 1
                                              and doc[i - 2].lower_ in rs.location_cues))
            glued = ((after is not None and after.is_title and after.lower_ not in rs.location_suffixes
                      and after.text not in rs.not_places and not after.is_sent_start)
                     or (before is not None and before.is_title and i > 1 and not doc[i - 2].is_punct
                         and before.lower_ not in rs.location_cues and before.text not in rs.not_places))
            if glued and j - i == 1 and not cue:
                continue
            if kind == 2 and not cue:
                continue
            found = j
            break
        if found:
            out.append((doc[i].idx, doc[found - 1].idx + len(doc[found - 1]), "LOCATION", 1))
            i = found
        else:
            i += 1
    return out + _cued_places(rs, doc)

def _cued_places(rs: RuleSuggester, doc: Any) -> list[tuple[int, int, str, float]]:
    """Places no gazetteer knows, from their frame: "near Djibo", "à Tawila", "Mopti region", "région de X"."""
    strong = rs.low.get("location_cues_strong", set())
    suffixes = rs.location_suffixes
    prefixes = rs.low.get("location_prefixes", set())
    out: list[tuple[int, int, str, float]] = []
    n = len(doc)

    flags = doc.user_data["newsner_qty"]
    kinds = doc.user_data["newsner_kind"]

    def name_like(t: Any) -> bool:
        return (t.is_title and t.is_alpha or (t.is_title and "-" in t.text)) and t.text not in rs.not_places \
            and not kinds[t.i] and t.lower_ not in rs.low["demonyms"] \
            and t.lower_ not in rs.low["roles"] and not flags[t.i]

    i = 0
    while i < n:
        j = i
        while j < n and j - i < 3 and name_like(doc[j]):
            j += 1
        if j == i:
            i += 1
            continue
        before = doc[i - 1].lower_ if i > 0 else ""
        if before in ("the", "la", "le", "l'") and i > 1:
            before = doc[i - 2].lower_
        after = doc[j] if j < n else None
        ends = after is None or after.is_punct or after.is_lower
        cued = (before in strong and ends) or (after is not None and after.lower_ in suffixes) \
            or (before in prefixes and i > 1 and doc[i - 1].lower_ in ("de", "d'"))
        if i > 1 and doc[i - 1].lower_ in ("de", "d'") and doc[i - 2].lower_ in prefixes:
            cued = True
        if cued:
            out.append((doc[i].idx, doc[j - 1].idx + len(doc[j - 1]), "LOCATION", 1))
        i = j
    return out


__all__ = ["place_spans"]
