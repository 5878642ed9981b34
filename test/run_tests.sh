#!/usr/bin/env bash
# Runs every test of subscriber_fdw: the pg_regress suite (make installcheck)
# and the pgTAP suite (pg_prove), against the bundled API simulator, on a
# throw-away cluster, and the tests of shared limits on a second one that
# preloads the library.  Installs missing Debian packages when run as root.
#
#   bash test/run_tests.sh
#
# Set SF_KEEP_TMP=1 to keep the cluster's directory and logs for a look.
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

sf_start_all
cd "$SF_ROOT"

regress_status=0
sf_log "pg_regress: make installcheck"
make -s installcheck || regress_status=$?
if [ "$regress_status" != 0 ] && [ -f regression.diffs ]; then
	cat regression.diffs
fi

sf_log "pgTAP: pg_prove"
psql -q -X -c "DROP DATABASE IF EXISTS tap" -c "CREATE DATABASE tap" >/dev/null
pgtap_status=0
PGDATABASE=tap pg_prove --ext .sql -r test/pgtap || pgtap_status=$?

# shell tests that need more than SQL: a libpq client, the real drivers of
# BI tools (pgjdbc, psycopg2, psqlODBC), TLS, secrets in the server log,
# cancel and termination from outside, error paths, a LATIN1 database,
# limits and paused cursors against the simulator's log; each prints TAP
sf_log "shell tests: prove"
shell_status=0
SF_PGLOG="$SF_TMP/postgres.log" prove --exec bash \
	test/client.sh test/pgjdbc.sh test/psycopg2.sh test/odbc.sh \
	test/tls.sh test/secrets.sh test/cancel.sh test/error_paths.sh test/encoding.sh \
	test/limits.sh || shell_status=$?

# the limits shared by the sessions of an instance, on a second cluster
# that preloads the library (the main one does not: session scope)
sf_log "shell tests on a cluster with shared_preload_libraries: prove"
sf_start_preloaded_cluster
PGPORT=$PRELOAD_PGPORT prove --exec bash test/shared_limits.sh || shell_status=$?

# a short fuzz run on every test run; the long one is in the README
sf_log "fuzz: 3000 mutated bodies"
fuzz_status=0
python3 test/fuzz.py --queries 3000 --batch 500 || fuzz_status=$?

sf_log "simulator self-test"
sim_status=0
python3 test/sim_selftest.py || sim_status=$?

sf_log "exit codes: pg_regress $regress_status, pg_prove $pgtap_status, prove $shell_status, fuzz $fuzz_status, simulator $sim_status"
[ "$regress_status" = 0 ] && [ "$pgtap_status" = 0 ] && [ "$shell_status" = 0 ] &&
	[ "$fuzz_status" = 0 ] && [ "$sim_status" = 0 ]
