#!/usr/bin/env bash
# Cancel and terminate: a backend blocked in a 20 s request of the API is
# cancelled by pg_cancel_backend (the session then runs its next query) and
# ended by pg_terminate_backend, each within a second or two, and the server
# goes on serving.
#
# Uses the running cluster of the environment (PGHOST, PGPORT, PGUSER) and the
# simulator at SIM_URL.  Prints TAP; exits non-zero when a test fails.
#
#   bash test/cancel.sh
set -u
: "${SIM_URL:?SIM_URL must name the running simulator}"
DB=sf_cancel_test
RUN="cancel-$$-$(date +%s)"

source "$(dirname "$0")/tap.sh"

TMP=$(mktemp -d /tmp/sf_cancel.XXXXXX)
VICTIM=""
cleanup() {
	[ -n "$VICTIM" ] && kill "$VICTIM" 2>/dev/null
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

echo "1..12"

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$TMP/setup.log" 2>&1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION subscriber_fdw;
CREATE SERVER hang FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url '$SIM_URL/_fault/delay=20000,id=$RUN', max_retries '0', request_timeout '60');
CREATE USER MAPPING FOR PUBLIC SERVER hang OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE hang_details (customer_id uuid, subscriber_id uuid)
  SERVER hang OPTIONS (resource 'subscriber_details');
CREATE SERVER sim FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url '$SIM_URL');
CREATE USER MAPPING FOR PUBLIC SERVER sim OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE details (customer_id uuid, subscriber_id uuid)
  SERVER sim OPTIONS (resource 'subscriber_details');
SQL
ok $? "servers created" "$(cat "$TMP/setup.log")"

# Starts a psql that blocks in the hanging request and then runs a normal
# query; waits until its backend is in the request.  Sets VICTIM and VPID.
start_victim() {	# NAME
	psql -X -A -t -d "$DB" >"$TMP/$1.out" 2>"$TMP/$1.err" <<SQL &
SET application_name = 'sf_victim_$1';
SELECT count(*) FROM hang_details WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
SELECT 'next query: ' || count(*) FROM details WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020';
SQL
	VICTIM=$!
	VPID=""
	for _ in $(seq 1 100); do
		VPID=$(psql -X -A -t -d postgres -c "SELECT pid FROM pg_stat_activity
			WHERE application_name = 'sf_victim_$1' AND state = 'active' AND query LIKE '%hang_details%'")
		[ -n "$VPID" ] && break
		sleep 0.1
	done
	sleep 1	# well inside the 20 s request
}

# Waits up to 5 s for the victim psql to end; prints the milliseconds.
wait_victim() {	# T0
	for _ in $(seq 1 50); do
		kill -0 "$VICTIM" 2>/dev/null || break
		sleep 0.1
	done
	wait "$VICTIM" 2>/dev/null
	VICTIM=""
	echo $(($(now_ms) - $1))
}

# a crashed backend makes the postmaster restart all processes
CKPT0=$(psql -X -A -t -d postgres -c "SELECT backend_start FROM pg_stat_activity WHERE backend_type = 'checkpointer'")

# -- pg_cancel_backend ------------------------------------------------------------
start_victim cancel
[ -n "$VPID" ]
ok $? "the victim backend is blocked in the request (pid ${VPID:-none})"
t0=$(now_ms)
psql -X -A -t -d postgres -c "SELECT pg_cancel_backend($VPID)" >/dev/null
ms=$(wait_victim "$t0")
grep -q "canceling statement due to user request" "$TMP/cancel.err"
ok $? "pg_cancel_backend: the query is cancelled (57014)" "$(cat "$TMP/cancel.err")"
# the victim's next query ran: its psql ended after it
[ "$ms" -lt 2000 ]
ok $? "the cancelled query and the next one were done within 2 s of the cancel (${ms} ms)"
grep -q "next query: 20" "$TMP/cancel.out"
ok $? "the same session ran its next query after the cancel" "$(cat "$TMP/cancel.out")"

# -- pg_terminate_backend ---------------------------------------------------------
start_victim terminate
[ -n "$VPID" ]
ok $? "the victim backend is blocked in the request (pid ${VPID:-none})"
t0=$(now_ms)
psql -X -A -t -d postgres -c "SELECT pg_terminate_backend($VPID)" >/dev/null
ms=$(wait_victim "$t0")
grep -q "terminating connection due to administrator command" "$TMP/terminate.err"
ok $? "pg_terminate_backend: the backend reports its termination" "$(cat "$TMP/terminate.err")"
[ "$ms" -lt 2000 ]
ok $? "the terminated backend's client was told within 2 s (${ms} ms)"
gone=1
for _ in $(seq 1 20); do
	left=$(psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $VPID")
	[ "$left" = 0 ] && { gone=0; break; }
	sleep 0.1
done
ok $gone "the terminated backend is gone"
! grep -q "next query" "$TMP/terminate.out"
ok $? "no query ran on the terminated connection"

# -- the server is fine -------------------------------------------------------------
out=$(psql -X -A -t -d "$DB" -c "SELECT count(*) FROM details WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'" 2>&1)
[ "$out" = 20 ]
ok $? "a new session reads the API" "$out"
ckpt1=$(psql -X -A -t -d postgres -c "SELECT backend_start FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
[ -n "$CKPT0" ] && [ "$CKPT0" = "$ckpt1" ]
ok $? "no backend crashed: the checkpointer was not restarted" "before: $CKPT0, after: $ckpt1"

[ "$FAILED" = 0 ]
