"""Do the ДОУ's links open? Each link is fetched and judged `ok`, `broken` or `closed`; results are kept with the
moment of the check (`LinkCheckRow`), one row per campaign and URL.

- **Where the URLs come from**: `campaign_links` is the one source (the hand-ins of the submission ledger, and the
  evidence of forms not handed in yet), so `dqflow links check`, the daemon, the letters and the pages agree.
- **How a link is fetched**: httpx, HEAD first, then a GET of at most `Policy.max_bytes` when HEAD is refused or
  says nothing useful (a 4xx/5xx, or a cloud drive whose page must be read); under a global limit of concurrent
  requests and at most `Policy.per_host` per host, each slot resting `Policy.host_delay` between two requests;
  each host has a small connection pool of its own (`_PerHost`: one pool for every host cost most of the CPU);
  redirects followed here, hop by hop (at most `Policy.max_redirects`), so every hop's address is checked.
- **Who may be asked** (SSRF): only http and https; a name is resolved here, every address it resolves to must be a
  public one (not private, loopback, link-local, multicast, reserved, unspecified) unless `DQFLOW_LINKCHECK_ALLOW`
  (comma-separated networks, e.g. `127.0.0.1/32,10.0.0.0/8`) allows it, and the connection goes to an address that
  was checked (`_Guard`, the network backend of httpcore): a name that resolves again to another address between
  the check and the connection (DNS rebinding) cannot lead elsewhere. Proxies from the environment are not used.
- **What a result means**: `closed` — 401/403, a redirect to a sign-in page, or a cloud drive's page saying access
  is denied (`DRIVES`: the hosts and the words of the page; see docs/links.md); `broken` — the name does not
  resolve, the address is refused (above) or the connection is, a timeout, 404/410, 5xx, another 4xx, a redirect
  loop or too many redirects; `ok` — anything else that answers 2xx.

No database work happens while links are fetched: `check` takes URLs and gives results, `save` writes them in one
short transaction, `stale` reads which links need a check.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import logging
import os
import re
import socket
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable, Sequence, cast
from urllib.parse import urljoin, urlsplit

from sqlalchemy import Select, String, bindparam, delete, func, insert
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dqflow.engine import rules
from dqflow.errors import DqflowError
from dqflow.store import FormEvidenceRow, LinkCheckRow, OutboxRow, ProgressRow, SubmissionRow, chunks, transaction
from dqflow.store.tables import table

if TYPE_CHECKING:  # httpx is imported by the check itself: reading results (the pages, the letters, the daemon's start) needs none
    import httpx
    from sqlalchemy.sql.elements import BindParameter

log = logging.getLogger("dqflow.delivery.linkcheck")
OK, BROKEN, CLOSED = "ok", "broken", "closed"
STATES = (OK, CLOSED, BROKEN)
ALLOW_ENV = "DQFLOW_LINKCHECK_ALLOW"
FRESH = timedelta(hours=6)  # a check younger than this is not repeated before a reminder
USER_AGENT = "dqflow-linkcheck/1 (+https://example.org/dqflow)"
IN_LIST = 500  # URLs per IN (...) list
SUBMITTED = tuple(s.value for s in rules.Status if s.submitted)  # a stage handed in: its form's links are in the ledger
PENDING = 2048  # links under way at once (each waits for its slots): the memory of a check, whatever its size

# What people read of a state, and what to do about it (the ДОУ's page, its reminders, `links check`).
STATE_RU = {OK: "открывается", CLOSED: "доступ закрыт", BROKEN: "не открывается"}
ADVICE_RU = {CLOSED: "откройте доступ по ссылке", BROKEN: "проверьте адрес"}


@dataclass(frozen=True)
class Drive:
    """A cloud drive: its hosts (a host or any subdomain of it) and the words of its page saying access is denied."""

    name: str
    hosts: tuple[str, ...]
    markers: tuple[str, ...]  # lower-case; any one found in the first `max_bytes` of the page means closed


DRIVES = (
    Drive("Яндекс Диск", ("disk.yandex.ru", "disk.yandex.com", "disk.yandex.by", "disk.yandex.kz", "disk.360.yandex.ru", "yadi.sk"),
          ("доступ запрещён", "доступ запрещен", "доступ ограничен", "нет доступа", "access denied", "access restricted")),
    Drive("Google Диск", ("drive.google.com", "docs.google.com"),
          ("нужен доступ", "запросить доступ", "you need access", "request access", "you need permission")),
    Drive("Облако Mail.ru", ("cloud.mail.ru",),
          ("доступ запрещён", "доступ запрещен", "доступ к файлу ограничен", "доступ ограничен", "access denied")),
    Drive("Dropbox", ("dropbox.com", "dropboxusercontent.com"),
          ("you don't have access", "you don’t have access", "request access", "this link has been disabled",
           "нет доступа", "запросить доступ")),
    Drive("OneDrive", ("onedrive.live.com", "1drv.ms", "sharepoint.com"),
          ("you need permission", "access denied", "нужно разрешение", "доступ запрещён", "доступ запрещен")),
)

# A redirect here is a sign-in page: the link opens only for someone signed in.
SIGN_IN_HOSTS = ("accounts.google.com", "passport.yandex.ru", "passport.yandex.com", "sso.yandex.ru", "id.yandex.ru",
                 "login.live.com", "login.microsoftonline.com", "account.mail.ru", "auth.mail.ru", "id.vk.com", "oauth.vk.com")
BAD_HOST = re.compile(r"[\s\x00-\x1f\x7f<>\"{}|\\^`%,;!$&'()*+=]")  # no host name has these (an IDN's letters pass)
SIGN_IN_PATH = re.compile(r"(^|/)(log-?in|sign-?in|sign_in|logon|auth|sso|oauth2?|servicelogin|passport)(/|$|\.|\?)", re.I)


@dataclass(frozen=True)
class Result:
    url: str
    state: str  # ok | broken | closed
    detail: str  # what people read: why, in Russian
    http_status: int | None = None


@dataclass(frozen=True)
class Policy:
    """How politely and how far a check goes."""

    concurrency: int = 64  # requests in flight at once
    per_host: int = 4  # requests in flight to one host
    host_delay: float = 0.02  # seconds a host's slot rests after each request
    timeout: float = 10.0  # seconds: to connect, and between two reads
    deadline: float = 30.0  # seconds for one request, its body included (a body dribbled slowly ends here)
    max_redirects: int = 5
    max_bytes: int = 256 * 1024  # of a GET's body read at most
    allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()  # networks allowed despite being private
    hosts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name → addresses, before DNS (a hosts file)
    drives: tuple[Drive, ...] = DRIVES


def allowed_networks(text: str | None = None) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of `DQFLOW_LINKCHECK_ALLOW` (or `text`); a bad one is refused with the fix."""
    text = os.environ.get(ALLOW_ENV, "") if text is None else text
    found = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise DqflowError(f"{ALLOW_ENV}: «{part}» — не адрес сети; укажите сети через запятую, например 127.0.0.1/32,10.0.0.0/8") from None
    return tuple(found)


