#!/usr/bin/env bash
# Runs the seed's bulk-mining sequence over the same events with the Python `eql` package and
# with Quarry, and reports both times and the ratio.
#
#   scripts/compare-python-eql.sh [EVENTS] [USERS]      (defaults: 20000 events, 200 users)
#
# Python eql runs near 1,400 events/s, so keep EVENTS modest. It installs `eql` into a
# throwaway virtual environment under a temporary directory, which is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-20000}"
USERS="${2:-200}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

QUERY='sequence by user.name, source.ip with maxspan=1h [any where event.dataset == "atlassian.confluence" and event.action in ("page_viewed", "content_viewed", "space_viewed", "attachment_downloaded", "content_exported", "space_exported", "search_performed", "page_printed")] with runs=40'

echo "== building quarry"
cargo build --release --quiet
QUARRY="$PWD/target/release/quarry"

echo "== installing the Python eql package into $WORK/venv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet eql

echo "== generating $EVENTS events of $USERS users"
"$QUARRY" bench gen --events "$EVENTS" --users "$USERS" --format ecs -o "$WORK/events.ndjson"
# Python eql reads .jsonl with a numeric `timestamp` and an `event_type`; add both.
"$WORK/venv/bin/python" - "$WORK/events.ndjson" "$WORK/events.jsonl" <<'PY'
import json, sys
from datetime import datetime
src, dst = sys.argv[1], sys.argv[2]
with open(src) as f, open(dst, "w") as out:
    for line in f:
        d = json.loads(line)
        ts = datetime.fromisoformat(d["@timestamp"].replace("Z", "+00:00"))
        d["timestamp"] = int(ts.timestamp() * 1000)
        d["event_type"] = "web"
        out.write(json.dumps(d) + "\n")
PY

echo "== Python eql"
"$WORK/venv/bin/python" - "$WORK/events.jsonl" "$QUERY" > "$WORK/python.txt" <<'PY'
import json, sys, time
import eql
from eql.parser import allow_runs, elasticsearch_syntax, ignore_missing_functions
path, query = sys.argv[1], sys.argv[2]
with elasticsearch_syntax, allow_runs, ignore_missing_functions:
    parsed = eql.parse_query(query)
engine = eql.PythonEngine()
engine.add_query(parsed)
results = []
engine.add_output_hook(results.append)
events = [eql.Event.from_data(json.loads(l)) for l in open(path)]
start = time.perf_counter()
engine.stream_events(events)
engine.finalize()
elapsed = time.perf_counter() - start
print(f"{len(events)} {elapsed:.3f} {len(results)}")
PY
read -r PY_EVENTS PY_SECS PY_MATCHES < "$WORK/python.txt"

echo "== Quarry"
START=$(date +%s.%N)
Q_MATCHES=$("$QUARRY" query --format count "$QUERY" "$WORK/events.jsonl" 2>/dev/null)
END=$(date +%s.%N)
Q_SECS=$(python3 -c "print(f'{$END - $START:.3f}')")

python3 - "$PY_EVENTS" "$PY_SECS" "$PY_MATCHES" "$Q_SECS" "$Q_MATCHES" <<'PY'
import sys
n, py_s, py_m, q_s, q_m = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(f"Python eql: {py_s:8.3f} s  {n / py_s:12.0f} events/s  {py_m} sequences")
print(f"Quarry    : {q_s:8.3f} s  {n / q_s:12.0f} events/s  {q_m} sequences (whole process, parsing included)")
print(f"ratio     : {py_s / q_s:.0f}x")
if py_m != q_m:
    print("warning: the two found different numbers of sequences", file=sys.stderr)
PY
