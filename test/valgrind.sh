#!/usr/bin/env bash
# Runs the pg_regress suite with every backend under valgrind's memcheck and
# fails if an error report involves subscriber_fdw's code (or libcurl and
# json-c called from it).  Slow: minutes, not seconds.
#
#   bash test/valgrind.sh [test ...]      (default: the whole REGRESS list)
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

SF_VALGRIND_LOGS=$(mktemp -d /tmp/subscriber_fdw_valgrind.XXXXXX)
chmod 777 "$SF_VALGRIND_LOGS"
export SF_PG_WRAPPER="valgrind --quiet --trace-children=yes --track-origins=yes \
--leak-check=no --read-var-info=no --num-callers=30 \
--log-file=$SF_VALGRIND_LOGS/%p.log"
sf_start_all
cd "$SF_ROOT"

tests=${*:-$(sed -n 's/^REGRESS = //p' Makefile)}
status=0
"$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress" \
	--inputdir=. --outputdir="$SF_TMP/valgrind-out" --bindir="$(pg_config --bindir)" \
	--load-extension=subscriber_fdw --dbname=valgrind_regression $tests || status=$?

# an error report is a block that starts with "==pid== <text>" after a blank
# "==pid== " line; keep the blocks that mention our code
reports=$(cat "$SF_VALGRIND_LOGS"/*.log 2>/dev/null |
	awk '/^==[0-9]+== $/ { if (block ~ /subscriber_fdw/) print block; block = ""; next }
	     { block = block "\n" $0 }
	     END { if (block ~ /subscriber_fdw/) print block }')
logs=$(ls "$SF_VALGRIND_LOGS" | wc -l)
if [ -n "$reports" ]; then
	echo "$reports"
	echo "valgrind: errors involving subscriber_fdw in $SF_VALGRIND_LOGS ($logs backend logs)"
	exit 1
fi
# timings differ under valgrind, so diffs are reported but only memory errors fail
echo "valgrind: no error involving subscriber_fdw in $logs backend logs (pg_regress exit $status)"
rm -rf "$SF_VALGRIND_LOGS"
