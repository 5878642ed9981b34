#!/usr/bin/env bash
# Limits without preloading (SPEC 10: session scope) and cursors paused by a
# client (SPEC 3, issue 11 item 10), checked against the simulator's log:
# max_requests_per_second within a session, the view's counts, the request
# that max_requests_per_query never lets out, and a cursor paused for longer
# than request_timeout that goes on without an error and without asking for
# any page or chunk twice.
#
# Uses the running cluster of the environment (PGHOST, PGPORT, PGUSER), which
# must not preload the library, and the simulator at SIM_URL.  Prints TAP;
# exits non-zero when a test fails.
#
#   bash test/limits.sh
set -u
: "${SIM_URL:?SIM_URL must name the running simulator}"
DB=sf_limits_test
RUN="limits-$$-$(date +%s)"
HERE=$(dirname "$0")

source "$HERE/tap.sh"
source "$HERE/limits_lib.sh"

echo "1..13"

limits_setup_db "$DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$TMP/setup.log" 2>&1 <<SQL
SET client_min_messages = warning;
SELECT limits_server('rate', 'id=rate-$RUN', 'max_requests_per_second ''4'', fetch_size ''2''');
SELECT limits_server('flaky', 'status=503,times=2,id=flaky-$RUN', 'max_retries ''3''');
SELECT limits_server('pause', 'id=pause-$RUN', 'request_timeout ''1'', fetch_size ''100''');
SQL
ok $? "servers created" "$(cat "$TMP/setup.log")"

# -- the rate within one session ------------------------------------------------------
out=$(q "SELECT count(subscriber_id) FROM rate.t WHERE customer_id = '$(cust 26)'")
[ "$out" = 26 ]
ok $? "13 pages at 4 requests/s: all 26 rows" "$out"
read -r n most span <<<"$(simlog "rate-$RUN" | python3 -c '
import json, sys
t = sorted(x["start"] for x in json.load(sys.stdin))
# starts in any window of 0.95 s (0.05 s allowed for the jitter of loopback arrival)
most = max(sum(1 for u in t[i:] if u < s + 0.95) for i, s in enumerate(t))
print(len(t), most, "%.2f" % (t[-1] - t[0]))')"
[ "$n" = 13 ] && [ "$most" -le 4 ]
ok $? "no second saw more than 4 of the $n requests: at most $most"
python3 -c "import sys; sys.exit(not $span >= 2.5)"
ok $? "13 requests at 4/s took at least 2.5 s ($span s)"
scope=$(psql -X -A -t -q -d "$DB" -c "SELECT count(subscriber_id) FROM rate.t WHERE customer_id = '$(cust 2)'" \
	-c "SELECT scope FROM subscriber_fdw_stats WHERE server = 'rate'" | tail -1)
other=$(q "SELECT count(*) FROM subscriber_fdw_stats WHERE server = 'rate'")
[ "$scope" = session ] && [ "$other" = 0 ]
ok $? "without preloading the view's scope is 'session', and another session sees none of it ($scope, $other)"

# -- the view against the simulator's log -----------------------------------------
view=$(psql -X -A -t -q -d "$DB" \
	-c "SELECT count(subscriber_id) FROM flaky.t WHERE customer_id = '$(cust 3)'" \
	-c "SELECT requests || ' ' || retries || ' ' || throttled || ' ' || errors FROM subscriber_fdw_stats WHERE server = 'flaky'" | tail -1)
log=$(simlog "flaky-$RUN" | python3 -c '
import json, sys
e = json.load(sys.stdin)
print(len(e), len(e) - 1, sum(1 for x in e if x["status"] == 503), 0)')
[ "$view" = "$log" ] && [ "$view" = "3 2 2 0" ]
ok $? "two 503s then the answer: requests, retries, throttled, errors of the view equal the log ($view / $log)"

# -- max_requests_per_query: the request one past the budget is never sent --------------
q "SELECT limits_server('budget', 'id=budget-$RUN', 'fetch_size ''2'', max_requests_per_query ''3''')" >/dev/null
out=$(q "SELECT count(subscriber_id) FROM budget.t WHERE customer_id = '$(cust 10)'" 2>&1)
n=$(simlog "budget-$RUN" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
echo "$out" | grep -q 'max_requests_per_query (3)' && [ "$n" = 3 ]
ok $? "a query of 5 pages with max_requests_per_query 3 fails, and the API received 3 requests ($n)" "$out"

# -- a cursor paused longer than request_timeout (1 s) -------------------------------
# Reads 150 of 300 records, so that the third page is asked for while the
# client pauses for 2.5 s.
pause_cursor() {	# TABLE
	psql -X -A -t -q -d "$DB" -v ON_ERROR_STOP=1 >"$TMP/pause_$1.out" 2>&1 <<SQL
BEGIN;
DECLARE c CURSOR FOR SELECT subscriber_id FROM pause.$1 WHERE customer_id = '$(cust 300)';
FETCH 150 FROM c;
SELECT pg_sleep(2.5);
FETCH ALL FROM c;
COMMIT;
SQL
}

for tbl in t d; do
	[ "$tbl" = t ] && what="page scan" || what="point-in-time scan"
	since=$(simlog "pause-$RUN" | python3 -c 'import json,sys; print(max([x["seq"] for x in json.load(sys.stdin)], default=0))')
	pause_cursor "$tbl"
	status=$?
	rows=$(grep -c '^[0-9a-f]\{8\}-' "$TMP/pause_$tbl.out")
	distinct=$(grep '^[0-9a-f]\{8\}-' "$TMP/pause_$tbl.out" | sort -u | wc -l)
	[ "$status" = 0 ] && [ "$rows" = 300 ] && [ "$distinct" = 300 ]
	ok $? "$what: a cursor paused 2.5 s with request_timeout 1 s returns its 300 rows once each ($rows, $distinct distinct)" \
		"$(grep -v '^[0-9a-f]\{8\}-' "$TMP/pause_$tbl.out")"
	# a point in time keeps its pitId, so its requests may be alike: the
	# records served tell that no chunk was served twice
	read -r n records <<<"$(simlog "pause-$RUN" "$since" | python3 -c '
import json, sys
e = json.load(sys.stdin)
print(len(e), sum(x["records"] for x in e))')"
	[ "$n" = 3 ] && [ "$records" = 300 ]
	ok $? "$what: 3 requests served the 300 records, no chunk asked for twice ($n requests, $records records)"
done

# -- the time the backend waits still counts: a slow answer times out -------------------
q "SELECT limits_server('late', 'delay=2500,id=late-$RUN', 'request_timeout ''1'', max_retries ''0''')" >/dev/null
t0=$(now_ms)
out=$(q "SELECT count(subscriber_id) FROM late.t WHERE customer_id = '$(cust 3)'" 2>&1)
ms=$(($(now_ms) - t0))
echo "$out" | grep -q "no complete answer within request_timeout (1 s)" && [ "$ms" -lt 2000 ]
ok $? "an answer slower than request_timeout fails after 1 s of waiting (${ms} ms)" "$out"

# -- the wait shows in pg_stat_activity -----------------------------------------------------
q "SELECT limits_server('slow', 'delay=3000,id=slow-$RUN', '')" >/dev/null
start_session wait_api "SELECT count(subscriber_id) FROM slow.t WHERE customer_id = '$(cust 1)'"
ev=$(wait_for_event wait_api)
ok $? "a backend waiting for the API shows wait_event_type Extension ($ev)"
wait

[ "$FAILED" = 0 ]
