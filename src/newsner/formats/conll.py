"""CoNLL / BIO token files: reader, tag-scheme codecs and the line writer.

Reading
    One token a line, the token in the first column and the tag in the last (2, 3 or 4 columns separated by
    tabs or spaces), a blank line between sentences, ``-DOCSTART-`` lines between documents. spaCy's
    sentence-per-line ``word|POS|tag`` files are read too. Dialects (``scheme``):

    - ``iob2``: every entity starts with ``B-`` (CoNLL-2003 as most tools write it, doccano).
    - ``iob1``: ``I-`` everywhere, ``B-`` only between two adjacent entities of one type (wikigold, Europeana).
    - ``io``: bare labels, no prefixes (GUM); adjacent tokens with one label are one entity.
    - ``bioes``: ``B-``/``I-``/``E-``/``S-`` (``L-``/``U-`` accepted as BILOU spellings).
    - ``auto`` (default) picks one from the file's tags; decoding is lenient in one documented way: an ``I-X``
      (or ``E-X``) that does not continue an ``X`` entity starts one. Under ``iob2``/``bioes`` that is counted as
      a repair and reported.

    A line whose tag fits none of that (``SOCCERO`` in a BIO file, a line with only one column) rejects its
    sentence with ``file:line``; the rest of the document imports (its text simply lacks that sentence).

Documents and text
    Without a corpus article the text is rebuilt from the tokens: tokens joined by one space, sentences by a
    newline. newsner's own export writes ``-DOCSTART- -X- <article id> O``; when that article is in the corpus
    its text is used instead and the tokens are found in it in order, so a CoNLL file that went out of newsner
    comes back onto the very same article and offsets (import → export conll → import is lossless).

Writing
    `format_sentence` writes ``token _ _ TAG`` (4 columns, CoNLL-2003 layout without POS/chunk) or
    ``token TAG`` (2 columns) in any of the four dialects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from newsner.errors import FormatError
from newsner.formats import ParsedDoc, Rejected, SourceSpan

SCHEMES = ("iob2", "iob1", "io", "bioes")
DOC_MODES = ("auto", "docstart", "sentence", "file")
_PREFIXED = re.compile(r"^([BIESLU])-(.+)$")
_ARTICLE_ID = re.compile(r"^[0-9a-f]{16}$")
DOCSTART = "-DOCSTART-"

Entity = tuple[int, int, str]  # token start, token end (exclusive), label


@dataclass
class ConllToken:
    text: str
    tag: str
    line: int


@dataclass
class ConllDoc:
    """A document as read: sentences of tokens, plus the article id newsner's export put on -DOCSTART-."""

    path: Path
    sentences: list[list[ConllToken]] = field(default_factory=list)
    article_id: str | None = None

    @property
    def where(self) -> str:
        lines = [t.line for s in self.sentences for t in s]
        if not lines:
            return str(self.path)
        return f"{self.path}:{min(lines)}-{max(lines)}"


# ------------------------------------------------------------------------------------------------ reading
def read_conll(path: Path, *, documents: str = "auto") -> Iterator[ConllDoc | Rejected]:
    """Yield the documents of a CoNLL file, and a Rejected for each sentence with an unreadable line.

    Args:
        path: the file.
        documents: ``auto`` (split at -DOCSTART- when the file has any, else the whole file is one document),
            ``docstart``, ``sentence`` (every sentence is a document) or ``file``.
    """
    if documents not in DOC_MODES:
        raise FormatError(f"documents must be one of {', '.join(DOC_MODES)}, got {documents!r}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 (byte {exc.start}); convert the file to UTF-8 first") from None
    lines = content.splitlines()
    has_docstart = any(line.startswith(DOCSTART) for line in lines)
    split_docs = documents == "docstart" or (documents == "auto" and has_docstart)

    doc = ConllDoc(path)
    sentence: list[ConllToken] = []
    bad: Rejected | None = None

    def end_sentence() -> Iterator[Rejected]:
        nonlocal sentence, bad
        if bad is not None:
            yield bad
        elif sentence:
            doc.sentences.append(sentence)
        sentence, bad = [], None

    def end_doc() -> Iterator[ConllDoc]:
        nonlocal doc
        if doc.sentences:
            yield doc
        doc = ConllDoc(path)

    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            yield from end_sentence()
            if documents == "sentence":
                yield from end_doc()
            continue
        if stripped.startswith(DOCSTART):
            yield from end_sentence()
            if split_docs or documents == "sentence":
                yield from end_doc()
            fields = stripped.split()
            if split_docs and len(fields) >= 4 and _ARTICLE_ID.match(fields[2]):
                doc.article_id = fields[2]
            continue
        fields = line.split("\t") if "\t" in line else line.split(" ")
        fields = [f.strip() for f in fields if f.strip()]
        if all("|" in f for f in fields) and all(len(f.split("|")) >= 2 for f in fields):
            # spaCy's sentence-per-line format: word|POS|TAG tokens, one sentence a line.
            yield from end_sentence()
            sentence = [ConllToken(f.split("|")[0], f.split("|")[-1], lineno) for f in fields]
            yield from end_sentence()
            if documents == "sentence":
                yield from end_doc()
            continue
        if len(fields) < 2:
            if bad is None:
                bad = Rejected(f"{path}:{lineno}", f"expected TOKEN ... TAG columns, got {stripped!r}; "
                                                   "the sentence is skipped")
            continue
        sentence.append(ConllToken(fields[0], fields[-1], lineno))
    yield from end_sentence()
    yield from end_doc()


