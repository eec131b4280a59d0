"""Media types as PostgREST 14 reads them: ``Accept`` lists and ``Content-Type`` values. No I/O.

PostgREST orders an ``Accept`` list by quality and then by specificity (WAI's ``parseHttpAccept``: spaces
removed, ``q`` read as a number, more parameters before fewer, ``*`` counting against), reads each entry into
one of the media types it knows, and names an entry it cannot answer by the text it knows it by (its
``toMime``) in the 406 message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["MediaType", "accept_list", "decode"]

Kind = Literal["json", "object", "array-strip", "csv", "any", "plan", "other"]

_TOKEN: Final = re.compile(r"([A-Za-z0-9.*]+)/([A-Za-z0-9.*+\-]+)")
_PARAM: Final = re.compile(r'\s*;\s*([^=;\s]+)=(?:"([^"]*)"|([^;]*))')
_Q_NUMBER: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")

# The media types PostgREST names, by (type, subtype) in lower case, with the text it names them by.
_KNOWN: Final[dict[tuple[str, str], tuple[Kind, str]]] = {
    ("application", "json"): ("json", "application/json"),
    ("application", "geo+json"): ("other", "application/geo+json"),
    ("text", "csv"): ("csv", "text/csv"),
    ("text", "plain"): ("other", "text/plain"),
    ("text", "xml"): ("other", "text/xml"),
    ("application", "openapi+json"): ("other", "application/openapi+json"),
    ("application", "x-www-form-urlencoded"): ("other", "application/x-www-form-urlencoded"),
    ("application", "octet-stream"): ("other", "application/octet-stream"),
    ("*", "*"): ("any", "*/*"),
}


@dataclass(frozen=True, slots=True)
class MediaType:
    """One media type as PostgREST reads it."""

    kind: Kind
    mime: str
    """The text PostgREST names it by (its ``toMime``), e.g. in ``None of these media types ...``."""
    strip: bool = False
    """``nulls=stripped`` on ``application/vnd.pgrst.object+json`` or ``...array+json``."""

    @property
    def form(self) -> bool:
        """``application/x-www-form-urlencoded``."""
        return self.mime == "application/x-www-form-urlencoded"


def _params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _PARAM.finditer(text):
        out.setdefault(m.group(1).lower(), m.group(2) if m.group(2) is not None else m.group(3).strip())
    return out


def decode(text: str) -> MediaType:
    """Read one media type (an ``Accept`` entry or a ``Content-Type``) as PostgREST's ``decodeMediaType``."""
    m = _TOKEN.match(text)
    if m is None:
        return MediaType("other", text)
    main, sub = m.group(1).lower(), m.group(2).lower()
    known = _KNOWN.get((main, sub))
    if known is not None:
        return MediaType(known[0], known[1])
    if main != "application":
        return MediaType("other", text)
    params = _params(text[m.end() :])
    strip = params.get("nulls") == "stripped"
    if sub in ("vnd.pgrst.object+json", "vnd.pgrst.object"):
        suffix = ";nulls=stripped" if strip else ""
        return MediaType("object", f"application/vnd.pgrst.object+json{suffix}", strip)
    if sub in ("vnd.pgrst.array+json", "vnd.pgrst.array"):
        if strip:
            return MediaType("array-strip", "application/vnd.pgrst.array+json;nulls=stripped", True)
        return MediaType("json", "application/json")
    if sub in ("vnd.pgrst.plan", "vnd.pgrst.plan+text", "vnd.pgrst.plan+json"):
        fmt = "json" if sub.endswith("+json") else "text"
        target = decode(params.get("for", "application/json")).mime
        wanted = set(params.get("options", "").split("|"))
        options = [o for o in ("analyze", "verbose", "settings", "buffers", "wal") if o in wanted]
        opts = f"; options={'|'.join(options)}" if options else ""
        return MediaType("plan", f'application/vnd.pgrst.plan+{fmt}; for="{target}"{opts}')
    return MediaType("other", text)


def _quality(entry: str) -> tuple[str, float]:
    # The entry without its ";q=..." part, and q (1 when absent or not a number), as parseHttpAccept reads it.
    before, sep, after = entry.partition(";q=")
    if not sep:
        return entry, 1.0
    m = _Q_NUMBER.match(after.split(";", 1)[0])
    return before, float(m.group(0)) if m else 1.0


def accept_list(header: str | None) -> list[MediaType]:
    """The media types an ``Accept`` header offers, in the order PostgREST tries them.

    No header is ``*/*``; an empty one offers nothing (PostgREST then answers 406).
    """
    if header is None:
        return [MediaType("any", "*/*")]
    if header == "":
        return []
    entries = []
    for raw in header.split(","):
        entry, q = _quality(raw.replace(" ", ""))
        specificity = entry.count(";") - entry.count("*")
        entries.append((q, specificity, entry))
    # A stable sort, best first: quality, then specificity.
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return [decode(entry) for _, _, entry in entries]