def policy_from_env(**kwargs) -> Policy:
    return Policy(allow=allowed_networks(), **kwargs)


class Refused(Exception):
    """An address the policy does not let the checker ask."""


def public(address: str, allow: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()) -> bool:
    """Whether the checker may connect to this address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in net for net in allow):
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return public(str(ip.ipv4_mapped), allow)
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or not ip.is_global)


class _Guard:
    """httpcore's network backend (its `AsyncNetworkBackend` interface) that resolves a name itself, refuses it
    unless every address is allowed, and connects only to those addresses (not to the name again)."""

    def __init__(self, policy: Policy):
        from httpcore._backends.auto import AutoBackend

        self.policy = policy
        self.inner = AutoBackend()
        self.resolved: dict[str, list[str]] = {}  # name → its checked addresses, for this check

    async def addresses(self, host: str, port: int) -> list[str]:
        host = host.strip("[]").lower()
        if host in self.resolved:
            return self.resolved[host]
        if host in self.policy.hosts:
            found = list(self.policy.hosts[host])
        else:
            try:
                ipaddress.ip_address(host)
                found = [host]
            except ValueError:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
                found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        bad = [a for a in found if not public(a, self.policy.allow)]
        if bad or not found:
            raise Refused(bad[0] if bad else host)
        self.resolved[host] = found
        return found

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        import httpcore

        last: Exception | None = None
        for address in await self.addresses(host, port):
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise Refused(path)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def client(policy: Policy) -> httpx.AsyncClient:
    """An httpx client whose every connection goes through `_Guard`, a small pool per host (`_PerHost`); no proxy,
    no redirects of its own."""
    import httpx

    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}  # a body's bytes are counted as sent
    return httpx.AsyncClient(transport=cast(Any, _PerHost(policy)), follow_redirects=False, trust_env=False,
                             timeout=httpx.Timeout(policy.timeout), headers=headers)


def _host_pool(policy: Policy, guard: _Guard, ssl_context: Any) -> Any:
    """An httpx transport whose httpcore pool holds at most `per_host` connections, all through `guard`."""
    import httpcore
    import httpx

    transport = httpx.AsyncHTTPTransport(trust_env=False, retries=0, verify=ssl_context)
    # httpx builds its httpcore pool without a way to pass a network backend: the pool is replaced by an equal one with it
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context, max_connections=policy.per_host,
        max_keepalive_connections=policy.per_host, keepalive_expiry=5.0, network_backend=cast(Any, guard))
    return transport


class _PerHost:
    """httpx's transport (its `AsyncBaseTransport` interface) with one small connection pool per host (scheme, host,
    port), at most `per_host` connections each, instead of one pool for every host.

    httpcore's pool looks over all its connections for every request it queues or releases (and polls each idle
    one's socket): with 64 connections that was ~1,300 checks and ~36 polls a request, most of the checker's CPU. A
    host's pool has at most `per_host`. Pools of hosts not asked lately are closed beyond `concurrency` of them (the
    least recently used with nothing in flight first), so a campaign of 50,000 sites does not hold 50,000 sockets."""

    def __init__(self, policy: Policy):
        from collections import OrderedDict

        import httpx

        self.policy = policy
        self.guard = _Guard(policy)  # one resolver and its checked addresses for the whole check
        self.ssl_context = httpx.create_ssl_context(trust_env=False)  # loading the CA store costs ~50 ms: once
        self.pools: OrderedDict[tuple[str, str, int | None], Any] = OrderedDict()
        self.busy: dict[tuple[str, str, int | None], int] = defaultdict(int)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import httpx

        key = (request.url.scheme, request.url.host, request.url.port)
        self.busy[key] += 1  # before any await: a pool in use is never evicted
        try:
            pool = self.pools.get(key)
            if pool is None:
                pool = self.pools[key] = _host_pool(self.policy, self.guard, self.ssl_context)
                await self._evict()
            self.pools.move_to_end(key)
            response = await pool.handle_async_request(request)
        except BaseException:
            self._done(key)
            raise
        return httpx.Response(response.status_code, headers=response.headers, stream=_counted()(response.stream, self, key),
                              extensions=response.extensions)

    def _done(self, key: tuple[str, str, int | None]) -> None:
        self.busy[key] -= 1
        if not self.busy[key]:
            del self.busy[key]

    async def _evict(self) -> None:
        idle = [key for key in self.pools if key not in self.busy]  # least recently used first
        for key in idle[: max(0, len(self.pools) - self.policy.concurrency)]:
            await self.pools.pop(key).aclose()

    async def aclose(self) -> None:
        pools, self.pools = list(self.pools.values()), type(self.pools)()
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> _PerHost:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@functools.cache
def _counted() -> type:
    """A response's body stream that tells its host's pool when it is done (closed), so a busy pool is not evicted:
    an `httpx.AsyncByteStream`, made at the first check (reading results imports no httpx)."""
    import httpx

    class Counted(httpx.AsyncByteStream):
        def __init__(self, stream: Any, owner: _PerHost, key: tuple[str, str, int | None]):
            self.stream, self.owner, self.key, self.closed = stream, owner, key, False

        async def __aiter__(self):
            async for chunk in self.stream:
                yield chunk

        async def aclose(self) -> None:
            if not self.closed:
                self.closed = True
                self.owner._done(self.key)
                await self.stream.aclose()

    return Counted


class Checker:
    """Checks URLs under one policy; `check` may be called more than once (a host's slots are kept)."""

    def __init__(self, policy: Policy | None = None):
        self.policy = policy or policy_from_env()
        self.slots = asyncio.Semaphore(self.policy.concurrency)
        self.hosts: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(self.policy.per_host))

    async def check(self, urls: Iterable[str], budget: float | None = None) -> dict[str, Result]:
        """Each URL's result. At most `PENDING` links are under way at once (a campaign may have a million), each
        started as soon as one ends. With `budget` (seconds), the check stops when it runs out and gives the results
        of the links checked by then (in the order given), the others left out: what was learnt is not lost."""
        unique = list(dict.fromkeys(urls))
        found: dict[str, Result] = {}
        window = asyncio.Semaphore(PENDING)
        running: set[asyncio.Task] = set()
        async with client(self.policy) as http:
            async def run(url: str) -> None:
                try:
                    found[url] = await self.one(http, url)
                finally:
                    window.release()

            try:
                async with asyncio.timeout(budget) as limit:
                    for url in unique:
                        await window.acquire()
                        task = asyncio.create_task(run(url))
                        running.add(task)
                        task.add_done_callback(running.discard)
                    await asyncio.gather(*list(running))
            except TimeoutError:
                if not limit.expired():
                    raise
                log.info("link check budget of %ss ran out: %d of %d links checked", budget, len(found), len(unique))
            finally:
                left = list(running)
                for task in left:  # cancelled (the daemon stops, a budget ran out): nothing left behind
                    task.cancel()
                await asyncio.gather(*left, return_exceptions=True)
        return {url: found[url] for url in unique if url in found}

    async def one(self, http: httpx.AsyncClient, url: str) -> Result:
        """One link's result, whatever happens to it: a link nobody foresaw is `broken` and logged, never the end of
        the whole check."""
        import httpx

        try:
            return await self._follow(http, url)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            return Result(url, BROKEN, f"ссылка не открылась за {_seconds(self.policy.deadline)} с")
        except (httpx.InvalidURL, UnicodeError, ValueError):
            return Result(url, BROKEN, "это не адрес страницы")
        except Exception as exc:  # noqa: BLE001 - one odd link must not stop the check of the others
            log.warning("checking %r failed: %s: %s", url, type(exc).__name__, exc)
            return Result(url, BROKEN, f"ошибка при проверке: {type(exc).__name__}")

    async def _follow(self, http: httpx.AsyncClient, url: str) -> Result:
        import httpx

        method, current, seen, hops = "HEAD", url, {url}, 0
        while True:
            problem = _unfit(current)
            if problem:
                return Result(url, BROKEN, problem)
            drive = self.drive(current)
            if drive is not None:
                method = "GET"  # a drive's page must be read: its HEAD says nothing
            try:
                status, location, body = await self._fetch(http, method, current)
            except Refused as exc:
                return Result(url, BROKEN, f"адрес {exc} — во внутренней сети, извне он не откроется")
            except socket.gaierror:
                return Result(url, BROKEN, f"сайт {urlsplit(current).hostname} не найден (DNS)")
            except httpx.TimeoutException:
                return Result(url, BROKEN, f"сайт не ответил за {_seconds(self.policy.timeout)} с")
            except httpx.ConnectError as exc:
                if isinstance(exc.__context__, socket.gaierror) or isinstance(exc.__cause__, socket.gaierror):
                    return Result(url, BROKEN, f"сайт {urlsplit(current).hostname} не найден (DNS)")
                return Result(url, BROKEN, f"сайт {urlsplit(current).hostname} отказал в соединении")
            except (httpx.HTTPError, OSError) as exc:
                return Result(url, BROKEN, f"ошибка соединения: {type(exc).__name__}")
            if 300 <= status < 400 and location:
                target = urljoin(current, location)
                if sign_in(target):
                    return Result(url, CLOSED, f"ссылка ведёт на страницу входа ({urlsplit(target).hostname})", status)
                if target in seen:
                    return Result(url, BROKEN, "переадресация по кругу", status)
                hops += 1
                if hops > self.policy.max_redirects:
                    return Result(url, BROKEN, f"больше {self.policy.max_redirects} переадресаций", status)
                seen.add(target)
                current = target
                continue
            if method == "HEAD" and status >= 400:
                method = "GET"  # HEAD refused or unhelpful: a bounded GET decides
                continue
            return self.judged(url, status, body, drive)

    def judged(self, url: str, status: int, body: bytes, drive: Drive | None) -> Result:
        if status in (401, 403):  # the detail says why, beside the state «доступ закрыт» it is shown with
            why = "сайт просит войти" if status == 401 else "просмотр запрещён"
            return Result(url, CLOSED, f"{why} (HTTP {status})", status)
        if status in (404, 410):
            return Result(url, BROKEN, f"страница не найдена (HTTP {status})", status)
        if status >= 500:
            return Result(url, BROKEN, f"ошибка сайта (HTTP {status})", status)
        if status >= 300:
            return Result(url, BROKEN, f"переадресация без адреса (HTTP {status})", status)
        if status >= 400:
            return Result(url, BROKEN, f"сайт отказал (HTTP {status})", status)
        if drive is not None:
            text = body.decode("utf-8", "replace").lower()
            if any(marker in text for marker in drive.markers):
                return Result(url, CLOSED, f"{drive.name}: доступ к материалам закрыт", status)
        return Result(url, OK, f"открывается (HTTP {status})", status)

    def drive(self, url: str) -> Drive | None:
        host = (urlsplit(url).hostname or "").lower()
        return next((d for d in self.policy.drives if any(host == h or host.endswith("." + h) for h in d.hosts)), None)

    async def _fetch(self, http: httpx.AsyncClient, method: str, url: str) -> tuple[int, str | None, bytes]:
        """One request under the global and the host's limits: (status, Location, at most max_bytes of the body)."""
        host = (urlsplit(url).hostname or "").lower()
        async with self.hosts[host]:
            try:
                # the deadline runs from the request's start, not while the link waits for its slots
                async with self.slots, asyncio.timeout(self.policy.deadline), http.stream(method, url) as response:
                    # read to the end when it is short (a HEAD's nothing, an error page): the connection is then reused
                    parts: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_raw():
                        parts.append(chunk)
                        size += len(chunk)
                        if size >= self.policy.max_bytes:
                            break  # the rest is never read: the connection is closed with the response
                    body = b""
                    if method == "GET" and response.status_code < 300:
                        body = _decoded(b"".join(parts)[: self.policy.max_bytes], response.headers.get("content-encoding", ""),
                                        self.policy.max_bytes)
                    return response.status_code, response.headers.get("location"), body
            finally:
                if self.policy.host_delay:  # the host's slot rests; the global one is free meanwhile
                    await asyncio.sleep(self.policy.host_delay)


