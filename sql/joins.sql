-- Batched joins: joins on the key of a foreign table fetch the keys of many
-- outer rows together.  Every answer is compared with the same query planned
-- row by row (subscriber_fdw.enable_batched_join off: a nested loop over a
-- parameterized scan), and the simulator's log shows the requests sent.
--
-- Simulator data used below (see test/simulator.py): an all-digit msisdn has
-- (last digit) % 4 sessions "sess-<msisdn>-<j>", plmn_id "12300<j>" except
-- for j = 2; an msisdn starting with "404" is answered 404 (no sessions).
-- Customer cccccccc-0000-4000-8000-<N> has N subscribers; of customer 10,
-- subscribers 1 and 3 have no active msisdn.
\getenv sim_url SIM_URL
\set VERBOSITY terse
SET enable_memoize = off;

-- the requests since the last reset: each path, and how often it was asked
CREATE FUNCTION j_requests(log json)
RETURNS TABLE (path text, requests bigint)
LANGUAGE sql AS $$
  SELECT e->>'path', count(*)
    FROM json_array_elements(log) e
   WHERE e->>'path' NOT LIKE '/\_fault/%'  -- late answers to other tests' fault servers
   GROUP BY 1 ORDER BY 1
$$;

-- Runs a query batched and row by row and compares the answers as multisets:
-- whether each plan is the one intended, the row counts, and the rows that
-- only one of them returned.
CREATE FUNCTION j_same(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  plan text;
  batched_plan bool;
  rowwise_plan bool;
  batched bigint;
  rowwise bigint;
  differ bigint;
BEGIN
  PERFORM set_config('subscriber_fdw.enable_batched_join', 'on', true);
  batched_plan := false;
  FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    batched_plan := batched_plan OR plan LIKE '%Batched Join%';
  END LOOP;
  EXECUTE 'CREATE TEMP TABLE j_batched AS ' || query;
  PERFORM set_config('subscriber_fdw.enable_batched_join', 'off', true);
  rowwise_plan := true;
  FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    rowwise_plan := rowwise_plan AND plan NOT LIKE '%Batched Join%';
  END LOOP;
  EXECUTE 'CREATE TEMP TABLE j_rowwise AS ' || query;
  PERFORM set_config('subscriber_fdw.enable_batched_join', 'on', true);
  SELECT count(*) INTO batched FROM j_batched;
  SELECT count(*) INTO rowwise FROM j_rowwise;
  SELECT count(*) INTO differ
    FROM ((TABLE j_batched EXCEPT ALL TABLE j_rowwise)
          UNION ALL (TABLE j_rowwise EXCEPT ALL TABLE j_batched)) d;
  DROP TABLE j_batched, j_rowwise;
  RETURN format('%s: %s rows; row by row (%s): %s rows; %s differ',
                CASE WHEN batched_plan THEN 'batched' ELSE 'NOT BATCHED' END, batched,
                CASE WHEN rowwise_plan THEN 'nested loop' ELSE 'BATCHED' END, rowwise,
                differ);
END
$$;

-- outer keys: duplicates, a NULL, an empty one, a 404, session-less ones
CREATE TABLE j_sims (n int, msisdn text);
INSERT INTO j_sims VALUES
  (1, '990000000001'), (2, '990000000002'), (3, NULL), (4, '404000'),
  (5, '990000000004'), (6, '990000000003'), (7, '990000000002'), (8, ''),
  (9, '990000000007'), (10, '990000000001'), (11, '990000000008'), (12, '990000000002');
ANALYZE j_sims;

--
-- inner join with a local table
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn;
SELECT w.n, w.msisdn, x.session_id, x.plmn_id
  FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
 ORDER BY 1, 3;
-- each distinct key once; nothing for the NULL and the empty key
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
SELECT j_same($$SELECT w.n, x.* FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn$$);
-- the key written the other way round, and through USING
SELECT j_same($$SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON w.msisdn = x.msisdn$$);
SELECT j_same($$SELECT n, session_id FROM j_sims JOIN api.subscriber_sessions USING (msisdn)$$);

--
-- left join: outer rows without sessions (404, none, NULL, empty) kept once
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT w.n, x.session_id FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn;
SELECT w.n, w.msisdn, x.session_id
  FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
 ORDER BY 1, 3;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
SELECT j_same($$SELECT w.n, x.* FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn$$);
-- a WHERE above the left join filters after the null-extension
SELECT j_same($$SELECT w.n, x.session_id FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn WHERE x.plmn_id IS DISTINCT FROM '123001'$$);
SELECT w.n, x.session_id FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
 WHERE x.plmn_id IS DISTINCT FROM '123001' ORDER BY 1, 2;

--
-- extra join conditions: on the inner table alone, and on both sides
--
EXPLAIN (COSTS OFF)
SELECT w.n, x.session_id FROM j_sims w
  LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn AND x.plmn_id = '123000';
SELECT w.n, x.session_id FROM j_sims w
  LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn AND x.plmn_id = '123000'
 ORDER BY 1, 2;
SELECT j_same($$SELECT w.n, x.session_id FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn AND x.plmn_id = '123000'$$);
EXPLAIN (COSTS OFF)
SELECT w.n, x.session_id FROM j_sims w
  JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn AND right(x.session_id, 1)::int < w.n % 3;
SELECT j_same($$SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn AND right(x.session_id, 1)::int < w.n % 3$$);
SELECT j_same($$SELECT w.n, x.session_id FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn AND right(x.session_id, 1)::int < w.n % 3$$);
-- a condition on the inner table in WHERE
SELECT j_same($$SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn WHERE x.plmn_id IS NULL$$);

--
-- semi joins: EXISTS and IN return each outer row once
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT n FROM j_sims w
 WHERE EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn);
