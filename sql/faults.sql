-- Faults (SPEC 5 and 6): the texts of the errors for each fault class of
-- the simulator, and that the session goes on working after each.  What the
-- simulator saw (requests, retries and their spacing, redirects not
-- followed), the rows a retry recovers and how fast statement_timeout acts
-- are asserted in test/pgtap/40_faults.sql.  Runs after "setup"
-- (server sim, schema api, and the helpers fault_server() and fault_show()).
\getenv sim_url SIM_URL
SET client_min_messages = warning;

-- the normal query that must work after every error
CREATE VIEW faults_normal AS
  SELECT subscriber_id, status FROM api.customer_subscribers
   WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';

------------------------------------------------------------------------
-- SPEC 6: "Transient failures (... 429, 502, 503, 504, GLOBAL_1001) are
-- retried up to max_retries times"; SPEC 4: "EXPLAIN ANALYZE adds the
-- number of requests, retries and bytes received"
------------------------------------------------------------------------
-- 503 twice, then 200
SELECT fault_server('f_retry_x', 'status=503,times=2', 'max_retries ''3''');
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM f_retry_x.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';

------------------------------------------------------------------------
-- SPEC 5: "a SQLSTATE that separates: connection failures, authentication
-- and permission failures (401, 403), a customer that does not exist
-- (CUSTOMER_1002), overload after retries (429, 503, GLOBAL_1001), and other
-- remote errors"; the error names "the remote code and message, the HTTP
-- method and path that was called"
------------------------------------------------------------------------
-- overload after retries: 503, 429, GLOBAL_1001
SELECT fault_server('f_503', 'status=503', 'max_retries ''1''');
SELECT * FROM fault_show($$SELECT * FROM f_503.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT fault_server('f_429', 'status=429', 'max_retries ''1''');
SELECT * FROM fault_show($$SELECT * FROM f_429.subscriber_sessions WHERE msisdn = '3531234567'$$);
SELECT fault_server('f_1001', 'error=GLOBAL_1001', 'max_retries ''1''');
SELECT * FROM fault_show($$SELECT * FROM f_1001.subscriber_details
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);

-- authentication, permission, other remote errors
SELECT fault_server('f_401', 'status=401');
SELECT * FROM fault_show($$SELECT * FROM f_401.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT fault_server('f_403', 'status=403');
SELECT * FROM fault_show($$SELECT * FROM f_403.subscriber_sessions WHERE msisdn = '3531234567'$$);
SELECT fault_server('f_500', 'status=500');
SELECT * FROM fault_show($$SELECT * FROM f_500.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT fault_server('f_1006', 'error=CUSTOMER_1006');
SELECT * FROM fault_show($$SELECT * FROM f_1006.subscriber_details
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
-- CUSTOMER_1002 on the point-in-time endpoint (on the paged one in
-- customer_subscribers)
SELECT * FROM fault_show($$SELECT * FROM api.subscriber_details
                           WHERE customer_id = '12345678-1234-4234-8234-123456789012'$$);
-- SPEC 6: "Redirects are not followed"
SELECT fault_server('f_redirect', 'redirect=1');
SELECT * FROM fault_show($$SELECT * FROM f_redirect.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);

-- SPEC 6: errors "leave the backend able to run the next query"; an error
-- not caught: psql shows it whole; the next query works
SELECT * FROM f_500.subscriber_sessions WHERE msisdn = '3531234567';
SELECT * FROM faults_normal ORDER BY 1;
-- the same inside a transaction block
BEGIN;
SELECT count(*) FROM faults_normal;
SELECT * FROM f_401.subscriber_details WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
ROLLBACK;
SELECT count(*) FROM faults_normal;

------------------------------------------------------------------------
-- SPEC 6, transport: refused, reset, timeout, low-speed abort; and SPEC 2:
-- a response larger than max_response_size "fails the request"
------------------------------------------------------------------------
CREATE SERVER f_refused FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:1', max_retries '2');
CREATE USER MAPPING FOR PUBLIC SERVER f_refused OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE f_refused_subs (customer_id uuid, status text)
  SERVER f_refused OPTIONS (resource 'customer_subscribers');
SELECT * FROM fault_show($$SELECT * FROM f_refused_subs
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT fault_server('f_reset', 'reset=1', 'max_retries ''1''');
SELECT * FROM fault_show($$SELECT * FROM f_reset.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT fault_server('f_slow', 'delay=2500', 'max_retries ''0'', request_timeout ''1''');
SELECT * FROM fault_show($$SELECT * FROM f_slow.subscriber_sessions WHERE msisdn = '3531234567'$$);
SELECT fault_server('f_trickle', 'trickle=200', 'max_retries ''0'', request_timeout ''8''');
SELECT * FROM fault_show($$SELECT * FROM f_trickle.subscriber_details
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT fault_server('f_big', 'oversize=100000', 'max_response_size ''20000''');
SELECT * FROM fault_show($$SELECT * FROM f_big.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT count(*) FROM faults_normal;

------------------------------------------------------------------------
-- SPEC 5: "A body that is not valid JSON, or JSON of an unexpected shape,
-- fails with a message naming the request and where the problem is"
------------------------------------------------------------------------
SELECT count(fault_server('f_' || k, 'body=' || k, 'max_retries ''0'''))
  FROM unnest(array['notjson', 'empty', 'truncated', 'trailing', 'malformed', 'lie_length',
                    'content_string', 'record_array', 'deep', 'bad_utf8', 'nul', 'dupkey',
                    'bignum']) k;
SELECT k AS body, t AS "table", s.item, s.value
  FROM unnest(array['notjson', 'empty', 'truncated', 'trailing', 'malformed', 'lie_length',
                    'content_string', 'record_array', 'deep', 'bad_utf8', 'nul', 'dupkey']) WITH ORDINALITY AS k(k, kn),
       unnest(array['customer_subscribers', 'subscriber_details', 'subscriber_sessions']) AS t(t),
       fault_show(format('SELECT * FROM %I.%I WHERE %s', 'f_' || k, t,
                         CASE t WHEN 'subscriber_sessions' THEN 'msisdn = ''3531234567'''
                                ELSE 'customer_id = ''cccccccc-0000-4000-8000-000000000003''' END))
         WITH ORDINALITY AS s(item, value, n)
 WHERE NOT (t = 'subscriber_sessions' AND k IN ('content_string', 'record_array'))
 ORDER BY kn, t, n;
SELECT count(*) FROM faults_normal;

------------------------------------------------------------------------
-- SPEC 2: "Where a value does not convert to its column's type the query
-- fails with an error naming the column, the value (shortened) and the
-- record; it never returns a wrong value": big numbers are exact where the
-- type holds them, an error where it does not
------------------------------------------------------------------------
SELECT subscriber_id, daily_sms_usage = 1e400 AS daily_is_1e400, monthly_sms_usage
  FROM f_bignum.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' ORDER BY 1;
CREATE FOREIGN TABLE f_bignum.int_usage (customer_id uuid, daily_sms_usage int)
  SERVER f_bignum OPTIONS (resource 'subscriber_details');
CREATE FOREIGN TABLE f_bignum.bigint_usage (customer_id uuid, monthly_sms_usage bigint)
  SERVER f_bignum OPTIONS (resource 'subscriber_details');
CREATE FOREIGN TABLE f_bignum.float_usage (customer_id uuid, daily_sms_usage float8)
  SERVER f_bignum OPTIONS (resource 'subscriber_details');
SELECT * FROM fault_show($$SELECT * FROM f_bignum.int_usage
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT * FROM fault_show($$SELECT * FROM f_bignum.bigint_usage
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT * FROM fault_show($$SELECT * FROM f_bignum.float_usage
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
-- a total that is not a count of records
SELECT * FROM fault_show($$SELECT * FROM f_bignum.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);

------------------------------------------------------------------------
-- SPEC 3: "An expired or unknown pitId in the middle of a scan
-- (GLOBAL_1018) fails the query with a hint to raise pit_keep_alive": read
-- through a cursor, the point in time expires after the first chunk; the
-- cursor's first rows came, then the error
------------------------------------------------------------------------
SELECT fault_server('f_expire', 'pit_expire_after=1', 'fetch_size ''5''');
BEGIN;
DECLARE c CURSOR FOR
  SELECT subscriber_id FROM f_expire.subscriber_details
   WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020';
FETCH 3 FROM c;
FETCH 10 FROM c;
ROLLBACK;
SELECT count(*) FROM faults_normal;

------------------------------------------------------------------------
-- SPEC 6: "Query cancel and statement_timeout interrupt a request in
-- flight": statement_timeout ends a request, and a retry's backoff wait
------------------------------------------------------------------------
SELECT fault_server('f_hang', 'delay=5000', 'max_retries ''0''');
SELECT fault_server('f_backoff', 'status=503,retry_after=10', 'max_retries ''3''');
SET statement_timeout = '1s';
SELECT * FROM f_hang.customer_subscribers WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
SELECT * FROM f_backoff.customer_subscribers WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
RESET statement_timeout;
SELECT * FROM faults_normal ORDER BY 1;

RESET client_min_messages;
