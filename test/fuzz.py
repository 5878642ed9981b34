#!/usr/bin/python3
"""Fuzz run: thousands of mutated and truncated response bodies served to the
FDW through real queries on all three tables.

The simulator's fault body=fuzz,seed=N mutates each response it would have
sent, deterministically from N (bit flips, inserted and deleted bytes,
truncation, swapped brackets, quotes, commas and colons, huge numbers, deep
nesting, duplicated spans, values of other JSON types; see fuzz_body() in
test/simulator.py).  One foreign server points at the fault spec; before each
query its base_url is set to the next seed.  Every query must return rows or
raise a clean error (not XX000-class "internal error", not 58xxx, not an
error without a message); the backend must not crash: after each batch
SELECT 1 must work in the same and in a new session, and the server log must
not say "terminated by signal" or "PANIC".

Uses the running cluster of the environment (PGHOST, PGPORT, PGUSER) and the
simulator at SIM_URL.  Prints the count of queries and bodies, the outcomes by
SQLSTATE, and exits non-zero on a crash or an unclean error.  A failing seed
can be replayed: ALTER SERVER ... base_url '<SIM_URL>/_fault/body=fuzz,seed=N'.

  python3 test/fuzz.py [--queries 10000] [--first-seed 1] [--batch 250]
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import time
import urllib.request

DB = "sf_fuzz_test"

# seed % len(QUERIES) picks the query; {t} is the foreign table
QUERIES = [
    ("customer_subscribers", "customer_id = 'cccccccc-0000-4000-8000-000000000003'"),
    ("subscriber_details", "customer_id = 'cccccccc-0000-4000-8000-000000000020'"),
    ("subscriber_sessions", "msisdn = '3531234567'"),
    ("customer_subscribers", "customer_id = 'cccccccc-0000-4000-8000-000000000020'"),
    ("subscriber_details", "customer_id = 'cccccccc-0000-4000-8000-000000000003'"),
    ("subscriber_sessions", "msisdn = '3531234561'"),
]


def psql(sql, db=DB, check=True):
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db],
                       input=sql, text=True, capture_output=True)
    if check and p.returncode != 0:
        raise RuntimeError("psql failed (%d): %s" % (p.returncode, p.stderr.strip()))
    return p


def server_log_path():
    if os.environ.get("SF_PGLOG"):
        return os.environ["SF_PGLOG"]
    cur = psql("SELECT pg_current_logfile()", db="postgres").stdout.strip()
    ddir = psql("SHOW data_directory", db="postgres").stdout.strip()
    if cur:
        return cur if cur.startswith("/") else os.path.join(ddir, cur)
    return os.path.join(os.path.dirname(ddir), "postgres.log")


SETUP = r"""
SET client_min_messages = warning;
CREATE EXTENSION subscriber_fdw;
CREATE SERVER fz FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url '%(url)s', tenant 'acme', max_retries '0', request_timeout '5', fetch_size '7');
CREATE USER MAPPING FOR PUBLIC SERVER fz OPTIONS (username 'sim', password 'sim-secret');
IMPORT FOREIGN SCHEMA api FROM SERVER fz INTO public;
CREATE TYPE fuzz_outcome AS (seed int, state text, message text);
-- Runs one query per seed; every column of every row is converted.
CREATE FUNCTION fuzz_batch(first int, n int, sim text, run text, queries text[])
RETURNS SETOF fuzz_outcome LANGUAGE plpgsql AS $$
DECLARE
  s int; rows bigint; st text; msg text;
BEGIN
  FOR s IN first .. first + n - 1 LOOP
    EXECUTE format('ALTER SERVER fz OPTIONS (SET base_url %%L)',
                   sim || '/_fault/body=fuzz,seed=' || s || ',id=' || run);
    BEGIN
      EXECUTE 'SELECT count(*) FROM (' || queries[1 + s %% array_length(queries, 1)] ||
              ') t WHERE t::text IS NOT NULL' INTO rows;
      RETURN NEXT (s, 'rows', rows::text)::fuzz_outcome;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      RETURN NEXT (s, st, msg)::fuzz_outcome;
    END;
  END LOOP;