def _decoded(raw: bytes, encoding: str, limit: int) -> bytes:
    """A body's first bytes as sent, decompressed to at most `limit` bytes when a server compressed them although
    asked not to (a cut-off stream decodes as far as it goes; a bomb stops at the limit)."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompressobj(47 if encoding != "deflate" else zlib.MAX_WBITS).decompress(raw, limit)
        except zlib.error:
            return b""
    return raw


def _unfit(url: str) -> str | None:
    """Why a URL cannot be checked at all, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "это не адрес страницы"
    if parts.scheme.lower() not in ("http", "https"):
        return f"адрес должен начинаться с http:// или https:// (а не {parts.scheme or 'без схемы'})"
    if not parts.hostname:
        return "в адресе нет сайта"
    if BAD_HOST.search(parts.hostname):
        return f"в имени сайта «{parts.hostname}» недопустимые знаки"
    return None


def sign_in(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in SIGN_IN_HOSTS) or bool(SIGN_IN_PATH.search(parts.path + "?"))


def _seconds(value: float) -> str:
    return f"{value:g}".replace(".", ",")


async def check(urls: Iterable[str], policy: Policy | None = None, budget: float | None = None) -> dict[str, Result]:
    """Each URL's result (URLs given twice are checked once); with `budget`, those checked before it ran out."""
    return await Checker(policy).check(urls, budget)


