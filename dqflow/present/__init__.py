"""Presentation: the words people read and the renderers. It computes no status: it is handed rows.

`labels` (every Russian label once), `guard` (people's text stays text in every export), `csvfile` (the
one CSV writer), `tables` (terminal and Markdown tables), and a renderer per thing shown: `report`
(status, a ДОУ's card, tick), `history`, `sending` (outbox, why), `expert_lists`, `simulation`, `ics`."""
