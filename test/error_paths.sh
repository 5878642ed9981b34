#!/usr/bin/env bash
# Error paths release what they hold: a remote error whose message cannot be
# converted to the database's encoding, raised 20 times in one session of a
# LATIN1 database, leaves the backend's memory where it was (SPEC 6: errors
# raised mid-scan release every handle and buffer; json-c's objects are
# malloc'd, so a leak shows in the resident set, not in memory contexts).
#
# Uses the running cluster of the environment (PGHOST, PGPORT, PGUSER, a
# superuser) and the simulator at SIM_URL.  Prints TAP; exits non-zero when
# a test fails.
#
#   bash test/error_paths.sh
set -u
: "${SIM_URL:?SIM_URL must name the running simulator}"
DB=sf_error_paths_test

source "$(dirname "$0")/tap.sh"

cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
}
trap cleanup EXIT

echo "1..3"

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
	-c "CREATE DATABASE $DB ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" \
	>/dev/null
# every answer is CUSTOMER_1006 with a message of 3 MB of euro signs, which
# LATIN1 cannot hold
psql -X -q -d "$DB" -v ON_ERROR_STOP=1 \
	-v url="$SIM_URL/_fault/error=CUSTOMER_1006,message_bytes=3000000" >/dev/null <<'EOF'
CREATE EXTENSION subscriber_fdw;
CREATE SERVER euro FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url :'url');
CREATE USER MAPPING FOR PUBLIC SERVER euro OPTIONS (username 'sim', password 'sim-secret');
IMPORT FOREIGN SCHEMA api LIMIT TO (customer_subscribers) FROM SERVER euro INTO public;
CREATE FUNCTION rss_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT substring(pg_read_file('/proc/self/status') FROM 'VmRSS:\s+(\d+)')::bigint
$$;
CREATE FUNCTION fail_times(n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text;
BEGIN
  FOR i IN 1 .. n LOOP
    BEGIN
      PERFORM count(*) FROM customer_subscribers
       WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
    END;
  END LOOP;
  RETURN st;
END $$;
EOF

out=$(psql -X -q -At -d "$DB" <<'EOF'
SELECT fail_times(3);
SELECT rss_kb();
SELECT fail_times(20);
SELECT rss_kb();
EOF
)
state=$(echo "$out" | sed -n 1p)
before=$(echo "$out" | sed -n 2p)
after=$(echo "$out" | sed -n 4p)

[ "$state" = 22P05 ]
ok $? "the message that LATIN1 cannot hold fails the query with 22P05" "got: $state"
[ -n "$before" ] && [ -n "$after" ]
ok $? "the backend's resident set was read" "before: $before, after: $after"
# 20 leaked copies of a 3 MB message would be 60 MB and more
[ -n "$before" ] && [ -n "$after" ] && [ $((after - before)) -lt 20000 ]
ok $? "20 more such errors grow the backend by less than 20 MB" \
	"VmRSS before $before kB, after $after kB"

exit $((FAILED > 0))
