#!/usr/bin/env bash
# Secrets: a user mapping's password and token never reach an error, a
# notice, EXPLAIN output or the server log, even with every debug message on
# (client_min_messages and log_min_messages debug5, verbose errors).
#
# Uses the running cluster of the environment (PGHOST, PGPORT, PGUSER, a
# superuser: it sets log levels with ALTER SYSTEM and resets them after) and
# the simulator at SIM_URL.  The server log is found at SF_PGLOG, else
# pg_current_logfile(), else test/cluster.sh's place for it, the file
# postgres.log next to the data directory.  Prints TAP; exits non-zero when a
# test fails.
#
#   bash test/secrets.sh
set -u
: "${SIM_URL:?SIM_URL must name the running simulator}"
DB=sf_secrets_test
SECRET=hunter2-secret
TOKEN=hunter2-secret-token

source "$(dirname "$0")/tap.sh"

TMP=$(mktemp -d /tmp/sf_secrets.XXXXXX)
cleanup() {
	psql -X -q -d postgres -c "ALTER SYSTEM RESET log_min_messages" \
		-c "ALTER SYSTEM RESET log_error_verbosity" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "1..9"

# -- the server log -----------------------------------------------------------
LOG=${SF_PGLOG:-}
if [ -z "$LOG" ]; then
	cur=$(psql -X -A -t -d postgres -c "SELECT pg_current_logfile()" 2>/dev/null)
	ddir=$(psql -X -A -t -d postgres -c "SHOW data_directory" 2>/dev/null)
	if [ -n "$cur" ]; then
		case "$cur" in /*) LOG=$cur ;; *) LOG="$ddir/$cur" ;; esac
	else
		LOG="$(dirname "$ddir")/postgres.log"
	fi
fi
[ -r "$LOG" ]
ok $? "the server log is readable (${LOG})"
START=$(stat -c %s "$LOG" 2>/dev/null || echo 0)

# -- objects, made before debug logging is on ------------------------------------
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$TMP/setup.log" 2>&1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION subscriber_fdw;
-- 401 with Basic credentials hunter2-secret
CREATE SERVER s401 FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url '$SIM_URL/_fault/status=401,id=secrets-$$', tenant 'acme', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER s401 OPTIONS (username 'sim', password '$SECRET');
IMPORT FOREIGN SCHEMA api FROM SERVER s401 INTO public;
-- the simulator's own answer to a wrong password (no fault)
CREATE SERVER swrong FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url '$SIM_URL', tenant 'acme');
CREATE USER MAPPING FOR PUBLIC SERVER swrong OPTIONS (username 'sim', password '$SECRET');
CREATE SCHEMA wrong;
IMPORT FOREIGN SCHEMA api FROM SERVER swrong INTO wrong;
-- a Bearer token
CREATE SERVER stoken FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url '$SIM_URL', tenant 'acme');
CREATE USER MAPPING FOR PUBLIC SERVER stoken OPTIONS (token '$TOKEN');
CREATE SCHEMA token;
IMPORT FOREIGN SCHEMA api FROM SERVER stoken INTO token;
-- connection refused, retried
CREATE SERVER srefused FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:1', max_retries '1');
CREATE USER MAPPING FOR PUBLIC SERVER srefused OPTIONS (username 'sim', password '$SECRET');
CREATE SCHEMA refused;
IMPORT FOREIGN SCHEMA api FROM SERVER srefused INTO refused;
SQL
ok $? "servers and user mappings with the secrets created" "$(cat "$TMP/setup.log")"

psql -X -q -d postgres -c "ALTER SYSTEM SET log_min_messages = debug5" \
	-c "ALTER SYSTEM SET log_error_verbosity = verbose" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5	# the backends read the new configuration

# -- failing and succeeding requests with every message shown --------------------
C3="'cccccccc-0000-4000-8000-000000000003'"
psql -X -d "$DB" >"$TMP/client.out" 2>&1 <<SQL
SET client_min_messages = debug5;
\set VERBOSITY verbose
SELECT * FROM customer_subscribers WHERE customer_id = $C3;
SELECT * FROM subscriber_details WHERE customer_id = $C3;
SELECT * FROM subscriber_sessions WHERE msisdn = '3531234567';
SELECT * FROM wrong.customer_subscribers WHERE customer_id = $C3;
SELECT * FROM token.subscriber_details WHERE customer_id = $C3;
SELECT * FROM refused.customer_subscribers WHERE customer_id = $C3;
EXPLAIN (VERBOSE) SELECT * FROM customer_subscribers WHERE customer_id = $C3;
EXPLAIN (VERBOSE, FORMAT JSON) SELECT * FROM token.subscriber_details WHERE customer_id = $C3;
EXPLAIN (ANALYZE, VERBOSE) SELECT * FROM wrong.subscriber_sessions WHERE msisdn = '3531234567';
EXPLAIN (ANALYZE, VERBOSE) SELECT * FROM refused.subscriber_details WHERE customer_id = $C3;
SELECT 'the session still works';
SQL
sleep 0.5	# the log is written

psql -X -q -d postgres -c "ALTER SYSTEM RESET log_min_messages" \
	-c "ALTER SYSTEM RESET log_error_verbosity" -c "SELECT pg_reload_conf()" >/dev/null
tail -c +"$((START + 1))" "$LOG" >"$TMP/server.log" 2>/dev/null

# -- the tests ran and failed as planned ---------------------------------------------
c401=$(grep -c "refused the credentials" "$TMP/client.out")
[ "$c401" -ge 4 ]
ok $? "the client saw the 401 errors (Basic and Bearer, fault and real)" "found $c401; $(head -c 2000 "$TMP/client.out")"
grep -q "could not connect to the subscriber API" "$TMP/client.out" &&
	grep -q "Endpoint" "$TMP/client.out" && grep -q "the session still works" "$TMP/client.out"
ok $? "the client saw the refused connection, EXPLAIN output and the last query"
grep -q "DEBUG:" "$TMP/client.out"
ok $? "debug messages reached the client"
grep -q "DEBUG:" "$TMP/server.log" && grep -q "refused the credentials" "$TMP/server.log"
ok $? "debug messages and the errors reached the server log" "$(wc -l <"$TMP/server.log") lines"

# -- no secret anywhere ----------------------------------------------------------
# the plain secrets, and the Basic credentials as they go over the wire
B64=$(printf 'sim:%s' "$SECRET" | base64)
check_clean() {	# FILE WHAT
	local hits
	hits=$(grep -n -e "hunter2" -e "$B64" -e "${B64%%=*}" "$1" | head -5)
	[ -z "$hits" ]
	ok $? "no secret in $2" "$hits"
}
check_clean "$TMP/client.out" "errors, notices, debug messages or EXPLAIN output of the client"
check_clean "$TMP/server.log" "the server log at debug5"
# and none in what other users can read: pg_stat_activity, pg_stat_statements-like views
psql -X -A -t -d "$DB" -c "SELECT query FROM pg_stat_activity" >"$TMP/activity.out" 2>&1
check_clean "$TMP/activity.out" "pg_stat_activity"

[ "$FAILED" = 0 ]
