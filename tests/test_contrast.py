"""Every text people read has a contrast of at least 4.5:1 (WCAG 2 AA for body text), computed from the CSS.

The CSS of the portal's pages (base.html's <style>, each page's `{% block style %}` and its inline
`style="…"`), of the emails (notifications/ru/*.html, inline) and of the справка is parsed rule by rule.
Each rule that gives a colour or a background makes a pair: what it leaves out comes from the rule it
refines (`.status.open` sets a background, `.status` the white text on it) or, failing that, from the
page (the body's text colour; for a colour alone, every background the page's text sits on: the body's
and those of its cards, tables, flashes…). So a new badge in a pale colour fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT
from dqflow.results import html as spravka_html
from dqflow.results import svg

MINIMUM = 4.5
WEB = ROOT / "dqflow" / "web" / "templates"
EMAILS = ROOT / "notifications" / "ru"
SPRAVKA = ROOT / "dqflow" / "results" / "templates" / "spravka.html"
# elements that hold no text (the board's timeline bars, its "today" line and progress bars): their fill is not a text's background
DECORATION = re.compile(r"\.(bar|today|track|progress)\b")
NAMED = {"white": "#ffffff", "black": "#000000"}


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class Rule:
    selector: str
    color: str | None
    background: str | None


def declarations(body: str) -> dict[str, str]:
    found = {}
    for declaration in body.split(";"):
        name, colon, value = declaration.partition(":")
        if colon:
            found[name.strip().lower()] = value.strip()
    return found


def colour(value: str, variables: dict[str, str], where: str) -> str | None:
    """A colour value as #hex (None for `none`, `transparent`, `inherit`); anything else unreadable fails the test."""
    value = value.replace("!important", "").strip()
    for _ in range(5):
        var = re.fullmatch(r"var\((--[\w-]+)\)", value)
        if not var:
            break
        assert var.group(1) in variables, f"{where}: {value} is not defined in :root"
        value = variables[var.group(1)]
    value = NAMED.get(value.lower(), value)
    if value.lower() in ("none", "transparent", "inherit", "currentcolor"):
        return None
    assert re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value), f"{where}: cannot judge the colour {value!r}: write it as #hex"
    return value


