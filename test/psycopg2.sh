#!/usr/bin/env bash
# psycopg2, the driver of Superset and pandas: runs
# test/client/psycopg2_client.py with Debian's python3-psycopg2 against the
# cluster and simulator of the environment (PGHOST, PGPORT, PGUSER and
# SIM_URL, as test/cluster.sh exports them), on its own database made by
# test/client/setup.sh.  PREPARE/EXECUTE past the 5th execution, lists
# adapted to = ANY(%s), named cursors with itersize and pauses longer than
# request_timeout, catalog and cursor.description, and error recovery.
# Prints TAP; exits non-zero if a test fails.
#
#   bash test/psycopg2.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/test/client/setup.sh"

sf_client_db sf_psycopg2_test psycopg2
/usr/bin/python3 "$root/test/client/psycopg2_client.py" \
	"host=$PGHOST port=$PGPORT user=$PGUSER dbname=sf_psycopg2_test" \
	"$SIM_URL" "$root/test/client/columns.txt" psycopg2
