#!/usr/bin/python3
"""subscriber_fdw through psycopg2, as Superset and pandas reach it.

Usage: /usr/bin/python3 test/client/psycopg2_client.py DSN SIM_URL COLUMNS TAG

DSN names a database that test/client/setup.sh prepared (schemas "api" and
"paused"), SIM_URL the simulator, COLUMNS the file test/client/columns.txt,
TAG the id= of the "paused" server's base URL.  Runs with Debian's
python3-psycopg2 (hence /usr/bin/python3).  Prints TAP; exits 1 if a test
fails.

Expected values come from the simulator's formulas (see test/simulator.py):
customer cccccccc-0000-4000-8000-NNNNNNNNNNNN has N subscribers; subscriber i
has status STATUSES[i % 4] and imeisv "35430611%07d01" % i; msisdn ...d has
d % 4 sessions.
"""
import json
import re
import sys
import time
import urllib.request
import uuid

import psycopg2
import psycopg2.errors
import psycopg2.extras

from tap import finish, ok

STATUSES = ("ACTIVE", "SUSPEND", "INACTIVE", "TERMINATED")
RUNS = 12           # PREPAREd statements: 5 custom plans, then generic ones
CURSOR_ROWS = 50000
PAUSE = 3.0         # seconds, longer than the paused server's request_timeout (2)



def customer(n):
    return uuid.UUID("cccccccc-0000-4000-8000-%012d" % n)


def subscriber_id(n, i):
    s = "%012d" % n
    return "%08x-%s-4%s-a%s-%s0000000000" % (i, s[0:4], s[4:7], s[7:10], s[10:12])


def sim_log(sim_url, tag, since=0):
    url = "%s/_sim/log?since=%d&path_contains=id=%s" % (sim_url, since, tag)
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def check_generic(cur, name, label):
    cur.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s", (name,))
    row = cur.fetchone()
    ok(row is not None and row[0] >= 1 and row[0] + row[1] == RUNS,
       "%s: EXECUTE ran the generic plan after the 5th" % label,
       "generic plans, custom plans: %s" % (row,))


def prepared_statements(conn):
    # customers new to the session on every run: for a customer whose size
    # the session has seen, the custom plan is estimated better than the
    # generic one and the plan cache rightly keeps it
    first = {"subs": 130, "details": 150}
    cur = conn.cursor()
    cur.execute("PREPARE subs (uuid) AS SELECT count(*), max(iccid)"
                " FROM api.customer_subscribers WHERE customer_id = $1")
    cur.execute("PREPARE details (uuid) AS SELECT count(*), max(imeisv)"
                " FROM api.subscriber_details WHERE customer_id = $1")
    cur.execute("PREPARE sessions (text) AS SELECT count(*), max(session_id)"
                " FROM api.subscriber_sessions WHERE msisdn = $1")
    for name, want_of in (
            ("subs", lambda n: (n, "8935711" + ("%012d" % n)[6:] + "%07d" % (n - 1))),
            ("details", lambda n: (n, "35430611%07d01" % (n - 1)))):
        wrong = []
        for run in range(RUNS):
            n = first[name] + run
            cur.execute("EXECUTE " + name + " (%s)", (str(customer(n)),))
            got = cur.fetchone()
            if got != want_of(n):
                wrong.append("run %d: got %s, want %s" % (run + 1, got, want_of(n)))
        ok(not wrong, "%s: %d EXECUTEs of a PREPAREd statement" % (name, RUNS), "\n".join(wrong))
        check_generic(cur, name, name)
    wrong = []
    for run in range(RUNS):
        msisdn = "99123456%03d" % run
        n = int(msisdn[-1]) % 4
        want = (n, "sess-%s-%d" % (msisdn, n - 1) if n else None)
        cur.execute("EXECUTE sessions (%s)", (msisdn,))
        got = cur.fetchone()
        if got != want:
            wrong.append("%s: got %s, want %s" % (msisdn, got, want))
    ok(not wrong, "sessions: %d EXECUTEs of a PREPAREd statement" % RUNS, "\n".join(wrong))
    check_generic(cur, "sessions", "sessions")
    cur.execute("DEALLOCATE ALL")
    conn.commit()


