#!/usr/bin/env bash
# bench/memory.sh: peak memory of a backend scanning subscriber_details.
#
# A measurement, not a test.  Builds and installs the extension, starts a
# throw-away cluster and the simulator (test/cluster.sh, torn down on exit),
# and for 20,000 and 1,000,000 subscribers, with fetch_size 10000 and the
# default, runs in a fresh backend each
#   count: SELECT count(*) FROM api.subscriber_details WHERE customer_id = ...
#   width: SELECT count(*), sum(length(t::text)) FROM api.subscriber_details t WHERE ...
# and reads the backend's peak resident set (VmHWM of /proc/<pid>/status)
# while its session is still open.  The size of one chunk comes from
# EXPLAIN ANALYZE ("Bytes Received" / "Requests").
#
# SPEC 3 asks that memory stay bounded by a few chunks whatever the number
# of rows; the check printed at the end is: for each fetch_size and query,
# the peaks at 20,000 and 1,000,000 rows differ by less than 10 percent,
# and both stay below 3 chunks' bytes plus 64 MB.
#
#   bash bench/memory.sh            (the 1,000,000-row scans take a while)
#   BENCH_SIZES="20000 200000" BENCH_FETCH_SIZES="1000" bash bench/memory.sh
#
# glibc raises its mmap threshold after the first large buffer is freed, so
# later chunk buffers come from the heap, and the heap's fragmentation adds
# to VmHWM as the scan goes on.  To see the scan's own memory without it,
# run with the threshold fixed (the cluster inherits the environment):
#   MALLOC_MMAP_THRESHOLD_=131072 bash bench/memory.sh
set -euo pipefail
source "$(dirname "$0")/../test/cluster.sh"

SIZES=${BENCH_SIZES:-"20000 1000000"}
FETCH_SIZES=${BENCH_FETCH_SIZES:-"10000 default"}

sf_start_all >/dev/null
cd "$SF_ROOT"

psql -X -q -v ON_ERROR_STOP=1 -v sim_url="$SIM_URL" <<'EOF'
CREATE EXTENSION subscriber_fdw;
-- count(*) reads the records here, not the API's totals
CREATE SERVER bench FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', request_timeout '600', count_pushdown 'false');
CREATE USER MAPPING FOR PUBLIC SERVER bench
  OPTIONS (username 'sim', password 'sim-secret');
CREATE SCHEMA api;
IMPORT FOREIGN SCHEMA api LIMIT TO (subscriber_details) FROM SERVER bench INTO api;
CREATE SCHEMA api_10000;
IMPORT FOREIGN SCHEMA api LIMIT TO (subscriber_details) FROM SERVER bench INTO api_10000;
ALTER FOREIGN TABLE api_10000.subscriber_details OPTIONS (ADD fetch_size '10000');
EOF

customer() { printf 'cccccccc-0000-4000-8000-%012d' "$1"; }
schema_of() { [ "$1" = default ] && echo api || echo "api_$1"; }

# Runs one query in a fresh backend; prints "rows seconds vmhwm_kb".
measure() {
	local query=$1 out
	out=$(psql -X -q -At -v ON_ERROR_STOP=1 <<-EOF
		SELECT pg_backend_pid() AS pid \gset
		\setenv BENCH_PID :pid
		SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
		$query \gset
		SELECT round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 2) AS secs \gset
		\echo result :rows :secs
		\! grep VmHWM /proc/\$BENCH_PID/status
	EOF
	)
	local rows secs hwm
	rows=$(awk '$1 == "result" { print $2 }' <<<"$out")
	secs=$(awk '$1 == "result" { print $3 }' <<<"$out")
	hwm=$(awk '$1 == "VmHWM:" { print $2 }' <<<"$out")
	[ -n "$rows" ] && [ -n "$hwm" ] || { echo "measurement failed: $out" >&2; exit 1; }
	echo "$rows $secs $hwm"
}