# ------------------------------------------------------------------------------------------ tag schemes
def detect_scheme(tags: Sequence[str]) -> str:
    """The dialect that explains `tags` best (see the module docstring)."""
    prefixes: set[str] = set()
    bare = False
    prev_label: str | None = None
    starts_with_i = False
    for tag in tags:
        if tag == "O":
            prev_label = None
            continue
        m = _PREFIXED.match(tag)
        if not m:
            bare = True
            prev_label = None
            continue
        prefix, label = m.groups()
        prefixes.add(prefix)
        if prefix == "I" and prev_label != label:
            starts_with_i = True
        prev_label = label if prefix in "BI" else None
    if bare and not prefixes:
        return "io"
    if prefixes & set("ESLU"):
        return "bioes"
    if starts_with_i:
        return "iob1"
    return "iob2"


def check_tag(tag: str, scheme: str) -> str | None:
    """Why `tag` is impossible in `scheme`, or None when it is fine."""
    if tag == "O":
        return None
    if scheme == "io":
        return None
    m = _PREFIXED.match(tag)
    if not m:
        return f"tag {tag!r} is not O or B-/I-/E-/S-<label> ({scheme})"
    if scheme in ("iob1", "iob2") and m.group(1) not in "BI":
        return f"tag {tag!r} has prefix {m.group(1)}- which {scheme} does not use (is the file BIOES?)"
    return None


def decode(tags: Sequence[str], scheme: str) -> tuple[list[Entity], int]:
    """Entities (token start, end, label) of one sentence's tags, and how many tags needed the lenient rule.

    Tags must have passed `check_tag`.
    """
    entities: list[Entity] = []
    repairs = 0
    cur_label: str | None = None
    cur_start = 0

    def close(end: int) -> None:
        nonlocal cur_label
        if cur_label is not None:
            entities.append((cur_start, end, cur_label))
        cur_label = None

    for i, tag in enumerate(tags):
        if tag == "O":
            close(i)
            continue
        if scheme == "io":
            if cur_label != tag:
                close(i)
                cur_label, cur_start = tag, i
            continue
        prefix, label = tag[0], tag[2:]
        if prefix in "SU":
            close(i)
            entities.append((i, i + 1, label))
        elif prefix == "B":
            close(i)
            cur_label, cur_start = label, i
        elif prefix == "I":
            if cur_label != label:
                close(i)
                cur_label, cur_start = label, i
                if scheme in ("iob2", "bioes"):
                    repairs += 1
        else:  # E or L: ends the current entity
            if cur_label == label:
                close(i + 1)
            else:
                close(i)
                entities.append((i, i + 1, label))
                repairs += 1
    close(len(tags))
    return entities, repairs


def encode(n: int, entities: Sequence[Entity], scheme: str) -> list[str]:
    """Tags for `n` tokens holding non-overlapping `entities` (sorted by start) in `scheme`.

    ``io`` cannot tell two adjacent entities of one label apart; they read back as one (a property of IO).
    """
    if scheme not in SCHEMES:
        raise FormatError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    tags = ["O"] * n
    prev_end, prev_label = -1, None
    for start, end, label in entities:
        if scheme == "io":
            for i in range(start, end):
                tags[i] = label
        elif scheme == "iob2":
            tags[start] = f"B-{label}"
            for i in range(start + 1, end):
                tags[i] = f"I-{label}"
        elif scheme == "iob1":
            first = "B" if (prev_end == start and prev_label == label) else "I"
            tags[start] = f"{first}-{label}"
            for i in range(start + 1, end):
                tags[i] = f"I-{label}"
        else:
            if end - start == 1:
                tags[start] = f"S-{label}"
            else:
                tags[start] = f"B-{label}"
                for i in range(start + 1, end - 1):
                    tags[i] = f"I-{label}"
                tags[end - 1] = f"E-{label}"
        prev_end, prev_label = end, label
    return tags