SELECT n, msisdn FROM j_sims w
 WHERE EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn)
 ORDER BY 1;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
SELECT j_same($$SELECT n FROM j_sims w WHERE EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn)$$);
SELECT j_same($$SELECT n FROM j_sims w WHERE msisdn IN (SELECT msisdn FROM api.subscriber_sessions x WHERE x.plmn_id = '123001')$$);
-- the foreign table's rows whose key is in a list from a sub-select: the
-- sub-select's rows made distinct, then joined
EXPLAIN (COSTS OFF)
SELECT session_id FROM api.subscriber_sessions WHERE msisdn IN (SELECT msisdn FROM j_sims);
SELECT j_same($$SELECT * FROM api.subscriber_sessions WHERE msisdn IN (SELECT msisdn FROM j_sims)$$);

--
-- anti joins: NOT EXISTS, and a left join keeping the rows without match
--
EXPLAIN (COSTS OFF)
SELECT n FROM j_sims w
 WHERE NOT EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn);
SELECT n, msisdn FROM j_sims w
 WHERE NOT EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn)
 ORDER BY 1;
SELECT j_same($$SELECT n FROM j_sims w WHERE NOT EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn)$$);
SELECT j_same($$SELECT n FROM j_sims w WHERE NOT EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn AND x.plmn_id = '123001')$$);
SELECT j_same($$SELECT w.n FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn WHERE x.msisdn IS NULL$$);

--
-- small batches: a key shared by rows of two batches is asked once per batch
--
ALTER FOREIGN TABLE api.subscriber_sessions OPTIONS (ADD join_batch_size '4');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT w.n, x.session_id FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn;
-- batches n 1-4, 5-8, 9-12: ...0002 in all three, ...0001 in the first and
-- the last, every other key in one
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
SELECT j_same($$SELECT w.n, x.* FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn$$);
SELECT j_same($$SELECT n FROM j_sims w WHERE EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn)$$);
SELECT j_same($$SELECT n FROM j_sims w WHERE NOT EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = w.msisdn)$$);
ALTER FOREIGN TABLE api.subscriber_sessions OPTIONS (SET join_batch_size '1');
SELECT j_same($$SELECT w.n, x.* FROM j_sims w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn$$);
ALTER FOREIGN TABLE api.subscriber_sessions OPTIONS (DROP join_batch_size);
-- the option's range
ALTER FOREIGN TABLE api.subscriber_sessions OPTIONS (ADD join_batch_size '0');
ALTER SERVER sim OPTIONS (ADD join_batch_size '10001');

--
-- other outer sides: a CTE, a sub-query with ORDER BY and LIMIT, a function
--
EXPLAIN (COSTS OFF)
WITH w AS MATERIALIZED (SELECT n, msisdn FROM j_sims WHERE n > 2)
SELECT w.n, x.session_id FROM w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn;
SELECT j_same($$WITH w AS MATERIALIZED (SELECT n, msisdn FROM j_sims WHERE n > 2) SELECT w.n, x.session_id FROM w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn$$);
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT w.n, x.session_id
  FROM (SELECT n, msisdn FROM j_sims ORDER BY n DESC LIMIT 5) w
  LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn;
SELECT w.n, x.session_id
  FROM (SELECT n, msisdn FROM j_sims ORDER BY n DESC LIMIT 5) w
  LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
 ORDER BY 1, 2;
-- only the five rows' keys
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
SELECT j_same($$SELECT w.n, x.session_id FROM (SELECT n, msisdn FROM j_sims ORDER BY n DESC LIMIT 5) w LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn$$);
EXPLAIN (COSTS OFF)
SELECT g, x.session_id
  FROM generate_series(1, 9) g
  JOIN api.subscriber_sessions x ON x.msisdn = '99000000000' || g;
