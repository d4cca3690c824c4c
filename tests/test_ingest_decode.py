"""Bytes → text: byte-order marks, declared and detected charsets, mixed encodings, binary and empty input."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from newsner.errors import IngestError
from newsner.ingest.decode import decode_bytes

ARTICLE = ("Les combats ont repris à Ségou et à Kidal, a déclaré l'armée dans un communiqué. "
           "Selon un porte-parole des rebelles, « des dizaines » de soldats ont été tués près de Tombouctou.\n")


@pytest.mark.parametrize("bom, codec", [
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
])
def test_byte_order_marks_are_honoured_and_dropped(bom: bytes, codec: str) -> None:
    decoded = decode_bytes(bom + ARTICLE.encode(codec))
    assert decoded.text == ARTICLE


def test_utf16_without_bom() -> None:
    assert decode_bytes(ARTICLE.encode("utf-16-le")).text == ARTICLE


def test_single_byte_text_is_detected() -> None:
    text = ARTICLE * 5
    assert decode_bytes(text.encode("cp1252")).text == text


def test_declared_html_charset_is_used_when_the_bytes_fit() -> None:
    body = "<p>Sejm zagłosował za. Żołnierze wrócili do Łodzi, a Michał Wiśniewski przemówił.</p>" * 3
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1250"></head>' \
           f"<body>{body}</body></html>"
    decoded = decode_bytes(page.encode("cp1250"), html=True)
    assert decoded.encoding == "cp1250" and "Żołnierze wrócili do Łodzi" in decoded.text


def test_stray_latin1_bytes_in_a_utf8_page_do_not_garble_the_rest() -> None:
    data = ("<p>Ökologische Vögel über Dortmund – Straße, Größe, Übung.</p>" * 5).encode("utf-8")
    data += "<p>Mitgefühl wählen!</p>".encode("latin-1")
    decoded = decode_bytes(data, html=True)
    assert "Ökologische Vögel über Dortmund" in decoded.text
    assert "Mitgefühl wählen!" in decoded.text


@pytest.mark.parametrize("name, marker", [
    ("trafilatura__archive.org.he.xinhuanet.com.25340717.html", "话剧《约定无期限》"),  # GB2312 declared
    ("trafilatura__Unijne_fundusze_coraz_bliżej._Sejm_zagłosował__za__-_Polityka_-_rp.pl.html",
     "Unijne fundusze coraz bliżej"),  # windows-1250
    ("trafilatura__cdu-fraktion-erfurt.de.waldorfschule.html", "Waldorfschule"),  # ISO-8859-1
    ("trafilatura__tierschutzpartei.de-wildvogelauffang.html", "Mitgefühl wählen"),  # Latin-1 bytes in UTF-8
])
def test_pathological_charsets(shared_data: Path, name: str, marker: str) -> None:
    decoded = decode_bytes((shared_data / "html" / "pathological" / name).read_bytes(), html=True)
    assert marker in decoded.text
    assert "\ufffd" not in decoded.text


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file"),
    (b" \n\t\r\n ", "empty file"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary file: a PDF document"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file: a PNG image"),
    (b"PK\x03\x04\x14\x00\x06\x00", "binary file: a ZIP archive"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "binary file: gzip-compressed"),
    (b"abc\x00\x01\x02\x03\xff\xfe\x00\x00\x10" * 50, "binary file (contains NUL bytes)"),
    (bytes(range(128, 256)) * 20, "undecodable bytes"),
    (codecs.BOM_UTF16_LE + b"a\x00\x00\xd8", "undecodable bytes"),
    (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 30 + b"text", "binary or corrupted file"),
])
def test_unreadable_inputs_are_named(data: bytes, reason: str) -> None:
    with pytest.raises(IngestError) as info:
        decode_bytes(data)
    assert str(info.value).startswith(reason)
