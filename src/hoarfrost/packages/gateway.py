"""The gateway: the only code that talks to a customer repository (DESIGN decision 3).

uv resolves and installs against a :class:`Gateway` on a loopback port and never sees the
upstream nor its credentials. The gateway serves a simple index at
``http://127.0.0.1:<port>/<token>/simple/`` (PEP 503 HTML or PEP 691 JSON by ``Accept``), file
links rewritten to ``/<token>/files/<sha256-or-id>/<filename>`` (with ``#sha256=`` when known),
PEP 658/714 metadata at ``<file>.metadata``, and HEAD/Range on files. A request without the
random per-gateway token gets 404.

Usage by the resolver/installer::

    with Gateway(index_url=repo.index_url, prefixes=integration_prefixes,
                 credentials=creds_or_None, store=FileStore(cache / "files"),
                 settings=settings, policy_filter=policy_filter_or_None,
                 on_fetch=engine_audit_callback, repository_name="DB.S.REPO") as gw:
        run uv with ``--index-url gw.index_url`` (and ``--require-hashes`` to install)
        if uv failed and gw.first_error: raise gw.first_error   # the precise 400/401/403/404/502
        gw.hidden_versions  -> {name: [(version, decision)]} versions the policy hid

Rebuilding with the upstream offline: either ``uv pip install --no-index --find-links
store.link_dir([(sha256, filename), ...])`` (simplest), or ``Gateway.offline(store, [(sha256,
filename), ...])`` which serves an index of just the retained files.

For each project page the gateway reads the upstream page with the credentials (through the
:class:`~hoarfrost.packages.fetch.Fetcher`, which checks every URL and redirect hop against the
integration's prefixes before connecting), keeps valid wheels of that project, hides versions the
packages policy disallows, and remembers each file. A file is downloaded on first request: its
URL is checked first, its sha256 verified against the index's, it is retained in the
:class:`~hoarfrost.packages.retention.FileStore`, a :class:`FetchRecord` is reported, and only
then it is served. A file already retained is served without contacting upstream. Errors are
kept in :attr:`Gateway.errors` because uv only sees a 404/502 and words it its own way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

import uvicorn
from packaging.utils import canonicalize_name, parse_wheel_filename
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from hoarfrost.config import Settings
from hoarfrost.errors import IntegrityError, RepositoryError
from hoarfrost.packages.credentials import Credentials
from hoarfrost.packages.fetch import EndpointFor, Fetcher, UrlAllowlist
from hoarfrost.packages.gateway_index import (
    UPSTREAM_ACCEPT,
    IndexFile,
    ServedFile,
    choose_format,
    group_wheels,
    parse_page,
    render_html,
    render_json,
    wheel_metadata,
)
from hoarfrost.packages.prefixes import redact_url
from hoarfrost.packages.retention import FetchRecord, FileStore

__all__ = ["Decision", "Gateway", "PolicyFilter"]

log = logging.getLogger(__name__)


class Decision(Protocol):
    """What the gateway reads of :class:`hoarfrost.packages.policy.Decision`."""

    @property
    def allowed(self) -> bool: ...
    @property
    def rule(self) -> object: ...
    @property
    def spec(self) -> object: ...


PolicyFilter = Callable[[str, str], Decision]


@dataclass
class _Entry:
    """A file the gateway listed: where it comes from and what it must hash to."""

    file: IndexFile
    file_id: str
    url: str | None  # None: offline, only the retained copy exists
    decision: Decision | None = None
    pinned: str | None = None  # sha256 learned at first download when the index gave none

    @property
    def sha256(self) -> str | None:
        return self.file.sha256 or self.pinned


class Gateway:
    """A loopback simple index in front of one repository; see the module docstring."""

    def __init__(
        self,
        *,
        index_url: str | None,
        prefixes: UrlAllowlist | None,
        store: FileStore,
        credentials: Credentials | None = None,
        settings: Settings | None = None,
        policy_filter: PolicyFilter | None = None,
        on_fetch: Callable[[FetchRecord], None] | None = None,
        repository_name: str = "",
        source_address: str | None = None,
        endpoint_for: EndpointFor | None = None,
        retained: Iterable[tuple[str, str]] = (),
    ):
        self.store = store
        self.repository_name = repository_name
        self.policy_filter = policy_filter
        self.on_fetch = on_fetch
        self.errors: list[RepositoryError] = []
        self.hostile_links: list[str] = []
        self.hidden_versions: dict[str, list[tuple[str, Decision]]] = {}
        self._fetcher: Fetcher | None = None
        self._upstream = index_url.rstrip("/") + "/" if index_url else None
        if index_url is not None:
            if prefixes is None:
                raise ValueError("an online gateway needs the integration's prefixes")
            self._fetcher = Fetcher(
                index_url,
                prefixes,
                credentials=credentials,
                settings=settings,
                source_address=source_address,
                endpoint_for=endpoint_for,
            )
        self._token = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._file_locks: dict[tuple[str, str], threading.Lock] = {}
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._pages: dict[str, list[_Entry]] = {}
        self._offline_files = group_wheels(retained)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    @classmethod
    def offline(
        cls,
        store: FileStore,
        known_files: Iterable[tuple[str, str]],
        *,
        repository_name: str = "",
    ) -> Gateway:
        """A gateway with no upstream, listing only ``known_files`` ((sha256, filename) pairs)
        that are retained in ``store``."""
        return cls(
            index_url=None,
            prefixes=None,
            store=store,
            repository_name=repository_name,
            retained=known_files,
        )

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def index_url(self) -> str:
        if not self._port:
            raise RuntimeError("the gateway is not started")
        return f"http://127.0.0.1:{self._port}/{self._token}/simple/"

    @property
    def first_error(self) -> RepositoryError | None:
        return self.errors[0] if self.errors else None

    def start(self) -> Gateway:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # loopback only; port 0 picks a free port
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(),
            log_config=None,  # never reconfigure the engine's logging
            log_level="warning",
            access_log=False,  # the token is in every path
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="hoarfrost-gateway",
            daemon=True,
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the gateway's server failed to start")
            self._thread.join(0.01)
        return self

    def close(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        if self._fetcher is not None:
            self._fetcher.close()

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- HTTP ---------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{token}/simple/", self._root),
                Route("/{token}/simple/{project}/", self._project),
                Route("/{token}/simple/{project}", self._project),
                Route("/{token}/files/{file_id}/{filename}", self._file),
            ]
        )

    def _authorized(self, request: Request) -> bool:
        return hmac.compare_digest(request.path_params["token"].encode(), self._token.encode())

    def _guarded(self, request: Request, serve: Callable[[], Response]) -> Response:
        """Token check, then ``serve``; a RepositoryError is recorded and answered 404/502."""
        if not self._authorized(request):
            return PlainTextResponse("Not Found", status_code=404)
        try:
            return serve()
        except RepositoryError as err:
            self._record(err)
            return PlainTextResponse(err.msg, status_code=404 if err.http_status < 500 else 502)
        except Exception as exc:  # a bug of ours must not look like uv's "not found"
            log.exception("gateway failure serving %s", request.url.path.split("/", 2)[-1])
            self._record(RepositoryError(f"Gateway failure: {type(exc).__name__}", http_status=502))
            return PlainTextResponse("gateway failure", status_code=502)

    def _root(self, request: Request) -> Response:
        def serve() -> Response:
            # Upstream's project list is not read: uv only asks for the projects it needs.
            names = sorted(self._pages or self._offline_files)
            links = "".join(f'<a href="{n}/">{n}</a><br/>\n' for n in names)
            return HTMLResponse(f"<!DOCTYPE html>\n{links}")

        return self._guarded(request, serve)

    def _project(self, request: Request) -> Response:
        project = canonicalize_name(request.path_params["project"])
        return self._guarded(request, lambda: self._render(project, request.headers.get("accept")))

    def _file(self, request: Request) -> Response:
        key = (request.path_params["file_id"], request.path_params["filename"])
        return self._guarded(request, lambda: self._serve_file(*key))

    def _render(self, project: str, accept: str | None) -> Response:
        entries = self._page_entries(project)
        files = [self._served(e) for e in entries]
        versions = [str(v) for v in sorted({e.file.version for e in entries})]
        fmt, content_type = choose_format(accept)
        if fmt == "json":
            return Response(render_json(project, files, versions), media_type=content_type)
        return Response(render_html(project, files), media_type=content_type)

    def _served(self, e: _Entry) -> ServedFile:
        return ServedFile(
            filename=e.file.filename,
            href=f"/{self._token}/files/{e.file_id}/{e.file.filename}",
            sha256=e.sha256,
            requires_python=e.file.requires_python,
            yanked=e.file.yanked,
            # Always offered: served from upstream's .metadata or read from the retained wheel.
            metadata=True,
            metadata_sha256=e.file.metadata_sha256,
        )

    def _serve_file(self, file_id: str, filename: str) -> Response:
        want_metadata = filename.endswith(".metadata")
        entry = self._entries.get((file_id, filename.removesuffix(".metadata")))
        if entry is None:
            return PlainTextResponse("Not Found", status_code=404)
        if want_metadata:
            return Response(self._metadata(entry), media_type="application/octet-stream")
        sha = self._retain(entry)
        return FileResponse(self.store.path(sha), media_type="application/octet-stream")

    # -- pages --------------------------------------------------------------------------------

    def _page_entries(self, project: str) -> list[_Entry]:
        with self._lock:
            if project in self._pages:  # one build sees one consistent page per project
                return self._pages[project]
        entries = (
            self._offline_entries(project) if self._fetcher is None else self._fetch_page(project)
        )
        with self._lock:
            self._pages.setdefault(project, entries)
            for e in self._pages[project]:
                self._entries.setdefault((e.file_id, e.file.filename), e)
            return self._pages[project]

    def _fetch_page(self, project: str) -> list[_Entry]:
        assert self._fetcher is not None and self._upstream is not None
        page = self._fetcher.get_page(f"{self._upstream}{project}/", accept=UPSTREAM_ACCEPT)
        parsed = parse_page(page.body, page.content_type, page.url, project)
        for why in parsed.hostile:
            log.warning("dropped a link of %s: %s", redact_url(page.url), why)
        self.hostile_links.extend(parsed.hostile)
        if parsed.hostile and not parsed.files:
            raise RepositoryError(
                f"The index page {redact_url(page.url)} lists no usable wheel for {project}; "
                f"refused links: {'; '.join(parsed.hostile[:5])}",
                http_status=502,
            )
        entries = []
        for f in parsed.files:
            decision = (
                self.policy_filter(str(f.name), str(f.version)) if self.policy_filter else None
            )
            if decision is not None and not decision.allowed:
                self.hidden_versions.setdefault(str(f.name), []).append((str(f.version), decision))
                continue
            file_id = f.sha256 or "u" + _digest(f.url)
            entries.append(_Entry(f, file_id, f.url, decision))
        return entries

    def _offline_entries(self, project: str) -> list[_Entry]:
        entries = []
        for sha, filename in self._offline_files.get(project, []):
            if not self.store.has(sha):
                raise RepositoryError(
                    f"{filename} (sha256 {sha}) is not retained and the repository is offline.",
                    http_status=404,
                )
            name, version, _b, _t = parse_wheel_filename(filename)
            entries.append(_Entry(IndexFile(filename, "", name, version, sha), sha, None))
        return entries

    # -- files --------------------------------------------------------------------------------

    def _file_lock(self, entry: _Entry) -> threading.Lock:
        with self._lock:
            return self._file_locks.setdefault(
                (entry.file_id, entry.file.filename), threading.Lock()
            )

    def _retain(self, entry: _Entry) -> str:
        """The sha256 of the retained copy, downloading it first when needed (once)."""
        with self._file_lock(entry):
            sha = entry.sha256
            if sha is not None and self.store.has(sha):
                return sha
            if entry.url is None or self._fetcher is None:
                raise RepositoryError(
                    f"{entry.file.filename} is not retained and the repository is offline.",
                    http_status=404,
                )
            with self._fetcher.open(entry.url) as download:
                try:
                    stored = self.store.put_stream(download.chunks(), expected_sha256=sha)
                except IntegrityError as err:
                    raise RepositoryError(
                        f"{entry.file.filename} from {redact_url(download.url)} does not match the "
                        f"index: {err.msg}",
                        http_status=502,
                    ) from None
            entry.pinned = stored.sha256
            self._report(entry, redact_url(download.url), stored.sha256, stored.size)
            return stored.sha256

    def _metadata(self, entry: _Entry) -> bytes:
        """The wheel's own METADATA when retained (or when upstream offers none), else upstream's
        PEP 658 file; either way it must match the sha256 the page advertised."""
        expected, sha = entry.file.metadata_sha256, entry.sha256
        if not entry.file.metadata or entry.url is None or (sha and self.store.has(sha)):
            data = wheel_metadata(self.store.path(self._retain(entry)), entry.file)
            if expected is None or _digest(data, full=True) == expected or entry.url is None:
                return data
        assert self._fetcher is not None and entry.url is not None
        page = self._fetcher.get_page(entry.url + ".metadata", accept="*/*")
        if expected is not None and _digest(page.body, full=True) != expected:
            raise RepositoryError(
                f"The metadata at {redact_url(page.url)} does not match its sha256 {expected}.",
                http_status=502,
            )
        return page.body

    def _report(self, entry: _Entry, url: str, sha: str, size: int) -> None:
        if self.on_fetch is None:
            return
        d = entry.decision
        record = FetchRecord(
            time=datetime.now(timezone.utc),
            repository=self.repository_name,
            url=url,
            filename=entry.file.filename,
            sha256=sha,
            size=size,
            policy_allowed=None if d is None else bool(d.allowed),
            policy_rule=None if d is None or d.rule is None else str(d.rule),
            policy_spec=None if d is None or d.spec is None else str(d.spec),
        )
        try:
            self.on_fetch(record)
        except Exception:  # the audit sink failing must not fail the build it audits
            log.exception("on_fetch callback failed for %s", entry.file.filename)

    def _record(self, err: RepositoryError) -> None:
        with self._lock:
            if all(e.msg != err.msg for e in self.errors):  # uv retries: keep each error once
                self.errors.append(err)


def _digest(data: str | bytes, *, full: bool = False) -> str:
    raw = data.encode() if isinstance(data, str) else data
    hexdigest = hashlib.sha256(raw).hexdigest()
    return hexdigest if full else hexdigest[:40]
