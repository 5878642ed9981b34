#!/usr/bin/python3
"""subscriber_fdw through psqlODBC, as Excel and Power BI reach it.

Usage: /usr/bin/python3 test/client/odbc_client.py CONNECTION_STRING COLUMNS

CONNECTION_STRING is a DSN-less ODBC connection string naming the psqlODBC
driver (psqlodbcw.so) and a database that test/client/setup.sh prepared;
COLUMNS is the file test/client/columns.txt.  Runs with Debian's
python3-pyodbc over unixODBC (hence /usr/bin/python3).  Prints TAP; exits 1
if a test fails.

Expected values come from the simulator's formulas: customer
cccccccc-0000-4000-8000-NNNNNNNNNNNN has N subscribers, the largest ICCID
being "8935711" + the last 6 of the 12 digits + "%07d" % (N - 1).
"""
import sys

import pyodbc

from tap import finish, ok

SQL = "SELECT count(*), max(iccid) FROM api.customer_subscribers WHERE customer_id = ?"
UNKNOWN = "dddddddd-0000-4000-8000-000000000001"


def customer(n):
    return "cccccccc-0000-4000-8000-%012d" % n


def want(n):
    return (n, "8935711" + ("%012d" % n)[6:] + "%07d" % (n - 1))


def sqlstate(cur, sql, param):
    try:
        cur.execute(sql, param)
        cur.fetchall()
        return "none"
    except pyodbc.Error as e:
        return e.args[0]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: odbc_client.py CONNECTION_STRING COLUMNS")
    with open(sys.argv[2]) as f:
        columns = [line.split() for line in f if line.strip() and not line.startswith("#")]
    print("1..7")
    conn = pyodbc.connect(sys.argv[1], autocommit=True)
    cur = conn.cursor()

    wrong = []
    for run, n in enumerate((3, 10, 25, 7, 120, 3, 10)):
        cur.execute(SQL, customer(n))
        got = tuple(cur.fetchone())
        if got != want(n):
            wrong.append("run %d: got %s, want %s" % (run + 1, got, want(n)))
    ok(not wrong, "a SELECT with a ? parameter, 7 executions", "\n".join(wrong))

    got = [(r.table_name, r.table_type) for r in cur.tables(schema="api")]
    expected = [(t, "FOREIGN TABLE") for t in ("customer_subscribers", "subscriber_details", "subscriber_sessions")]
    ok(got == expected, "SQLTables lists the three foreign tables of schema api", "got %s" % got)
    for table in ("customer_subscribers", "subscriber_details", "subscriber_sessions"):
        got = [(r.column_name, r.type_name) for r in cur.columns(schema="api", table=table)]
        expected = [(c[1], c[2]) for c in columns if c[0] == table]
        ok(got == expected, "SQLColumns of %s: %d columns, names and types" % (table, len(expected)),
           "got  %s\nwant %s" % (got, expected))

    state = sqlstate(cur, SQL, UNKNOWN)
    cur.execute(SQL, customer(4))
    got = tuple(cur.fetchone())
    ok(state == "42704" and got == want(4), "an unknown customer fails with 42704; the connection works after",
       "failure %s, next %s" % (state, got))

    conn.autocommit = False
    cur.execute(SQL, customer(5))
    cur.fetchall()
    state = sqlstate(cur, SQL, UNKNOWN)
    conn.rollback()
    cur.execute(SQL, customer(6))
    got = tuple(cur.fetchone())
    conn.commit()
    ok(state == "42704" and got == want(6),
       "in a transaction, the failure and rollback(); the next transaction works",
       "failure %s, next %s" % (state, got))
    conn.close()
    finish()


if __name__ == "__main__":
    main()
