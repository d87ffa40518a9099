"""An amendment's people: ДОУ and experts who join, leave or are corrected, and the drawn expert lists they
change.

A ДОУ removed from the file is withdrawn: its rows stay, what is still to come in it is excused (the machine's
`excuse`), its unsent mail is cancelled. A ДОУ added after a list was drawn gets its experts from the least
loaded eligible ones; nobody else's experts change. An expert removed from the file leaves the lists whose
review has not locked (unless they already reviewed) and their ДОУ get a replacement. Raising a drawn list's
`experts_per_institution` gives each ДОУ still to be reviewed the missing experts the same way; lowering it is
refused. A changed address re-addresses the unsent mail.
"""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import bindparam, delete, func, insert, update
from sqlmodel import col, select

from dqflow.calendar import show
from dqflow.campaign.model import Institution, Stage
from dqflow.engine import changes, experts, reminders
from dqflow.engine.allocation import Request
from dqflow.engine.amend_plan import FieldChange, PersonEdit
from dqflow.engine.amending import Amending, table
from dqflow.engine.rules import PROGRESS, Status, sources
from dqflow.engine.skips import Skip
from dqflow.store import AssignmentRow, AuditRow, ExpertRow, InstitutionRow, OutboxRow, ProgressRow, ReviewRow, StageRow, audit_many


