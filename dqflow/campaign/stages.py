"""The campaign's stages as its file gives them: kind, actor, times (absolute or relative to another stage,
resolved at once), grace, expert-list settings and reminder rules, each problem located where it is written."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import yaml

from dqflow.calendar import Duration, WorkCalendar, Written, show
from dqflow.campaign import dating
from dqflow.campaign.coherence import StageChecks
from dqflow.campaign.model import ACTORS, AUDIENCES, STAGE_KINDS, Expert, Institution, ReminderRule, Stage
from dqflow.campaign.nodes import SLUG, NodeReader

MAX_STAGES = 100  # an order has a dozen or two
MAX_EXPERTS_PER_INSTITUTION = 10  # the orders ask for two
MAX_RULES = 20  # reminder rules of one stage
MAX_OVERDUE_REPEATS = 10  # an overdue rule's `max`

_Times = tuple[datetime, datetime, datetime, Duration | None, bool]  # opens, due, locks, grace, all_day


class StageReader:
    """Reads `stages:` once the campaign's zone, calendar and start are known (relative dates need them)."""

    def __init__(self, reader: NodeReader, tz: ZoneInfo | None, calendar: WorkCalendar, start: Written | None, start_given: bool):
        self.r, self.tz, self.calendar = reader, tz, calendar
        self.start, self._start_given = start, start_given
        self._exclude_nodes: dict[tuple[str, str], yaml.Node] = {}
        self._dates: dict[int, Written] = {}  # id() of a stage's opens/due/at node → its resolved date
        self.relative: list[tuple[yaml.Node, dating.Relative]] = []  # relative dates as written, for `instantiate`
        self.submit_to: list[yaml.Node] = []  # stages that name the operator: the campaign must have one
        self.forms: list[yaml.Node] = []  # `form: true` of the stages: the campaign's areas must carry indicators

    def stages(self, node: yaml.Node, institutions: list[Institution], experts: list[Expert]) -> list[Stage]:
        r = self.r
        nodes = r.sequence(node, "stages")
        if isinstance(node, yaml.SequenceNode) and not nodes:
            r.error(node, "stages: список пуст; перечислите этапы из приказа")
        if len(nodes) > MAX_STAGES:
            r.error(node, f"stages: этапов {len(nodes)}, а в одной кампании dqflow ведёт не больше {MAX_STAGES}; уберите лишние")
            return []
        stages: list[Stage] = []
        where: dict[str, yaml.MappingNode] = {}
        declared = self._declared_stages(nodes)
        self._resolve_dates(nodes, declared)
        for n in nodes:
            stage = self._stage(n)
            if stage is None:
                continue
            if stage.id in where:
                r.error(n, f"id этапа «{stage.id}» повторяется (впервые в строке {where[stage.id].start_mark.line + 1}); дайте этапу другой id")
                continue
            where[stage.id] = n
            stages.append(stage)
        if self.tz is not None:  # without the campaign's zone no stage has times, so none was built
            StageChecks(r, self.tz, self.calendar, self._exclude_nodes).check(stages, where, declared, institutions, experts)
        return stages

    def _stage(self, node: yaml.Node) -> Stage | None:
        r = self.r
        f = r.mapping(node, "этап", ["id", "title", "kind"], [
            "actor", "opens", "due", "at", "grace", "url", "responsible", "result", "after", "list", "short", "submit_to",
            "experts_per_institution", "distinct_from", "audience", "reminders", "exclude", "max_load", "form",
        ])
        if f is None:
            return None
        ident = r.slug(f.get("id"), "stage.id")
        kind = r.choice(f.get("kind"), "stage.kind", STAGE_KINDS)
        what = f"этап «{ident}»" if ident else "этап"
        title = r.one_line(f.get("title"), f"{what}, title")
        allowed = {
            "task": {"actor", "opens", "due", "grace", "list", "reminders", "submit_to", "form"},
            "event": {"at", "audience", "reminders"},
            "assignment": {"opens", "due", "grace", "experts_per_institution", "distinct_from", "exclude", "max_load", "reminders"},
            "handout": {"opens", "due", "grace", "list", "reminders"},
        }.get(kind or "", set())
        common = {"id", "title", "kind", "url", "responsible", "result", "after", "short"}
        if kind:
            for key in sorted(set(f) - common - allowed):
                key_node = next(k for k, v in node.value if k.value == key)
                r.error(key_node, f"{what}: ключ «{key}» не относится к этапу вида «{kind}»; уберите его")
        actor = None
        if kind == "task":
            actor = r.choice(f.get("actor"), f"{what}, actor", ACTORS) if "actor" in f else None
            if "actor" not in f:
                r.error(node, f"{what}: у задачи (task) должен быть исполнитель: «actor: institution», «actor: expert» или «actor: coordinator»")
        elif kind in ("assignment", "handout"):
            actor = "coordinator"
        times = self._stage_times(f, node, what, kind)
        submit_to = r.choice(f["submit_to"], f"{what}, submit_to", ("operator",)) if "submit_to" in f else None
        if submit_to and actor != "institution":
            r.error(f["submit_to"], f"{what}: submit_to бывает только у задачи ДОУ (actor: institution); уберите его")
        elif submit_to:
            self.submit_to.append(f["submit_to"])
        form = bool(r.boolean(f["form"], f"{what}, form")) if "form" in f else False
        if form and actor != "institution":
            r.error(f["form"], f"{what}: form: true бывает только у задачи ДОУ (kind: task, actor: institution) — "
                               f"этапов заполнения, дозаполнения и итоговой корректировки формы; уберите его")
        elif form:
            self.forms.append(f["form"])
        list_stage = r.slug(f["list"], f"{what}, list") if "list" in f else None
        if kind == "task" and actor == "expert" and "list" not in f:
            r.error(node, f"{what}: задаче экспертов нужен «list: <id этапа assignment>» — список экспертов, по которому она идёт")
        if kind == "handout" and "list" not in f:
            r.error(node, f"{what}: выдаче (handout) нужен «list: <id этапа assignment>»; добавьте его")
        per = (r.integer(f["experts_per_institution"], f"{what}, experts_per_institution", minimum=1, maximum=MAX_EXPERTS_PER_INSTITUTION)
               if "experts_per_institution" in f else None)
        exclude = self._exclude(f["exclude"], what) if "exclude" in f else ()
        max_load = r.integer(f["max_load"], f"{what}, max_load", minimum=1) if "max_load" in f else None
        audience: tuple[str, ...] = ()
        if kind == "event":
            audience = ("institutions",)
            if "audience" in f:
                audience = tuple(a for n in r.sequence(f["audience"], f"{what}, audience") if (a := r.choice(n, f"{what}, audience", AUDIENCES)))
        after = tuple(a for n in r.sequence(f["after"], f"{what}, after") if (a := r.slug(n, f"{what}, after"))) if "after" in f else ()
        reminders = read_reminders(r, f["reminders"]) if "reminders" in f else None
        if ident is None or kind is None or title is None or times is None:
            return None
        opens_at, due_at, locks_at, grace, all_day = times
        return Stage(
            id=ident, title=title, kind=kind, actor=actor, opens_at=opens_at, due_at=due_at, locks_at=locks_at,
            grace=grace, url=self._url(f.get("url"), what), responsible=r.one_line(f.get("responsible"), f"{what}, responsible"),
            result=r.one_line(f.get("result"), f"{what}, result"), after=after, list=list_stage,
            experts_per_institution=(per or 2) if kind == "assignment" else None,
            distinct_from=r.slug(f["distinct_from"], f"{what}, distinct_from") if "distinct_from" in f else None,
            audience=audience, reminders=reminders, all_day=all_day, exclude=exclude, max_load=max_load,
            short=r.one_line(f["short"], f"{what}, short") if "short" in f else None, submit_to=submit_to,
            form=form and actor == "institution",
        )

    def _declared_stages(self, nodes: list[yaml.Node]) -> dict[str, str | None]:
        """Every stage id the file declares, with its kind (None when unreadable), read leniently
        before the stages are built: a stage that fails to parse still answers references to it,
        so one mistake gives one error (its own problems are reported when it is built)."""
        declared: dict[str, str | None] = {}
        for n in nodes:
            if not isinstance(n, yaml.MappingNode):
                continue
            keys = {k.value: v for k, v in n.value if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)}
            ident = keys.get("id")
            if ident is not None and SLUG.fullmatch(ident.value) and ident.value not in declared:
                kind = keys.get("kind")
                declared[ident.value] = kind.value if kind is not None and kind.value in STAGE_KINDS else None
        return declared

    def _resolve_dates(self, nodes: list[yaml.Node], declared: dict[str, str | None]) -> None:
        """Read every stage's opens/due/at (absolute or relative) and resolve them all at once,
        so a date may follow a stage written after it; problems are reported where written."""
        r, tz = self.r, self.tz
        entries: dict[str, Written | dating.Relative | None] = {}
        written_at: dict[str, yaml.Node] = {}
        for index, n in enumerate(nodes):
            if not isinstance(n, yaml.MappingNode):
                continue
            keys = {k.value: v for k, v in n.value if isinstance(k, yaml.ScalarNode)}
            ident = keys["id"].value if isinstance(keys.get("id"), yaml.ScalarNode) else None
            owner = ident if ident in declared and ident not in {k.partition(".")[0] for k in entries} else f"#{index}"
            what = f"этап «{ident}»" if ident else "этап"
            for name in dating.FIELDS:
                if name not in keys:
                    continue
                value = dating.read(r, keys[name], f"{what}, {name}")
                if isinstance(value, Written) and value.offset and tz is not None:  # an absolute instant: on the campaign's clock
                    local = value.moment(tz).astimezone(tz)
                    value = Written(local.date(), local.time())
                if isinstance(value, dating.Relative):
                    self.relative.append((keys[name], value))
                entries[f"{owner}.{name}"] = value
                written_at[f"{owner}.{name}"] = keys[name]
        if tz is None:
            return
        resolution = dating.resolve(entries, declared, self.start, self._start_given, self.calendar)
        for node, message in resolution.problems:
            r.error(node, message)
        self._dates = {id(written_at[key]): day for key, day in resolution.dates.items() if key in written_at}

    def resolved_relative(self) -> list[tuple[yaml.Node, dating.Relative, Written]]:
        return [(node, rule, self._dates[id(node)]) for node, rule in self.relative if id(node) in self._dates]

    def _date(self, node: yaml.Node | None) -> Written | None:
        return None if node is None else self._dates.get(id(node))

    def _stage_times(self, f: dict[str, yaml.Node], node: yaml.Node, what: str, kind: str | None) -> _Times | None:
        """(opens, due, locks, grace, all_day) of a stage, or None with the problem reported."""
        r, tz = self.r, self.tz
        if kind == "event":
            if "at" not in f:
                r.error(node, f"{what}: событию (event) нужна дата «at: <дата и время>»; добавьте её")
                return None
            at = self._date(f["at"])
            if at is None or tz is None:
                return None
            moment = at.moment(tz)
            return moment, moment, moment, None, at.clock is None
        if kind is None:
            return None
        for key in ("opens", "due"):
            if key not in f:
                r.error(node, f"{what}: нет «{key}: <дата или дата и время>»; добавьте")
        opens_at, due_at = self._date(f.get("opens")), self._date(f.get("due"))
        grace = r.duration(f["grace"], f"{what}, grace") if "grace" in f else None
        if opens_at is None or due_at is None or tz is None:
            return None
        opens, due = opens_at.moment(tz), due_at.moment(tz, end_of_day=True)
        if opens > due:
            r.error(f["opens"], f"{what}: opens {show(opens, tz)} позже due {show(due, tz)}; поменяйте даты местами или исправьте их")
            return None
        locks = grace.after(due, tz, self.calendar) if grace else due
        return opens, due, locks, grace, False

    def _url(self, node: yaml.Node | None, what: str) -> str | None:
        url = self.r.one_line(node, f"{what}, url")
        if url is not None and not re.fullmatch(r"https?://\S+", url):
            self.r.error(node, f"{what}: url «{url}» должен начинаться с http:// или https://")
            return None
        return url

    def _exclude(self, node: yaml.Node, what: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for n in self.r.sequence(node, f"{what}, exclude"):
            pair = self.r.sequence(n, f"{what}, exclude, пара")
            if len(pair) != 2:
                self.r.error(n, f"{what}: каждый элемент exclude — пара [id ДОУ, id эксперта]")
                continue
            inst, expert = (self.r.identifier(item, f"{what}, exclude") for item in pair)
            if inst and expert:
                pairs.append((inst, expert))
                self._exclude_nodes[(inst, expert)] = n
        return tuple(pairs)


def read_reminders(r: NodeReader, node: yaml.Node) -> tuple[ReminderRule, ...]:
    """A stage's (or `defaults`') `reminders:`, each rule one of `before: 3d`, `at: due|opens`, `overdue: 1d` (+ `max`)."""
    rules = []
    nodes = r.sequence(node, "reminders")
    if len(nodes) > MAX_RULES:  # every rule is planned for every ДОУ
        r.error(node, f"reminders: правил {len(nodes)}, а для одного этапа имеет смысл не больше {MAX_RULES}; уберите лишние")
        return ()
    for n in nodes:
        f = r.mapping(n, "правило reminders", [], ["before", "at", "overdue", "max"])
        if f is None:
            continue
        kinds = [k for k in ("before", "at", "overdue") if k in f]
        if len(kinds) != 1:
            r.error(n, "в правиле напоминания должно быть ровно одно из: «before: 3d», «at: due|opens» или «overdue: 1d»")
            continue
        kind = kinds[0]
        if "max" in f and kind != "overdue":
            r.error(f["max"], "«max» бывает только у правила «overdue»; уберите его")
        if kind == "at":
            anchor = r.choice(f["at"], "reminders, at", ("due", "opens"))
            if anchor:
                rules.append(ReminderRule("at", anchor=anchor))
            continue
        offset = r.duration(f[kind], f"reminders, {kind}")
        if offset is not None and offset.amount == 0:
            r.error(f[kind], f"reminders, {kind}: нужна длительность больше нуля, например 1d")
        maximum = r.integer(f["max"], "reminders, max", minimum=1, maximum=MAX_OVERDUE_REPEATS) if "max" in f else None
        if offset is not None:
            rules.append(ReminderRule(kind, offset=offset, max=maximum if kind == "overdue" else None))
    return tuple(rules)
