#!/usr/bin/env bash
# Shared limits (SPEC 10) on a cluster with subscriber_fdw in
# shared_preload_libraries: max_requests_per_second across three sessions,
# max_server_concurrency across two, a 429 with Retry-After to one session
# holding another, the view's counts against the simulator's log, the wait
# event of a waiting backend, a session terminated, cancelled or timed out
# while it holds the only slot, cancel and statement_timeout while waiting
# for a token, and the fallback to session scope past the last shared slot.
#
# Uses the preloaded cluster of the environment (PGHOST, PGPORT, PGUSER) and
# the simulator at SIM_URL.  Prints TAP; exits non-zero when a test fails.
#
#   bash test/shared_limits.sh
set -u
: "${SIM_URL:?SIM_URL must name the running simulator}"
DB=sf_shared_test
RUN="shared-$$-$(date +%s)"
HERE=$(dirname "$0")

source "$HERE/tap.sh"
source "$HERE/limits_lib.sh"

echo "1..34"

limits_setup_db "$DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$TMP/setup.log" 2>&1 <<SQL
SET client_min_messages = warning;
SELECT limits_server('rate', 'id=rate-$RUN', 'max_requests_per_second ''8'', fetch_size ''2''');
SELECT limits_server('conc', 'delay=400,id=conc-$RUN', 'max_server_concurrency ''2'', max_concurrency ''4''');
SELECT limits_server('hold', 'status=429,retry_after=3,times=1,id=hold-$RUN', 'max_retries ''2''');
SELECT limits_server('retry', 'status=503,times=2,id=retry-$RUN', 'max_retries ''3''');
SELECT limits_server('slow', 'delay=3000,id=slow-$RUN', 'max_retries ''0''');
SELECT limits_server('term', 'slow=20000,times=1,id=term-$RUN', 'max_server_concurrency ''1'', max_retries ''0''');
SELECT limits_server('tok', 'id=tok-$RUN', 'max_requests_per_second ''0.1''');
SQL
ok $? "servers created" "$(cat "$TMP/setup.log")"

scope=$(q "SELECT count(subscriber_id) FROM rate.t WHERE customer_id = '$(cust 2)'; SELECT scope FROM subscriber_fdw_stats WHERE server = 'rate'" | tail -1)
[ "$scope" = instance ]
ok $? "preloaded: the view's scope is 'instance'" "$scope"

# -- the rate, across three sessions ------------------------------------------------
# 3 sessions x 15 pages of 2 records at 8 requests/s
for s in 1 2 3; do
	psql -X -A -t -d "$DB" -c "SELECT count(subscriber_id) FROM rate.t WHERE customer_id = '$(cust 30)'" \
		>"$TMP/rate$s.out" 2>&1 &
done
wait
[ "$(cat "$TMP"/rate{1,2,3}.out | sort -u)" = 30 ]
ok $? "three sessions each read their 30 rows" "$(cat "$TMP"/rate{1,2,3}.out)"
read -r n most span <<<"$(simlog "rate-$RUN" | python3 -c '
import json, sys
e = [x for x in json.load(sys.stdin) if x["path"].endswith("&size=2")]
t = sorted(x["start"] for x in e)
# starts in any window of 0.95 s (0.05 s allowed for the jitter of loopback arrival)
most = max(sum(1 for u in t[i:] if u < s + 0.95) for i, s in enumerate(t))
print(len(t), most, "%.2f" % (t[-1] - t[0]))')"
[ "$n" = 46 ]
ok $? "the API received 45 page requests and the first one ($n)"
[ "$most" -le 8 ]
ok $? "no second saw more than max_requests_per_second (8) starts: at most $most"
python3 -c "import sys; sys.exit(not $span >= 4.5)"
ok $? "46 requests at 8/s took at least 4.5 s ($span s)"

# -- max_server_concurrency, across two sessions ------------------------------------
for s in 1 2; do
	psql -X -A -t -d "$DB" -c "SELECT count(subscriber_id) FROM conc.t
		WHERE customer_id IN ('$(cust 1)', '$(cust 2)', '$(cust 3)', '$(cust 4)')" >"$TMP/conc$s.out" 2>&1 &
