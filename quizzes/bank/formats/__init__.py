"""Question-bank exchange formats other than Skillmap's YAML: Moodle XML and GIFT.

Readers turn bytes into a ``ParsedFile`` of ``Question`` records (quizzes.itemtypes.
interchange), writers turn questions into text. Nothing here touches the database; the
import service (quizzes/bank/transfer.py) maps categories, validates with the item-type
registry and writes.
"""

from __future__ import annotations

from pathlib import PurePath

from quizzes.bank.formats.base import FormatError, Parsed, ParsedFile
from quizzes.bank.formats.gift import read_gift, write_gift
from quizzes.bank.formats.moodle_xml import read_moodle_xml, write_moodle_xml

YAML = "yaml"
MOODLE_XML = "moodle-xml"
GIFT = "gift"
FORMATS = (YAML, MOODLE_XML, GIFT)
FORMAT_LABELS = {YAML: "Skillmap YAML", MOODLE_XML: "Moodle XML", GIFT: "GIFT"}
_BY_SUFFIX = {".yaml": YAML, ".yml": YAML, ".xml": MOODLE_XML, ".gift": GIFT, ".txt": GIFT}


def sniff_format(name: str, data: bytes) -> str:
    """The format of an uploaded file: by its suffix, else by its first bytes."""
    by_suffix = _BY_SUFFIX.get(PurePath(name).suffix.lower())
    if by_suffix:
        return by_suffix
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<?xml", b"<quiz")):
        return MOODLE_XML
    if b"\nitems:" in b"\n" + head or head.startswith((b"stage:", b"# Skillmap")):
        return YAML
    return GIFT


def read_questions(data: bytes, fmt: str) -> ParsedFile:
    """Moodle XML or GIFT bytes as questions; FormatError when the file cannot be read."""
    return read_moodle_xml(data) if fmt == MOODLE_XML else read_gift(data)


__all__ = [
    "FORMATS",
    "FORMAT_LABELS",
    "GIFT",
    "MOODLE_XML",
    "YAML",
    "FormatError",
    "Parsed",
    "ParsedFile",
    "read_questions",
    "sniff_format",
    "write_gift",
    "write_moodle_xml",
]
