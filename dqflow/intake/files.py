"""Files the user names (campaigns, rosters, scenarios, review imports): read whole, but bounded.

Only regular files are read: a FIFO would block the reader until someone writes to it and
/dev/zero never ends. The file is opened without blocking and checked on the open handle,
so it cannot be swapped for something else between the check and the read.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import sys

from dqflow.errors import DqflowError, Problem, SpecError

MB = 1024 * 1024
MAX_CAMPAIGN = 16 * MB  # the national case (50,000 ДОУ with their experts) written inline is ~9 MB; reading it takes ~25 s
MAX_ROSTER = 64 * MB
MAX_SCENARIO = 32 * MB
MAX_REVIEWS = 64 * MB


class Unreadable(DqflowError):
    """The file cannot be read; the message is the reason, without the file's name."""


def read_bytes(path: str | os.PathLike, limit: int) -> bytes:
    """The whole content of the regular file at `path`, at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise Unreadable("такого файла нет; проверьте имя и папку") from None
    except IsADirectoryError:
        raise Unreadable("это папка, а не файл; укажите файл") from None
    except OSError as exc:
        raise Unreadable(f"файл не читается: {exc.strerror}") from None
    except ValueError:  # a NUL in the name, or a surrogate that is no file-system byte (UnicodeEncodeError)
        raise Unreadable("в имени файла символ NUL или текст, который не может быть именем файла; переименуйте файл") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise Unreadable("это папка, а не файл; укажите файл")
        raise Unreadable("это не обычный файл (канал, устройство или сокет); сохраните содержимое в файл и укажите его")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)  # one byte more tells a file at the limit from a longer one
        except OSError as exc:
            raise Unreadable(f"файл не читается: {exc.strerror}") from None
    if len(data) > limit:
        raise Unreadable(f"файл больше {_size(limit)} — больше, чем читает dqflow; разделите его или проверьте, тот ли это файл")
    return data


def read_stdin(limit: int) -> bytes:
    """Standard input up to `limit` bytes (more is refused rather than read without end)."""
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(f"стандартный ввод больше {_size(limit)} — больше, чем dqflow здесь читает")
    return data


def csv_rows(text: str, file: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """Each record of a CSV text with the line it starts on; a malformed one is a SpecError there.

    Fields are bounded by the csv module's own limit (131,072 characters), far above any
    name or review dqflow takes; a longer one is almost always a quote that is never closed.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            reason = (f"поле длиннее {csv.field_size_limit()} знаков начинается в строке {start} или раньше; "
                      "закройте открывающую его кавычку или сократите поле") if "field limit" in str(exc) else f"не читается как CSV: «{exc}»"
            raise SpecError([Problem(file, reader.line_num, 1, reason)]) from None
        rows.append((start, row))


def _size(limit: int) -> str:
    return f"{limit // MB} МБ" if limit >= MB else f"{limit} байт"
