"""The portal: an ASGI application (Starlette) over the same database and engine functions as the CLI.

Each route is a thin edge like a CLI command: parse the form, make one engine call in one transaction
(audited with the person who acted), redirect (POST → redirect → GET), render. Sessions, personal links,
form tokens, origins and the security headers are the guard's (`middleware`), for every request at once.
See `app`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dqflow.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """`create_app` imported when asked for: `board --out` renders the board's pages (`web.board`) without Starlette
    and the portal's routes, which took it 2 s to import on a loaded machine."""
    if name == "create_app":
        from dqflow.web.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
