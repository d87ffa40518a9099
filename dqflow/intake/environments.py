"""The jinja2 environments the email templates render in: a campaign's own folder in the sandbox (`sandbox`), ours
in a plain environment with each include written in place; and what a subject block reads of its item.

Only what renders or checks a template imports this module (through `templates`): a command that never
composes mail never loads jinja2.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined, Template, nodes, select_autoescape

from dqflow.intake.sandbox import BoundedEnvironment


def _configured(cls: type[Environment], loader: BaseLoader) -> Any:
    return cls(loader=loader, undefined=StrictUndefined,
               autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
               auto_reload=False)  # templates are read once per process, not stat()ed for every message


@lru_cache(maxsize=8)
def sandboxed(folder: str) -> BoundedEnvironment:
    found: BoundedEnvironment = _configured(BoundedEnvironment, FileSystemLoader(folder))
    return found


class Trusted:
    """One of our own templates, compiled once, rendered in a context built without copying the
    environment's globals for every message."""

    def __init__(self, template: Template):
        self.template = template
        self.globals = dict(template.globals)

    @staticmethod
    @lru_cache(maxsize=64)
    def of(folder: str, name: str) -> Trusted:
        return Trusted(plain(folder).get_template(name))

    def render(self, context: dict[str, Any], blocks: tuple[str, ...]) -> list[str]:
        template = self.template
        made = template.environment.context_class(template.environment, {**self.globals, **context}, template.name, template.blocks)
        return ["".join(template.blocks[block](made)).strip() for block in blocks]


@lru_cache(maxsize=8)
def plain(folder: str) -> Environment:
    found: Environment = _configured(Environment, _Inlining(folder))
    return found


class _Inlining(FileSystemLoader):
    """Our templates with each `{% include "_part" %}` written in place: an include copies the whole
    context for every rendering (six times a message). Our parts set nothing and define no blocks,
    so in place they say the same; a comment after each keeps the line break trimmed as the tag's was."""

    INCLUDE = re.compile(r'{%\s*include\s+"(_[a-z_]+\.(?:txt|html))"\s*%}')

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        return self.INCLUDE.sub(lambda m: self._part(environment, m.group(1)), source), filename, uptodate

    def _part(self, environment: Environment, name: str) -> str:
        text = self.get_source(environment, name)[0]
        return (text[:-1] if text.endswith("\n") else text) + "{# #}"


_PURE = (nodes.Output, nodes.TemplateData, nodes.If, nodes.CondExpr, nodes.Test, nodes.Compare, nodes.Operand, nodes.And,
         nodes.Or, nodes.Not, nodes.Const, nodes.Concat, nodes.Filter, nodes.Getattr)
# functions of their input alone: `default` and `is defined` would also see whether a field is there at all
_FILTERS = {"length", "count", "upper", "lower", "trim", "replace", "join", "string", "capitalize", "title", "truncate", "int"}
_TESTS = {"none", "true", "false", "number", "string", "eq", "ne", "equalto", "sameas", "lt", "le", "gt", "ge"}


def subject_reads(folder: str, kind: str) -> tuple[tuple[str, bool], ...] | None:
    """See `templates.subject_reads`."""
    environment = plain(folder)
    loader = environment.loader
    assert loader is not None  # plain() always gives it one
    tree = environment.parse(loader.get_source(environment, f"{kind}.txt")[0])
    block = next((b for b in tree.find_all(nodes.Block) if b.name == "subject"), None)
    reads: dict[str, bool] = {}
    if block is None or not all(_read(child, block, reads) for child in block.body):
        return None
    return tuple(sorted(reads.items()))


def _read(node: nodes.Node, parent: nodes.Node, reads: dict[str, bool]) -> bool:
    if not isinstance(node, _PURE) or (isinstance(node, nodes.Filter) and node.name not in _FILTERS) \
            or (isinstance(node, nodes.Test) and node.name not in _TESTS):
        return False
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        if node.node.name != "item" or hasattr(dict, node.attr):  # jinja's item.keys is the dict's method, not a field
            return False
        counted = isinstance(parent, nodes.Filter) and parent.name == "length" and parent.node is node
        reads[node.attr] = reads.get(node.attr, False) or not counted
        return True
    return all(_read(child, node, reads) for child in node.iter_child_nodes())
