#!/usr/bin/env bash
# Soak: pgbench runs bench/soak.pgbench -- a mix of the three tables, normal
# reads plus reads against fault servers (503 retried, 500, malformed and
# truncated bodies, a lying Content-Length, 401, connection refused, an
# oversized body, a point in time that expires mid-scan; the errors are caught
# in SQL) -- with 8 clients and a fixed number of transactions each.  While it
# runs, the sum of VmRSS and of RssAnon of the pgbench backends and the sum of
# their open file descriptors are sampled; the samples taken during the first
# and the last thousand transactions are printed, and whether they are flat
# (the last within 10 % of the first).  Exits non-zero when they are not, or
# when a transaction failed.
#
#   bash bench/soak.sh
#
# Environment:
#   SOAK_CLIENTS=8             pgbench clients (one backend each)
#   SOAK_TX=1000               transactions per client
#   SOAK_INTERVAL=0.1          seconds between samples
# With PGHOST and SIM_URL set it uses that cluster and simulator; otherwise it
# starts both (test/cluster.sh) and removes them on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIENTS=${SOAK_CLIENTS:-8}
TX=${SOAK_TX:-1000}
INTERVAL=${SOAK_INTERVAL:-0.1}
DB=sf_soak
source "$ROOT/test/cluster.sh"

STARTED=""
if [ -z "${PGHOST:-}" ] || [ -z "${SIM_URL:-}" ]; then
	sf_start_all
	STARTED=1
fi
export PATH="$(pg_config --bindir):$PATH"
TOTAL=$((CLIENTS * TX))
WORK=$(mktemp -d /tmp/sf_soak.XXXXXX)
PGB_PID=""
soak_cleanup() {
	[ -n "$PGB_PID" ] && kill "$PGB_PID" 2>/dev/null
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$WORK"
	[ -n "$STARTED" ] && sf_cleanup
	return 0
}
trap soak_cleanup EXIT

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
RUN="soak-$$-$(date +%s)"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION subscriber_fdw;
CREATE FUNCTION mk(name text, spec text, opts text DEFAULT '') RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url %L, tenant ''acme'' %s)',
                 name, '$SIM_URL' || CASE WHEN spec = '' THEN '' ELSE '/_fault/' || spec || ',id=$RUN' END, opts);
  EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (username ''sim'', password ''sim-secret'')', name);
  EXECUTE format('CREATE SCHEMA %I', name);
  EXECUTE format('IMPORT FOREIGN SCHEMA api FROM SERVER %I INTO %I', name, name);
END \$\$;
SELECT mk('ok', '', ', fetch_size ''7''');
SELECT mk('f503', 'status=503', ', max_retries ''1''');
SELECT mk('f500', 'status=500');
SELECT mk('fmal', 'body=malformed', ', max_retries ''0''');
SELECT mk('ftrunc', 'body=truncated', ', max_retries ''0''');
SELECT mk('flie', 'body=lie_length', ', max_retries ''0''');
SELECT mk('f401', 'status=401');
SELECT mk('fbig', 'oversize=200000', ', max_response_size ''50000''');
SELECT mk('fexp', 'pit_expire_after=1', ', fetch_size ''5''');
SELECT mk('fnul', 'body=nul', ', max_retries ''0''');
CREATE SERVER fref FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://127.0.0.1:1', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER fref OPTIONS (username 'sim', password 'sim-secret');
CREATE SCHEMA fref;
IMPORT FOREIGN SCHEMA api FROM SERVER fref INTO fref;
CREATE SEQUENCE soak_tx;
CREATE TABLE soak_errors (state text PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
CREATE FUNCTION soak_step(r int) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE
  n bigint;
  faults text[] := ARRAY['f503', 'f500', 'fmal', 'ftrunc', 'flie', 'f401', 'fbig', 'fexp', 'fnul', 'fref'];
  f text;
BEGIN
  PERFORM nextval('soak_tx');
  IF r <= 30 THEN
    SELECT count(*) INTO n FROM ok.customer_subscribers t
     WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020' AND t::text IS NOT NULL;
  ELSIF r <= 55 THEN
    SELECT count(*) INTO n FROM ok.subscriber_details t
     WHERE customer_id = 'cccccccc-0000-4000-8000-000000000050' AND t::text IS NOT NULL;
  ELSIF r <= 70 THEN
    SELECT count(*) INTO n FROM ok.subscriber_sessions t
     WHERE msisdn IN ('3531234567', '3531234561', '3531234566', '4041234567') AND t::text IS NOT NULL;
  ELSIF r <= 76 THEN
    SELECT count(*) INTO n FROM ok.customer_subscribers c
      JOIN ok.subscriber_sessions s ON s.msisdn = c.active_msisdn
     WHERE c.customer_id = 'cccccccc-0000-4000-8000-000000000003';
  ELSE
    f := faults[1 + r % array_length(faults, 1)];
    BEGIN
      EXECUTE format('SELECT count(*) FROM %I.%I t WHERE %s AND t::text IS NOT NULL', f,
                     CASE r % 3 WHEN 0 THEN 'customer_subscribers' WHEN 1 THEN 'subscriber_details'
                                ELSE 'subscriber_sessions' END,
                     CASE r % 3 WHEN 2 THEN 'msisdn = ''3531234567'''
                                ELSE 'customer_id = ''cccccccc-0000-4000-8000-000000000020''' END)
        INTO n;
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO soak_errors VALUES (SQLSTATE, 1)
        ON CONFLICT (state) DO UPDATE SET n = soak_errors.n + 1;
      n := -1;
    END;
  END IF;
  RETURN n;
END \$\$;
SQL

echo "==> soak: $CLIENTS clients x $TX transactions = $TOTAL, bench/soak.pgbench against $SIM_URL" >&2
t0=$(date +%s.%N)
pgbench -n -c "$CLIENTS" -j "$CLIENTS" -t "$TX" -f "$ROOT/bench/soak.pgbench" "$DB" >"$WORK/pgbench.out" 2>&1 &
PGB_PID=$!
# The sampler: once the pgbench backends are up, every INTERVAL seconds one
# line "transactions VmRSS_kB RssAnon_kB fds" summed over those backends, the
# transaction count read from the sequence soak_step() advances, through one
# psql session kept open.
python3 - "$PGB_PID" "$DB" "$CLIENTS" "$INTERVAL" >"$WORK/samples" <<'PY'
import os, subprocess, sys, time
pgb, db, clients, interval = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
psql = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", db], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, text=True, bufsize=1)
def query(sql):
    psql.stdin.write(sql + ";\n\\echo END\n")
    out = []
    for line in psql.stdout:
        line = line.rstrip("\n")
        if line == "END":
            return out
        out.append(line)
def alive():   # pgbench runs (and is not a zombie waiting for the shell)
    try:
        with open("/proc/%d/stat" % pgb) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
pids = []
while alive() and len(pids) < clients:
    pids = [int(x) for x in query("SELECT pid FROM pg_stat_activity WHERE datname = '%s' "
                                  "AND application_name = 'pgbench'" % db) if x]
    time.sleep(0.05)
def status(pid):
    rss = anon = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1])
    return rss, anon, len(os.listdir("/proc/%d/fd" % pid))
