"""Who the link checker may ask, and how politely (`Policy`): its limits, the cloud drives it knows, the networks
`DQFLOW_LINKCHECK_ALLOW` lets it reach despite their being private.

**Who may be asked** (SSRF): only http and https; a name is resolved by the checker's transport (`link_transport`),
every address it resolves to must be a public one (`public`: not private, loopback, link-local, multicast, reserved,
unspecified) unless `DQFLOW_LINKCHECK_ALLOW` (comma-separated networks, e.g. `127.0.0.1/32,10.0.0.0/8`) allows it.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Sequence

from dqflow.errors import DqflowError

ALLOW_ENV = "DQFLOW_LINKCHECK_ALLOW"


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


def public(address: str, allow: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()) -> bool:
    """Whether the checker may connect to this address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in net for net in allow):
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return public(str(ip.ipv4_mapped), allow)
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or not ip.is_global)
