"""The campaign engine: load a campaign, reconcile it with the clock, record what people do, show it.

Every function takes the session it works in and `now`; the caller owns the transaction,
so a change and its audit rows commit together or not at all. Audit rows say when a change took
effect (`at`, from `now`) and when it was written (`recorded_at`: the real clock the edge gave
the transaction, see `store.transaction`); nothing here reads the clock.

The package's face: callers say `engine.reconcile(…)`, `engine.status(…)`. Behind it, one noun a module:

    rules        every predicate once (stage state, a ДОУ's status, is-locked, the outbox key…), Python and SQL
    definitions  the loaded campaign's definition, parsed once per process and content
    loading      storing a validated campaign
    reconciler   bringing stages and ДОУ to where the clock says
    acts         submit, review, extend, excuse, play, send_recommendations
    views        status, institution_detail, history
    experts, allocation, reminders, skips, workspace, amend: as their own docstrings say
"""

from dqflow.engine.acts import Act, Progress, excuse, extend, play, review, review_many, send_recommendations, submit
from dqflow.engine.definitions import _PARSED, definition, forget
from dqflow.engine.loading import load
from dqflow.engine.reconciler import Change, catch_up_finals, reconcile, step_finals
from dqflow.engine.views import (
    INSTITUTIONS_PAGE,
    CampaignView,
    InstitutionView,
    StageDetail,
    StageView,
    history,
    institution_detail,
    status,
    withdrawn,
)

__all__ = [
    "INSTITUTIONS_PAGE", "_PARSED", "Act", "CampaignView", "Change", "InstitutionView", "Progress", "StageDetail", "StageView",
    "catch_up_finals", "definition", "excuse", "extend", "forget", "history", "institution_detail", "load", "play", "reconcile", "review",
    "review_many", "send_recommendations", "status", "step_finals", "submit", "withdrawn",
]