# -- the campaign's links and their stored results ---------------------------------------------------------


@dataclass(frozen=True)
class Link:
    institution_id: str
    stage_id: str
    url: str


def campaign_links(session: Session, campaign_id: str, stage_id: str | None = None,
                   institutions: Sequence[str] | None = None, drafts_too: bool = True) -> list[Link]:
    """Every link a ДОУ gave (of one stage, of some ДОУ), each (ДОУ, stage, URL) once: the one source of what is
    checked. The hand-ins of the submission ledger in hand-in order (a handed-in form's links are there), then the
    evidence of the forms not handed in (`engine.form`'s drafts, in the form's order), so a ДОУ learns which links do
    not open before it hands its form in. `drafts_too=False` (a campaign without a form stage has no drafts) spares
    their query."""
    query, drafts = _links_sql(stage_id is not None, institutions is not None)
    values: dict[str, Any] = {"campaign": campaign_id} if stage_id is None else {"campaign": campaign_id, "stage": stage_id}
    rows: list = []
    drafted: list = []
    if institutions is None:
        rows = list(session.execute(query, values))
        drafted = list(session.execute(drafts, values)) if drafts_too else []
    else:
        for chunk in chunks(sorted(set(institutions)), IN_LIST):
            values["institutions"] = chunk
            rows += session.execute(query, values)
            if drafts_too:
                drafted += session.execute(drafts, values)
    found: dict[tuple[str, str, str], Link] = {}
    for inst, stage, text in rows:
        for url in json.loads(text):
            found.setdefault((inst, stage, url), Link(inst, stage, url))
    for inst, stage, url in drafted:
        found.setdefault((inst, stage, url), Link(inst, stage, url))
    return list(found.values())


