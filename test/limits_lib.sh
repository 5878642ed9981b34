# test/limits_lib.sh: helpers of the shell tests of limits (limits.sh,
# shared_limits.sh); source it after tap.sh, with DB set (and EXTRA_DBS, the
# other databases a test makes, dropped on exit too).
#
# limits_setup_db makes a fresh database with the extension and the SQL
# function limits_server(name, fault spec, options), which creates a server
# on the simulator behind the fault spec, its user mapping, and a schema of
# that name holding the tables t over customer_subscribers and d over
# subscriber_details.

TMP=$(mktemp -d /tmp/sf_limits.XXXXXX)
SESSIONS=""
limits_cleanup() {
	for p in $SESSIONS; do kill "$p" 2>/dev/null; done
	for d in $DB ${EXTRA_DBS:-}; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap limits_cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# a customer of the simulator with N subscribers
cust() { printf 'cccccccc-0000-4000-8000-%012d' "$1"; }

# runs SQL in the test database, unaligned, tuples only
q() { psql -X -A -t -q -d "$DB" -c "$1"; }

# the simulator's log entries whose path holds a string, as JSON, once every
# request that reached it is logged
simlog() { curl -s "$SIM_URL/_sim/log?settle=1&path_contains=$1${2:+&since=$2}"; }

limits_setup_db() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1
	psql -X -q -d postgres -c "CREATE DATABASE $1" >/dev/null
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION subscriber_fdw;
CREATE FUNCTION limits_server(name text, spec text, opts text) RETURNS void
LANGUAGE plpgsql AS \$\$
BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url %L%s)',
                 name, '$SIM_URL/_fault/' || spec,
                 CASE WHEN opts = '' THEN '' ELSE ', ' || opts END);
  EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (username ''sim'', password ''sim-secret'')', name);
  EXECUTE format('CREATE SCHEMA %I', name);
  EXECUTE format('CREATE FOREIGN TABLE %I.t (customer_id uuid, subscriber_id uuid) SERVER %I OPTIONS (resource ''customer_subscribers'')', name, name);
  EXECUTE format('CREATE FOREIGN TABLE %I.d (customer_id uuid, subscriber_id uuid) SERVER %I OPTIONS (resource ''subscriber_details'')', name, name);
END \$\$;
SQL
}

# Starts a psql in the background that runs the statements given, with
# application_name NAME; output in $TMP/NAME.out and .err; sets SESSION_PID.
start_session() {	# NAME STATEMENT...
	local name=$1 args=()
	shift
	for s in "$@"; do args+=(-c "$s"); done
	psql -X -A -t -q -d "$DB" -c "SET application_name = '$name'" "${args[@]}" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	SESSION_PID=$!
	SESSIONS="$SESSIONS $SESSION_PID"
}

# Waits up to 5 s for the session NAME to wait with wait_event_type
# Extension; prints what pg_stat_activity said, fails if it never did.
wait_for_event() {	# NAME
	local ev=""
	for _ in $(seq 1 50); do
		ev=$(psql -X -A -t -d postgres -c "SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity
			WHERE application_name = '$1' AND state = 'active'")
		case "$ev" in Extension/*) echo "$ev"; return 0 ;; esac
		sleep 0.1
	done
	echo "${ev:-no such session}"
	return 1
}
