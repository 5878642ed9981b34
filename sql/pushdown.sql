-- Keys and pushdown (SPEC 4): every form of key on the three tables, their
-- plans, their rows, and the requests they send (read from the simulator's
-- log).  SPEC 4: "A key is taken from: key = constant, key = $1 (also under
-- generic plans), key IN (...) / key = ANY(array) (also an array built by a
-- sub-select), and a join condition key = other_table.column"; "Conditions
-- on other columns are checked locally by PostgreSQL"; "EXPLAIN shows each
-- foreign scan's endpoint and the pushed-down key conditions".  Asserted in
-- test/pgtap/30_pushdown.sql: joins equal their per-key answers, NULL keys
-- from sub-selects and PL/pgSQL, duplicate outer keys, concurrency.
--
-- Simulator data used below (see test/simulator.py):
--   customer cccccccc-0000-4000-8000-000000000003 has 3 subscribers, i = 0..2,
--   subscriberId "0000000<i>-0000-4000-a000-030000000000", status ACTIVE,
--   SUSPEND, INACTIVE; active msisdns 99000300000000, NULL (i = 1: the
--   active pair has no msisdn), 99000300000022.
--   customer ...000000000010 has 10 subscribers; active msisdns
--   99001000000<i><k> for i = 0,2,4,5,6,7,8,9 with k = 0,2,0,2,0,1,2,0
--   (i = 1 and i = 3 have none).
--   an all-digit msisdn has (last digit) % 4 sessions "sess-<msisdn>-<j>".
\getenv sim_url SIM_URL
\set VERBOSITY terse
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null

-- the requests since the last reset, for the checks below
CREATE FUNCTION pd_requests(log json)
RETURNS TABLE (method text, path text, status int)
LANGUAGE sql AS $$
  SELECT e->>'method', e->>'path', (e->>'status')::int
    FROM json_array_elements(log) e
   WHERE e->>'path' NOT LIKE '/\_fault/%'  -- late answers to other tests' fault servers
   ORDER BY e->>'path', (e->>'seq')::int
$$;

--
-- key = constant
--
EXPLAIN (COSTS OFF)
SELECT msisdn, session_id FROM api.subscriber_sessions WHERE msisdn = '990000000002';
SELECT msisdn, session_id FROM api.subscriber_sessions WHERE msisdn = '990000000002'
 ORDER BY session_id;
-- the constant on the left
SELECT msisdn, session_id FROM api.subscriber_sessions WHERE '990000000001' = msisdn;

EXPLAIN (COSTS OFF)
SELECT subscriber_id, status FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
SELECT subscriber_id, status, active_msisdn FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' ORDER BY subscriber_id;

EXPLAIN (COSTS OFF)
SELECT subscriber_id, status FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
SELECT subscriber_id, status, active_msisdn FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' ORDER BY subscriber_id;

-- one request each; conditions on other columns are checked locally
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT subscriber_id FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' AND status <> 'ACTIVE';
SELECT subscriber_id FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' AND status <> 'ACTIVE'
 ORDER BY 1;
SELECT session_id FROM api.subscriber_sessions
 WHERE msisdn = '990000000003' AND plmn_id IS NULL;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');

--
-- key = $1: custom plans, then a generic plan
--
PREPARE sess(text) AS
  SELECT msisdn, session_id FROM api.subscriber_sessions WHERE msisdn = $1;
PREPARE subs(uuid) AS
  SELECT subscriber_id, status FROM api.customer_subscribers WHERE customer_id = $1;
PREPARE dets(uuid) AS
  SELECT subscriber_id, eid FROM api.subscriber_details WHERE customer_id = $1;
EXPLAIN (COSTS OFF) EXECUTE sess('990000000002');
EXECUTE sess('990000000002');
EXECUTE sess('990000000005');
EXPLAIN (COSTS OFF) EXECUTE subs('cccccccc-0000-4000-8000-000000000003');
EXECUTE subs('cccccccc-0000-4000-8000-000000000003');
EXPLAIN (COSTS OFF) EXECUTE dets('cccccccc-0000-4000-8000-000000000003');
EXECUTE dets('cccccccc-0000-4000-8000-000000000003');
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE sess('990000000002');
EXECUTE sess('990000000002');
EXECUTE sess('990000000007');
EXPLAIN (COSTS OFF) EXECUTE subs('cccccccc-0000-4000-8000-000000000002');
EXECUTE subs('cccccccc-0000-4000-8000-000000000002');
EXPLAIN (COSTS OFF) EXECUTE dets('cccccccc-0000-4000-8000-000000000002');
EXECUTE dets('cccccccc-0000-4000-8000-000000000002');
-- the same generic plan with an array parameter
PREPARE sess_any(text[]) AS
  SELECT msisdn, session_id FROM api.subscriber_sessions WHERE msisdn = ANY ($1)
   ORDER BY 1, 2;
