"""How a link is fetched: an httpx client whose every connection goes through `_Guard`, one small pool per host.

`_Guard` (the network backend of httpcore) resolves a name itself, refuses it unless every address it resolves to
may be asked (`link_policy.public`), and connects to an address that was checked: a name that resolves again to
another address between the check and the connection (DNS rebinding) cannot lead elsewhere. Each host has a small
connection pool of its own (`_PerHost`: one pool for every host cost most of the CPU). Proxies from the environment
are not used; redirects are the checker's (`link_checker`), hop by hop, so every hop's address is checked.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections import defaultdict
from typing import TYPE_CHECKING, Any, cast

from dqflow.delivery.link_policy import Policy, public

if TYPE_CHECKING:  # httpx is imported by the check itself: reading results (the pages, the letters, the daemon's start) needs none
    import httpx

USER_AGENT = "dqflow-linkcheck/1 (+https://example.org/dqflow)"


class Refused(Exception):
    """An address the policy does not let the checker ask."""


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
