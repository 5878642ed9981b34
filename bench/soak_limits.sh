#!/usr/bin/env bash
# Soak of the shared limits (issue 14): SOAK_CLIENTS pgbench clients for
# SOAK_SECONDS against one server with max_requests_per_second 20, on a
# cluster that preloads subscriber_fdw.  Checks, from the simulator's log and
# the view, that no window of a second saw more than 20 starts, that the
# view's requests equal the requests the simulator received, that in_flight
# is back to 0 at the end, that no transaction failed, and that the
# backends' memory stayed flat (VmRSS sum of the last sample within 10 % of
# the first after warm-up).  Exits non-zero when a check fails.
#
#   bash bench/soak_limits.sh        (or: make soak-limits)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIENTS=${SOAK_CLIENTS:-16}
SECONDS_RUN=${SOAK_SECONDS:-120}
RATE=20
source "$ROOT/test/cluster.sh"
sf_start_all
sf_start_preloaded_cluster
export PATH="$(pg_config --bindir):$PATH"
export PGPORT=$PRELOAD_PGPORT
WORK=$SF_TMP

psql -X -q -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS subscriber_fdw;
CREATE SERVER soak FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url '$SIM_URL/_fault/id=soak', max_requests_per_second '$RATE');
CREATE USER MAPPING FOR PUBLIC SERVER soak OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE soak_subs (customer_id uuid, subscriber_id uuid)
  SERVER soak OPTIONS (resource 'customer_subscribers');
SQL
cat >"$WORK/soak.pgbench" <<'SQL'
\set n random(1, 40)
SELECT count(subscriber_id) FROM soak_subs WHERE customer_id = ('cccccccc-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid;
SQL

rss() {		# the VmRSS sum (kB) of the pgbench backends
	psql -X -A -t -d postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'" |
		while read -r pid; do awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null; done |
		awk '{ s += $1 } END { print s + 0 }'
}

pgbench -n -c "$CLIENTS" -j 4 -T "$SECONDS_RUN" -f "$WORK/soak.pgbench" postgres >"$WORK/pgbench.out" 2>&1 &
PGB=$!
sleep 15
rss_first=$(rss)
while kill -0 "$PGB" 2>/dev/null; do
	rss_last=$(rss)
	[ "$rss_last" -gt 0 ] && echo "$rss_last" >"$WORK/rss_last"
	sleep 5
done
wait "$PGB" || true
rss_last=$(cat "$WORK/rss_last")
cat "$WORK/pgbench.out" | grep -E "transactions|failed|tps" || true

read -r n most rps <<<"$(curl -s "$SIM_URL/_sim/log?settle=1&path_contains=id=soak" | python3 -c '
import json, sys
t = sorted(x["start"] for x in json.load(sys.stdin))
most, j = 0, 0
for i, s in enumerate(t):
    while j < len(t) and t[j] < s + 0.95:
        j += 1
    most = max(most, j - i)
print(len(t), most, "%.1f" % (len(t) / (t[-1] - t[0])))')"
read -r view inflight errors <<<"$(psql -X -A -t -F ' ' -d postgres -c "SELECT requests, in_flight, errors + throttled FROM subscriber_fdw_stats WHERE server = 'soak'")"
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")

status=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; status=1; fi; }
echo
echo "soak: $CLIENTS clients, $SECONDS_RUN s, max_requests_per_second $RATE"
check "the simulator received $n requests, $rps/s on average" "[ $n -gt 0 ]"
check "no window of 0.95 s saw more than $RATE starts (at most $most)" "[ $most -le $RATE ]"
check "the view counts the requests the simulator received ($view / $n)" "[ '$view' = '$n' ]"
check "in_flight is back to 0 ($inflight)" "[ '$inflight' = 0 ]"
check "no error or throttled answer ($errors), no failed transaction (${failed:-?})" "[ '$errors' = 0 ] && [ '${failed:-1}' = 0 ]"
check "backend memory flat: VmRSS of the $CLIENTS backends $rss_first kB after 15 s, $rss_last kB at the end" \
	"[ $rss_last -le $((rss_first * 110 / 100)) ]"
exit $status