def rules(css: str, where: str, variables: dict[str, str]) -> list[Rule]:
    """Each selector's colour and background (the innermost `selector { … }`: @media rules count as rules)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        given = declarations(body)
        text = given.get("color")
        fill = given.get("background-color", given.get("background"))
        if fill is not None:
            fill = fill.split()[0] if fill.startswith("#") or fill.startswith("var(") else fill
        for selector in selectors.split(","):
            selector = " ".join(selector.split())
            if not selector or selector.startswith("@") or selector == ":root":
                continue
            found.append(Rule(selector, colour(text, variables, f"{where} {selector}") if text else None,
                              colour(fill, variables, f"{where} {selector}") if fill else None))
    return found


def root_variables(css: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for body in re.findall(r":root\s*\{([^{}]*)\}", css):
        found.update((name, value) for name, value in declarations(body).items() if name.startswith("--"))
    return found


def base_of(selector: str) -> str | None:
    """The rule a selector refines: `.status.open` → `.status`, `button.secondary` → `button`."""
    refined = re.sub(r"\.[\w-]+$", "", selector)
    return refined if refined and refined != selector else None


def pairs(sheet: list[Rule], inline: list[Rule], page_text: str, page_background: str) -> list[tuple[str, str, str]]:
    """(where, text colour, background) for every text the rules colour."""
    by_selector: dict[str, Rule] = {}
    for rule in sheet:
        old = by_selector.get(rule.selector)
        by_selector[rule.selector] = Rule(rule.selector, rule.color or (old.color if old else None),
                                          rule.background or (old.background if old else None))

    def inherited(selector: str, side: str) -> str | None:
        base = base_of(selector)
        while base:
            value = getattr(by_selector.get(base), side, None) if base in by_selector else None
            if value:
                return value
            base = base_of(base)
        return None

    resolved = []
    for rule in [*by_selector.values(), *inline]:
        if DECORATION.search(rule.selector) or (rule.color is None and rule.background is None):
            continue
        resolved.append(Rule(rule.selector, rule.color or inherited(rule.selector, "color"),
                             rule.background or inherited(rule.selector, "background")))
    # the backgrounds the page's own text sits on: the body's and those of its cards, tables, flashes…
    surfaces = {page_background} | {r.background for r in resolved if r.background and r.color is None}
    found = []
    for rule in resolved:
        if rule.color and rule.background:
            found.append((rule.selector, rule.color, rule.background))
        elif rule.background:
            found.append((rule.selector, page_text, rule.background))
        else:
            found += [(f"{rule.selector} on {surface}", rule.color, surface) for surface in sorted(surfaces)]
    return found


def too_faint(found: list[tuple[str, str, str]]) -> list[str]:
    return [f"{where}: {text} on {background} is {contrast(text, background):.2f}:1"
            for where, text, background in found if contrast(text, background) < MINIMUM]


def inline_rules(source: str, where: str, variables: dict[str, str]) -> list[Rule]:
    found = []
    for n, style in enumerate(re.findall(r'style="([^"]*)"', source)):
        style = re.sub(r"\{\{.*?\}\}", "0", style)  # a value the template fills in (a bar's width)
        found += rules(f"[style] {{{style}}}", f"{where} style #{n + 1}", variables)
    return [Rule(f"{where} style=…{r.selector}", r.color, r.background) for r in found]


def page_defaults(sheet: list[Rule], text: str, background: str) -> tuple[str, str]:
    body = [r for r in sheet if r.selector in ("body", "html body")]
    return next((r.color for r in body if r.color), text), next((r.background for r in body if r.background), background)


# -- the portal -------------------------------------------------------------------------------

BASE = (WEB / "base.html").read_text(encoding="utf-8")
BASE_CSS = re.sub(r"\{%.*?%\}", "", re.search(r"<style>(.*?)</style>", BASE, re.S).group(1))
VARIABLES = root_variables(BASE_CSS)


def portal_pairs(page: Path, extra_css: str = "") -> list[tuple[str, str, str]]:
    source = page.read_text(encoding="utf-8")
    own = "".join(re.findall(r"\{%-?\s*block style\s*-?%\}(.*?)\{%-?\s*endblock", source, re.S)) if page.name != "base.html" else ""
    sheet = rules(BASE_CSS + own + extra_css, page.name, VARIABLES)
    text, background = page_defaults(sheet, "#000000", "#ffffff")
    return pairs(sheet, inline_rules(source, page.name, VARIABLES), text, background)


@pytest.mark.parametrize("page", sorted(WEB.glob("*.html")), ids=lambda p: p.name)
def test_every_text_and_badge_of_a_portal_page_reads_at_4_5(page: Path):
    found = portal_pairs(page)
    assert found and not too_faint(found), "\n".join(too_faint(found))


def test_each_status_badge_is_checked_with_its_white_text():
    """The badges the issue measured: «ожидается», «с опозданием», «освобождён», and the others: a state's
    badge is white on its fill; «ожидается» (no state yet) dark on a pale one."""
    found = {where: (text, background) for where, text, background in portal_pairs(WEB / "board.html")}
    for state in ("open", "done", "late", "missed", "excused"):
        text, background = found[f".status.{state}"]
        assert text == "#fff" and contrast(text, background) >= MINIMUM, (state, text, background)
    text, background = found[".status"]  # «ожидается»: the badge with no state class
    assert contrast(text, background) >= MINIMUM


def test_a_new_badge_in_a_pale_colour_fails():
    """The check itself: a badge added in the old «ожидается» grey, or grey text on the page, is caught."""
    assert too_faint(portal_pairs(WEB / "board.html", ".status.new { background: #9aa5b1; color: #fff; }")) == [
        ".status.new: #fff on #9aa5b1 is 2.50:1"]
    # a dark fill under the badges' default dark text
    assert too_faint(portal_pairs(WEB / "board.html", ".status.new { background: #52606d; }")) == [
        ".status.new: #1f2933 on #52606d is 2.29:1"]
    faint = too_faint(portal_pairs(WEB / "home.html", ".hint { color: #888; }"))
    assert faint and all(line.startswith(".hint on ") for line in faint)


def test_the_old_colours_would_fail():
    assert round(contrast("#ffffff", "#9aa5b1"), 1) == 2.5 and round(contrast("#888", "#fff"), 1) == 3.5
    assert round(contrast("#fff", "#b7791f"), 1) == 3.6 and round(contrast("#fff", "#718096"), 1) == 4.0


# -- the emails -------------------------------------------------------------------------------


@pytest.mark.parametrize("letter", sorted(EMAILS.glob("*.html")), ids=lambda p: p.name)
def test_every_text_of_an_email_reads_at_4_5(letter: Path):
    """A mail client's page is black on white unless the letter says otherwise (the layout, message.html, does not)."""
    source = letter.read_text(encoding="utf-8")
    sheet = [rule for css in re.findall(r"<style[^>]*>(.*?)</style>", source, re.S) for rule in rules(css, letter.name, {})]
    found = pairs(sheet, inline_rules(source, letter.name, {}), "#000000", "#ffffff")
    assert not too_faint(found), "\n".join(too_faint(found))


def test_the_email_footer_is_among_the_checked():
    source = (EMAILS / "message.html").read_text(encoding="utf-8")
    footer = [r for r in inline_rules(source, "message.html", {}) if r.color]
    assert footer and all(contrast(r.color, "#ffffff") >= MINIMUM for r in footer if r.color)


# -- the справка ------------------------------------------------------------------------------


def test_every_text_of_the_spravka_reads_at_4_5():
    # the справка's pages (and the regional one) take their stylesheet from the shared parts
    source = SPRAVKA.read_text(encoding="utf-8") + SPRAVKA.with_name("_parts.html").read_text(encoding="utf-8")
    css = re.search(r"<style>(.*?)</style>", source, re.S).group(1)
    sheet = rules(css, SPRAVKA.name, {})
    text, background = page_defaults(sheet, "#000000", "#ffffff")
    found = pairs([r for r in sheet if r.selector != "html"], inline_rules(source, SPRAVKA.name, {}), text, background)
    assert any(where.startswith("td.status-missed") for where, _, _ in found)
    assert not too_faint(found), "\n".join(too_faint(found))


@pytest.mark.parametrize("fill", sorted({*spravka_html.STATUS_COLORS.values(), *spravka_html.LEVEL_COLORS}))
def test_a_count_printed_on_a_chart_bar_reads_at_4_5(fill: str):
    chart = str(svg.stacked_bars([("ДОУ 1", [svg.Part(7, fill, "часть")])], [("часть", fill)], "диаграмма"))
    [ink] = re.findall(rf'fill="{fill}"><title>[^<]*</title></rect><text [^>]*fill="(#[0-9a-f]+)"', chart)
    assert contrast(ink, fill) >= MINIMUM, (ink, fill, contrast(ink, fill))
