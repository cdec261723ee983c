"""Text people type or send, made safe to store and show: the one place that knows which characters hide or
disguise what a name says.

- Names and identifiers people type (a mine's name, an enterprise's name, a mineral's name): characters that
  are invisible or reorder what is shown (controls, bidi overrides and isolates, zero-width characters, the BOM,
  line/paragraph separators) are *refused* (`unsafe_characters`, `problem`), never silently dropped: the person
  sees the field error and fixes the name.
- File names of uploads: *reduced* to a safe base name (`safe_filename`): NFC, no path parts, none of those
  characters, no leading dots; the name as sent is kept only as data by the caller.
"""
from __future__ import annotations

import unicodedata

__all__ = ["FILENAME_MAX_LENGTH", "normalize", "problem", "safe_filename", "unsafe_characters"]

FILENAME_MAX_LENGTH = 255
# Unicode general categories that never belong in a name: Cc controls (NUL, newline, ESC, DEL, C1), Cf format
# characters (U+200B–U+200F zero-width and marks, U+202A–U+202E bidi embeddings/overrides, U+2066–U+2069 isolates,
# U+2060 word joiner, U+FEFF BOM, U+00AD soft hyphen), Cs lone surrogates, Co private use, Cn unassigned,
# Zl/Zp line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def normalize(text: str) -> str:
    """NFC: the composed form, so that the same name typed on two keyboards compares equal."""
    return unicodedata.normalize("NFC", text)


def unsafe_characters(text: str) -> list[str]:
    """The code points (as ``U+XXXX``) in ``text`` that may not be part of a name, each once, in order."""
    seen: list[str] = []
    for ch in text:
        if _unsafe(ch):
            code = f"U+{ord(ch):04X}"
            if code not in seen:
                seen.append(code)
    return seen


def problem(text: str, *, allow_newlines: bool = False) -> str | None:
    """A Chinese reason when ``text`` holds a character a name may not contain, or None.

    ``allow_newlines`` lets free text (remarks, opinions) keep line breaks and tabs."""
    found = unsafe_characters(text.replace("\n", "").replace("\r", "").replace("\t", "") if allow_newlines
                              else text)
    if not found:
        return None
    shown = "、".join(found[:5]) + ("等" if len(found) > 5 else "")
    return f"含有不可见字符或控制字符（{shown}），请删除后重新填写"


def safe_filename(name: str | None, *, default: str = "附件") -> str:
    """A base name safe to store, show and send back in Content-Disposition.

    NFC; only the part after the last ``/`` or ``\\``; control, bidi, zero-width and other invisible characters
    dropped; leading dots and spaces and trailing dots and spaces removed (no ``..``, no hidden files); at most
    ``FILENAME_MAX_LENGTH`` characters with the extension kept. ``default`` when nothing is left."""
    text = normalize(name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(" " if ch.isspace() else "" if _unsafe(ch) else ch for ch in text)
    text = normalize(" ".join(text.split()))
    text = text.lstrip(". ").rstrip(". ")
    if not text:
        return default
    if len(text) > FILENAME_MAX_LENGTH:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            text = stem[:FILENAME_MAX_LENGTH - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            text = text[:FILENAME_MAX_LENGTH].rstrip(". ")
    return text or default
