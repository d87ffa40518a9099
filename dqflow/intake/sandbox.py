"""The template sandbox: jinja2's immutable sandbox, bounded in work, time and size.

A campaign may bring its own email templates. `validate` renders each with sample data, so a
template that loops without end (`range` inside `range`) or builds a string of gigabytes
(`'x' * 2000000000`) must stop there with a clear error instead of hanging or exhausting
memory, and so must a rendering at send time. Every loop iteration, call, filter and
intercepted operator is a step of a per-rendering budget; operators, filters and calls that
could make a huge value are checked before they run (a check after would come too late);
every value they make and the rendered output are checked for size.
"""

from __future__ import annotations

import re
import time
from contextvars import ContextVar
from functools import wraps
from typing import Any, Callable, Iterable, Iterator

from jinja2 import Template, nodes, pass_context
from jinja2.exceptions import SecurityError, TemplateError, TemplateRuntimeError, TemplateSyntaxError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

MAX_STEPS = 1_000_000  # loop rounds, calls, filters and operators of one rendering (a digest of 50,000 ДОУ takes ~300,000)
MAX_SECONDS = 5.0  # wall clock of one rendering: the net for steps that are each slow (a macro call is ~3 µs)
MAX_OUTPUT = 16_000_000  # characters of one rendered template (a digest of 50,000 late ДОУ is ~6,000,000)
MAX_VALUE = 1_000_000  # characters or items of one value a template makes (a string, a list)
MAX_RANGE = 10_000  # items of range(): loops over data, not over numbers
MAX_SOURCE = 1_000_000  # characters of one template's source
_POWER_BITS = 4096  # the largest integer a template may compute with **
MAX_WRAPPED = 50_000  # characters `wordwrap` takes: twice the longest recommendations
MAX_SUM_COPIES = 100_000_000  # items copied by `sum` of sequences (~0.3 s)

_ITER, _SIZED = "dqflow_steps", "dqflow_sized"  # the guards put around every loop and every `~`


class TemplateLimit(SecurityError):
    """A template went past one of the bounds; the message names the bound and what to change."""


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateLimit(f"шаблону нужно больше {MAX_STEPS:,} шагов (steps: проходы циклов, вызовы, фильтры); "
                                "перебирайте данные письма, а не range() внутри range()")
        if self.steps % 64 == 0 and time.monotonic() > self.deadline:  # a clock read costs less than a step
            raise TemplateLimit(f"шаблон отрисовывается дольше {MAX_SECONDS:g} с; упростите его циклы")


_budget: ContextVar[_Budget | None] = ContextVar("dqflow_template_budget", default=None)


def _tick() -> None:
    budget = _budget.get()
    if budget is not None:  # None while jinja folds constants at compile time
        budget.tick()


def _check_size(size: int, what: str) -> None:
    if size > MAX_VALUE:  # sizes are counted until past the limit: say "or more"
        raise TemplateLimit(f"{what}: получилось бы {size:,} знаков или элементов и больше, а шаблон может сделать не больше {MAX_VALUE:,}")


def _check_value(value: Any, what: str, limit: int = MAX_VALUE) -> Any:
    if isinstance(value, (str, list, tuple, dict, set, bytes)) and len(value) > limit:
        raise TemplateLimit(f"{what}: {len(value):,} знаков или элементов, а шаблон может сделать не больше {limit:,}")
    return value


def _weight(value: Any, limit: int = MAX_VALUE, depth: int = 0) -> int:
    """Characters and items in `value`, nested ones included, counted until past `limit`.

    `[[0] * 1000000] * 1000000` is a list of a million items, but printing it makes 10^12
    characters: the items inside items count too."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if not isinstance(value, (list, tuple, set, frozenset, dict)):
        return 1
    if depth > 32:
        return limit + 1
    total = 0
    for item in (value.items() if isinstance(value, dict) else value):
        total += 1 + _weight(item, limit - total, depth + 1)
        if total > limit:
            break
    return total


def _check_widths(values: Iterable[Any], what: str) -> None:
    """Widths, counts and repeats given as arguments: each makes a value that large."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            _check_size(abs(value), what)
        elif isinstance(value, (tuple, list)) and len(value) <= 64:
            _check_widths(value, what)


