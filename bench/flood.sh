#!/usr/bin/env bash
# bench/flood.sh: one scan's peak memory when every answer is as large as
# max_response_size allows and made of the smallest records there are.
#
# A measurement, not a test.  Starts a throw-away cluster and the simulator
# (test/cluster.sh), and in a fresh backend asks for the sessions of 8
# subscribers at once (max_concurrency 8, max_response_size at its default
# of 64 MiB) from a server whose every answer is about 64 MB of "{}"
# records (simulator fault tiny_records).  The query fails (an answer may
# hold at most 10,000 records); the figure is the backend's peak resident
# set (VmHWM) against the documented budget of one scan,
# (max_concurrency + 1) x max_response_size + 5 MB (README, "The memory of
# one scan").
#
#   bash bench/flood.sh
set -euo pipefail
source "$(dirname "$0")/../test/cluster.sh"

sf_start_all >/dev/null
cd "$SF_ROOT"
BYTES=${FLOOD_BYTES:-67000000}

psql -X -q -v ON_ERROR_STOP=1 -v url="$SIM_URL/_fault/tiny_records=$BYTES" <<'EOF2'
CREATE EXTENSION subscriber_fdw;
CREATE SERVER flood FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'url', tenant 'acme', request_timeout '600', max_concurrency '8');
CREATE USER MAPPING FOR PUBLIC SERVER flood OPTIONS (username 'sim', password 'sim-secret');
IMPORT FOREIGN SCHEMA api LIMIT TO (subscriber_sessions) FROM SERVER flood INTO public;
EOF2

out=$(psql -X -q -At <<'EOF2'
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_PID :pid
\set ON_ERROR_STOP 0
SELECT count(*) FROM subscriber_sessions
 WHERE msisdn IN ('3531000001', '3531000002', '3531000003', '3531000004',
                  '3531000005', '3531000006', '3531000007', '3531000008');
\! grep VmHWM /proc/$BENCH_PID/status | awk '{print "vmhwm_kb", $2}'
EOF2
)
echo "$out" | sed -n '/vmhwm_kb/p'
hwm=$(echo "$out" | awk '/vmhwm_kb/ {print $2}')
budget_kb=$(( (8 + 1) * 67108864 / 1024 + 5 * 1024 ))
printf 'peak %d kB, budget %d kB: %s\n' "$hwm" "$budget_kb" \
	"$([ "$hwm" -lt "$budget_kb" ] && echo within || echo OVER)"
