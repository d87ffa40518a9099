"""Presentation: the words people read (Russian labels) and the renderers of terminal text, Markdown,
CSV and calendars. It computes no status: it is handed rows."""