@functools.lru_cache(maxsize=4)
def _links_sql(of_stage: bool, of_institutions: bool) -> tuple[Select, Select]:
    """`campaign_links`' two statements (the hand-ins, the drafts' evidence) for one stage or all, some ДОУ or all,
    made once with the campaign, the stage and the ДОУ as parameters (building them cost a ДОУ's page more than running
    them)."""
    evidence, progress = table(FormEvidenceRow), table(ProgressRow)
    e, p, h = evidence.c, progress.c, table(SubmissionRow).c
    campaign, stage = bindparam("campaign", type_=String), bindparam("stage", type_=String)
    query = sa_select(h.institution_id, h.stage_id, h.links).where(h.campaign_id == campaign).order_by(h.at, h.id)
    drafts = (sa_select(e.institution_id, e.stage_id, e.url)
              .join(progress, (p.campaign_id == e.campaign_id) & (p.institution_id == e.institution_id) & (p.stage_id == e.stage_id))
              .where(e.campaign_id == campaign, p.status.not_in(SUBMITTED))
              .order_by(e.institution_id, e.stage_id, e.indicator_id, e.position))
    if of_stage:
        query, drafts = query.where(h.stage_id == stage), drafts.where(e.stage_id == stage)
    if of_institutions:
        institutions: BindParameter[list[str]] = bindparam("institutions", expanding=True)
        query, drafts = query.where(h.institution_id.in_(institutions)), drafts.where(e.institution_id.in_(institutions))
    return query, drafts


