"""Whether a campaign's stages hold together: what a stage names (another stage, a ДОУ, an expert) exists and
comes in order, its expert list can be filled from the roster, its dates fall in one yearly cycle and on working
days, and no two stages show one name. Errors and warnings go to the node reader, located."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import yaml

from dqflow.calendar import WorkCalendar, show
from dqflow.campaign.model import Expert, Institution, Stage
from dqflow.campaign.nodes import NodeReader, suggest

MAX_SPAN = timedelta(days=2 * 366)  # first opening to last lock: the monitoring is yearly
READERS = {"institutions": "ДОУ", "experts": "экспертам", "coordinator": "координатору"}


class StageChecks:
    """The checks across stages, run once every stage that could be read is built."""

    def __init__(self, reader: NodeReader, tz: ZoneInfo, calendar: WorkCalendar,
                 exclude_nodes: dict[tuple[str, str], yaml.Node]):
        self.r, self.tz, self.calendar, self.exclude_nodes = reader, tz, calendar, exclude_nodes

    def check(self, stages: list[Stage], where: dict[str, yaml.MappingNode], declared: dict[str, str | None],
              institutions: list[Institution], experts: list[Expert]) -> None:
        self._references(stages, where, declared)
        self._working_days(stages, where)
        self._handouts(stages, where)
        homes = [(e, i.id) for i in institutions for e in i.experts] + [(e, e.institution) for e in experts]
        self._distinct_titles(stages, where)
        self._exclusions(stages, institutions, homes)
        self._experts_per_institution(stages, where, institutions, homes)
        self._span(stages, where)

    def _references(self, stages: list[Stage], where: dict[str, yaml.MappingNode], declared: dict[str, str | None]) -> None:
        """References between stages; one to a stage that failed to parse is not a second error."""
        r, tz = self.r, self.tz
        by_id = {s.id: s for s in stages}

        def field_node(stage: Stage, key: str) -> yaml.Node:
            return next((v for k, v in where[stage.id].value if k.value == key), where[stage.id])

        for stage in stages:
            for key in ("list", "distinct_from"):
                ref = getattr(stage, key)
                if ref is None:
                    continue
                target = by_id.get(ref)
                if target is None and ref in declared:
                    continue
                if target is None:
                    r.error(field_node(stage, key), f"этап «{stage.id}»: {key}: этапа «{ref}» нет{suggest(ref, declared)}")
                elif target.kind != "assignment":
                    r.error(field_node(stage, key), f"этап «{stage.id}»: {key} «{ref}» должен называть этап вида assignment (список "
                                                    f"экспертов), а не {target.kind}")
                elif key == "distinct_from" and ref == stage.id:
                    r.error(field_node(stage, key), f"этап «{stage.id}»: distinct_from не может называть сам этап; назовите другой список")
            for dep in stage.after:
                target = by_id.get(dep)
                node = field_node(stage, "after")
                if target is None and dep in declared:
                    continue
                if target is None:
                    r.error(node, f"этап «{stage.id}»: after: этапа «{dep}» нет{suggest(dep, declared)}")
                elif dep == stage.id:
                    r.error(node, f"этап «{stage.id}»: after не может называть сам этап; уберите его из after")
                elif target.due_at > stage.opens_at:
                    r.error(node, f"этап «{stage.id}» открывается {show(stage.opens_at, tz)}, раньше, чем кончается «{dep}», за которым он идёт "
                                  f"({show(target.due_at, tz)}); сдвиньте opens или уберите «{dep}» из after")
        cycle = _find_cycle({s.id: [d for d in s.after if d in by_id and d != s.id] for s in stages})
        if cycle:
            r.error(where[cycle[0]], f"этапы ждут друг друга по кругу: {' → '.join(cycle + [cycle[0]])}; уберите одну из ссылок after")

    def _exclusions(self, stages: list[Stage], institutions: list[Institution], homes: list[tuple[Expert, str | None]]) -> None:
        known_institutions = {i.id for i in institutions}
        known_experts = {e.id for e, _ in homes}
        for stage in stages:
            for inst, expert in stage.exclude:
                node = self.exclude_nodes.get((inst, expert))
                if inst not in known_institutions:
                    self.r.error(node, f"этап «{stage.id}»: exclude называет ДОУ «{inst}», которого нет в institutions")
                if expert not in known_experts:
                    self.r.error(node, f"этап «{stage.id}»: exclude называет эксперта «{expert}», которого нет среди экспертов кампании")

    def _experts_per_institution(self, stages: list[Stage], where: dict[str, yaml.MappingNode],
                                       institutions: list[Institution], homes: list[tuple[Expert, str | None]]) -> None:
        """An expert list cannot ask for more experts than any ДОУ could get from the others."""
        total = len(homes)
        own: dict[str, int] = {}
        for _, home in homes:
            if home is not None:
                own[home] = own.get(home, 0) + 1
        for stage in stages:
            node = next((v for k, v in where[stage.id].value if k.value == "experts_per_institution"), None)
            per = stage.experts_per_institution
            if stage.kind != "assignment" or per is None or node is None or not institutions:
                continue
            excluded: dict[str, int] = {}
            for inst, _ in set(stage.exclude):
                excluded[inst] = excluded.get(inst, 0) + 1
            most = max(total - own.get(i.id, 0) - excluded.get(i.id, 0) for i in institutions)
            if per > most:
                self.r.error(node, f"этап «{stage.id}»: experts_per_institution {per} — больше, чем позволяет список: "
                                   f"ни одно ДОУ не может получить больше {most} экспертов со стороны; укажите не больше {most} или "
                                   f"добавьте экспертов")

    def _span(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        """A campaign is one yearly cycle; a far-off year is a typo, and would make a replay endless."""
        if not stages:
            return
        first = min(stages, key=lambda s: s.opens_at)
        last = max(stages, key=lambda s: s.locks_at)
        if last.locks_at - first.opens_at > MAX_SPAN:
            key = "at" if last.kind == "event" else "due"
            node = next((v for k, v in where[last.id].value if k.value == key), where[last.id])
            self.r.error(node, f"этап «{last.id}» кончается {show(last.locks_at, self.tz)}, больше чем через {MAX_SPAN.days} дней после "
                               f"открытия этапа «{first.id}» ({show(first.opens_at, self.tz)}); кампания — один годовой цикл: проверьте годы")

    def _working_days(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        tz = self.tz
        for stage in stages:
            key = "at" if stage.kind == "event" else "due"
            day = stage.due_at.astimezone(tz).date()
            if not self.calendar.is_working_day(day):
                node = next((v for k, v in where[stage.id].value if k.value == key), where[stage.id])
                self.r.warn(node, f"этап «{stage.id}»: {key} {day.strftime('%d.%m.%Y')} — {self.calendar.why_off(day)}, "
                                  f"не рабочий день по календарю кампании")

    def _distinct_titles(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        """Each stage has one name people read (`label`: its `short:` or else its title) on every page, letter,
        calendar and report. The coordinator reads every stage (status, the portal, the calendar), the ДОУ read
        the reviews of their forms on their page: two stages of one name read as one, an error at the later one.
        Names that differ only in case or spacing count as the same."""
        shown: dict[str, Stage] = {}
        for stage in stages:
            key = " ".join(stage.label.split()).casefold()
            other = shown.get(key)
            if other is None:
                shown[key] = stage
                continue
            readers = (stage.audiences & other.audiences) | {"coordinator"}
            field = "short" if stage.short else "title"
            node = next((v for k, v in where[stage.id].value if k.value == field), where[stage.id])
            self.r.error(node, f"этап «{stage.id}» виден {' и '.join(READERS[r] for r in sorted(readers, key=list(READERS).index))} "
                               f"под тем же названием «{stage.label}», что и этап «{other.id}»; дайте одному из них отличное "
                               "«short:» (название на страницах, в письмах и календарях)")

    def _handouts(self, stages: list[Stage], where: dict[str, yaml.MappingNode]) -> None:
        """A handout mails the experts the links submitted so far: warn when a ДОУ task that the
        review waits for is still open then (those links reach the experts only in later reminders)."""
        by_id = {s.id: s for s in stages}
        for handout in (s for s in stages if s.kind == "handout"):
            review = next((s for s in stages if s.actor == "expert" and s.list == handout.list), None)
            for dep in (by_id[d] for d in (review.after if review else ()) if d in by_id):
                if dep.actor == "institution" and dep.due_at > handout.opens_at:
                    self.r.warn(where[handout.id], f"этап «{handout.id}» выдаёт материалы {handout.opens_at.astimezone(self.tz):%d.%m.%Y}, "
                                f"раньше срока «{dep.id}» ({dep.due_at.astimezone(self.tz):%d.%m.%Y %H:%M}): ссылки, сданные позже, "
                                "эксперты получат только в напоминаниях")


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt):]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in graph:
        if start not in state and (found := visit(start)):
            return found
    return None
