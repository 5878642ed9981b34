#!/usr/bin/env bash
# psqlODBC over unixODBC, the driver of Excel and Power BI: runs
# test/client/odbc_client.py with Debian's python3-pyodbc and
# odbc-postgresql, on a DSN-less connection string, against the cluster and
# simulator of the environment (PGHOST, PGPORT, PGUSER and SIM_URL, as
# test/cluster.sh exports them), on its own database made by
# test/client/setup.sh.  A parameterized SELECT run several times,
# SQLTables/SQLColumns, and error recovery.  Prints TAP; exits non-zero if
# a test fails.
#
#   bash test/odbc.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/test/client/setup.sh"

driver=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so
sf_client_db sf_odbc_test odbc
/usr/bin/python3 "$root/test/client/odbc_client.py" \
	"Driver=$driver;Server=$PGHOST;Port=$PGPORT;Database=sf_odbc_test;Uid=$PGUSER;Pwd=;" \
	"$root/test/client/columns.txt"
