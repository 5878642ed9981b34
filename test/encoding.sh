#!/usr/bin/env bash
# A database that is not UTF-8 (LATIN1): records stay UTF-8 and only the
# values a query converts are transcoded, so characters LATIN1 lacks in
# fields the query does not read cost nothing, Latin-1 characters read
# right (sent as UTF-8 or as \u escapes, in text and in jsonb, keys
# included), and one LATIN1 lacks in a field the query reads fails naming
# the column.  The simulator's fault set= serves the values.
#
# Uses the running cluster of the environment (PGHOST, PGPORT, PGUSER, a
# superuser) and the simulator at SIM_URL.  Prints TAP; exits non-zero when
# a test fails.
#
#   bash test/encoding.sh
set -u
: "${SIM_URL:?SIM_URL must name the running simulator}"
DB=sf_latin1_test
source "$(dirname "$0")/tap.sh"

TMP=$(mktemp -d /tmp/sf_encoding.XXXXXX)
cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# a fault spec with every byte of its values percent-encoded
spec() {
	python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="=|,"))' "$1"
}
# runs SQL in the LATIN1 database, the client speaking UTF-8
q() {
	PGCLIENTENCODING=UTF8 psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" -c "$1" 2>&1
}

echo "1..8"

# records 0, 1, 2 of customer ...003: the euro sign (not in LATIN1) in
# status and iccid, raw and escaped; Latin-1 letters in the name, raw and
# escaped; a jsonb of them in lastUsageLocation; a member of non-ASCII name
SETS="set=status=\"€ \\u20ac\"|\"\\u20ac\"|\"€\""
SETS="$SETS,set=eId=\"Zoë Müller\"|\"Zo\\u00eb M\\u00fcller\"|\"\\u00e5\""
SETS="$SETS,set=lastUsageLocation={\"café\":\"Zoë\"}|{\"caf\\u00e9\":[\"Zo\\u00eb\"]}|{\"€\":1}"
SETS="$SETS,set=näme=\"ß\"|\"\\u00df\"|\"€\""
URL="$SIM_URL/_fault/$(spec "$SETS")"

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
psql -X -q -d postgres -c "CREATE DATABASE $DB ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
out=$(q "SET client_min_messages = warning;
CREATE EXTENSION subscriber_fdw;
CREATE SERVER s FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url '$URL');
CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (username 'sim', password 'sim-secret');
IMPORT FOREIGN SCHEMA api FROM SERVER s INTO public;
CREATE FOREIGN TABLE names (customer_id uuid, subscriber_id uuid, eid text, name text OPTIONS (json_path 'näme'))
  SERVER s OPTIONS (resource 'subscriber_details');
SELECT getdatabaseencoding();")
[ "$out" = LATIN1 ]
ok $? "a LATIN1 database with the extension and a server" "$out"

C3="customer_id = 'cccccccc-0000-4000-8000-000000000003'"
out=$(q "SELECT count(*) FROM subscriber_details WHERE $C3")
[ "$out" = 3 ]
ok $? "count(*): the euro signs in fields it does not read cost nothing" "$out"

out=$(q "SELECT count(subscriber_id), count(imei) FROM subscriber_details WHERE $C3")
[ "$out" = "3|3" ]
ok $? "columns without the euro sign read in every record" "$out"

out=$(q "SELECT string_agg(eid || '=' || encode(convert_to(eid, 'LATIN1'), 'hex'), ' ' ORDER BY subscriber_id) FROM names WHERE $C3")
[ "$out" = "Zoë Müller=5a6feb204dfc6c6c6572 Zoë Müller=5a6feb204dfc6c6c6572 å=e5" ]
ok $? "Latin-1 letters sent as UTF-8 or as \\u escapes read right" "$out"

out=$(q "SELECT string_agg(l::text, ' ') FROM (SELECT last_usage_location FROM subscriber_details WHERE $C3 LIMIT 2) t(l)")
[ "$out" = '{"café": "Zoë"} {"café": ["Zoë"]}' ]
ok $? "jsonb built from the record: strings and keys transcoded" "$out"

out=$(q "SELECT name FROM names WHERE $C3 LIMIT 2")
[ "$out" = "ß
ß" ]
ok $? "a json_path with a non-ASCII member name finds the member" "$out"

out=$(q "SELECT status FROM subscriber_details WHERE $C3")
case "$out" in
*'ERROR:  22P05: character with byte sequence 0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"'*'column "status" of record 1 of the response to POST /api/v2/customer/cccccccc-0000-4000-8000-000000000003/subscriber-all-details'*) st=0 ;;
*) st=1 ;;
esac
ok $st "a character LATIN1 lacks in a column read fails with 22P05 naming the column" "$out"

out=$(q "SELECT last_usage_location FROM subscriber_details WHERE $C3")
case "$out" in
*'ERROR:  22P05: '*'column "last_usage_location" of record 3 '*) st=0 ;;
*) st=1 ;;
esac
ok $st "and in a jsonb key likewise" "$out"

exit $((FAILED > 0))
