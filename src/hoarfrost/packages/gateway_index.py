"""Simple-index pages: parsing what an upstream serves, rendering what the gateway serves to uv.

Upstream pages are PEP 503 HTML or PEP 691 JSON, with relative or absolute links resolved
against the page's FINAL URL (after redirects). Each link is validated before it may reach uv:

* the file name (JSON ``filename``, or the last segment of the HTML link's path, percent-decoded
  -- what pip and uv use) must be a plain name: no ``/``, ``\\``, NUL, leading dot;
* it must parse as a wheel name (``packaging.utils.parse_wheel_filename``) of the page's own
  project, so a page cannot smuggle in another project's file;
* a ``#sha256=`` / ``hashes.sha256`` must be 64 hex digits.

Source distributions are dropped silently (only wheels are ever installed, SPEC.md section 6);
every other dropped link is reported as "hostile" so the gateway can log it and, when nothing is
left, explain why. Rendering follows PEP 503/691 with the PEP 658/714 metadata attributes.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import httpx
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from hoarfrost.errors import RepositoryError
from hoarfrost.packages.prefixes import redact_url
from hoarfrost.packages.retention import is_sha256

__all__ = [
    "JSON_TYPE",
    "UPSTREAM_ACCEPT",
    "IndexFile",
    "ParsedPage",
    "ServedFile",
    "choose_format",
    "group_wheels",
    "parse_page",
    "render_html",
    "render_json",
    "wheel_metadata",
]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
UPSTREAM_ACCEPT = f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.1"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class IndexFile:
    """One validated wheel link of an upstream page."""

    filename: str
    url: str  # absolute, without fragment
    name: NormalizedName
    version: Version
    sha256: str | None
    requires_python: str | None = None
    yanked: bool | str = False  # False, True, or the reason
    metadata: bool = False  # upstream offers <url>.metadata (PEP 658/714)
    metadata_sha256: str | None = None


@dataclass
class ParsedPage:
    files: list[IndexFile] = field(default_factory=list)
    hostile: list[str] = field(default_factory=list)  # "<redacted link>: <reason>"


@dataclass(frozen=True)
class ServedFile:
    """A file as the gateway lists it to uv (``href`` points at the gateway itself)."""

    filename: str
    href: str
    sha256: str | None
    requires_python: str | None = None
    yanked: bool | str = False
    metadata: bool = False
    metadata_sha256: str | None = None


@dataclass(frozen=True)
class _RawLink:
    url: str
    filename: str
    hashes: dict[str, str]
    requires_python: str | None
    yanked: bool | str
    metadata: bool | dict[str, str]


# -- parsing ------------------------------------------------------------------------------------


def parse_page(body: bytes, content_type: str, page_url: str, project: str) -> ParsedPage:
    """Validated wheel links of an upstream project page; RepositoryError 502 if malformed."""
    mime = content_type.split(";", 1)[0].strip().lower()
    is_json = mime.endswith("json") or (not mime.endswith("html") and body.lstrip()[:1] == b"{")
    try:
        raws = _parse_json(body, page_url) if is_json else _parse_html(body, page_url, content_type)
    except (ValueError, TypeError, KeyError, AttributeError, httpx.InvalidURL) as exc:
        kind = "JSON" if is_json else "HTML"
        raise RepositoryError(
            f"Malformed {kind} index page at {redact_url(page_url)}: {exc}", http_status=502
        ) from None
    page = ParsedPage()
    wanted = canonicalize_name(project)
    for raw in raws:
        result = _validate(raw, wanted)
        if isinstance(result, IndexFile):
            page.files.append(result)
        elif result:
            page.hostile.append(f"{redact_url(raw.url)} ({raw.filename!r}): {result}")
    return page


def _parse_json(body: bytes, base: str) -> list[_RawLink]:
    data = json.loads(body.decode("utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError("expected an object with a 'files' list (PEP 691)")
    version = str(data.get("meta", {}).get("api-version", "1.0"))
    if version.split(".")[0] != "1":
        raise ValueError(f"unsupported api-version {version}")
    links = []
    for item in data["files"]:
        if not isinstance(item.get("filename"), str) or not isinstance(item.get("url"), str):
            raise ValueError("a file entry lacks a string 'filename' or 'url'")
        hashes = item.get("hashes") or {}
        if not isinstance(hashes, dict):
            raise ValueError("'hashes' must be an object")
        meta = item.get("core-metadata", item.get("dist-info-metadata", False))
        links.append(
            _RawLink(
                url=str(httpx.URL(base).join(item["url"])),
                filename=item["filename"],
                hashes={str(k).lower(): str(v) for k, v in hashes.items()},
                requires_python=_opt_str(item.get("requires-python")),
                yanked=item.get("yanked", False)
                if isinstance(item.get("yanked"), str)
                else bool(item.get("yanked")),
                metadata=meta if isinstance(meta, dict) else bool(meta),
            )
        )
    return links


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")


def _parse_html(body: bytes, base: str, content_type: str) -> list[_RawLink]:
    charset = re.search(r"charset=([\w-]+)", content_type, re.I)
    text = body.decode(charset.group(1) if charset else "utf-8")  # UnicodeDecodeError: ValueError
    if "\x00" in text:
        raise ValueError("NUL bytes in an HTML page")
    parser = _AnchorParser()
    parser.feed(text)
    if parser.rawdata.lstrip().startswith("<"):
        # HTMLParser silently drops a tag left open at the end; a real index never ends so.
        raise ValueError("the page ends inside an unterminated tag")
    parser.close()
    if parser.base:  # <base href> changes what relative links mean (pip honours it too)
        base = str(httpx.URL(base).join(parser.base))
    links = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url = httpx.URL(base).join(href)
        fragment = url.fragment
        path = url.copy_with(fragment=None).raw_path.split(b"?", 1)[0].decode("ascii")
        meta = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        links.append(
            _RawLink(
                url=str(url),
                filename=unquote(path.rsplit("/", 1)[-1]),
                hashes=dict([fragment.split("=", 1)]) if "=" in fragment else {},
                requires_python=_opt_str(attrs.get("data-requires-python")),
                yanked=(attrs["data-yanked"] or True) if "data-yanked" in attrs else False,
                metadata=_html_metadata(meta),
            )
        )
    return links


def _html_metadata(value: str | None) -> bool | dict[str, str]:
    if value is None or value.lower() == "false":
        return False
    if "=" in value:
        algo, digest = value.split("=", 1)
        return {algo.lower(): digest}
    return True


def _validate(raw: _RawLink, project: NormalizedName) -> IndexFile | str:
    """The validated file, or why it was dropped ("" for a harmless non-wheel)."""
    name = raw.filename
    if not name or any(c in name for c in "/\\\x00") or name.startswith(".") or ".." in name:
        return "unsafe file name (path traversal)"
    if not name.endswith(".whl"):
        return ""  # sdists and other formats: not installable here, not an attack
    try:
        dist, version, _build, _tags = parse_wheel_filename(name)
    except InvalidWheelFilename:
        return "invalid wheel file name"
    if dist != project:
        return f"file of project {dist!r} listed on the page of {project!r}"
    url = httpx.URL(raw.url)
    if url.scheme not in ("http", "https"):
        return "not an http(s) URL"
    sha = raw.hashes.get("sha256")
    if sha is not None and not _HEX64.fullmatch(sha):
        return "invalid sha256"
    meta_sha = raw.metadata.get("sha256") if isinstance(raw.metadata, dict) else None
    if meta_sha is not None and not _HEX64.fullmatch(meta_sha):
        meta_sha = None
    return IndexFile(
        filename=name,
        url=str(url.copy_with(fragment=None)),
        name=dist,
        version=version,
        sha256=sha.lower() if sha else None,
        requires_python=raw.requires_python,
        yanked=raw.yanked,
        metadata=bool(raw.metadata),
        metadata_sha256=meta_sha.lower() if meta_sha else None,
    )


# -- rendering ----------------------------------------------------------------------------------


def choose_format(accept: str | None) -> tuple[str, str]:
    """("json"|"html", content type) for an Accept header, by PEP 691 content negotiation."""
    offers = {
        JSON_TYPE: ("json", JSON_TYPE),
        "application/vnd.pypi.simple.latest+json": ("json", JSON_TYPE),
        HTML_TYPE: ("html", HTML_TYPE),
        "application/vnd.pypi.simple.latest+html": ("html", HTML_TYPE),
        "text/html": ("html", "text/html"),
        "*/*": ("html", "text/html"),
    }
    best, best_q = ("html", "text/html"), -1.0
    for part in (accept or "*/*").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media.lower() in offers and q > best_q and q > 0:
            best, best_q = offers[media.lower()], q
    return best


def _meta_value(f: ServedFile) -> str:
    return f"sha256={f.metadata_sha256}" if f.metadata_sha256 else "true"


def render_html(project: str, files: list[ServedFile]) -> str:
    esc = html.escape
    lines = [
        "<!DOCTYPE html>",
        '<html><head><meta name="pypi:repository-version" content="1.1">',
        f"<title>Links for {esc(project)}</title></head><body><h1>Links for {esc(project)}</h1>",
    ]
    for f in files:
        href = f.href + (f"#sha256={f.sha256}" if f.sha256 else "")
        attrs = [f'href="{esc(href)}"']
        if f.requires_python:
            attrs.append(f'data-requires-python="{esc(f.requires_python)}"')
        if f.yanked:
            reason = f.yanked if isinstance(f.yanked, str) else ""
            attrs.append(f'data-yanked="{esc(reason)}"')
        if f.metadata:
            value = esc(_meta_value(f))
            attrs.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
        lines.append(f"<a {' '.join(attrs)}>{esc(f.filename)}</a><br/>")
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"


def render_json(project: str, files: list[ServedFile], versions: list[str]) -> bytes:
    out = []
    for f in files:
        meta: bool | dict[str, str] = False
        if f.metadata:
            meta = {"sha256": f.metadata_sha256} if f.metadata_sha256 else True
        out.append(
            {
                "filename": f.filename,
                "url": f.href,
                "hashes": {"sha256": f.sha256} if f.sha256 else {},
                "requires-python": f.requires_python,
                "yanked": f.yanked,
                "core-metadata": meta,
                "dist-info-metadata": meta,
            }
        )
    doc = {"meta": {"api-version": "1.1"}, "name": project, "versions": versions, "files": out}
    return json.dumps(doc).encode()


# -- retained wheels ----------------------------------------------------------------------------


def group_wheels(files: Iterable[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """(sha256, filename) pairs grouped by normalised project name; ValueError if malformed."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for sha, filename in files:
        if not is_sha256(sha):
            raise ValueError(f"not a sha256: {sha!r}")
        try:
            name = parse_wheel_filename(filename)[0]
        except InvalidWheelFilename:
            raise ValueError(f"not a wheel file name: {filename!r}") from None
        grouped.setdefault(str(name), []).append((sha, filename))
    return grouped


def wheel_metadata(path: object, f: IndexFile) -> bytes:
    """METADATA of a wheel: ``<name>-<version>.dist-info/METADATA`` (PEP 427), else the only one."""
    with zipfile.ZipFile(str(path)) as zf:
        candidates = [
            n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        for n in candidates:
            stem = n.split("/", 1)[0].removesuffix(".dist-info")
            dist, _, version = stem.rpartition("-")
            if canonicalize_name(dist) == f.name and _same_version(version, f.version):
                return zf.read(n)
        if len(candidates) == 1:
            return zf.read(candidates[0])
    raise RepositoryError(f"{f.filename} has no readable METADATA.", http_status=502)


def _same_version(text: str, version: Version) -> bool:
    try:
        return Version(text) == version
    except InvalidVersion:
        return False
