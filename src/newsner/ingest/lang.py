"""A small, dependency-free language guess for texts whose input does not declare one.

It counts very frequent function words of a few languages common in news corpora and answers only when one
language clearly wins; otherwise the article's `language` stays null (unknown), which is better than wrong.
"""

from __future__ import annotations

import re

_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to in is that for it was on with he as by at from his but have has are were they "
              "said which this be an not their who had been after its would will",
        "fr": "le la les des et est dans une un du pour que qui par sur au aux pas plus ont été avec il elle "
              "ce cette sont selon lors son ses leur",
        "de": "der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch es an werden aus "
              "er hat dass sie nach wird bei",
        "es": "el la los las y de que en un una por con para del se al es lo como más pero sus le fue según "
              "ha han entre",
        "it": "il di che e la per un una non del della sono con si da al le gli nel alla anche ha dei delle "
              "è stato",
        "pt": "o a os as de que e do da em um uma para com não por mais dos das foi pelo pela ao se seu sua "
              "também",
        "nl": "de het een en van is dat op te in voor niet met zijn aan er ook als bij door maar om heeft "
              "werd",
        "pl": "i w na z się że nie do to jest o jak po co od za przez ale już są jego tym dla",
    }.items()
}
_WORD = re.compile(r"[^\W\d_]+")
# word -> the languages it is a function word of; one dict lookup per word instead of one per language
_LANGS_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _w in _words:
        _LANGS_OF[_w] = (*_LANGS_OF.get(_w, ()), _lang)


def guess_language(text: str, *, words: list[str] | None = None, sample: int = 250) -> str | None:
    """ISO 639-1 code of the text's language when confident (at least 20 words, a clear winner), else None.

    `words`: the text's lower-cased word tokens, when the caller has them already.
    """
    words = (words if words is not None else _WORD.findall(text[:sample * 8].lower()))[:sample]
    if len(words) < 20:
        return None
    scores = dict.fromkeys(_STOPWORDS, 0)
    for langs in map(_LANGS_OF.get, words):
        if langs:
            for lang in langs:
                scores[lang] += 1
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < max(5, len(words) // 10) or top < 1.5 * second:
        return None
    return best
