"""newsner.text.offsets: the neutral conversions readers use (UTF-16 units, code points, grapheme clusters)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from newsner.errors import AnnotationError
from newsner.text.offsets import GraphemeMap, OffsetMap, UnitConverter, grapheme_starts, units_differ

TEXT = "🇲🇱 Kidal, cafe\u0301 👍🏽 Gao"


def test_graphemes_count_a_flag_a_skin_tone_emoji_and_a_combining_letter_as_one() -> None:
    starts = grapheme_starts(TEXT)
    clusters = [TEXT[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]
    assert clusters[0] == "🇲🇱" and "e\u0301" in clusters and "👍🏽" in clusters
    gmap = GraphemeMap(TEXT)
    g_start = clusters.index("G")
    assert TEXT[gmap.from_graphemes(g_start):gmap.from_graphemes(g_start + 3)] == "Gao"
    assert gmap.to_graphemes(TEXT.index("Gao")) == g_start
    with pytest.raises(AnnotationError, match="inside a grapheme cluster"):
        gmap.to_graphemes(1)  # between the two regional indicators of the flag


def test_unit_converter_agrees_with_each_unit() -> None:
    start, end = TEXT.index("Gao"), TEXT.index("Gao") + 3
    u16 = OffsetMap(TEXT).span_to_utf16(start, end)
    g = GraphemeMap(TEXT).span_to_graphemes(start, end)
    assert len({u16, g, (start, end)}) == 3  # all three units differ on this text
    assert UnitConverter(TEXT, "utf16").span(*u16) == (start, end)
    assert UnitConverter(TEXT, "graphemes").span(*g) == (start, end)
    assert UnitConverter(TEXT, "codepoints").span(start, end) == (start, end)
    assert units_differ(TEXT) and not units_differ("Kidal, café")


def test_readers_do_not_import_the_doccano_package() -> None:
    code = ("import sys, newsner.formats.doccano, newsner.formats.conll, newsner.formats.re3d, newsner.annotations; "
            "print(sorted(m for m in sys.modules if m.startswith('newsner.doccano')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