def _check_format(spec: str, args: Iterable[Any], what: str) -> None:
    """A format string's widths and precisions (`%9999999s`, `{:>9999999}`) or `*` ones from the arguments."""
    digits = sum(int(d) for d in re.findall(r"\d{1,9}", spec)) + 10**9 * len(re.findall(r"\d{10,}", spec))
    _check_size(digits, what)
    braces = spec.replace("{{", "").replace("}}", "")
    if re.search(r"%[-#0 +]*\*|%[-#0 +\d]*\.\*", spec) or re.search(r"\{[^{}]*\{", braces):  # widths from the arguments
        _check_widths(args, what)


def bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateLimit(f"range() из {len(numbers):,} чисел, а шаблон может перебрать не больше {MAX_RANGE:,}")
    return numbers


@pass_context  # never folded into a constant at compile time: it must run, and tick, at render time
def _guard_iter(_context: Any, iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _tick()
        yield item


@pass_context
def _guard_size(_context: Any, value: Any) -> Any:
    _tick()
    return _check_value(value, "строка, собранная через ~ или set…endset (joined, captured)", MAX_OUTPUT)


_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "slice", "format"})  # arguments that size what they make
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map"})


def _bounded_filter(name: str, function: Callable) -> Callable:
    """A filter checked before it runs (its widths) and after (the size of what it made)."""
    passed = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0  # the context or environment jinja passes

    @wraps(function)  # keeps jinja's pass_context/pass_environment mark
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        values = list(args[passed:])
        if name in _WIDTH_FILTERS:
            _check_widths([*values[1:], *kwargs.values()], f"filter '{name}'")
        if name == "format" and values and isinstance(values[0], str):
            _check_format(values[0], [*values[1:], *kwargs.values()], "filter 'format'")
        if name == "indent" and values and isinstance(values[0], str):
            width = next((v for v in [*values[1:2], kwargs.get("width")] if isinstance(v, int)), 4)
            _check_size(len(values[0]) + values[0].count("\n") * abs(width), "filter 'indent'")
        if name == "replace" and len(values) >= 3 and all(isinstance(v, str) for v in values[:3]):
            _check_size(len(values[0]) + values[0].count(values[1]) * max(0, len(values[2]) - len(values[1]))
                        + (len(values[0]) + 1) * len(values[2]) * (values[1] == ""), "filter 'replace'")
        if name == "join" and values and isinstance(values[0], (list, tuple)):
            _check_size(_weight(values[0]), "filter 'join'")
        if name == "wordwrap" and values and isinstance(values[0], str) and len(values[0]) > MAX_WRAPPED:
            raise TemplateLimit(f"фильтр 'wordwrap' на {len(values[0]):,} знаков, а он берёт не больше {MAX_WRAPPED:,} "
                                "(его время растёт как квадрат длины слова)")
        start = kwargs.get("start", values[2] if len(values) > 2 else 0)
        if name == "sum" and isinstance(start, (list, tuple, str)) and values and isinstance(values[0], (list, tuple)):
            if len(values[0]) * _weight(values[0]) > MAX_SUM_COPIES:  # each addition copies the sum so far
                raise TemplateLimit(f"фильтр 'sum' из {len(values[0]):,} последовательностей копирует слишком много; "
                                    "соединяйте меньше или через 'join'")
        return _check_value(function(*args, **kwargs), f"filter '{name}'")

    return bounded