def arrays(conn):
    """Python lists adapted by psycopg2 to ARRAY[...] for = ANY(%s)."""
    cur = conn.cursor()
    wrong = []
    for run in range(6):
        sizes = (1 + run, 11 + run, 101 + run)
        keys = [customer(sizes[2]), customer(sizes[0]), customer(sizes[1]), customer(sizes[0])]
        cur.execute("SELECT customer_id, count(*) FROM api.customer_subscribers"
                    " WHERE customer_id = ANY(%s) GROUP BY 1 ORDER BY 1", (keys,))
        got = cur.fetchall()
        want = [(customer(n), n) for n in sizes]
        if got != want:
            wrong.append("run %d: got %s, want %s" % (run + 1, got, want))
    ok(not wrong, "customer_id = ANY(%s) with a list of uuid.UUID, 6 queries", "\n".join(wrong))
    cur.execute("SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = ANY(%s)",
                (["99000000001", "99000000003", "40400000002"],))
    got = cur.fetchone()[0]
    ok(got == 4, "msisdn = ANY(%s) with a list of str: 1 + 3 + 0 sessions", "got %s" % got)
    conn.commit()


def paused_cursor(conn, sim_url, tag, table, rows, pause_at):
    """A named (server-side) cursor read itersize rows at a time, with pauses
    longer than request_timeout; then the simulator's log: every record sent
    once, no chunk or page asked twice."""
    name = "%s: %d rows through a named cursor, itersize 1000, %d pause(s) of %d s" % (
        table, rows, len(pause_at), PAUSE)
    since = max([e["seq"] for e in sim_log(sim_url, tag)] or [0])
    count = 0
    first_wrong = None
    error = None
    try:
        cur = conn.cursor(name="paused_" + table)
        cur.itersize = 1000
        cur.execute("SELECT subscriber_id, status FROM paused." + table + " WHERE customer_id = %s",
                    (str(customer(rows)),))
        for sid, status in cur:
            if first_wrong is None and (str(sid) != subscriber_id(rows, count) or status != STATUSES[count % 4]):
                first_wrong = "row %d: %s %s" % (count, sid, status)
            count += 1
            if count in pause_at:
                time.sleep(PAUSE)
        cur.close()
        conn.commit()
    except psycopg2.Error as e:
        error = "%s: %s" % (e.pgcode, e)
        conn.rollback()
    ok(error is None and count == rows and first_wrong is None, name,
       "after %d rows: %s" % (count, error) if error else "rows %d, first wrong %s" % (count, first_wrong))

    digits = "%012d" % rows
    asked = set()
    twice = []
    records = 0
    requests = 0
    for e in sim_log(sim_url, tag, since):
        if digits not in e["path"]:
            continue
        requests += 1
        if table == "subscriber_details":
            chunk = json.loads(e["body"]).get("pitId") if e["body"] else "?"
        else:
            m = re.search(r"[?&]page=(\d+)", e["path"])
            chunk = m.group(1) if m else "?"
        if chunk in asked:
            twice.append(chunk)
        asked.add(chunk)
        if e["status"] == 200:
            records += e["records"]
    ok(requests > 1 and records == rows and not twice,
       "%s: the simulator sent each record once and was asked for no chunk twice" % table,
       "%d requests, %d records sent, asked twice: %s" % (requests, records, twice))