def reminded(session: Session, campaign_id: str, now: datetime, kinds: Sequence[str], fresh: timedelta = FRESH,
             limit: int = 500) -> list[Link]:
    """The links to check before the reminders due at `now` go out: of each ДОУ that a pending reminder of these kinds
    (its deadline reminders) is due to, the links never checked or checked before `now - fresh`; at most `limit`, the
    ДОУ reminded first first. Two queries and a chunk of ДОУ per query."""
    institutions = [i for i in session.exec(
        select(OutboxRow.institution_id).where(OutboxRow.campaign_id == campaign_id, OutboxRow.role == "institution",
                                               OutboxRow.state == "pending", col(OutboxRow.kind).in_(list(kinds)),
                                               OutboxRow.send_at <= now, col(OutboxRow.institution_id).is_not(None))
        .group_by(col(OutboxRow.institution_id)).order_by(func.min(OutboxRow.send_at), col(OutboxRow.institution_id))).all()
        if i is not None]
    found: list[Link] = []
    for chunk in chunks(institutions, IN_LIST):
        links = campaign_links(session, campaign_id, institutions=chunk)
        due = set(stale(session, campaign_id, (link.url for link in links), now, fresh))
        found += [link for link in links if link.url in due]
        if len({link.url for link in found}) >= limit:
            break
    kept: list[Link] = []
    urls: set[str] = set()
    for link in found:
        if link.url not in urls and len(urls) >= limit:
            continue
        urls.add(link.url)
        kept.append(link)
    return kept


