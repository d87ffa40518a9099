"""The campaign: its typed model, the campaign file's parser with FILE:LINE:COL positions, its storage
codec, and the files that make one (drafts from an order, a template made concrete, the starters)."""
