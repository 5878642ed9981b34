#!/usr/bin/env bash
# Benchmark of the shared limits (issue 14), side by side on a cluster
# without preloading (session scope) and on one with subscriber_fdw in
# shared_preload_libraries (instance scope):
#  - the limiter's overhead: requests per second to an unlimited server,
#    one statement of LIMITS_KEYS sessions-endpoint keys, max_concurrency 8,
#    median of LIMITS_RUNS runs;
#  - the CPU time that a backend uses while it waits 10 s for a slow
#    answer (utime + stime from /proc/PID/stat, over 9 s of the wait), and
#    how often it woke up (voluntary context switches, /proc/PID/status).
# Prints a Markdown table; the figures are in bench/RESULTS.md.
#
#   bash bench/limits.sh        (or: make bench-limits)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KEYS=${LIMITS_KEYS:-2000}
RUNS=${LIMITS_RUNS:-5}
source "$ROOT/test/cluster.sh"
sf_start_all
sf_start_preloaded_cluster
export PATH="$(pg_config --bindir):$PATH"
HZ=$(getconf CLK_TCK)

setup() {	# PORT
	psql -X -q -p "$1" -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS subscriber_fdw;
CREATE SERVER fast FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url '$SIM_URL', tenant 'acme');
CREATE SERVER slow FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url '$SIM_URL/_fault/delay=10000', tenant 'acme', request_timeout '60');
CREATE USER MAPPING FOR PUBLIC SERVER fast OPTIONS (username 'sim', password 'sim-secret');
CREATE USER MAPPING FOR PUBLIC SERVER slow OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE fast_sessions (msisdn text, session_id text) SERVER fast OPTIONS (resource 'subscriber_sessions');
CREATE FOREIGN TABLE slow_sessions (msisdn text, session_id text) SERVER slow OPTIONS (resource 'subscriber_sessions');
SQL
}

# requests/s of one statement that sends KEYS requests
rate() {	# PORT
	psql -X -A -t -q -p "$1" -d postgres <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
\\timing on
SELECT count(session_id) FROM fast_sessions
 WHERE msisdn = ANY (ARRAY(SELECT (3531000000 + g)::text FROM generate_series(1, $KEYS) g));
SQL
		awk -v keys="$KEYS" '{ printf "%.0f\n", keys / ($1 / 1000) }'
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# CPU milliseconds and wake-ups of a backend over 9 s of its 10 s wait for
# the API, as "MS WAKEUPS"
wait_cpu() {	# PORT
	psql -X -q -p "$1" -d postgres -c "SET application_name = 'bench_wait'" \
		-c "SELECT count(*) FROM slow_sessions WHERE msisdn = '3531234567'" >/dev/null &
	local client=$! pid=""
	for _ in $(seq 1 50); do
		pid=$(psql -X -A -t -p "$1" -d postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench_wait' AND state = 'active'")
		[ -n "$pid" ] && break
		sleep 0.1
	done
	sleep 0.5
	local t0 t1 w0 w1
	t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	w0=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status")
	sleep 9
	t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	w1=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status")
	wait "$client"
	echo "$(((t1 - t0) * 1000 / HZ)) $((w1 - w0))"
}

setup "$PGPORT"
setup "$PRELOAD_PGPORT"
# warm-up of both (connections, caches), then the two clusters in turn so
# that the load of the machine falls on both alike; the median of each
rate "$PGPORT" >/dev/null
rate "$PRELOAD_PGPORT" >/dev/null
for _ in $(seq 1 "$RUNS"); do
	rate "$PGPORT" >>"$SF_TMP/rate_session"
	rate "$PRELOAD_PGPORT" >>"$SF_TMP/rate_instance"
done
r_session=$(median "$SF_TMP/rate_session")
r_instance=$(median "$SF_TMP/rate_instance")
read -r c_session w_session <<<"$(wait_cpu "$PGPORT")"
read -r c_instance w_instance <<<"$(wait_cpu "$PRELOAD_PGPORT")"
scope=$(psql -X -A -t -p "$PRELOAD_PGPORT" -d postgres -c "SELECT scope FROM subscriber_fdw_stats WHERE server = 'fast'")
[ "$scope" = instance ] || { echo "the preloaded cluster did not use shared memory ($scope)" >&2; exit 1; }

# the targets (issue 14): the shared state costs at most 10 % of an
# unlimited server's request rate; a waiting backend sleeps: at most one
# clock tick of CPU and one wake-up per second over the 9 s, in either scope
overhead=$(awk -v s="$r_session" -v i="$r_instance" 'BEGIN { print (i >= 0.9 * s) ? "pass" : "MISS" }')
waiting=$(awk -v a="$c_session" -v b="$c_instance" -v wa="$w_session" -v wb="$w_instance" -v tick=$((1000 / HZ)) \
	'BEGIN { print (a <= tick && b <= tick && wa <= 9 && wb <= 9) ? "pass" : "MISS" }')

echo
echo "| figure | without preloading (session) | preloaded (instance) | target | result |"
echo "|---|---|---|---|---|"
echo "| requests/s, unlimited server, $KEYS keys, max_concurrency 8 (median of $RUNS) | $r_session | $r_instance | preloaded >= 0.9 x session | $overhead |"
echo "| CPU ms of a backend over 9 s of waiting for the API (clock tick $((1000 / HZ)) ms) | $c_session | $c_instance | <= one tick | $waiting |"
echo "| wake-ups of that backend over the 9 s (voluntary context switches) | $w_session | $w_instance | <= 9 | $waiting |"