class _Guards(NodeTransformer):
    """Puts a step guard around every loop's iterable and a size guard around every `~`."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)  # the node itself, its children guarded in place
        node.iter = nodes.Filter(node.iter, _ITER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        self.generic_visit(node)  # the node itself, its children guarded in place
        return nodes.Filter(node, _SIZED, [], [], None, None, lineno=node.lineno)

    def visit_AssignBlock(self, node: nodes.AssignBlock) -> nodes.AssignBlock:
        """`{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}` in a loop doubles a string with no operator."""
        self.generic_visit(node)  # the node itself, its children guarded in place
        node.filter = nodes.Filter(node.filter, _SIZED, [], [], None, None, lineno=node.lineno)
        return node


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with every way to spend unbounded time or memory either counted or checked."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = bounded_range
        self.globals.pop("lipsum", None)  # sample-text generator: no use in a letter, and lipsum(n=10**9) is slow
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters[_ITER], self.filters[_SIZED] = _guard_iter, _guard_size

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_SOURCE:
            raise TemplateSyntaxError(f"в шаблоне {len(source):,} знаков, а можно не больше {MAX_SOURCE:,}", 1, name, filename)
        try:
            tree = _Guards().visit(super()._parse(source, name, filename))
        except RecursionError:
            raise TemplateSyntaxError("вложенность шаблона слишком глубокая (nest too deeply); упростите его", 1, name, filename) from None
        tree.set_environment(self)
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int) and times > 0:
                    _check_size(_weight(seq, MAX_VALUE // times) * times, f"'*' (a {type(seq).__name__} repeated {times:,} times)")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > _POWER_BITS:
                raise TemplateLimit(f"'*' дал бы число больше {_POWER_BITS} бит (bits); шаблон считает с числами поменьше")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            if left.bit_length() * right > _POWER_BITS:
                raise TemplateLimit(f"'**' дал бы число больше {_POWER_BITS} бит (bits); шаблон считает с числами поменьше")
        elif operator == "%" and isinstance(left, str):
            _check_format(left, right if isinstance(right, (tuple, list)) else [right], "'%' formatting")
        elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            _check_size(len(left) + len(right), "'+'")
        return _check_value(super().call_binop(context, operator, left, right), f"'{operator}'")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - jinja's signature
        _tick()
        if isinstance(__obj, LoopContext) and args:  # `loop(children)` of a recursive loop: its rounds count too
            args = (_guard_iter(None, args[0]), *args[1:])
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):  # str methods: widths (center, ljust, zfill…), format specs, tabs, joins
            method = getattr(target, "__name__", "")
            if method in _WIDTH_METHODS:
                _check_widths([*args, *kwargs.values()], f"'{method}()'")
            if method in ("format", "format_map"):
                _check_format(owner, [*args, *kwargs.values()], f"'{method}()'")
            elif method == "expandtabs":
                _check_size(len(owner) * max([a for a in args if isinstance(a, int)] or [8]), "'expandtabs()'")
            elif method == "join" and args and isinstance(args[0], (list, tuple)):
                _check_size(sum(len(v) if isinstance(v, str) else 1 for v in args[0]) + len(owner) * len(args[0]), "'join()'")
            elif method == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
                grown = owner.count(args[0]) * max(0, len(args[1]) - len(args[0])) if args[0] else (len(owner) + 1) * len(args[1])
                _check_size(len(owner) + grown, "'replace()'")
        return _check_value(super().call(__context, __obj, *args, **kwargs), "результат вызова (вывод макроса…)", MAX_OUTPUT)


def render(template: Template, context: dict, block: str | None = None) -> str:
    """The template (or one of its blocks) rendered within the bounds."""
    return render_parts(template, context, (block,))[0]


def render_parts(template: Template, context: dict, blocks: tuple[str | None, ...]) -> list[str]:
    """Blocks of one template (None: the whole of it) rendered within one budget and one context.

    Any error is a TemplateError pointing at the template's line: a Python error inside a
    template (`1 // 0`, recursion, memory) is the template's fault, not dqflow's.
    """
    token = _budget.set(_Budget())
    try:
        try:
            made = template.new_context(context)
            return [_joined(template.blocks[block](made) if block else template.root_render_func(made)) for block in blocks]
        except Exception:
            template.environment.handle_exception()  # re-raises with the template's lines in the traceback
    except TemplateError:
        raise
    except MemoryError as exc:
        raise TemplateRuntimeError("шаблону нужно больше памяти, чем есть").with_traceback(exc.__traceback__) from None
    except RecursionError as exc:
        raise TemplateRuntimeError("вызовы или значения вложены слишком глубоко (nest too deeply); "
                                   "не вызывает ли макрос сам себя без конца?").with_traceback(exc.__traceback__) from None
    except Exception as exc:
        raise TemplateRuntimeError(f"{type(exc).__name__}: {exc}").with_traceback(exc.__traceback__) from None
    finally:
        _budget.reset(token)


def _joined(chunks: Iterable[str]) -> str:
    out, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateLimit(f"отрисованный шаблон длиннее {MAX_OUTPUT:,} знаков; письмо должно быть короче")
        out.append(chunk)
    return "".join(out)
