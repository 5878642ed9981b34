-- Keys and pushdown, asserted: requests counted in the simulator's log,
-- joins compared with per-key queries, NULL keys, generic plans, and
-- concurrent fetching of several keys.
--
-- Simulator data (test/simulator.py): an all-digit msisdn has
-- (last digit) % 4 sessions named "sess-<msisdn>-<j>"; customer
-- cccccccc-0000-4000-8000-000000000010 has 10 subscribers, 8 of them with
-- an active msisdn.
\getenv sim_url SIM_URL
\set QUIET on
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS subscriber_fdw;

BEGIN;
SELECT plan(34);

CREATE SERVER tap30_sim FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'acme', request_timeout '10');
CREATE USER MAPPING FOR PUBLIC SERVER tap30_sim
  OPTIONS (username 'sim', password 'sim-secret');
CREATE SCHEMA tap30;
IMPORT FOREIGN SCHEMA api FROM SERVER tap30_sim INTO tap30;

-- the requests of a simulator log, and the most requests in flight at once
-- (a request is in flight from its start to its end; the simulator logs an
-- end just after its answer leaves, so another request that starts less than
-- 50 ms before that end is not counted as overlapping: the slow server below
-- holds every request 200 ms)
CREATE FUNCTION tap30.requests(log json)
RETURNS TABLE (seq int, path text, status int, t_start float8, t_end float8)
LANGUAGE sql AS $$
  SELECT (e->>'seq')::int, e->>'path', (e->>'status')::int,
         (e->>'start')::float8, (e->>'end')::float8
    FROM json_array_elements(log) e
   -- late answers to other tests' fault servers are not this test's
   WHERE e->>'path' NOT LIKE '/\_fault/%' OR e->>'path' LIKE '%id=tap30%'
$$;
CREATE FUNCTION tap30.max_in_flight(log json) RETURNS bigint
LANGUAGE sql AS $$
  SELECT coalesce(max(n), 0) FROM (
    SELECT (SELECT count(*) FROM tap30.requests(log) q
             WHERE q.t_start <= r.t_start AND q.t_end > r.t_start + 0.05) AS n
      FROM tap30.requests(log) r) c