# Prints "requests bytes" of a count(*) scan, from EXPLAIN ANALYZE.
chunk_stats() {
	local schema=$1 n=$2 plan
	plan=$(psql -X -q -At -v ON_ERROR_STOP=1 -c \
		"EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM $schema.subscriber_details WHERE customer_id = '$(customer "$n")'")
	python3 -c '
import json, sys
plan = json.loads(sys.stdin.read())[0]["Plan"]
def find(p):
    if p.get("Node Type") == "Foreign Scan":
        return p
    for c in p.get("Plans", []):
        r = find(c)
        if r:
            return r
scan = find(plan)
print(scan["Requests"], scan["Bytes Received"])' <<<"$plan"
}

# the peak of a backend that loaded the extension and read one record
baseline=$(measure "SELECT count(*) AS rows FROM api.subscriber_details WHERE customer_id = '$(customer 1)'")
baseline_kb=$(awk '{ print $3 }' <<<"$baseline")

declare -A HWM ROWS SECS REQ BYTES
for fs in $FETCH_SIZES; do
	schema=$(schema_of "$fs")
	for n in $SIZES; do
		cust=$(customer "$n")
		sf_log "fetch_size $fs, $n subscribers"
		read -r REQ[$fs,$n] BYTES[$fs,$n] < <(chunk_stats "$schema" "$n")
		read -r ROWS[$fs,$n,count] SECS[$fs,$n,count] HWM[$fs,$n,count] < <(measure \
			"SELECT count(*) AS rows FROM $schema.subscriber_details WHERE customer_id = '$cust'")
		read -r ROWS[$fs,$n,width] SECS[$fs,$n,width] HWM[$fs,$n,width] < <(measure \
			"SELECT count(*) AS rows, sum(length(t::text)) AS chars FROM $schema.subscriber_details t WHERE customer_id = '$cust'")
	done
done

echo
echo "MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-(not set)}"
echo "backend after one tiny scan: VmHWM $baseline_kb kB"
echo
printf '%-8s %11s %10s %8s %12s %10s %9s %8s\n' query subscribers fetch_size requests chunk_bytes "VmHWM kB" rows seconds
for fs in $FETCH_SIZES; do
	for kind in count width; do
		for n in $SIZES; do
			chunk=$(( BYTES[$fs,$n] / REQ[$fs,$n] ))
			printf '%-8s %11s %10s %8s %12s %10s %9s %8s\n' "$kind" "$n" "$fs" "${REQ[$fs,$n]}" \
				"$chunk" "${HWM[$fs,$n,$kind]}" "${ROWS[$fs,$n,$kind]}" "${SECS[$fs,$n,$kind]}"
			[ "${ROWS[$fs,$n,$kind]}" = "$n" ] || echo "  !! expected $n rows"
		done
	done
done

echo
status=0
set -- $SIZES
small=$1
large=${!#}
for fs in $FETCH_SIZES; do
	chunk=0
	for n in $SIZES; do
		c=$(( BYTES[$fs,$n] / REQ[$fs,$n] ))
		[ "$c" -gt "$chunk" ] && chunk=$c
	done
	limit_kb=$(( (3 * chunk) / 1024 + 64 * 1024 ))
	for kind in count width; do
		a=${HWM[$fs,$small,$kind]}
		b=${HWM[$fs,$large,$kind]}
		lo=$(( a < b ? a : b ))
		hi=$(( a < b ? b : a ))
		pct=$(awk -v lo="$lo" -v hi="$hi" 'BEGIN { printf "%.1f", (hi - lo) * 100 / lo }')
		verdict=ok
		if [ $(( (hi - lo) * 10 )) -ge "$lo" ] || [ "$hi" -ge "$limit_kb" ]; then
			verdict=FAIL
			status=1
		fi
		printf 'fetch_size %-7s %-5s: %s rows %s kB vs %s rows %s kB: %s%% apart; limit 3 x %s B + 64 MB = %s kB: %s\n' \
			"$fs" "$kind" "$small" "$a" "$large" "$b" "$pct" "$chunk" "$limit_kb" "$verdict"
	done
	if [ "${REQ[$fs,$small]}" -lt 3 ]; then
		echo "  note: $small rows are only ${REQ[$fs,$small]} chunk(s) at fetch_size $fs, fewer than a long scan holds at once"
	fi
done
exit $status
