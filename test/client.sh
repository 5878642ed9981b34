#!/usr/bin/env bash
# A real client on the extended query protocol: compiles test/client/params.c
# against libpq and runs it against the cluster and simulator of the
# environment (PGHOST, PGPORT, PGUSER and SIM_URL, as test/cluster.sh exports
# them).  It sets up its own database, client_test, with a server on the
# simulator, a user mapping and the imported tables, and drops it afterwards.
# Prints TAP; exits non-zero if a test fails.
#
#   bash test/client.sh
set -euo pipefail

: "${SIM_URL:?SIM_URL must name the running simulator}"
: "${PGPORT:?PGPORT must name the running cluster}"

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/subscriber_fdw_client.XXXXXX)
db=client_test

cleanup() {
	psql -q -X -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

gcc -std=gnu99 -Wall -Wextra -O1 -o "$work/params" "$root/test/client/params.c" \
	-I"$(pg_config --includedir)" -L"$(pg_config --libdir)" -lpq

PGOPTIONS="-c client_min_messages=warning" psql -q -X -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
psql -q -X -v ON_ERROR_STOP=1 -d "$db" -v sim_url="$SIM_URL" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION subscriber_fdw;
CREATE SERVER sim FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'acme');
CREATE USER MAPPING FOR PUBLIC SERVER sim
  OPTIONS (username 'sim', password 'sim-secret');
CREATE SCHEMA api;
IMPORT FOREIGN SCHEMA api FROM SERVER sim INTO api;
SQL

"$work/params" "dbname=$db"
