"""Byte-level facts about PubMed/MEDLINE XML, shared by the parser (medline_xml) and the reader
processes (pipeline), which both search a file's bytes beside lxml.

Pure: imports nothing from Django or lxml.
"""

from __future__ import annotations

import re

RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
# The record set's start tag (its name in group 1), and any record's start tag.
ROOT_START = re.compile(rb"<(Pubmed(?:Article|Book|BookArticle)Set)[\s>]")
RECORD_START = re.compile(rb"<(?:" + "|".join(RECORD_TAGS).encode() + rb")[\s>]")


def find_opener(buffer: bytes | bytearray, start: int, end: int) -> int:
    """Where the first "<!" or "<?" in buffer[start:end] starts, or -1: what could hide a tag from
    a byte search (a comment or CDATA section, or a processing instruction). Looks for the rare
    second byte with memchr: a search for the pair stops at every "<", and XML is full of them."""
    first = -1
    for mark in (b"!", b"?"):
        at = buffer.find(mark, start + 1, end)
        while at >= 0 and buffer[at - 1] != 0x3C:  # "<"
            at = buffer.find(mark, at + 1, end)
        if at >= 0 and (first < 0 or at - 1 < first):
            first = at - 1
    return first
