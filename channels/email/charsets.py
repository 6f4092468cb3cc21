"""Bytes to text for mail as it is sent, not as it is labelled: supersets, mislabels, no label at all.

Chinese mail says gb2312 and uses GBK or GB18030 characters; Big5 mail uses HKSCS; Japanese mail
says iso-2022-jp and uses the extensions; "iso-8859-1" and "us-ascii" bodies are often UTF-8.
Each declared charset is decoded as its superset; what fails strictly is tried as UTF-8, and only
then decoded with replacement characters. Undeclared bytes are tried as UTF-8, then GB18030,
then Latin-1 (which never fails).
"""

from __future__ import annotations

import codecs
import email.header
import re

# Declared name -> the codec that decodes everything that name is used for in practice.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "big-5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-2022-jp": "iso2022_jp_2",
    "csiso2022jp": "iso2022_jp_2",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
# Labels whose bytes are so often really UTF-8 that strict UTF-8 is tried first.
_OFTEN_UTF8 = {"cp1252", "iso8859-15"}
_UNDECLARED_ORDER = ("utf-8", "gb18030")


def codec_for(declared: str | None) -> str | None:
    """The Python codec to decode a declared charset with; None when unknown or absent."""
    if not declared:
        return None
    name = declared.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """(text, the codec used). Never raises; replacement characters where nothing fits."""
    codec = codec_for(declared)
    if codec is not None:
        if codec in _OFTEN_UTF8:
            try:
                return data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return data.decode(codec, errors="replace"), codec
    for name in _UNDECLARED_ORDER:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_BETWEEN_WORDS = re.compile(r"(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)")


def decode_header_value(raw: str) -> str:
    """An unstructured header (Subject, a display name) as text.

    ``raw`` is the header as the parser kept it: 8-bit bytes as surrogate escapes. Raw 8-bit
    headers get the undeclared-bytes order; RFC 2047 encoded words their declared charset via
    decode_bytes (so =?gb2312?...?= carrying GBK characters decodes). Broken encoded words stay
    as they are rather than failing the message.
    """
    try:
        raw.encode("ascii")
    except UnicodeEncodeError:
        raw = decode_bytes(raw.encode("ascii", "surrogateescape"))[0] if _has_surrogates(raw) else raw
    unfolded = re.sub(r"\r?\n[ \t]+", " ", raw).replace("\r", "").replace("\n", "")
    if "=?" not in unfolded:
        return unfolded
    # Whitespace between two adjacent encoded words is not part of the text (RFC 2047, 6.2).
    unfolded = _BETWEEN_WORDS.sub(r"\1", unfolded)
    return _ENCODED_WORD.sub(_decode_word, unfolded)


def _decode_word(match: re.Match[str]) -> str:
    """One encoded word; a broken one (bad base64, unknown encoding) stays as it was written."""
    word = match.group(0)
    try:
        (chunk, charset), *_ = email.header.decode_header(word)
    except Exception:  # binascii errors, HeaderParseError
        return word
    if isinstance(chunk, str):
        return chunk
    return decode_bytes(chunk, charset)[0]


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)
