"""Delivery of what the engine planned: what is due, composing letters, the SMTP drain under one
lease, one wake-up (`wake`), the daemon that schedules wake-ups, and the replay on a virtual clock."""

from datetime import timedelta

BUDGET = timedelta(minutes=3)  # one send; cron runs the next a few minutes later (here: the CLI's --budget reads it unloaded)