EXPLAIN (COSTS OFF) EXECUTE sess_any('{990000000001,990000000002}');
EXECUTE sess_any('{990000000001,990000000002}');
EXECUTE sess_any('{990000000003}');
RESET plan_cache_mode;
DEALLOCATE sess;
DEALLOCATE subs;
DEALLOCATE dets;
DEALLOCATE sess_any;

--
-- a PL/pgSQL variable as the key: its cached plan turns generic after five
-- calls, and every call must still use the value it is given
--
CREATE FUNCTION pd_sessions_of(m text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  result text;
BEGIN
  SELECT string_agg(session_id, ',' ORDER BY session_id) INTO result
    FROM api.subscriber_sessions WHERE msisdn = m;
  RETURN coalesce(result, '-');
END
$$;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT m, pd_sessions_of(m)
  FROM unnest(ARRAY['990000000001', '990000000002', '990000000003', '990000000004',
                    '990000000005', '990000000006', '990000000007']) WITH ORDINALITY AS t(m, n)
 ORDER BY n;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');
-- the same under a generic plan from the first call
SET plan_cache_mode = force_generic_plan;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT m, pd_sessions_of(m)
  FROM unnest(ARRAY['990000000017', '990000000011', '404000', '990000000016',
                    '990000000011', '990000000010', '990000000019']) WITH ORDINALITY AS t(m, n)
 ORDER BY n;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');
RESET plan_cache_mode;

CREATE FUNCTION pd_subscriber_count(c uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM api.customer_subscribers WHERE customer_id = c);
END
$$;
SELECT n, pd_subscriber_count(('cccccccc-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid)
  FROM generate_series(1, 7) n ORDER BY n;

--
-- key IN (...) and key = ANY(array): one request per distinct key, rows
-- never twice
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn IN ('990000000002', '990000000001', '990000000002', '990000000005');
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn IN ('990000000002', '990000000001', '990000000002', '990000000005')
 ORDER BY 1, 2;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');

\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn = ANY ('{990000000003,990000000006,990000000003}'::text[]);
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn = ANY ('{990000000003,990000000006,990000000003}'::text[])
 ORDER BY 1, 2;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');

\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT customer_id, count(*) FROM api.customer_subscribers
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000002',
                       'CCCCCCCC-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000002')
 GROUP BY 1;
SELECT customer_id, count(*) FROM api.customer_subscribers
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000002',
                       'CCCCCCCC-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000002')
 GROUP BY 1 ORDER BY 1;
SELECT customer_id, count(*) FROM api.subscriber_details
 WHERE customer_id = ANY ('{cccccccc-0000-4000-8000-000000000004,cccccccc-0000-4000-8000-000000000001,cccccccc-0000-4000-8000-000000000004}'::uuid[])
 GROUP BY 1 ORDER BY 1;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT method, path, status FROM pd_requests(:'log');

--
-- key = ANY(ARRAY(SELECT ...)): an initplan gives the keys
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn = ANY (ARRAY(SELECT '9900000000' || lpad(g::text, 2, '0')
                             FROM generate_series(5, 7) g));
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn = ANY (ARRAY(SELECT '9900000000' || lpad(g::text, 2, '0')
                             FROM generate_series(5, 7) g))
 ORDER BY 1, 2;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = ANY (ARRAY(SELECT ('cccccccc-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid
                                  FROM generate_series(1, 2) g));
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = ANY (ARRAY(SELECT ('cccccccc-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid
                                  FROM generate_series(1, 2) g));
-- a scalar sub-select is an initplan too
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn = (SELECT '990000000001') ORDER BY 2;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');

--
-- a join: the customer's subscribers, then the sessions of each active
-- msisdn, fetched together by a batched join (joins.sql compares it with the
-- nested loop over a parameterized scan)
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT s.subscriber_id, x.msisdn, x.session_id
  FROM api.customer_subscribers s
  JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010';
SELECT s.subscriber_id, x.msisdn, x.session_id, x.plmn_id
  FROM api.customer_subscribers s
  JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1, 3;
-- one request for the customer, one per subscriber with an active msisdn
-- (eight of ten), none for the two NULLs, and no scan without a key
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');

-- the same join, counted by EXPLAIN ANALYZE: one customer request and eight
-- sessions requests; the byte counts are those of the simulator's answers
SET enable_memoize = off;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT s.subscriber_id, x.session_id
  FROM api.customer_subscribers s
  JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010';
RESET enable_memoize;

-- a LEFT JOIN keeps the subscribers without sessions
SELECT s.subscriber_id, s.active_msisdn, count(x.session_id) AS sessions
  FROM api.customer_subscribers s
  LEFT JOIN api.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010'
 GROUP BY 1, 2 ORDER BY 1;

-- subscriber_details joined to its sessions the same way
SELECT d.subscriber_id, d.active_iccid, x.session_id
  FROM api.subscriber_details d
  JOIN api.subscriber_sessions x ON x.msisdn = d.active_msisdn
 WHERE d.customer_id = 'cccccccc-0000-4000-8000-000000000003'
 ORDER BY 1, 3;

--
-- a join with a local table, and a LATERAL sub-query
--
CREATE TEMP TABLE pd_wanted (msisdn text);
INSERT INTO pd_wanted VALUES ('990000000001'), ('990000000002'), (NULL), ('404000'),
  ('990000000004'), ('990000000003');
ANALYZE pd_wanted;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT msisdn, x.session_id FROM pd_wanted JOIN api.subscriber_sessions x USING (msisdn);
SELECT msisdn, x.session_id FROM pd_wanted JOIN api.subscriber_sessions x USING (msisdn)
 ORDER BY 1, 2;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');

\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT w.msisdn, l.session_id
  FROM pd_wanted w,
       LATERAL (SELECT session_id FROM api.subscriber_sessions x
                 WHERE x.msisdn = w.msisdn ORDER BY session_id DESC LIMIT 1) l;
SELECT w.msisdn, l.session_id
  FROM pd_wanted w,
       LATERAL (SELECT session_id FROM api.subscriber_sessions x
                 WHERE x.msisdn = w.msisdn ORDER BY session_id DESC LIMIT 1) l
 ORDER BY 1;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');

-- customers from a VALUES list, joined to subscriber_details
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT c.id, count(d.subscriber_id)
  FROM (VALUES ('cccccccc-0000-4000-8000-000000000002'::uuid),
               ('cccccccc-0000-4000-8000-000000000005'::uuid)) c(id)
  JOIN api.subscriber_details d ON d.customer_id = c.id
 GROUP BY 1;
SELECT c.id, count(d.subscriber_id)
  FROM (VALUES ('cccccccc-0000-4000-8000-000000000002'::uuid),
               ('cccccccc-0000-4000-8000-000000000005'::uuid)) c(id)
  JOIN api.subscriber_details d ON d.customer_id = c.id
 GROUP BY 1 ORDER BY 1;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT method, path, status FROM pd_requests(:'log');

-- an OR of equalities on the key is a list of keys, each asked once
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn = '990000000002' OR msisdn = '990000000003' OR msisdn = '990000000002';
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn = '990000000002' OR msisdn = '990000000003' OR msisdn = '990000000002'
 ORDER BY 1, 2;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM pd_requests(:'log');
-- an OR that also tests another column gives no key
SELECT msisdn FROM api.subscriber_sessions WHERE msisdn = '990000000002' OR session_id = 'x';

--
-- EXPLAIN ANALYZE: requests, retries and bytes received of each scan (SPEC
-- 4: "EXPLAIN ANALYZE adds the number of requests, retries and bytes
-- received")
--
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM api.subscriber_sessions WHERE msisdn IN ('990000000001', '990000000002', '404000');
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM api.customer_subscribers WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM api.subscriber_details WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';

DROP FUNCTION pd_sessions_of(text), pd_subscriber_count(uuid), pd_requests(json);