SELECT j_same($$SELECT g, x.session_id FROM generate_series(1, 9) g JOIN api.subscriber_sessions x ON x.msisdn = '99000000000' || g$$);

--
-- a foreign table as the outer side: customer_subscribers and
-- subscriber_details joined to the sessions of their active msisdns
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT s.subscriber_id, x.session_id
  FROM api.customer_subscribers s
  LEFT JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010';
SELECT s.subscriber_id, s.active_msisdn, x.session_id
  FROM api.customer_subscribers s
  LEFT JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1, 3;
-- one request for the customer, one per active msisdn (eight of ten)
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
SELECT j_same($$SELECT s.subscriber_id, x.* FROM api.customer_subscribers s LEFT JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010'$$);
SELECT j_same($$SELECT d.subscriber_id, d.active_iccid, x.session_id FROM api.subscriber_details d JOIN api.subscriber_sessions x ON x.msisdn = d.active_msisdn WHERE d.customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);
SELECT j_same($$SELECT d.subscriber_id FROM api.subscriber_details d WHERE d.customer_id = 'cccccccc-0000-4000-8000-000000000025' AND NOT EXISTS (SELECT FROM api.subscriber_sessions x WHERE x.msisdn = d.active_msisdn)$$);

--
-- customer tables as the inner side, joined on customer_id
--
CREATE TABLE j_customers (label text, customer_id uuid);
INSERT INTO j_customers VALUES
  ('three', 'cccccccc-0000-4000-8000-000000000003'), ('none', NULL),
  ('five', 'cccccccc-0000-4000-8000-000000000005'), ('empty', 'cccccccc-0000-4000-8000-000000000000'),
  ('three again', 'CCCCCCCC-0000-4000-8000-000000000003'), ('two', 'cccccccc-0000-4000-8000-000000000002');
ANALYZE j_customers;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT c.label, s.subscriber_id FROM j_customers c
  JOIN api.customer_subscribers s ON s.customer_id = c.customer_id;
SELECT c.label, count(s.subscriber_id)
  FROM j_customers c LEFT JOIN api.customer_subscribers s ON s.customer_id = c.customer_id
 GROUP BY 1 ORDER BY 1;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
SELECT j_same($$SELECT c.label, s.* FROM j_customers c JOIN api.customer_subscribers s ON s.customer_id = c.customer_id$$);
SELECT j_same($$SELECT c.label, s.subscriber_id FROM j_customers c LEFT JOIN api.customer_subscribers s ON s.customer_id = c.customer_id AND s.status = 'ACTIVE'$$);
SELECT j_same($$SELECT c.label, d.* FROM j_customers c JOIN api.subscriber_details d ON d.customer_id = c.customer_id$$);
SELECT j_same($$SELECT c.label FROM j_customers c WHERE EXISTS (SELECT FROM api.subscriber_details d WHERE d.customer_id = c.customer_id AND d.status = 'INACTIVE')$$);
-- the customer_id option is not used for a join on the key
ALTER FOREIGN TABLE api.customer_subscribers OPTIONS (ADD customer_id 'cccccccc-0000-4000-8000-000000000004');
SELECT j_same($$SELECT c.label, s.subscriber_id FROM j_customers c LEFT JOIN api.customer_subscribers s ON s.customer_id = c.customer_id$$);
ALTER FOREIGN TABLE api.customer_subscribers OPTIONS (DROP customer_id);

--
-- three tables: customers, their subscribers, the subscribers' sessions
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT c.label, s.subscriber_id, x.session_id
  FROM j_customers c
  JOIN api.customer_subscribers s ON s.customer_id = c.customer_id
  JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn;
SELECT c.label, count(*) AS sessions, count(DISTINCT x.msisdn) AS msisdns
  FROM j_customers c
  JOIN api.customer_subscribers s ON s.customer_id = c.customer_id
  JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn
 GROUP BY 1 ORDER BY 1;
-- four customer requests, each active msisdn once
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
SELECT j_same($$SELECT c.label, s.subscriber_id, x.session_id FROM j_customers c JOIN api.customer_subscribers s ON s.customer_id = c.customer_id JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn$$);
SELECT j_same($$SELECT c.label, s.subscriber_id, x.session_id FROM j_customers c LEFT JOIN api.customer_subscribers s ON s.customer_id = c.customer_id LEFT JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn$$);

--
-- a prepared statement, run seven times: custom plans, then a generic one
--
PREPARE j_upto(int) AS
  SELECT w.n, x.session_id FROM j_sims w
    LEFT JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
   WHERE w.n <= $1 ORDER BY 1, 2;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXECUTE j_upto(1);
EXECUTE j_upto(2);
EXECUTE j_upto(3);
EXECUTE j_upto(4);
EXECUTE j_upto(5);
EXECUTE j_upto(6);
EXECUTE j_upto(7);
EXPLAIN (COSTS OFF) EXECUTE j_upto(7);
-- ...0001 asked in all seven runs, ...0002 in six, ...0004 in three,
-- ...0003 in two, the 404 in four
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM j_requests(:'log');
DEALLOCATE j_upto;

--
-- under another nested loop: each rescan starts over with the new parameter
--
EXPLAIN (COSTS OFF)
SELECT g, c.sessions
  FROM generate_series(0, 12, 4) g,
       LATERAL (SELECT count(x.session_id) AS sessions FROM j_sims w
                  JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
                 WHERE w.n > g) c;
SELECT j_same($$SELECT g, c.sessions FROM generate_series(0, 12, 4) g, LATERAL (SELECT count(x.session_id) AS sessions FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn WHERE w.n > g) c$$);
SELECT g, c.sessions
  FROM generate_series(0, 12, 4) g,
       LATERAL (SELECT count(x.session_id) AS sessions FROM j_sims w
                  JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
                 WHERE w.n > g) c
 ORDER BY 1;
-- a LIMIT under the loop stops the join in the middle of its batch, with
-- requests in flight, at every outer row; each rescan starts clean
EXPLAIN (COSTS OFF)
SELECT g, l.session_id
  FROM generate_series(1, 4) g,
       LATERAL (SELECT x.session_id FROM j_sims w
                  JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
                 WHERE w.n > g LIMIT 2) l;
-- (no row of an earlier rescan's batch: every row's outer n is above g)
SELECT g, count(*), bool_and(l.n > g) AS rows_of_this_scan
  FROM generate_series(1, 4) g,
       LATERAL (SELECT w.n FROM j_sims w
                  JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn
                 WHERE w.n > g LIMIT 2) l
 GROUP BY g ORDER BY g;

--
-- a scrollable cursor: the join reads forward only, so the planner puts a
-- Material node above it for moving back (one request at a time makes the
-- order of the rows fixed)
--
SET enable_nestloop = off;
ALTER FOREIGN TABLE api.subscriber_sessions OPTIONS (ADD max_concurrency '1');
BEGIN;
EXPLAIN (COSTS OFF) DECLARE j_cur SCROLL CURSOR FOR
  SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn;
DECLARE j_cur SCROLL CURSOR FOR
  SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn;
FETCH 3 FROM j_cur;
FETCH BACKWARD 2 FROM j_cur;
FETCH ABSOLUTE -1 FROM j_cur;
MOVE BACKWARD ALL IN j_cur;
FETCH ALL FROM j_cur;
COMMIT;
ALTER FOREIGN TABLE api.subscriber_sessions OPTIONS (DROP max_concurrency);
RESET enable_nestloop;

--
-- errors in the middle of a batch release everything; the next join works
--
CREATE SERVER j_faulty FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'acme', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER j_faulty
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE j_sessions_500 (msisdn text, session_id text) SERVER j_faulty
  OPTIONS (resource 'subscriber_sessions');
-- the first two requests answer 503 and are retried: the answer is whole
\set retry_url :sim_url '/_fault/status=503,times=2,id=joins-retry'
ALTER SERVER j_faulty OPTIONS (SET base_url :'retry_url', SET max_retries '2');
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT w.n, x.session_id FROM j_sims w JOIN j_sessions_500 x ON x.msisdn = w.msisdn;
SELECT count(*) FROM j_sims w JOIN j_sessions_500 x ON x.msisdn = w.msisdn;
ALTER SERVER j_faulty OPTIONS (SET max_retries '0');
-- the requests after the third fail
\set fault_url :sim_url '/_fault/status=500,after=3,id=joins'
ALTER SERVER j_faulty OPTIONS (SET base_url :'fault_url');
SELECT w.n, x.session_id FROM j_sims w JOIN j_sessions_500 x ON x.msisdn = w.msisdn;
SELECT j_same($$SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn$$);
-- a statement timeout while the batch's requests wait
\set slow_url :sim_url '/_fault/delay=3000,id=joins-slow'
ALTER SERVER j_faulty OPTIONS (SET base_url :'slow_url');
SET statement_timeout = '500ms';
SELECT w.n, x.session_id FROM j_sims w JOIN j_sessions_500 x ON x.msisdn = w.msisdn;
RESET statement_timeout;
SELECT j_same($$SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn$$);

--
-- the switch: off, the join runs as a nested loop
--
SET subscriber_fdw.enable_batched_join = off;
EXPLAIN (COSTS OFF)
SELECT w.n, x.session_id FROM j_sims w JOIN api.subscriber_sessions x ON x.msisdn = w.msisdn;
RESET subscriber_fdw.enable_batched_join;

DROP SERVER j_faulty CASCADE;
DROP TABLE j_sims, j_customers;
DROP FUNCTION j_same(text), j_requests(json);
RESET enable_memoize;
