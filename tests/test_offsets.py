"""Python code points <-> UTF-16 code units (what doccano's web UI records)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsner.doccano.offsets import OffsetMap, from_utf16, to_utf16, utf16_length
from newsner.errors import AnnotationError

# Text mixing ASCII, combining marks, CRLF, non-Latin scripts and astral characters (emoji, flags, CJK ext. B).
PIECES = st.sampled_from(["a", "Mali", " ", "\r\n", "e\u0301", "é", "Тинзауатен", "تينزاواتن", "廷扎瓦滕",
                          "😀", "🇲🇱", "👩‍👩‍👧", "𠜎", "𝔘", "\u200d", "\ufeff"])
TEXTS = st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=30).map("".join)


def js_offset(text: str, cp_offset: int) -> int:
    """What a browser would report: the length in UTF-16 units of the text before the offset."""
    return len(text[:cp_offset].encode("utf-16-le")) // 2


@given(TEXTS, st.data())
def test_code_point_offsets_round_trip_through_utf16(text: str, data: st.DataObject) -> None:
    omap = OffsetMap(text)
    offset = data.draw(st.integers(0, len(text)))
    u16 = omap.to_utf16(offset)
    assert u16 == js_offset(text, offset)
    assert omap.from_utf16(u16) == offset


@given(TEXTS)
def test_every_utf16_offset_is_a_boundary_or_refused(text: str) -> None:
    omap = OffsetMap(text)
    units = text.encode("utf-16-le")
    assert omap.u16_length == len(units) // 2 == utf16_length(text)
    for u in range(omap.u16_length + 1):
        prefix = units[: 2 * u]
        try:
            expected = len(prefix.decode("utf-16-le"))
        except UnicodeDecodeError:
            # u falls between a high and a low surrogate: no selection ends there.
            with pytest.raises(AnnotationError, match="splits a character"):
                omap.from_utf16(u)
            continue
        assert omap.from_utf16(u) == expected


@given(TEXTS, st.data())
def test_span_text_is_what_the_browser_shows(text: str, data: st.DataObject) -> None:
    if not text:
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    s16, e16 = OffsetMap(text).span_to_utf16(start, end)
    # JavaScript's text.substring(s16, e16), emulated on the UTF-16 encoding.
    shown = text.encode("utf-16-le")[2 * s16: 2 * e16].decode("utf-16-le")
    assert shown == text[start:end]
    assert OffsetMap(text).span_from_utf16(s16, e16) == (start, end)


def test_emoji_and_flags_before_an_entity_shift_utf16_offsets() -> None:
    text = "🇲🇱 😀 Mali's army and Wagner fighters"
    start = text.index("Wagner")
    # Two regional indicators (the flag) and one emoji: three astral characters, three extra units.
    assert to_utf16(text, start) == start + 3
    assert from_utf16(text, start + 3) == start
    assert text[from_utf16(text, start + 3): from_utf16(text, start + 9)] == "Wagner"


def test_bmp_only_text_is_identity() -> None:
    text = "Kidal, e\u0301te\u0301\r\nТинзауатен"
    omap = OffsetMap(text)
    assert omap.identity
    assert [omap.to_utf16(i) for i in range(len(text) + 1)] == list(range(len(text) + 1))


@pytest.mark.parametrize("offset", [-1, 4])
def test_offsets_outside_the_text_are_refused(offset: int) -> None:
    with pytest.raises(AnnotationError, match="outside the text"):
        OffsetMap("abc").to_utf16(offset)
    with pytest.raises(AnnotationError, match="outside the text"):
        OffsetMap("abc").from_utf16(offset)
