"""Does a link open? Each URL is fetched and judged `ok`, `broken` or `closed` (`Checker`); no database work here.

- **How**: HEAD first, then a GET of at most `Policy.max_bytes` when HEAD is refused or says nothing useful (a
  4xx/5xx, or a cloud drive whose page must be read); under a global limit of concurrent requests and at most
  `Policy.per_host` per host, each slot resting `Policy.host_delay` between two requests; redirects followed here, hop
  by hop (at most `Policy.max_redirects`), each through the guarded transport (`link_transport`).
- **What a result means**: `closed` — 401/403, a redirect to a sign-in page, or a cloud drive's page saying access
  is denied (`link_policy.DRIVES`: the hosts and the words of the page; see docs/links.md); `broken` — the name does
  not resolve, the address is refused or the connection is, a timeout, 404/410, 5xx, another 4xx, a redirect loop
  or too many redirects; `ok` — anything else that answers 2xx.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import zlib
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable
from urllib.parse import urljoin, urlsplit

from dqflow.delivery.link_policy import Drive, Policy, policy_from_env
from dqflow.delivery.link_transport import Refused, client

if TYPE_CHECKING:  # httpx is imported by the check itself: reading results (the pages, the letters, the daemon's start) needs none
    import httpx

log = logging.getLogger("dqflow.delivery.linkcheck")  # the link check's log, as people configure it
OK, BROKEN, CLOSED = "ok", "broken", "closed"
PENDING = 2048  # links under way at once (each waits for its slots): the memory of a check, whatever its size

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
