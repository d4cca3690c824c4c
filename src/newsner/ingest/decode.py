"""Bytes → str for every input: byte-order marks, declared and detected charsets, binary and empty files.

The order of attempts matters and follows what browsers do:
1. a byte-order mark wins (UTF-8/16/32);
2. valid UTF-8 is UTF-8 (by far the most common case, and almost never a false positive);
3. *mostly* UTF-8 with a few stray bytes (a Latin-1 caption pasted into a UTF-8 page) stays UTF-8, the stray
   bytes read as windows-1252, instead of the whole page being re-decoded in a wrong single-byte charset;
4. for HTML, the charset the page declares in <meta>, when the bytes actually decode with it;
5. Western single-byte text (windows-1252, the superset of Latin-1) unless the bytes clearly say otherwise:
   short French, Spanish, Italian, Portuguese or German files carry too few accented bytes for a statistical
   guesser, which then picks mac_latin2/cp1250/cp1258 and garbles "mañana" into "mańana";
6. charset-normalizer's best guess (Cyrillic, Greek, CJK... single- and multi-byte encodings).
A guess from 5 or 6 on little evidence carries a warning (shown with the file's name) to pass --encoding.
`--encoding NAME` skips all guessing.
Anything that still fails, or decodes to mostly control characters, is rejected with the reason.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from newsner.errors import IngestError, InputError

#: Default --max-size: the largest single document (file, JSONL line or CSV row) accepted, in bytes.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# UTF-32 LE must be tested before UTF-16 LE: its BOM starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Leading bytes of formats people drop into article folders by mistake; named so the fix is obvious.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document; convert it to text or HTML first"),
    (b"PK\x03\x04", "a ZIP archive (.docx/.xlsx/.epub are ZIP files); unpack or convert it first"),
    (b"\x1f\x8b", "gzip-compressed; decompress it first"),
    (b"BZh", "bzip2-compressed; decompress it first"),
    (b"\xfd7zXZ\x00", "xz-compressed; decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; unpack it first"),
    (b"Rar!\x1a\x07", "a RAR archive; unpack it first"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x7fELF", "an executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document; save it as text or HTML first"),
    (b"SQLite format 3\x00", "an SQLite database"),
)

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)

# Browsers (WHATWG Encoding Standard) read these labels as the superset charset; so do we.
_SUPERSETS = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
    "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "shift_jis": "cp932", "sjis": "cp932",
    "iso-8859-11": "cp874", "tis-620": "cp874", "big5": "big5hkscs",
}

STRAY_HANDLER = "newsner-stray-cp1252"
_STRAY_HANDLER = STRAY_HANDLER
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\ufffd]")
_STRAY = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _stray_bytes_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: read each invalid byte as windows-1252 (latin-1 where cp1252 has a hole)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), exc.end


codecs.register_error(_STRAY_HANDLER, _stray_bytes_as_cp1252)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    warning: str | None = None  # set when the encoding is a guess on little evidence


# Bytes windows-1252 leaves undefined: their presence rules it out.
_CP1252_HOLES = frozenset(b"\x81\x8d\x8f\x90\x9d")
#: Below this many non-ASCII bytes a guessed encoding is reported as weak.
WEAK_EVIDENCE = 64


def declared_charsets(data: bytes) -> list[str]:
    """Charsets an HTML page declares in <meta> (first 16 KB), in document order."""
    return [m.group(1).decode("ascii", "ignore").lower() for m in _META_CHARSET.finditer(data[:16384])]


def _python_codec(label: str) -> str | None:
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _sniff_magic(data: bytes) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise IngestError(f"binary file: {what}")


def _sniff_nul(data: bytes) -> None:
    head = data[:8192]
    if b"\x00" in head:
        # UTF-16 text without a BOM has a NUL in every other byte; anything else with NULs is binary.
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if max(even, odd) < len(head) // 3:
            raise IngestError("binary file (contains NUL bytes), not text or HTML")


def _utf16_without_bom(data: bytes) -> Decoded | None:
    head = data[:8192]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    codec = "utf-16-be" if even > odd else "utf-16-le"
    if max(even, odd) >= len(head) // 3:
        try:
            return Decoded(data.decode(codec), codec)
        except UnicodeDecodeError:
            return None
    return None


def _mostly_utf8(data: bytes) -> Decoded | None:
    """UTF-8 with a handful of stray single-byte characters (mixed-encoding pages)."""
    text = data.decode("utf-8", errors="surrogateescape")
    stray = len(_STRAY.findall(text))
    multibyte = len(_NON_ASCII.findall(text)) - stray
    # Genuine single-byte text has almost no valid multi-byte sequences; genuine UTF-8 has few stray bytes.
    if multibyte >= 8 and stray * 20 <= multibyte:
        return Decoded(data.decode("utf-8", errors=_STRAY_HANDLER), "utf-8 (stray bytes read as windows-1252)")
    return None


def _check_text(decoded: Decoded) -> Decoded:
    text = decoded.text
    sample = text[:20000]
    if not sample.strip():
        raise IngestError("empty file (only whitespace)")
    controls = len(_CONTROL.findall(sample))
    if controls > max(8, len(sample) // 50):
        raise IngestError(f"binary or corrupted file ({controls} control or replacement characters in the "
                          f"first {len(sample)} read as {decoded.encoding}), not text or HTML")
    return decoded


def _western(data: bytes) -> Decoded | None:
    """windows-1252 when the bytes look like a Western European language written in it.

    Such text is mostly ASCII with a few accented letters; Cyrillic, Greek or Arabic single-byte text (or any
    multi-byte encoding) has far more high bytes, or bytes that decode to symbols rather than letters.
    """
    high = [b for b in data if b >= 0x80]
    if not high or any(b in _CP1252_HOLES for b in high):
        return None
    letters = sum(1 for b in data if (0x41 <= b <= 0x5A) or (0x61 <= b <= 0x7A))
    if len(high) * 4 > letters:  # more than ~20 % high bytes: not a Western language
        return None
    text = data.decode("cp1252")
    high_chars = [c for c in text if ord(c) >= 0x80]
    wordlike = sum(1 for c in high_chars if c.isalpha() or c in "\u2018\u2019\u201c\u201d\u2013\u2014\u2026"
                   "\u20ac\u00ab\u00bb\u00b0\u00a0\u00ba\u00aa\u00bf\u00a1")
    if wordlike * 10 < len(high_chars) * 9:
        return None
    return Decoded(text, "windows-1252")


def _weak(decoded: Decoded, data: bytes) -> Decoded:
    high = sum(1 for b in data if b >= 0x80)
    if high < WEAK_EVIDENCE:
        return Decoded(decoded.text, decoded.encoding,
                       f"not UTF-8; read as {decoded.encoding} from only {high} non-ASCII byte(s): if accented "
                       "letters look wrong, rerun with --encoding NAME (e.g. --encoding cp1250)")
    return decoded


def decode_bytes(data: bytes, *, html: bool = False, encoding: str | None = None) -> Decoded:
    """Decode an input file's bytes; IngestError says why when it cannot be read as text."""
    if not data.strip():
        raise IngestError("empty file" if not data else "empty file (only whitespace)")
    if encoding:
        try:
            return _check_text(Decoded(data.decode(encoding), encoding))
        except LookupError:
            raise InputError(f"--encoding {encoding}: no such encoding (try utf-8, cp1252, latin-1, "
                             "cp1250, cp1251)") from None
        except UnicodeDecodeError as exc:
            raise IngestError(f"undecodable bytes: byte {exc.start} is not valid {encoding} (--encoding); "
                              "check the file's encoding") from None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _check_text(Decoded(data.decode(codec), codec))
            except UnicodeDecodeError as exc:
                raise IngestError(f"undecodable bytes: the file starts with a {codec.upper()} byte-order mark "
                                  f"but byte {exc.start} is not valid {codec.upper()}; re-save it as UTF-8") from None
    _sniff_magic(data)
    utf16 = _utf16_without_bom(data) if b"\x00" in data[:8192] else None
    if utf16 is not None:
        return _check_text(utf16)
    _sniff_nul(data)
    try:
        return _check_text(Decoded(data.decode("utf-8"), "utf-8"))
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return _check_text(mostly)
    if html:
        for label in declared_charsets(data):
            declared = _python_codec(label)
            if declared is None or declared == "utf-8":
                continue
            try:
                return _check_text(Decoded(data.decode(declared), declared))
            except UnicodeDecodeError:
                continue
    western = _western(data)
    if western is not None:
        return _check_text(_weak(western, data))
    from charset_normalizer import from_bytes  # ~0.1 s to import; only files that are neither UTF-8 nor Western

    # charset-normalizer samples the document itself; on large pages its default chunks are enough.
    best = from_bytes(data).best()
    guessed = best.encoding if best is not None else None
    if guessed is None:
        raise IngestError("undecodable bytes: not UTF-8 and no other encoding fits; re-save the file as UTF-8 "
                          "or pass --encoding NAME")
    try:
        return _check_text(_weak(Decoded(data.decode(guessed), guessed), data))
    except (UnicodeDecodeError, LookupError):
        raise IngestError(f"undecodable bytes: not UTF-8, and not {guessed} either; "
                          "re-save the file as UTF-8 or pass --encoding NAME") from None
