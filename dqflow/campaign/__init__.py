"""The campaign: its typed model, the campaign file's parser with FILE:LINE:COL positions, its storage
codec, and the files that make one (drafts from an order, a template made concrete, the starters).

`model` (the frozen dataclasses) · `parser` (YAML → model; its parts `roster`, `stages`, `coherence`,
over `nodes`, `dating`, `terms`) · `codec` (model ↔ stored JSON, digest) · `spec` (the face callers use:
the names of all three) · `schedule` and `order` (an order's table → a draft file) · `instantiate`,
`starter`. The model imports neither parser nor codec."""
