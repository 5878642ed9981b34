#!/usr/bin/env bash
# A real client on the extended query protocol: compiles test/client/params.c
# against libpq and runs it against the cluster and simulator of the
# environment (PGHOST, PGPORT, PGUSER and SIM_URL, as test/cluster.sh exports
# them).  It sets up its own database, client_test, as the driver tests do
# (test/client/setup.sh), and drops it afterwards.
# Prints TAP; exits non-zero if a test fails.
#
#   bash test/client.sh
set -euo pipefail

: "${SIM_URL:?SIM_URL must name the running simulator}"
: "${PGPORT:?PGPORT must name the running cluster}"

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/test/client/setup.sh"
work=$(mktemp -d /tmp/subscriber_fdw_client.XXXXXX)
db=client_test

cleanup() {
	psql -q -X -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

gcc -std=gnu99 -Wall -Wextra -O1 -o "$work/params" "$root/test/client/params.c" \
	-I"$(pg_config --includedir)" -L"$(pg_config --libdir)" -lpq

# the database of every driver test (test/client/setup.sh); its exit trap
# drops the database, this one also removes the compiled client
sf_client_db "$db" client
trap cleanup EXIT

"$work/params" "dbname=$db"