END $$;
"""


def sql_array(items):
    return "ARRAY[%s]" % ",".join("$q$%s$q$" % x for x in items)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=250)
    args = ap.parse_args()
    sim = os.environ.get("SIM_URL")
    if not sim:
        print("SIM_URL must name the running simulator", file=sys.stderr)
        return 2
    run = "fuzz-%d-%d" % (os.getpid(), int(time.time()))
    log_path = server_log_path()
    log_start = os.path.getsize(log_path) if os.path.exists(log_path) else None

    psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres", check=False)
    psql("CREATE DATABASE %s" % DB, db="postgres")
    psql(SETUP % {"url": sim})
    queries = sql_array("SELECT * FROM %s WHERE %s" % q for q in QUERIES)

    t0 = time.time()
    states = collections.Counter()
    rows_by_query = collections.Counter()
    example = {}
    unclean = []
    crashes = []
    done = 0
    seed = args.first_seed
    while done < args.queries:
        n = min(args.batch, args.queries - done)
        p = psql("SET statement_timeout = '300s';\n"
                 "SELECT seed, state, replace(coalesce(message, ''), E'\\n', ' ') "
                 "FROM fuzz_batch(%d, %d, $s$%s$s$, '%s', %s);\nSELECT 'alive';\n"
                 % (seed, n, sim, run, queries), check=False)
        lines = p.stdout.splitlines()
        if p.returncode != 0 or not lines or lines[-1] != "alive":
            crashes.append("batch from seed %d: psql exit %d: %s" % (seed, p.returncode, p.stderr.strip()[-500:]))
        for line in lines[:-1]:
            s, state, msg = line.split("|", 2)
            states[state] += 1
            example.setdefault(state, (int(s), msg))
            if state == "rows":
                rows_by_query[QUERIES[int(s) % len(QUERIES)][0]] += 1
            elif state.startswith("XX") or state.startswith("58") or not msg.strip():
                unclean.append((int(s), state, msg))
        # the server still serves, in a new session
        q = psql("SELECT 1", check=False)
        if q.returncode != 0 or q.stdout.strip() != "1":
            crashes.append("SELECT 1 after the batch from seed %d failed: %s" % (seed, q.stderr.strip()))
        done += n
        seed += n

    elapsed = time.time() - t0
    with urllib.request.urlopen(sim + "/_sim/log?path_contains=" + run) as r:
        bodies = sum(1 for e in json.load(r) if e["status"] != 0)
    if log_start is not None:
        with open(log_path, "rb") as f:
            f.seek(log_start)
            text = f.read().decode("utf-8", "replace")
        for line in text.splitlines():
            if "terminated by signal" in line or "PANIC" in line or "was terminated by" in line:
                crashes.append("server log: " + line.strip())
    else:
        crashes.append("server log not found at %s" % log_path)
    psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres", check=False)

    print("fuzz: %d queries (seeds %d..%d) over %d mutated response bodies in %.1f s"
          % (done, args.first_seed, seed - 1, bodies, elapsed))
    print("outcomes (SQLSTATE, count, first seed and message):")
    for state, count in sorted(states.items(), key=lambda kv: (-kv[1], kv[0])):
        s, msg = example[state]
        print("  %-6s %6d  seed %d: %s" % (state, count, s, msg[:100] if state != "rows" else msg + " rows"))
    print("queries that returned rows, by table: %s"
          % ", ".join("%s %d" % kv for kv in sorted(rows_by_query.items())))
    for s, state, msg in unclean[:20]:
        print("UNCLEAN seed %d: %s %s" % (s, state, msg))
    for c in crashes[:20]:
        print("CRASH " + c)
    ok = not crashes and not unclean and sum(states.values()) == done and bodies >= done
    print("fuzz: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
