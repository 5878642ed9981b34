# test/client/setup.sh: sourced by the tests of real clients (test/client.sh,
# libpq; test/pgjdbc.sh, test/psycopg2.sh, test/odbc.sh).
#
# sf_client_db DB TAG makes a fresh database DB on the running cluster
# (PGHOST, PGPORT, PGUSER) with the extension, a server "sim" on the
# simulator at SIM_URL with a user mapping, the tables imported into schema
# "api", and a second server "paused" whose tables are imported into schema
# "paused": request_timeout '2', so that a client that pauses 3 seconds
# between the fetches of a cursor pauses longer than request_timeout.  Its
# base URL goes through the simulator's fault path: delay=200 makes every
# answer take 200 ms, so that the request a scan starts for its next chunk
# (at a chunk's first row, 5000 rows apart) is still under way when a client
# pauses a few hundred rows later; pit_rotate=1 makes every chunk answer a
# new pitId, so that a chunk asked twice shows in the simulator's log as a
# pitId sent twice; id=TAG tells this test's log entries apart.  The
# database is dropped on exit.
: "${SIM_URL:?SIM_URL must name the running simulator}"
: "${PGPORT:?PGPORT must name the running cluster}"

sf_client_db() {
	SF_CLIENT_DB=$1
	trap 'psql -q -X -d postgres -c "DROP DATABASE IF EXISTS $SF_CLIENT_DB" >/dev/null 2>&1 || true' EXIT
	PGOPTIONS="-c client_min_messages=warning" psql -q -X -v ON_ERROR_STOP=1 -d postgres \
		-c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
	psql -q -X -v ON_ERROR_STOP=1 -d "$1" -v sim_url="$SIM_URL" \
		-v paused_url="$SIM_URL/_fault/delay=200,pit_rotate=1,id=$2" >/dev/null <<-'SQL'
		SET client_min_messages = warning;
		CREATE EXTENSION subscriber_fdw;
		CREATE SERVER sim FOREIGN DATA WRAPPER subscriber_fdw
		  OPTIONS (base_url :'sim_url', tenant 'acme');
		CREATE USER MAPPING FOR PUBLIC SERVER sim
		  OPTIONS (username 'sim', password 'sim-secret');
		CREATE SCHEMA api;
		IMPORT FOREIGN SCHEMA api FROM SERVER sim INTO api;
		CREATE SERVER paused FOREIGN DATA WRAPPER subscriber_fdw
		  OPTIONS (base_url :'paused_url', tenant 'acme', request_timeout '2', fetch_size '5000');
		CREATE USER MAPPING FOR PUBLIC SERVER paused
		  OPTIONS (username 'sim', password 'sim-secret');
		CREATE SCHEMA paused;
		IMPORT FOREIGN SCHEMA api FROM SERVER paused INTO paused;
	SQL
}