while alive():
    tx = query("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM soak_tx")
    try:
        st = [status(p) for p in pids]
    except OSError:
        break   # a backend ended: the run is over
    print(tx[0] if tx else 0, sum(x[0] for x in st), sum(x[1] for x in st), sum(x[2] for x in st), flush=True)
    time.sleep(interval)
psql.stdin.close()
PY
wait "$PGB_PID" && rc=0 || rc=$?
PGB_PID=""
t1=$(date +%s.%N)

echo "pgbench (exit $rc):"
grep -E "number of transactions actually processed|number of failed|tps =|latency average" "$WORK/pgbench.out" | sed 's/^/  /'
echo "errors caught in soak_step, by SQLSTATE:"
psql -X -A -t -F ' ' -d "$DB" -c "SELECT '  ' || state, n FROM soak_errors ORDER BY n DESC"
awk -v a="$t0" -v b="$t1" -v n="$(wc -l <"$WORK/samples")" 'BEGIN { printf "elapsed: %.1f s, samples: %d\n", b - a, n }'

if python3 - "$WORK/samples" "$TOTAL" <<'PY'
import sys
rows = [tuple(int(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
total = int(sys.argv[2])
first = [r for r in rows if 0 < r[0] <= 1000]
last = [r for r in rows if r[0] > total - 1000]
print("samples: transactions done, VmRSS sum kB, RssAnon sum kB, open fds sum (8 backends)")
for name, win in (("first 1000", first), ("last 1000", last)):
    print("  %s:" % name)
    for r in win:
        print("    %6d  %8d  %8d  %5d" % r)
if not first or not last:
    print("flat: UNKNOWN (no samples in a window; raise SOAK_TX or lower SOAK_INTERVAL)")
    sys.exit(1)
# compare the end of the first window (after warm-up) with the end of the run
a, b = first[-1], last[-1]
verdict = True
for idx, label in ((1, "VmRSS"), (2, "RssAnon"), (3, "open fds")):
    ratio = b[idx] / a[idx] if a[idx] else float("inf")
    flat = ratio <= 1.10
    verdict &= flat
    print("%-8s %8d at tx %d -> %8d at tx %d: x%.3f  %s"
          % (label, a[idx], a[0], b[idx], b[0], ratio, "flat" if flat else "GROWS"))
print("flat within 10 %%: %s" % ("yes" if verdict else "NO"))
sys.exit(0 if verdict else 1)
PY
then flat=0; else flat=1; fi
[ "$rc" = 0 ] && [ "$flat" = 0 ]
