"""Secrets never printed: a password in a database URL or the SMTP password is masked in every
error line, log record and traceback that leaves a dqflow process (cron mails its logs around).

Two nets: any `scheme://user:password@` in a text loses its password, and the secret values the
process knows (the database URL's password, DQFLOW_SMTP_PASSWORD) are masked wherever they
appear, even quoted by a driver or a server.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Iterable, Mapping
from urllib.parse import quote, unquote

MASK = "***"
MIN_LENGTH = 4  # a shorter "secret" would mask ordinary words; the URL pattern still catches it in a URL

# user:password@ after a scheme; the password runs to the last @ before whitespace or a quote, so an
# unencoded @ in it is masked too (over-masking a rare @ in a path is the safe side).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*):(?P<password>[^\s'\"]*)@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with URL passwords and the given secret values replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", text)
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_url(url: str) -> str:
    """A database URL fit to print: its password masked."""
    return redact(url, url_secrets(url))


def url_secrets(url: str | None) -> list[str]:
    """The password of a URL as written, decoded and re-encoded: a driver may quote any of them."""
    if not url:
        return []
    match = _URL_PASSWORD.search(url)
    if not match:
        return []
    password = match["password"]
    found = {password, unquote(password), quote(unquote(password), safe="")}
    # an unencoded @ makes a URL parser split the password and put its tail in the host name
    return list(found | {part for part in password.split("@") if len(part) >= MIN_LENGTH})


def known_secrets(db_url: str | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """Every secret this process may hold: the --db URL's, DQFLOW_DB's and the SMTP password."""
    env = os.environ if env is None else env
    found = url_secrets(db_url) + url_secrets(env.get("DQFLOW_DB"))
    if env.get("DQFLOW_SMTP_PASSWORD"):
        found.append(env["DQFLOW_SMTP_PASSWORD"])
    return found


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's final message (and its traceback) before any handler writes it."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def protect_logging(secrets: Iterable[str] = ()) -> None:
    """Put the filter on every handler of the root logger (filters on a logger miss child loggers' records)."""
    shield = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(shield)
