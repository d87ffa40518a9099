#!/usr/bin/env bash
# How tests/data/release-1a76da4.{sqlite,postgresql}.sql were made: the code of the previous release
# (commit 1a76da4, the schema of migration 0001) runs a short stretch of the Tomsk campaign on SQLite
# and on PostgreSQL — load, ticks, submissions, an extension, a review, two sends to an SMTP sink on
# loopback — and each database is dumped as SQL. Run from the checkout with its .venv:
#   bash tests/data/make_release_dumps.sh [postgresql+psycopg://postgres@127.0.0.1:5432]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="$root/.venv/bin/python"
pg_server="${1:-${DQFLOW_TEST_PG:-postgresql+psycopg://postgres@127.0.0.1:5432}}"
work="$(mktemp -d)"
trap 'kill "$smtp_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

git -C "$root" archive 1a76da4 | tar -x -C "$work" --one-top-level=old
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Sink &
smtp_pid=$!
sleep 1

old() { (cd "$work/old" && PYTHONPATH="$work/old" DQFLOW_SMTP_HOST=127.0.0.1 DQFLOW_SMTP_PORT="$port" \
         DQFLOW_SMTP_SECURITY=none "$python" -m dqflow --db "$db" "$@" >/dev/null); }

campaign() {
    old load workflows/tomsk-2021.yaml --now "2021-11-10 09:00"
    old tick --now "2021-11-19 10:00"
    old submit 2 --stage fill-form --link https://dou2.example.org/form --now "2021-11-22 10:00"
    old send --now "2021-11-22 10:00"
    old extend 4 --stage fill-form --until 2021-12-03 --reason "ответственный на больничном" --now "2021-11-29 12:00"
    old submit 5 --stage fill-form --link https://dou5.example.org/form --now "2021-11-30 23:30"
    old excuse 6 --stage fill-form --reason "закрыт на ремонт" --now "2021-11-30 12:00"
    old tick --now "2021-12-02 10:00"
    expert=$(cd "$work/old" && PYTHONPATH="$work/old" "$python" -m dqflow --db "$db" experts show list1 --json |
             "$python" -c 'import json, sys; print(next(a["experts"][0] for a in json.load(sys.stdin)["assignments"] if a["institution"] == "5"))')
    echo "Дополнить ссылки на протоколы родительских собраний." |
        old review 5 --stage review1 --expert "$expert" --level conditions=2 --level parents=3 --recommendations - --now "2021-12-03 11:00"
    old send --now "2021-12-03 11:00"
}

db="$work/old.db"
campaign
sqlite3 "$db" .dump > "$root/tests/data/release-1a76da4.sqlite.sql"

name="dqflow_release_dump_$$"
admin="${pg_server/postgresql+psycopg:/postgresql:}"
psql -q "$admin/test" -c "CREATE DATABASE $name"
db="$pg_server/$name"
campaign
# --inserts: plain statements a driver can run; the psql-only \restrict lines of newer pg_dumps go
pg_dump --no-owner --no-privileges --inserts "$admin/$name" | sed '/^\\\(un\)\?restrict /d' > "$root/tests/data/release-1a76da4.postgresql.sql"
psql -q "$admin/test" -c "DROP DATABASE $name"
echo "written: tests/data/release-1a76da4.sqlite.sql tests/data/release-1a76da4.postgresql.sql"
