"""The portal: an ASGI application (Starlette) over the same database and engine functions as the CLI.

Each route is a thin edge like a CLI command: parse the form, make one engine call in one transaction
(audited with the person who acted), redirect (POST → redirect → GET), render. Sessions, personal links,
form tokens, origins and the security headers are the guard's (`middleware`), for every request at once.
See `app`."""

from dqflow.web.app import create_app

__all__ = ["create_app"]