class RosterChanges(Amending):
    def roster(self) -> None:
        old = {i.id: i for i in self.old.institutions}
        new = {i.id: i for i in self.new.institutions}
        stored = dict(self.session.execute(select(InstitutionRow.id, InstitutionRow.withdrawn_at).where(
            InstitutionRow.campaign_id == self.new.id)).all())
        added = [i for i in self.new.institutions if i.id not in old]
        for i in added:
            if i.id in stored:
                terms = self.new.terms
                self.result.refused.append(f"{terms.nom} с id «{i.id}» уже выбыл{terms.past} из этой кампании: чтобы добавить «{i.name}», "
                                           "дайте в файле другой id")
        added = [i for i in added if i.id not in stored]
        withdrawn = [old[i] for i in old if i not in new]
        changed = [(old[i.id], i) for i in self.new.institutions if i.id in old and old[i.id] != i]
        self._experts(new)
        for i in withdrawn:
            self._withdraw(i)
        if added:
            self._add(added)
        readdress: list[tuple[str, str | None, str, str]] = []
        for a, b in changed:
            diff = tuple(FieldChange(k, getattr(a, k), getattr(b, k)) for k in ("name", "email", "contact", "inn")
                         if getattr(a, k) != getattr(b, k))
            if diff:
                self.result.institutions_changed.append(PersonEdit(b.id, diff))
            if a.email.lower() != b.email.lower():
                readdress.append(("institution", b.id, a.email, b.email))
                self._readdressed("institution", b.id, a.email, b.email)
        t = table(InstitutionRow).c
        if changed:
            self.session.execute(update(table(InstitutionRow)).where(t.campaign_id == self.new.id, t.id == bindparam("iid"))
                                 .values(name=bindparam("n"), email=bindparam("e"), inn=bindparam("inn")),
                                 [{"iid": b.id, "n": b.name, "e": b.email, "inn": b.inn} for _, b in changed])
        self._readdress(readdress)
        self.session.execute(update(table(InstitutionRow)).where(t.campaign_id == self.new.id, t.id == bindparam("iid"))
                             .values(position=bindparam("pos")),
                             [{"iid": i.id, "pos": n} for n, i in enumerate(self.new.institutions)])
        audit_many(self.session, self.audit)

    def _experts(self, new: dict[str, Institution]) -> None:
        # the ДОУ's own experts and those of no ДОУ alike (a top-level expert's ДОУ may be None)
        before = {e.id: (inst, e) for e, inst in self.old.every_expert()}
        after = {e.id: (inst, e) for e, inst in self.new.every_expert()}
        added = [(inst, e) for eid, (inst, e) in after.items() if eid not in before]
        kept = set(self.session.exec(select(ExpertRow.id).where(ExpertRow.campaign_id == self.new.id)).all())
        for _, e in added:
            if e.id in kept:
                self.result.refused.append(f"эксперт с id «{e.id}» уже выбыл из этой кампании: чтобы добавить «{e.name}», "
                                           "дайте в файле другой id")
        added = [(inst, e) for inst, e in added if e.id not in kept]
        gone = [(inst, e) for eid, (inst, e) in before.items() if eid not in after]
        self.result.experts_added = sorted(e.id for _, e in added)
        self.result.experts_withdrawn = sorted(e.id for _, e in gone)
        if added:
            self.session.execute(insert(table(ExpertRow)), [
                {"campaign_id": self.new.id, "id": e.id, "institution_id": inst, "name": e.name, "email": e.email} for inst, e in added])
        t = table(ExpertRow).c
        if gone:
            self.session.execute(update(table(ExpertRow)).where(t.campaign_id == self.new.id, t.id.in_([e.id for _, e in gone]))
                                 .values(withdrawn_at=self.now))
            self.withdrawn_emails += [("expert", e.email) for _, e in gone]
            self._cancel(Skip.WITHDRAWN, col(OutboxRow.role) == "expert",
                         func.lower(OutboxRow.recipient).in_([e.email.lower() for _, e in gone]))
            self._release([e.id for _, e in gone], set(new))
            for _, e in gone:  # each hears that nothing more is asked of them (their reviews stay)
                self._audit("withdraw", {"expert": e.id, "name": e.name, "email": e.email})
                self.tells.append(changes.Tell(e.email, "expert", None, None, changes.RELEASED, self.ordinal))
        changed = [(before[eid][1], inst, e) for eid, (inst, e) in after.items() if eid in before and (before[eid][1], before[eid][0]) != (e, inst)]
        readdress: list[tuple[str, str | None, str, str]] = []
        for a, inst, b in changed:
            diff = [FieldChange(k, getattr(a, k), getattr(b, k)) for k in ("name", "email") if getattr(a, k) != getattr(b, k)]
            if before[b.id][0] != inst:
                diff.append(FieldChange("institution", before[b.id][0], inst))
            self.result.experts_changed.append(PersonEdit(b.id, tuple(diff)))
            if a.email.lower() != b.email.lower():
                readdress.append(("expert", None, a.email, b.email))
                self._readdressed("expert", b.id, a.email, b.email)
        if changed:
            self.session.execute(update(table(ExpertRow)).where(t.campaign_id == self.new.id, t.id == bindparam("eid"))
                                 .values(name=bindparam("n"), email=bindparam("e"), institution_id=bindparam("i")),
                                 [{"eid": b.id, "n": b.name, "e": b.email, "i": inst} for _, inst, b in changed])
        self._readdress(readdress)

    def _withdraw(self, institution: Institution) -> None:
        """Records stay; what is still to come is excused (a stage it missed stays missed: that is its history), and
        nothing more is sent about it."""
        self.result.institutions_withdrawn.append(institution.id)
        self.withdrawn_institutions.append(institution.id)
        self.session.execute(update(InstitutionRow).where(col(InstitutionRow.campaign_id) == self.new.id, col(InstitutionRow.id) == institution.id)
                             .values(withdrawn_at=self.now).execution_options(synchronize_session=False))
        excused, from_states = sources(PROGRESS, "excuse")
        to_come = [s for s in from_states if s != Status.MISSED.value]
        self.session.execute(update(ProgressRow).where(
            col(ProgressRow.campaign_id) == self.new.id, col(ProgressRow.institution_id) == institution.id,
            col(ProgressRow.status).in_(to_come))
            .values(status=excused).execution_options(synchronize_session=False))
        self._cancel(Skip.WITHDRAWN, col(OutboxRow.institution_id) == institution.id)
        self.withdrawn_emails.append(("institution", institution.email))
        self._audit("withdraw", {"name": institution.name}, institution.id)
        self.tells.append(changes.Tell(institution.email, "institution", institution.id, None, changes.WITHDRAWN, self.ordinal))
        for stage in self._open_lists():  # its experts who were told of it: their review of it is no longer needed
            review = reminders.review_stage(self.new, stage.id)
            if review is not None:
                told = self._told_of(stage, review, institution.id)
                self.tells += [changes.Tell(email, "expert", institution.id, review.id, changes.WITHDRAWN, self.ordinal)
                               for email in changes.experts_of(self.session, self.new, review, [institution.id]).get(institution.id, [])
                               if email.lower() in told]

    def _told_of(self, assignment: Stage, review: Stage, institution: str) -> set[str]:
        """The addresses of the experts whose mail already named this ДОУ for `review` (their handout or a reminder of it went)
        and who have not reviewed it: they would otherwise wait for it. One who has not heard of it yet is spared the news."""
        handout = next((s.id for s in self.new.stages if s.kind == "handout" and s.list == assignment.id), None)
        about = ((col(OutboxRow.stage_id) == handout) & col(OutboxRow.rule).in_(["handout", reminders.ADDED])) if handout else (
            (col(OutboxRow.stage_id) == review.id) & (col(OutboxRow.institution_id) == institution))
        sent = set(self.session.exec(select(func.lower(OutboxRow.recipient)).where(
            OutboxRow.campaign_id == self.new.id, OutboxRow.role == "expert", OutboxRow.state == "sent", about)).all())
        reviewed = set(self.session.exec(select(func.lower(ExpertRow.email)).join(
            ReviewRow, (col(ReviewRow.campaign_id) == col(ExpertRow.campaign_id)) & (col(ReviewRow.expert_id) == col(ExpertRow.id)))
            .where(ReviewRow.campaign_id == self.new.id, ReviewRow.stage_id == review.id, ReviewRow.institution_id == institution)).all())
        return sent - reviewed

    def _readdressed(self, role: str, person: str, old: str, new: str) -> None:
        """A corrected address: audited (a ДОУ's history shows it), and the new address told that it is the one used now."""
        self._audit("readdress", {"role": role, "id": person, "old": old, "new": new}, person if role == "institution" else None)
        self.tells.append(changes.Tell(new, role, person if role == "institution" else None, None, changes.READDRESSED, self.ordinal))

    def resize_lists(self) -> None:
        """`experts_per_institution` changed for a list already drawn. A coordinator who raises it means "each ДОУ
        gets one more pair of eyes": each ДОУ whose review is still to come or under way gets the missing experts
        from the least loaded eligible ones (as a ДОУ added after the list does), and nobody's experts change.
        Lowering it would take experts away from ДОУ they were given (perhaps already reading their forms): that
        is refused (with the way to do it one ДОУ at a time while the list is open). A list not drawn yet is simply
        drawn with the new number; a list whose review has locked is history and stays as it is."""
        old = {s.id: s for s in self.old.stages}
        for stage in self._open_lists():
            before = old.get(stage.id)
            was, now = (before.experts_per_institution or 2) if before else None, stage.experts_per_institution or 2
            if was is None or was == now:
                continue
            if now < was:
                t = self.new.terms
                by_hand = (f"; убрать эксперта у одного {t.gen} можно командой dqflow experts set {stage.id} {t.nom} ЭКСПЕРТ… "
                           f"до закрытия списка ({show(stage.locks_at, self.tz)})" if not self.locked(stage.locks_at) else "")
                self.result.refused.append(
                    f"список «{stage.label}» составлен по {was} эксперта на {t.nom}, а экспертиза ещё впереди: "
                    f"experts_per_institution: {now} отнял бы у {t.gen_pl} уже назначенных экспертов; оставьте {was}{by_hand}")
                continue
            self._give_experts(stage, self._still_to_review(stage), spread=True)

    def _still_to_review(self, stage: Stage) -> list[str]:
        """The ДОУ of the campaign whose review of `stage` has not settled (all of them before it opens)."""
        present = [i.id for i in self.new.institutions]
        review = reminders.review_stage(self.new, stage.id)
        if review is None:
            return present
        settled = set(self.session.exec(select(ProgressRow.institution_id).where(
            ProgressRow.campaign_id == self.new.id, ProgressRow.stage_id == review.id,
            col(ProgressRow.status).not_in([Status.UPCOMING.value, Status.OPEN.value]))).all())
        return [i for i in present if i not in settled]

    def announce_to_newcomers(self) -> None:
        """An event is announced once, when first planned; a ДОУ or expert who joins before it must still hear of it
        (level-triggered: what is still true is still said). The events still to come whose audience a newcomer
        belongs to are planned again: the rows already there keep their keys, so only the newcomers get new ones,
        at the next send time when the rule's moment has passed (an event's notice stays true until it starts)."""
        roles = {"institutions"} if self.result.institutions_added else set()
        roles |= {"experts"} if self.result.experts_added else set()
        upcoming = [s.id for s in self.new.stages if s.kind == "event" and s.opens_at > self.now and roles & set(s.audience)]
        if upcoming:
            self.session.execute(update(StageRow).where(col(StageRow.campaign_id) == self.new.id, col(StageRow.id).in_(upcoming))
                                 .values(reminders_planned=False).execution_options(synchronize_session=False))

    def cancel_withdrawn(self) -> None:
        if self.withdrawn_institutions:
            self._cancel(Skip.WITHDRAWN, col(OutboxRow.institution_id).in_(self.withdrawn_institutions))
        for role, email in self.withdrawn_emails:
            if role == "expert":
                self._cancel(Skip.WITHDRAWN, col(OutboxRow.role) == "expert", func.lower(OutboxRow.recipient) == email.lower())

    def _add(self, added: list[Institution]) -> None:
        """A new ДОУ takes part from now: stages already locked do not concern it (excused)."""
        self.result.institutions_added = [i.id for i in added]
        self.session.execute(insert(table(InstitutionRow)), [
            {"campaign_id": self.new.id, "id": i.id, "position": 0, "name": i.name, "email": i.email, "inn": i.inn}
            for i in added])
        progress = []
        for s in self.new.stages:
            if s.per_institution:
                past = self.locked(s.locks_at)
                progress += [{"campaign_id": self.new.id, "institution_id": i.id, "stage_id": s.id,
                              "status": (Status.EXCUSED if past else Status.UPCOMING).value, "opens_at": s.opens_at,
                              "due_at": s.due_at, "locks_at": s.locks_at, "extended": False} for i in added]
        if progress:
            self.session.execute(insert(table(ProgressRow)), progress)
        for i in added:
            self._audit("join", {"name": i.name, "excused": [s.id for s in self.new.stages if s.per_institution and self.locked(s.locks_at)]},
                        i.id)
        for stage in self._open_lists():
            self._give_experts(stage, [i.id for i in added])

    def _open_lists(self) -> list[Stage]:
        """Drawn lists whose review is still to come or under way."""
        found = []
        for stage in self.new.stages:
            if stage.kind != "assignment":
                continue
            review = reminders.review_stage(self.new, stage.id)
            if review is not None and self.locked(review.locks_at):
                continue
            if experts.stored(self.session, self.new.id, stage.id):
                found.append(stage)
        return found

    def _give_experts(self, stage: Stage, institutions: list[str], *, spread: bool = False) -> None:
        request = experts.request_for(self.session, self.new, stage)
        lists = experts.stored(self.session, self.new.id, stage.id)
        rows = []
        for inst in institutions:
            have = lists.get(inst, [])
            chosen = pick(request, lists, inst, request.per - len(have), spread=spread)
            if chosen:
                lists.setdefault(inst, []).extend(chosen)
                rows += [{"campaign_id": self.new.id, "stage_id": stage.id, "institution_id": inst, "expert_id": e} for e in chosen]
                self.result.list_change(stage.id, inst).added.extend(chosen)
        if rows:
            self.session.execute(insert(table(AssignmentRow)), rows)
            review = reminders.review_stage(self.new, stage.id)
            if review is not None:  # their new experts are reminded by reconcile's next plan (the others keep their rows)
                self.session.execute(update(ProgressRow).where(
                    col(ProgressRow.campaign_id) == self.new.id, col(ProgressRow.stage_id) == review.id,
                    col(ProgressRow.institution_id).in_(sorted({r["institution_id"] for r in rows})))
                    .values(planned_due=None).execution_options(synchronize_session=False))
            self.session.add(AuditRow(campaign_id=self.new.id, stage_id=stage.id, action="experts-amend", at=self.now,
                                      recorded_at=self.written, actor=self.actor, detail=json.dumps(
                                          {r["institution_id"]: lists[r["institution_id"]] for r in rows}, ensure_ascii=False)))

    def _release(self, gone: list[str], institutions: set[str]) -> None:
        """Withdrawn experts leave the lists whose review is to come (not where they already reviewed); their ДОУ get
        a replacement."""
        for stage in self._open_lists():
            review = reminders.review_stage(self.new, stage.id)
            reviewed = set(self.session.execute(select(ReviewRow.institution_id, ReviewRow.expert_id).where(
                ReviewRow.campaign_id == self.new.id, ReviewRow.stage_id == review.id)).all()) if review else set()
            lists = experts.stored(self.session, self.new.id, stage.id)
            leaving = [(inst, e) for inst, es in lists.items() for e in es if e in gone and (inst, e) not in reviewed]
            if not leaving:
                continue
            self.session.execute(delete(AssignmentRow).where(
                col(AssignmentRow.campaign_id) == self.new.id, col(AssignmentRow.stage_id) == stage.id,
                col(AssignmentRow.expert_id).in_(gone),
                col(AssignmentRow.institution_id).in_({inst for inst, _ in leaving})))
            for inst, e in leaving:
                self.result.list_change(stage.id, inst).removed.append(e)
            self._give_experts(stage, sorted({inst for inst, _ in leaving if inst in institutions}))


def pick(request: Request, lists: dict[str, list[str]], institution: str, count: int, *, spread: bool = False) -> list[str]:
    """`count` experts for one ДОУ added to a drawn list, disturbing nobody: eligible (not its own, not a declared
    conflict, not already its expert), preferring no reciprocal pair, no expert from the previous list, then the
    least loaded; ties by id, so the choice is reproducible. `spread`: the least loaded first (a place for every
    ДОУ at once: preferring a pair over load there would pile the last places on a few experts)."""
    if count <= 0:
        return []
    load = Counter(e for es in lists.values() for e in es)
    reviews = {(inst, request.home.get(e)) for inst, es in lists.items() for e in es}
    have = set(lists.get(institution, []))
    candidates = [e for e in request.home if e not in have and request.eligible(institution, e)]

    def soft(e: str) -> tuple[bool, bool]:
        return (request.home[e], institution) in reviews, e in request.previous.get(institution, ())

    candidates.sort(key=lambda e: (load[e], *soft(e), e) if spread else (*soft(e), load[e], e))
    return candidates[:count]