$$;
-- the plan of a query as text
CREATE FUNCTION tap30.plan(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  line text;
  result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END
$$;
-- the sessions of one msisdn, asked for on its own
CREATE FUNCTION tap30.sessions_of(m text)
RETURNS TABLE (msisdn text, session_id text, plmn_id text)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT x.msisdn, x.session_id, x.plmn_id
                 FROM tap30.subscriber_sessions x WHERE x.msisdn = m;
END
$$;

--
-- IN with a duplicate: one request per distinct key, rows never twice
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT results_eq(
  $$SELECT msisdn, count(*) FROM tap30.subscriber_sessions
     WHERE msisdn IN ('990000000002', '990000000003', '990000000002', '990000000007', '990000000003')
     GROUP BY 1 ORDER BY 1$$,
  $$VALUES ('990000000002', 2::bigint), ('990000000003', 3::bigint), ('990000000007', 3::bigint)$$,
  'IN with duplicates returns each key''s sessions once');
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT is((SELECT count(*) FROM tap30.requests(:'log')), 3::bigint,
  'IN with 5 values, 3 distinct: 3 requests');
SELECT set_eq(
  format('SELECT path FROM tap30.requests(%L)', :'log'),
  ARRAY['/pcc/spcm/subscribers/990000000002/sessions',
        '/pcc/spcm/subscribers/990000000003/sessions',
        '/pcc/spcm/subscribers/990000000007/sessions'],
  'IN: each distinct msisdn requested once');

\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT is(
  (SELECT count(*) FROM tap30.customer_subscribers
    WHERE customer_id = ANY ('{cccccccc-0000-4000-8000-000000000004,cccccccc-0000-4000-8000-000000000004,CCCCCCCC-0000-4000-8000-000000000004}'::uuid[])),
  4::bigint, 'ANY with one customer three times: its 4 subscribers once');
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT is((SELECT count(*) FROM tap30.requests(:'log')), 1::bigint,
  'ANY with one customer three times: 1 request');

--
-- NULL keys send nothing
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT is((SELECT count(*) FROM tap30.subscriber_sessions WHERE msisdn = ANY ('{NULL,NULL}'::text[])),
  0::bigint, 'ANY of NULLs: no rows');
SELECT is((SELECT count(*) FROM tap30.subscriber_sessions WHERE msisdn = (SELECT NULL::text)),
  0::bigint, 'a NULL from a sub-select: no rows');
SELECT is((SELECT count(*) FROM tap30.sessions_of(NULL)), 0::bigint,
  'a NULL PL/pgSQL variable: no rows');
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT is((SELECT count(*) FROM tap30.requests(:'log')), 0::bigint,
  'NULL keys: no request at all');

--
-- $1 under a generic plan: every execution uses its own value
--
SET LOCAL plan_cache_mode = force_generic_plan;
PREPARE tap30_sess(text) AS
  SELECT count(*) FROM tap30.subscriber_sessions WHERE msisdn = $1;
SELECT ok(tap30.plan('EXECUTE tap30_sess(''990000000001'')') LIKE '%Key: msisdn = $1%',
  'generic plan: the key is the parameter');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT results_eq('EXECUTE tap30_sess(''990000000001'')', ARRAY[1::bigint], 'generic plan, ...01: 1 session');
SELECT results_eq('EXECUTE tap30_sess(''990000000003'')', ARRAY[3::bigint], 'generic plan, ...03: 3 sessions');
SELECT results_eq('EXECUTE tap30_sess(''990000000004'')', ARRAY[0::bigint], 'generic plan, ...04: no sessions');
SELECT results_eq('EXECUTE tap30_sess(NULL)', ARRAY[0::bigint], 'generic plan, NULL: no sessions');
SELECT results_eq('EXECUTE tap30_sess(''990000000002'')', ARRAY[2::bigint], 'generic plan, ...02: 2 sessions');
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT results_eq(
  format('SELECT path FROM tap30.requests(%L) ORDER BY seq', :'log'),
  ARRAY['/pcc/spcm/subscribers/990000000001/sessions',
        '/pcc/spcm/subscribers/990000000003/sessions',
        '/pcc/spcm/subscribers/990000000004/sessions',
        '/pcc/spcm/subscribers/990000000002/sessions'],
  'generic plan: one request per execution, with that execution''s value');
DEALLOCATE tap30_sess;
RESET plan_cache_mode;

-- a PL/pgSQL variable, seven calls (the plan turns generic after five)
SELECT results_eq(
  $$SELECT m, (SELECT count(*) FROM tap30.sessions_of(m))
      FROM unnest(ARRAY['990000000011', '990000000012', '990000000013', '990000000014',
                        '990000000015', '990000000016', '990000000017']) WITH ORDINALITY t(m, n)
     ORDER BY n$$,
  $$VALUES ('990000000011', 1::bigint), ('990000000012', 2::bigint), ('990000000013', 3::bigint),
           ('990000000014', 0::bigint), ('990000000015', 1::bigint), ('990000000016', 2::bigint),
           ('990000000017', 3::bigint)$$,
  'PL/pgSQL variable as the key, seven calls');

--
-- the join row by row: a nested loop with a parameterized scan, one request
-- per subscriber with an active msisdn (the batched join, which fetches the
-- keys together, is tested in sql/joins.sql)
--
SET subscriber_fdw.enable_batched_join = off;
SELECT ok(tap30.plan($$
  SELECT * FROM tap30.customer_subscribers s
    JOIN tap30.subscriber_sessions x ON x.msisdn = s.active_msisdn
   WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010'$$)
  ~ '^Nested Loop\n.*Foreign Scan on customer_subscribers s\n.*Foreign Scan on subscriber_sessions x\n.*Key: msisdn = \$[0-9]+\n',
  'join: nested loop, sessions scanned with the outer msisdn as its key');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT results_eq(
  $$SELECT s.subscriber_id, x.msisdn, x.session_id, x.plmn_id
      FROM tap30.customer_subscribers s
      JOIN tap30.subscriber_sessions x ON x.msisdn = s.active_msisdn
     WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010'
     ORDER BY 1, 3$$,
  $$SELECT s.subscriber_id, o.msisdn, o.session_id, o.plmn_id
      FROM (SELECT subscriber_id, active_msisdn FROM tap30.customer_subscribers
             WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
            OFFSET 0) s,
           LATERAL tap30.sessions_of(s.active_msisdn) o
     ORDER BY 1, 3$$,
  'join: the same rows as asking for each subscriber''s msisdn on its own');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT is(
  (SELECT count(*) FROM tap30.customer_subscribers s
     JOIN tap30.subscriber_sessions x ON x.msisdn = s.active_msisdn
    WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010'),
  7::bigint, 'join: 7 sessions of customer ...10');
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT is((SELECT count(*) FROM tap30.requests(:'log') WHERE path LIKE '/api/v2/customer/%'),
  1::bigint, 'join: one request for the customer');
SELECT is((SELECT count(*) FROM tap30.requests(:'log') WHERE path LIKE '/pcc/spcm/subscribers/%'),
  8::bigint, 'join: 8 sessions requests (10 subscribers, 2 without an active msisdn)');
SELECT set_eq(
  format('SELECT path FROM tap30.requests(%L) WHERE path LIKE ''/pcc/%%''', :'log'),
  $$SELECT '/pcc/spcm/subscribers/' || active_msisdn || '/sessions'
      FROM tap30.customer_subscribers
     WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010' AND active_msisdn IS NOT NULL$$,
  'join: exactly the active msisdns were requested, each once');
SELECT is((SELECT count(*) FROM tap30.requests(:'log')
            WHERE path !~ '^/pcc/spcm/subscribers/[0-9]+/sessions$'
              AND path !~ '^/api/v2/customer/[0-9a-f-]{36}/subscriber\?page=1&size=[0-9]+$'),
  0::bigint, 'join: no other request (no scan without a key)');
RESET subscriber_fdw.enable_batched_join;

-- a local table joined USING (msisdn), duplicates and a NULL in it
CREATE TEMP TABLE tap30_wanted (msisdn text) ON COMMIT DROP;
INSERT INTO tap30_wanted VALUES ('990000000021'), ('990000000022'), ('990000000022'), (NULL),
  ('404000'), ('990000000027');
ANALYZE tap30_wanted;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT results_eq(
  $$SELECT msisdn, count(*) FROM tap30_wanted JOIN tap30.subscriber_sessions USING (msisdn)
     GROUP BY 1 ORDER BY 1$$,
  $$VALUES ('990000000021', 1::bigint), ('990000000022', 4::bigint), ('990000000027', 3::bigint)$$,
  'join with a local table: sessions of each row, twice for the twice-listed msisdn');
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT is((SELECT count(DISTINCT path) FROM tap30.requests(:'log')), 4::bigint,
  'join with a local table: the 4 distinct non-NULL msisdns were requested');
SELECT is((SELECT count(*) FROM tap30.requests(:'log') WHERE path NOT LIKE '/pcc/spcm/subscribers/%/sessions'),
  0::bigint, 'join with a local table: nothing else was requested');

-- LATERAL
SELECT results_eq(
  $$SELECT w.msisdn, l.n
      FROM (SELECT DISTINCT msisdn FROM tap30_wanted) w,
           LATERAL (SELECT count(*) AS n FROM tap30.subscriber_sessions x WHERE x.msisdn = w.msisdn) l
     ORDER BY 1 NULLS FIRST$$,
  $$VALUES (NULL, 0::bigint), ('404000', 0::bigint), ('990000000021', 1::bigint),
           ('990000000022', 2::bigint), ('990000000027', 3::bigint)$$,
  'LATERAL: a count per msisdn, 0 for NULL and 404');

--
-- several keys are fetched concurrently, at most max_concurrency at a time
--
\set fault_url :sim_url '/_fault/delay=200,id=tap30'
CREATE SERVER tap30_slow FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'fault_url', tenant 'acme', max_concurrency '8', request_timeout '10');
CREATE USER MAPPING FOR PUBLIC SERVER tap30_slow
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE tap30.slow_sessions (msisdn text, session_id text)
  SERVER tap30_slow OPTIONS (resource 'subscriber_sessions');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT is(
  (SELECT count(*) FROM tap30.slow_sessions
    WHERE msisdn IN ('990000000100', '990000000101', '990000000102', '990000000103',
                     '990000000104', '990000000105', '990000000106', '990000000107',
                     '990000000108', '990000000109', '990000000110', '990000000111',
                     '990000000112', '990000000113', '990000000114', '990000000115')),
  20::bigint, '16 msisdns through a slow server: all 20 sessions');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=tap30"`
SELECT is((SELECT count(*) FROM tap30.requests(:'log')), 16::bigint,
  '16 msisdns: 16 requests');
SELECT cmp_ok(tap30.max_in_flight(:'log'), '>=', 2::bigint,
  '16 msisdns, max_concurrency 8: requests overlap');
SELECT cmp_ok(tap30.max_in_flight(:'log'), '<=', 8::bigint,
  '16 msisdns, max_concurrency 8: never more than 8 in flight');

-- max_concurrency 1 on the table: one at a time
ALTER FOREIGN TABLE tap30.slow_sessions OPTIONS (ADD max_concurrency '1');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT is(
  (SELECT count(*) FROM tap30.slow_sessions
    WHERE msisdn IN ('990000000201', '990000000202', '990000000203', '990000000205')),
  7::bigint, '4 msisdns, max_concurrency 1: all 7 sessions');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=tap30"`
SELECT is(tap30.max_in_flight(:'log'), 1::bigint,
  '4 msisdns, max_concurrency 1: one request in flight at a time');

SELECT * FROM finish();
ROLLBACK;