# ------------------------------------------------------------------------------------------ to ParsedDoc
def file_scheme(docs: Sequence[ConllDoc], scheme: str) -> str:
    """Resolve ``auto`` over every tag of a file (one dialect per file)."""
    if scheme != "auto":
        if scheme not in SCHEMES:
            raise FormatError(f"--scheme must be auto or one of {', '.join(SCHEMES)}, got {scheme!r}")
        return scheme
    return detect_scheme([t.tag for d in docs for s in d.sentences for t in s])


def to_parsed(doc: ConllDoc, scheme: str, *, text: str | None = None) -> tuple[ParsedDoc | None, list[Rejected]]:
    """Turn a ConllDoc into text + character spans.

    Sentences with an impossible tag are rejected (and left out of the text). When `text` is given (the
    corpus article named on -DOCSTART-) the tokens are located in it instead of rebuilding the text; a token
    that is not where expected rejects the document, naming the line.
    """
    rejected: list[Rejected] = []
    kept: list[list[ConllToken]] = []
    for sentence in doc.sentences:
        problem = next(((t, p) for t in sentence if (p := check_tag(t.tag, scheme))), None)
        if problem:
            token, message = problem
            rejected.append(Rejected(f"{doc.path}:{token.line}", f"{message}; the sentence at lines "
                                     f"{sentence[0].line}-{sentence[-1].line} is skipped"))
        else:
            kept.append(sentence)
    if not kept:
        return None, rejected
    offsets: list[list[tuple[int, int]]] = []
    if text is None:
        parts: list[str] = []
        pos = 0
        for s_i, sentence in enumerate(kept):
            if s_i:
                parts.append("\n")
                pos += 1
            sent_offsets = []
            for t_i, token in enumerate(sentence):
                if t_i:
                    parts.append(" ")
                    pos += 1
                parts.append(token.text)
                sent_offsets.append((pos, pos + len(token.text)))
                pos += len(token.text)
            offsets.append(sent_offsets)
        text = "".join(parts)
    else:
        pos = 0
        for sentence in kept:
            sent_offsets = []
            for token in sentence:
                while pos < len(text) and text[pos].isspace():
                    pos += 1
                if not text.startswith(token.text, pos):
                    found = text[pos:pos + len(token.text)]
                    return None, [*rejected, Rejected(
                        f"{doc.path}:{token.line}",
                        f"token {token.text!r} does not match article {doc.article_id} here (it reads {found!r}); "
                        "was the file edited? remove the id from the -DOCSTART- line to import it as a new text")]
                sent_offsets.append((pos, pos + len(token.text)))
                pos += len(token.text)
            offsets.append(sent_offsets)
    spans: list[SourceSpan] = []
    repairs = 0
    for sentence, sent_offsets in zip(kept, offsets, strict=True):
        entities, fixed = decode([t.tag for t in sentence], scheme)
        repairs += fixed
        for start, end, label in entities:
            spans.append(SourceSpan(sent_offsets[start][0], sent_offsets[end - 1][1], label))
    notes = [f"{repairs} entity start(s) without B- read as entity starts ({scheme})"] if repairs else []
    first = kept[0][0].line
    last = kept[-1][-1].line
    origin = {"format": "conll", "scheme": scheme, "file": str(doc.path), "lines": [first, last]}
    if doc.article_id:
        origin["docstart_id"] = doc.article_id
    parsed = ParsedDoc(where=f"{doc.path}:{first}-{last}", text=text, spans=spans, origin=origin, notes=notes,
                       fields={"meta": {"conll": {"file": doc.path.name}}})
    return parsed, rejected


# ---------------------------------------------------------------------------------------------- writing
def docstart_line(article_id: str | None, columns: int) -> str:
    """The document separator; 4-column files carry the article id so a re-import lands on the same text."""
    if columns == 2:
        return f"{DOCSTART} O"
    return f"{DOCSTART} -X- {article_id or '-X-'} O"


def format_sentence(tokens: Sequence[str], tags: Sequence[str], columns: int) -> str:
    """One sentence block (no trailing blank line)."""
    if columns == 2:
        return "\n".join(f"{tok} {tag}" for tok, tag in zip(tokens, tags, strict=True))
    return "\n".join(f"{tok} _ _ {tag}" for tok, tag in zip(tokens, tags, strict=True))
