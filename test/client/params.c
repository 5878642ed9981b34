/*
 * params.c: a client of subscriber_fdw that talks like a BI tool.
 *
 * It uses libpq's extended query protocol: named statements prepared once
 * (PQprepare) and executed many times on one connection (PQexecPrepared)
 * with the customer id sent as a text-format parameter.  After five
 * executions PostgreSQL's plan cache may switch a statement to its generic
 * plan, in which the key is the parameter $1, so each statement runs ten
 * times and the test checks that the generic plan was used and gave the
 * right answers.  Expected values come from the simulator's formulas:
 * customer cccccccc-0000-4000-8000-NNNNNNNNNNNN has N subscribers, and the
 * ICCID of subscriber i is "8935711" + the last 6 digits of N + i in 7 digits.
 *
 * Usage: params CONNINFO   (prints TAP; exits 1 if any test fails)
 * The database must hold schema "api" imported from a server on the
 * simulator (test/client.sh sets it up).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpq-fe.h"

#define RUNS 10

static int	test_number = 0;
static int	failures = 0;

/* Prints text as TAP diagnostics, every line behind "#". */
static void
diag(const char *text)
{
	const char *p = text;

	while (*p)
	{
		size_t		len = strcspn(p, "\n");

		printf("#   %.*s\n", (int) len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
}

static void
report(int ok, const char *fmt, const char *detail, const char *name)
{
	test_number++;
	if (!ok)
		failures++;
	printf("%s %d - ", ok ? "ok" : "not ok", test_number);
	printf(fmt, name);
	printf("\n");
	if (!ok && detail != NULL)
		diag(detail);
	fflush(stdout);
}

static void
customer_id(char *buf, size_t size, long n)
{
	snprintf(buf, size, "cccccccc-0000-4000-8000-%012ld", n);
}

static void
expected_max_iccid(char *buf, size_t size, long n)
{
	char		digits[13];

	snprintf(digits, sizeof(digits), "%012ld", n);
	snprintf(buf, size, "8935711%s%07ld", digits + 6, n - 1);
}

/*
 * Runs a prepared statement with one text parameter (NULL for SQL NULL) and
 * checks its single row: the count of subscribers and the largest ICCID.
 */
static void
check_run(PGconn *conn, const char *statement, const char *param,
		  long want_count, const char *want_iccid, const char *name)
{
	const char *values[1] = {param};
	int			formats[1] = {0};	/* text */
	PGresult   *res = PQexecPrepared(conn, statement, 1, values, NULL, formats, 0);
	char		detail[512];
	int			ok = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		snprintf(detail, sizeof(detail), "error: %s", PQresultErrorMessage(res));
	else if (PQntuples(res) != 1 || PQnfields(res) != 2)
		snprintf(detail, sizeof(detail), "got %d rows of %d columns", PQntuples(res), PQnfields(res));
	else
	{
		long		count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		const char *iccid = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);

		ok = count == want_count &&
			((want_iccid == NULL && iccid == NULL) ||
			 (want_iccid != NULL && iccid != NULL && strcmp(iccid, want_iccid) == 0));
		snprintf(detail, sizeof(detail), "got count %ld, max iccid %s; want %ld, %s",
				 count, iccid ? iccid : "NULL", want_count, want_iccid ? want_iccid : "NULL");
	}
	report(ok, "%s", detail, name);
	PQclear(res);
}

static void
prepare(PGconn *conn, const char *statement, const char *sql, int nparams,
		const Oid *types)
{
	PGresult   *res = PQprepare(conn, statement, sql, nparams, types);

	report(PQresultStatus(res) == PGRES_COMMAND_OK, "prepare %s",
		   PQresultErrorMessage(res), statement);
	PQclear(res);
}

/* Checks in pg_prepared_statements that a statement ran its generic plan. */
static void
check_generic(PGconn *conn, const char *statement)
{
	const char *values[1] = {statement};
	PGresult   *res = PQexecParams(conn,
								   "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1",
								   1, NULL, values, NULL, NULL, 0);
	char		detail[256] = "statement not found";
	int			ok = 0;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
	{
		long		generic = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		long		custom = strtol(PQgetvalue(res, 0, 1), NULL, 10);

		ok = generic >= RUNS - 5 && generic + custom >= RUNS;
		snprintf(detail, sizeof(detail), "generic plans %ld, custom plans %ld", generic, custom);
	}
	else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		snprintf(detail, sizeof(detail), "error: %s", PQresultErrorMessage(res));
	report(ok, "%s used its generic plan", detail, statement);
	PQclear(res);
}

int
main(int argc, char **argv)
{
	/*
	 * The customers the runs of the first statement cycle through, N
	 * subscribers each; the second statement's have one more, so that their
	 * sizes are new to the session: for customers whose sizes it knows,
	 * custom plans would estimate better than the generic plan and stay.
	 */
	static const long customers[] = {3, 10, 25, 7, 120};
	const int	ncustomers = sizeof(customers) / sizeof(customers[0]);
	const char *sql = "SELECT count(*), max(iccid) FROM api.customer_subscribers WHERE customer_id = $1";
	const char *sql_text = "SELECT count(*), max(iccid) FROM api.customer_subscribers WHERE customer_id = CAST($1 AS uuid)";
	const Oid	text_type[1] = {25};	/* text */
	PGconn	   *conn;
	PGresult   *res;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s CONNINFO\n", argv[0]);
		return 2;
	}
	/* 2 prepares, 2 x RUNS runs, 2 generic-plan checks, 1 NULL key */
	printf("1..%d\n", 2 + 2 * RUNS + 2 + 1);

	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		printf("Bail out! cannot connect\n");
		diag(PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	res = PQexec(conn, "SET application_name = 'subscriber_fdw client test'");
	PQclear(res);

	/* the parameter's type left to the server (uuid), as most drivers do */
	prepare(conn, "subscribers_by_customer", sql, 1, NULL);
	/* a parameter declared text, cast in SQL, as some BI tools send it */
	prepare(conn, "subscribers_by_customer_text", sql_text, 1, text_type);

	for (int s = 0; s < 2; s++)
	{
		const char *statement = s == 0 ? "subscribers_by_customer" : "subscribers_by_customer_text";

		for (int run = 0; run < RUNS; run++)
		{
			long		n = customers[run % ncustomers] + s;
			char		id[64];
			char		iccid[64];
			char		name[256];

			customer_id(id, sizeof(id), n);
			expected_max_iccid(iccid, sizeof(iccid), n);
			snprintf(name, sizeof(name), "%s run %d: customer ...%012ld has %ld subscribers, max iccid %s",
					 statement, run + 1, n, n, iccid);
			check_run(conn, statement, id, n, iccid, name);
		}
		check_generic(conn, statement);
	}

	/* a NULL key sends nothing and matches nothing, also on the generic plan */
	check_run(conn, "subscribers_by_customer", NULL, 0, NULL,
			  "subscribers_by_customer with a NULL customer: no rows counted");

	PQfinish(conn);
	if (failures > 0)
		printf("# %d of %d tests failed\n", failures, test_number);
	return failures > 0 ? 1 : 0;
}