done
wait
[ "$(cat "$TMP"/conc{1,2}.out | sort -u)" = 10 ]
ok $? "two sessions each read 4 keys" "$(cat "$TMP"/conc{1,2}.out)"
read -r n overlap <<<"$(simlog "conc-$RUN" | python3 -c '
import json, sys
e = json.load(sys.stdin)
ev = sorted([(x["start"], 1) for x in e] + [(x["end"], -1) for x in e], key=lambda p: (p[0], p[1]))
cur = most = 0
for _, d in ev:
    cur += d
    most = max(most, cur)
print(len(e), most)')"
[ "$n" = 8 ] && [ "$overlap" = 2 ]
ok $? "8 requests, never more than max_server_concurrency (2) at once at the API: $n requests, $overlap at most"

# -- a Retry-After to one session holds the other ------------------------------------
psql -X -A -t -d "$DB" -c "SELECT count(subscriber_id) FROM hold.t WHERE customer_id = '$(cust 3)'" \
	>"$TMP/hold1.out" 2>&1 &
H1=$!
t429=""
for _ in $(seq 1 50); do
	t429=$(simlog "hold-$RUN" | python3 -c '
import json, sys
e = [x for x in json.load(sys.stdin) if x["status"] == 429]
print(e[0]["end"] if e else "")')
	[ -n "$t429" ] && break
	sleep 0.1
done
launched=$(date +%s.%N)
out2=$(psql -X -A -t -d "$DB" -c "SELECT count(subscriber_id) FROM hold.t WHERE customer_id = '$(cust 4)'" 2>&1)
wait $H1
[ "$(cat "$TMP/hold1.out")" = 3 ] && [ "$out2" = 4 ]
ok $? "both sessions read their rows after the 429" "$(cat "$TMP/hold1.out") / $out2"
held=$(simlog "hold-$RUN" | python3 -c "
import json, sys
e = [x for x in json.load(sys.stdin) if x['status'] == 200]
print(min(x['start'] for x in e) - $t429 if e else -1)")
python3 -c "import sys; sys.exit(not ($launched - $t429 < 1.5 and $held >= 2.9))"
ok $? "the other session, started $(python3 -c "print('%.2f' % ($launched - $t429))") s after the 429, sent nothing until Retry-After (3 s) had passed (first 200 after $(python3 -c "print('%.2f' % $held)") s)"

# -- the view against the simulator's log -----------------------------------------
q "SELECT count(subscriber_id) FROM retry.t WHERE customer_id = '$(cust 5)'" >"$TMP/retry.out" 2>&1
[ "$(cat "$TMP/retry.out")" = 5 ]
ok $? "a query retried past two 503s reads its rows" "$(cat "$TMP/retry.out")"
for srv in rate conc hold retry; do
	view=$(q "SELECT requests || ' ' || throttled || ' ' || errors FROM subscriber_fdw_stats WHERE server = '$srv'")
	log=$(simlog "$srv-$RUN" | python3 -c '
import json, sys
e = json.load(sys.stdin)
print(len(e), sum(1 for x in e if x["status"] in (429, 503)), sum(1 for x in e if x["status"] >= 400 and x["status"] not in (429, 503)))')
	[ -n "$view" ] && [ "$view" = "$log" ]
	ok $? "server $srv: requests, throttled and errors of the view equal the simulator's log ($view / $log)"
done
retries=$(q "SELECT retries FROM subscriber_fdw_stats WHERE server = 'retry'")
[ "$retries" = 2 ]
ok $? "two 503s: the view counts 2 retries ($retries)"
waited=$(q "SELECT wait_ms > 2000 AND (SELECT wait_ms FROM subscriber_fdw_stats WHERE server = 'rate') > 1000
            FROM subscriber_fdw_stats WHERE server = 'hold'")
[ "$waited" = t ]
ok $? "wait_ms holds the waits for the hold and the rate" "$(q "SELECT server, wait_ms FROM subscriber_fdw_stats")"

# -- pg_stat_activity ------------------------------------------------------------
psql -X -A -t -d "$DB" -c "SET application_name = 'sf_wait_api'" \
	-c "SELECT count(subscriber_id) FROM slow.t WHERE customer_id = '$(cust 1)'" >/dev/null 2>&1 &
W=$!
ev=$(wait_for_event sf_wait_api)
ok $? "a backend waiting for the API shows wait_event_type Extension" "$ev"
wait $W

# -- pg_terminate_backend while holding the only slot -------------------------------
start_session term_a "SELECT count(subscriber_id) FROM term.t WHERE customer_id = '$(cust 1)'"
A=$SESSION_PID
inflight=""
for _ in $(seq 1 50); do
	inflight=$(q "SELECT in_flight FROM subscriber_fdw_stats WHERE server = 'term'")
	[ "$inflight" = 1 ] && break
	sleep 0.1
done
[ "$inflight" = 1 ]
ok $? "session A holds the only slot of max_server_concurrency 1 (in_flight $inflight)"
start_session term_b "SELECT count(subscriber_id) FROM term.t WHERE customer_id = '$(cust 2)'"
B=$SESSION_PID
ev=$(wait_for_event term_b)
ok $? "session B waits for the slot, wait_event_type Extension" "$ev"
APID=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'term_a'")
t0=$(now_ms)
q "SELECT pg_terminate_backend($APID)" >/dev/null
wait $B
ms=$(($(now_ms) - t0))
wait $A 2>/dev/null
[ "$(cat "$TMP/term_b.out")" = 2 ] && [ "$ms" -lt 3000 ]
ok $? "A terminated: B got the slot and read its rows within 3 s (${ms} ms)" "$(cat "$TMP/term_b.out" "$TMP/term_b.err")"
inflight=$(q "SELECT in_flight FROM subscriber_fdw_stats WHERE server = 'term'")
[ "$inflight" = 0 ]
ok $? "nothing stays in flight after the termination ($inflight)"

# -- cancel and statement_timeout while holding the only slot -------------------------
q "SELECT limits_server('held', 'slow=20000,times=2,id=held-$RUN', 'max_server_concurrency ''1'', max_retries ''0''')" >/dev/null
start_session held_a "SELECT count(subscriber_id) FROM held.t WHERE customer_id = '$(cust 1)'"
A=$SESSION_PID
for _ in $(seq 1 50); do
	[ "$(q "SELECT in_flight FROM subscriber_fdw_stats WHERE server = 'held'")" = 1 ] && break
	sleep 0.1
done
q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'held_a'" >/dev/null
wait $A
inflight=$(q "SELECT in_flight FROM subscriber_fdw_stats WHERE server = 'held'")
grep -q "canceling statement due to user request" "$TMP/held_a.err" && [ "$inflight" = 0 ]
ok $? "a query cancelled while its request holds the only slot gives the slot back (in_flight $inflight)" "$(cat "$TMP/held_a.err")"
out=$(psql -X -A -t -q -d "$DB" -c "SET statement_timeout = '1s'" \
	-c "SELECT count(subscriber_id) FROM held.t WHERE customer_id = '$(cust 1)'" 2>&1)
inflight=$(q "SELECT in_flight FROM subscriber_fdw_stats WHERE server = 'held'")
echo "$out" | grep -q "canceling statement due to statement timeout" && [ "$inflight" = 0 ]
ok $? "statement_timeout while holding the slot gives it back too (in_flight $inflight)" "$out"
out=$(q "SELECT count(subscriber_id) FROM held.t WHERE customer_id = '$(cust 3)'" 2>&1)
[ "$out" = 3 ]
ok $? "the next query gets the slot at once" "$out"

# -- cancel and statement_timeout while waiting for a token ------------------------
q "SELECT count(subscriber_id) FROM tok.t WHERE customer_id = '$(cust 1)'" >/dev/null	# takes the token
start_session tok_wait "SELECT count(subscriber_id) FROM tok.t WHERE customer_id = '$(cust 2)'" \
	"SELECT 'next query: ' || count(subscriber_id) FROM rate.t WHERE customer_id = '$(cust 2)'"
T=$SESSION_PID
ev=$(wait_for_event tok_wait)
ok $? "a backend waiting for a token shows wait_event_type Extension" "$ev"
TPID=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'tok_wait'")
t0=$(now_ms)
q "SELECT pg_cancel_backend($TPID)" >/dev/null
wait $T
ms=$(($(now_ms) - t0))
grep -q "canceling statement due to user request" "$TMP/tok_wait.err" && [ "$ms" -lt 1500 ]
ok $? "cancel ends the wait for a token at once (${ms} ms)" "$(cat "$TMP/tok_wait.err")"
grep -q "next query: 2" "$TMP/tok_wait.out"
ok $? "the cancelled session runs its next query" "$(cat "$TMP/tok_wait.out")"
t0=$(now_ms)
out=$(psql -X -A -t -d "$DB" -c "SET statement_timeout = '700ms'" \
	-c "SELECT count(subscriber_id) FROM tok.t WHERE customer_id = '$(cust 3)'" 2>&1)
ms=$(($(now_ms) - t0))
echo "$out" | grep -q "canceling statement due to statement timeout" && [ "$ms" -lt 2000 ]
ok $? "statement_timeout ends the wait for a token (${ms} ms)" "$out"
ckpt=$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'checkpointer' AND backend_start < now() - interval '5 seconds'")
[ "$ckpt" = 1 ]
ok $? "no backend crashed: the checkpointer runs since the start"
inflight=$(q "SELECT coalesce(sum(in_flight), 0) FROM subscriber_fdw_stats")
[ "$inflight" = 0 ]
ok $? "at the end nothing is in flight ($inflight)"

# -- past the last of the 64 shared slots ----------------------------------------------
# 70 servers in another database, each used once in one session: those past
# the free slots fall back to session scope with one WARNING each
FILL=sf_shared_fill
EXTRA_DBS=$FILL
limits_setup_db "$FILL"
psql -X -q -d "$FILL" -c "SET client_min_messages = warning" \
	-c "SELECT limits_server('f' || g, 'id=fill-$RUN', '') FROM generate_series(1, 70) g" >/dev/null
psql -X -A -t -q -d "$FILL" >"$TMP/fill.out" 2>"$TMP/fill.err" <<SQL
DO \$\$
BEGIN
  FOR g IN 1..70 LOOP
    EXECUTE format('SELECT count(subscriber_id) FROM f%s.t WHERE customer_id = %L', g, '$(cust 1)');
  END LOOP;
END \$\$;
SELECT count(*) FILTER (WHERE scope = 'instance') || ' ' || count(*) FILTER (WHERE scope = 'session') || ' ' ||
       count(DISTINCT server) FROM subscriber_fdw_stats;
SQL
read -r inst sess distinct <<<"$(tail -1 "$TMP/fill.out")"
warnings=$(grep -c 'WARNING:  the limits of server "f[0-9]*" hold in this session only' "$TMP/fill.err")
[ "$sess" -gt 0 ] && [ $((inst + sess)) = 70 ] && [ "$distinct" = 70 ] && [ "$warnings" = "$sess" ]
ok $? "70 servers: $inst in shared slots, $sess in session scope, one WARNING each ($warnings)" "$(head -3 "$TMP/fill.err")"
out=$(psql -X -A -t -q -d "$DB" -c "SELECT limits_server('before', 'id=before-$RUN', '')" \
	-c "SELECT count(subscriber_id) FROM before.t WHERE customer_id = '$(cust 1)'" \
	-c "SELECT scope FROM subscriber_fdw_stats WHERE server = 'before'" 2>&1 | tail -1)
[ "$out" = session ]
ok $? "with every slot taken, a new server of another database has session scope ($out)"
psql -X -q -d postgres -c "DROP DATABASE $FILL WITH (FORCE)" >/dev/null
out=$(psql -X -A -t -q -d "$DB" -c "SELECT limits_server('after', 'id=after-$RUN', '')" \
	-c "SELECT count(subscriber_id) FROM after.t WHERE customer_id = '$(cust 1)'" \
	-c "SELECT scope FROM subscriber_fdw_stats WHERE server = 'after'" 2>&1 | tail -1)
[ "$out" = instance ]
ok $? "once that database is dropped, its slots are free again: the next server has instance scope ($out)"

[ "$FAILED" = 0 ]