def metadata(conn, columns):
    """What BI tools read before a query: the catalog, and a result's description."""
    cur = conn.cursor()
    cur.execute("SELECT table_name, table_type FROM information_schema.tables"
                " WHERE table_schema = 'api' ORDER BY 1")
    got = cur.fetchall()
    want = [(t, "FOREIGN") for t in ("customer_subscribers", "subscriber_details", "subscriber_sessions")]
    ok(got == want, "information_schema.tables lists the three foreign tables", "got %s" % got)
    cur.execute("SELECT typname, oid FROM pg_type WHERE typname = ANY(%s)",
                (sorted({c[2] for c in columns}),))
    type_oid = dict(cur.fetchall())
    keys = {"customer_subscribers": customer(2), "subscriber_details": customer(2),
            "subscriber_sessions": "99000000001"}
    for table, key in keys.items():
        want = [(c[1], c[2]) for c in columns if c[0] == table]
        cur.execute("SELECT column_name, udt_name FROM information_schema.columns"
                    " WHERE table_schema = 'api' AND table_name = %s ORDER BY ordinal_position", (table,))
        got = cur.fetchall()
        ok(got == want, "information_schema.columns of %s: %d columns, names and types" % (table, len(want)),
           "got  %s\nwant %s" % (got, want))
        cur.execute("SELECT * FROM api.%s WHERE %s = %%s" % (table, want[0][0]), (str(key),))
        got = [(d.name, d.type_code) for d in cur.description]
        want_codes = [(name, type_oid[typ]) for name, typ in want]
        ok(got == want_codes and cur.rowcount >= 1,
           "cursor.description of SELECT * FROM %s: names and type OIDs" % table,
           "got  %s\nwant %s, rows %d" % (got, want_codes, cur.rowcount))
    conn.commit()


def error_recovery(conn):
    cur = conn.cursor()
    unknown = "dddddddd-0000-4000-8000-000000000001"
    sql = "SELECT count(*) FROM api.customer_subscribers WHERE customer_id = %s"
    try:
        cur.execute(sql, (unknown,))
        state = "none"
    except psycopg2.Error as e:
        state = e.pgcode
    conn.rollback()
    cur.execute(sql, (str(customer(4)),))
    got = cur.fetchone()[0]
    conn.commit()
    ok(state == "42704" and got == 4,
       "an unknown customer fails with 42704; after rollback() the connection works",
       "failure %s, next count %s" % (state, got))

    # a named cursor that fails when it is opened
    try:
        named = conn.cursor(name="failing")
        named.execute(sql, (unknown,))
        named.fetchall()
        state = "none"
    except psycopg2.Error as e:
        state = e.pgcode
    conn.rollback()
    cur.execute(sql, (str(customer(5)),))
    got = cur.fetchone()[0]
    conn.commit()
    ok(state == "42704" and got == 5, "a named cursor on an unknown customer fails; the connection works after",
       "failure %s, next count %s" % (state, got))

    # inside a transaction: back to a savepoint, the work before it kept
    cur.execute("CREATE TEMP TABLE kept (n int)")
    cur.execute("INSERT INTO kept VALUES (1)")
    cur.execute("SAVEPOINT before_api")
    try:
        cur.execute(sql, (unknown,))
        state = "none"
    except psycopg2.errors.UndefinedObject as e:
        state = e.pgcode
    cur.execute("ROLLBACK TO SAVEPOINT before_api")
    cur.execute(sql, (str(customer(6)),))
    got = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM kept")
    kept = cur.fetchone()[0]
    conn.commit()
    ok(state == "42704" and got == 6 and kept == 1,
       "in a transaction, ROLLBACK TO SAVEPOINT after the failure: the work before it is kept,"
       " the next query works", "failure %s, next count %s, rows kept %s" % (state, got, kept))


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: psycopg2_client.py DSN SIM_URL COLUMNS TAG")
    dsn, sim_url, columns_file, tag = sys.argv[1:]
    with open(columns_file) as f:
        columns = [line.split() for line in f if line.strip() and not line.startswith("#")]
    psycopg2.extras.register_uuid()
    print("1..22")
    conn = psycopg2.connect(dsn, application_name="subscriber_fdw psycopg2 test")
    prepared_statements(conn)
    arrays(conn)
    paused_cursor(conn, sim_url, tag, "subscriber_details", CURSOR_ROWS, (5500, 27500))
    paused_cursor(conn, sim_url, tag, "customer_subscribers", 20000, (5500,))
    metadata(conn, columns)
    error_recovery(conn)
    conn.close()
    finish()


if __name__ == "__main__":
    main()