def results(session: Session, campaign_id: str, urls: Iterable[str]) -> dict[str, LinkCheckRow]:
    """The stored result of each of these URLs that was checked."""
    found: dict[str, LinkCheckRow] = {}
    for chunk in chunks(sorted(set(urls)), IN_LIST):
        for row in session.exec(select(LinkCheckRow).where(LinkCheckRow.campaign_id == campaign_id,
                                                            col(LinkCheckRow.url).in_(chunk))).all():
            found[row.url] = row
    return found


def stale(session: Session, campaign_id: str, urls: Iterable[str], now: datetime, fresh: timedelta = FRESH) -> list[str]:
    """The URLs never checked, or checked before `now - fresh`, in the order given."""
    urls = list(dict.fromkeys(urls))
    known = results(session, campaign_id, urls)
    return [u for u in urls if u not in known or known[u].checked_at < now - fresh]


def counts(session: Session, campaign_id: str) -> dict[str, int]:
    """How many checked URLs of the campaign are in each state (one GROUP BY)."""
    found = dict(session.exec(select(LinkCheckRow.state, func.count()).where(LinkCheckRow.campaign_id == campaign_id)
                              .group_by(col(LinkCheckRow.state))).all())
    return {state: int(found.get(state, 0)) for state in STATES}


def save(db: Engine, campaign_id: str, found: dict[str, Result], now: datetime) -> None:
    """Write the results in one short transaction (a URL's earlier result is replaced)."""
    if not found:
        return
    rows = [{"campaign_id": campaign_id, "url": r.url, "state": r.state, "detail": r.detail, "http_status": r.http_status,
             "checked_at": now} for r in found.values()]
    t = table(LinkCheckRow)
    with transaction(db) as session:
        for chunk in chunks(rows, IN_LIST):
            session.execute(delete(t).where(t.c.campaign_id == campaign_id, t.c.url.in_([r["url"] for r in chunk])))
            session.execute(insert(t), chunk)


@dataclass
class Report:
    """What one check found, link by link (a URL given by two ДОУ is listed for each); `unchecked`: the links a
    budget that ran out left for a later check."""

    now: datetime
    links: list[tuple[Link, Result]]
    seconds: float = 0.0
    unchecked: int = 0

    def count(self, state: str) -> int:
        return sum(1 for _, r in self.links if r.state == state)


async def check_links(db: Engine, campaign_id: str, links: Sequence[Link], now: datetime,
                      policy: Policy | None = None, budget: float | None = None) -> Report:
    """Fetch every link (no transaction open meanwhile), then store the results in one short transaction (in a
    thread: a daemon's loop goes on meanwhile). With `budget` (seconds) the fetching stops when it runs out, and the
    results of the links checked by then are stored all the same."""
    started = time.monotonic()
    found = await check((link.url for link in links), policy, budget)
    await asyncio.to_thread(save, db, campaign_id, found, now)
    checked = [(link, found[link.url]) for link in links if link.url in found]
    return Report(now, checked, time.monotonic() - started, unchecked=len(links) - len(checked))
