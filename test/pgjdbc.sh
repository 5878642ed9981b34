#!/usr/bin/env bash
# pgjdbc, the driver of Metabase, Tableau and DBeaver: runs the single-file
# program test/client/JdbcClient.java (no compiler step) against the cluster
# and simulator of the environment (PGHOST, PGPORT, PGUSER and SIM_URL, as
# test/cluster.sh exports them), on its own database made by
# test/client/setup.sh.  Server-side prepared statements past pgjdbc's
# prepareThreshold, = ANY(?) with arrays, result sets read with setFetchSize
# and pauses longer than request_timeout, getTables/getColumns, and error
# recovery.  Prints TAP; exits non-zero if a test fails.
#
#   bash test/pgjdbc.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/test/client/setup.sh"

sf_client_db sf_pgjdbc_test pgjdbc
java -cp /usr/share/java/postgresql.jar "$root/test/client/JdbcClient.java" \
	"jdbc:postgresql://$PGHOST:$PGPORT/sf_pgjdbc_test?user=$PGUSER&ApplicationName=subscriber_fdw+pgjdbc+test" \
	"$SIM_URL" "$root/test/client/columns.txt" pgjdbc
