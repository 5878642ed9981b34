-- count(*) from the API's totals, queries that need no key (LIMIT 0), and
-- plans from the sizes a session has seen.  Requests are read from the
-- simulator's log.
--
-- Simulator data (test/simulator.py): customer
-- cccccccc-0000-4000-8000-NNNNNNNNNNNN has NNNNNNNNNNNN subscribers, with
-- status ACTIVE for every fourth one (i % 4 = 0).
\getenv sim_url SIM_URL
\set VERBOSITY terse

-- the requests since the last reset: other tests' fault servers may still
-- answer late, this test's fault servers carry id=count
CREATE FUNCTION ct_requests(log json)
RETURNS TABLE (method text, path text, body text, records int)
LANGUAGE sql AS $$
  SELECT e->>'method', e->>'path',
         regexp_replace(e->>'body', '"pitId":"[^"]+"', '"pitId":"<pit>"'),
         (e->>'records')::int
    FROM json_array_elements(log) e
   WHERE e->>'path' NOT LIKE '/\_fault/%' OR e->>'path' LIKE '/\_fault/%id=count%'
   ORDER BY e->>'path', (e->>'seq')::int
$$;
-- the planner's row estimate of the first foreign scan of a query
CREATE FUNCTION ct_scan_rows(query text) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  RETURN (WITH RECURSIVE nodes(n) AS (
            SELECT plan->0->'Plan'
            UNION ALL
            SELECT c FROM nodes, json_array_elements(n->'Plans') c)
          SELECT (n->>'Plan Rows')::float8 FROM nodes
           WHERE n->>'Node Type' = 'Foreign Scan' LIMIT 1);
END
$$;

--
-- the count of a customer of 200,000 subscribers: one request asking for a
-- single record, for each customer table
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT count(*) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000200000';
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000200000';
SELECT count(*) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000200000';
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000200000';
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM ct_requests(:'log');
-- EXPLAIN ANALYZE counts the one request
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000200000';

-- count(1), count(key) and expressions over counts are row counts too
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(1), count(customer_id), count(*) * 2 AS twice
  FROM api.customer_subscribers WHERE customer_id = 'cccccccc-0000-4000-8000-000000000023';
SELECT count(1), count(customer_id), count(*) * 2 AS twice
  FROM api.customer_subscribers WHERE customer_id = 'cccccccc-0000-4000-8000-000000000023';
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM ct_requests(:'log');

--
-- several keys: one request per distinct key; GROUP BY the key gives a
-- row per key that has subscribers (none for the customer without any)
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT customer_id, count(*) FROM api.subscriber_details
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000000',
                       'CCCCCCCC-0000-4000-8000-000000000005',
                       'cccccccc-0000-4000-8000-000000000003')
 GROUP BY customer_id ORDER BY customer_id;
SELECT customer_id, count(*) FROM api.subscriber_details
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000000',
                       'CCCCCCCC-0000-4000-8000-000000000005',
                       'cccccccc-0000-4000-8000-000000000003')
 GROUP BY customer_id ORDER BY customer_id;
SELECT customer_id, count(*) AS n FROM api.customer_subscribers
 WHERE customer_id = ANY ('{cccccccc-0000-4000-8000-000000000003,cccccccc-0000-4000-8000-000000000000,cccccccc-0000-4000-8000-000000000005,NULL}'::uuid[])
 GROUP BY 1 ORDER BY n DESC;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM ct_requests(:'log');
-- HAVING on the counts is checked on the counts from the totals
EXPLAIN (COSTS OFF)
SELECT customer_id, count(*) FROM api.customer_subscribers
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000000',
                       'cccccccc-0000-4000-8000-000000000005')
 GROUP BY 1 HAVING count(*) > 4;
SELECT customer_id, count(*) FROM api.customer_subscribers
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000000',
                       'cccccccc-0000-4000-8000-000000000005')
 GROUP BY 1 HAVING count(*) > 4;
SELECT count(*) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' HAVING count(*) < 3;
-- without GROUP BY: one row, the sum; a list of NULLs counts nothing
SELECT count(*) FROM api.customer_subscribers
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000000',
                       'cccccccc-0000-4000-8000-000000000005');
SELECT count(*) FROM api.customer_subscribers WHERE customer_id = NULL::uuid;
SELECT customer_id, count(*) FROM api.customer_subscribers
 WHERE customer_id = ANY ('{NULL}'::uuid[]) GROUP BY 1;

-- the customer_id option is the key when the query names none
CREATE FOREIGN TABLE ct_default (customer_id uuid, subscriber_id uuid)
  SERVER sim OPTIONS (resource 'subscriber_details',
                      customer_id 'cccccccc-0000-4000-8000-000000000042');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF) SELECT count(*) FROM ct_default;
SELECT count(*) FROM ct_default;
SELECT count(*) FROM ct_default WHERE customer_id = 'cccccccc-0000-4000-8000-000000000007';
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM ct_requests(:'log');

--
-- parameters: custom plans, generic plans, an initplan's array, a
-- PL/pgSQL variable, a correlated sub-select
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
PREPARE ct_one(uuid) AS
  SELECT count(*) FROM api.subscriber_details WHERE customer_id = $1;
PREPARE ct_each(uuid[]) AS
  SELECT customer_id, count(*) FROM api.customer_subscribers
   WHERE customer_id = ANY ($1) GROUP BY 1 ORDER BY 1;
EXPLAIN (COSTS OFF) EXECUTE ct_one('cccccccc-0000-4000-8000-000000000031');
EXECUTE ct_one('cccccccc-0000-4000-8000-000000000031');
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE ct_one('cccccccc-0000-4000-8000-000000000032');
EXECUTE ct_one('cccccccc-0000-4000-8000-000000000032');
EXECUTE ct_one('cccccccc-0000-4000-8000-000000000033');
EXECUTE ct_one(NULL);
EXPLAIN (COSTS OFF) EXECUTE ct_each('{cccccccc-0000-4000-8000-000000000034}');
EXECUTE ct_each('{cccccccc-0000-4000-8000-000000000034,cccccccc-0000-4000-8000-000000000035}');
EXECUTE ct_each('{}');
SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
 WHERE name LIKE 'ct\_%' ORDER BY name;
RESET plan_cache_mode;
DEALLOCATE ct_one;
DEALLOCATE ct_each;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = ANY (ARRAY(SELECT ('cccccccc-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid
                                  FROM generate_series(36, 37) g));
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = ANY (ARRAY(SELECT ('cccccccc-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid
                                  FROM generate_series(36, 37) g));
CREATE FUNCTION ct_count_of(c uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM api.customer_subscribers WHERE customer_id = c);
END
$$;
SELECT n, ct_count_of(('cccccccc-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid)
  FROM generate_series(38, 44) n ORDER BY n;
-- a sub-select per row is a rescan of the count with a new key
EXPLAIN (COSTS OFF)
SELECT g, (SELECT count(*) FROM api.subscriber_details d
            WHERE d.customer_id = ('cccccccc-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid)
  FROM generate_series(45, 47) g;
SELECT g, (SELECT count(*) FROM api.subscriber_details d
            WHERE d.customer_id = ('cccccccc-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid)
  FROM generate_series(45, 47) g;
-- every count above asked for one record of each key
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT method, count(*) AS requests, min(records) AS min_records, max(records) AS max_records,
       count(*) FILTER (WHERE path LIKE '%size=1' OR body LIKE '%"size":1}') AS size_1
  FROM ct_requests(:'log') GROUP BY 1 ORDER BY 1;

--
-- anything else reads the records, and the counts stay exact: a local
-- filter, count(column), another aggregate, DISTINCT, FILTER, HAVING, a
-- join, count_pushdown off, a resource without totals
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345' AND status = 'ACTIVE';
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345' AND status = 'ACTIVE';
EXPLAIN (COSTS OFF)
SELECT count(status) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345';
SELECT count(status), count(imei) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345';
-- the same customer from the totals, for comparison
SELECT count(*) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345';
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM ct_requests(:'log');

SELECT count(*), sum(daily_sms_usage) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000250';
SELECT count(DISTINCT customer_id) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000250';
SELECT count(*) FILTER (WHERE status = 'ACTIVE') AS active, count(*)
  FROM api.subscriber_details WHERE customer_id = 'cccccccc-0000-4000-8000-000000000250';
SELECT count(1 ORDER BY subscriber_id) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000250';
-- HAVING on another aggregate
EXPLAIN (COSTS OFF)
SELECT customer_id, count(*) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000250'
 GROUP BY 1 HAVING max(status) > 'A';
SELECT customer_id, count(*) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000250'
 GROUP BY 1 HAVING max(status) > 'A';
-- GROUP BY another column
SELECT status, count(*) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000250' GROUP BY 1 ORDER BY 1;
-- a join: the count of the joined rows
EXPLAIN (COSTS OFF)
SELECT count(*) FROM api.customer_subscribers s
  JOIN api.subscriber_details d ON d.subscriber_id = s.subscriber_id
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000250'
   AND d.customer_id = 'cccccccc-0000-4000-8000-000000000250';
SELECT count(*) FROM api.customer_subscribers s
  JOIN api.subscriber_details d ON d.subscriber_id = s.subscriber_id
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000250'
   AND d.customer_id = 'cccccccc-0000-4000-8000-000000000250';
-- a resource without totals: the sessions are counted from their records
EXPLAIN (COSTS OFF)
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = '990000000003';
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = '990000000003';

-- count_pushdown off, on the table and on the server: the records are read
-- and the count is the same as from the totals
CREATE FOREIGN TABLE ct_off (customer_id uuid, subscriber_id uuid)
  SERVER sim OPTIONS (resource 'customer_subscribers', count_pushdown 'false');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF)
SELECT count(*) FROM ct_off WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345';
SELECT (SELECT count(*) FROM ct_off
         WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345') AS from_records,
       (SELECT count(*) FROM api.customer_subscribers
         WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345') AS from_totals;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM ct_requests(:'log');
ALTER FOREIGN TABLE ct_off OPTIONS (SET count_pushdown 'true');
EXPLAIN (COSTS OFF)
SELECT count(*) FROM ct_off WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345';
ALTER SERVER sim OPTIONS (ADD count_pushdown 'false');
ALTER FOREIGN TABLE ct_off OPTIONS (DROP count_pushdown);
EXPLAIN (COSTS OFF)
SELECT customer_id, count(*) FROM api.subscriber_details
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000005')
 GROUP BY 1;
SELECT customer_id, count(*) FROM api.subscriber_details
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000005')
 GROUP BY 1 ORDER BY 1;
ALTER SERVER sim OPTIONS (DROP count_pushdown);
-- the option takes a boolean, on a server or a table only
ALTER FOREIGN TABLE ct_off OPTIONS (ADD count_pushdown 'sometimes');
ALTER USER MAPPING FOR PUBLIC SERVER sim OPTIONS (ADD count_pushdown 'false');

--
-- an answer without a total: the key's records are read, and the count is
-- still exact
--
SELECT :'sim_url' || '/_fault/no_total=1,id=count' AS nt_url,
       :'sim_url' || '/_fault/no_total=1,times=1,id=count' AS nt1_url \gset
CREATE SERVER ct_no_total FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'nt_url');
CREATE USER MAPPING FOR PUBLIC SERVER ct_no_total
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE ct_no_total_subs (customer_id uuid, subscriber_id uuid)
  SERVER ct_no_total OPTIONS (resource 'customer_subscribers');
-- a point in time always states its total; here only the first answer
-- (the one asked for the count) leaves it out
CREATE SERVER ct_no_total_once FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'nt1_url');
CREATE USER MAPPING FOR PUBLIC SERVER ct_no_total_once
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE ct_no_total_details (customer_id uuid, subscriber_id uuid)
  SERVER ct_no_total_once OPTIONS (resource 'subscriber_details');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) FROM ct_no_total_subs
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000012345';
SELECT customer_id, count(*) FROM ct_no_total_subs
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000000')
 GROUP BY 1;
SELECT count(*) FROM ct_no_total_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000012';
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT * FROM ct_requests(:'log');

--
-- a query that cannot return a row needs no key and sends nothing
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
EXPLAIN (COSTS OFF) SELECT * FROM api.customer_subscribers LIMIT 0;
SELECT * FROM api.customer_subscribers LIMIT 0;
SELECT customer_id, subscriber_id, eid FROM api.subscriber_details LIMIT 0;
SELECT * FROM api.subscriber_sessions LIMIT 0;
-- with a filter, in a sub-query, in a join, under an aggregate, as FETCH
SELECT customer_id, status FROM api.customer_subscribers WHERE status = 'ACTIVE' LIMIT 0;
SELECT * FROM (SELECT msisdn, session_id FROM api.subscriber_sessions LIMIT 0) s;
EXPLAIN (COSTS OFF)
SELECT s.msisdn, c.subscriber_id FROM api.subscriber_sessions s
  JOIN api.customer_subscribers c ON c.active_msisdn = s.msisdn LIMIT 0;
SELECT s.msisdn, c.subscriber_id FROM api.subscriber_sessions s
  JOIN api.customer_subscribers c ON c.active_msisdn = s.msisdn LIMIT 0;
SELECT count(*) FROM api.subscriber_details LIMIT 0;
SELECT customer_id, status FROM api.subscriber_details FETCH FIRST 0 ROWS ONLY;
-- with a key too: nothing to ask for
EXPLAIN (COSTS OFF)
SELECT subscriber_id FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' LIMIT 0;
SELECT subscriber_id FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' LIMIT 0;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT count(*) AS requests FROM ct_requests(:'log');
-- a LIMIT that may return rows still needs a key
SELECT * FROM api.customer_subscribers LIMIT 1;

--
-- plans from known sizes: the sizes that counts and scans saw replace the
-- catalog's 1,000 rows per customer in later estimates
--
-- never seen: 1,000 per customer
SELECT ct_scan_rows($$SELECT * FROM api.customer_subscribers
                       WHERE customer_id = 'cccccccc-0000-4000-8000-000000000004'$$) AS rows_4,
       ct_scan_rows($$SELECT * FROM api.subscriber_details
                       WHERE customer_id = 'cccccccc-0000-4000-8000-000000005000'$$) AS rows_5000;
-- seen by counts and scans above: their real sizes, summed over the keys
SELECT ct_scan_rows($$SELECT * FROM api.subscriber_details
                       WHERE customer_id = 'cccccccc-0000-4000-8000-000000200000'$$) AS rows_200000,
       ct_scan_rows($$SELECT * FROM api.customer_subscribers
                       WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                                             'cccccccc-0000-4000-8000-000000000005',
                                             'cccccccc-0000-4000-8000-000000000004')$$) AS rows_3_5_unknown,
       ct_scan_rows('SELECT * FROM ct_default') AS rows_default_42;
-- a join of a tiny customer and a large one: before the sizes are known
-- both sides look alike ...
EXPLAIN (COSTS OFF)
SELECT s.subscriber_id, d.subscriber_id
  FROM api.customer_subscribers s JOIN api.subscriber_details d ON d.imei = s.imei
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000004'
   AND d.customer_id = 'cccccccc-0000-4000-8000-000000005000';
-- ... a scan of the tiny one and a count of the large one ...
SELECT count(subscriber_id) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000004';
SELECT count(*) FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000005000';
SELECT ct_scan_rows($$SELECT * FROM api.customer_subscribers
                       WHERE customer_id = 'cccccccc-0000-4000-8000-000000000004'$$) AS rows_4,
       ct_scan_rows($$SELECT * FROM api.subscriber_details
                       WHERE customer_id = 'cccccccc-0000-4000-8000-000000005000'$$) AS rows_5000;
-- ... and the tiny customer is the one that is hashed
EXPLAIN (COSTS OFF)
SELECT s.subscriber_id, d.subscriber_id
  FROM api.customer_subscribers s JOIN api.subscriber_details d ON d.imei = s.imei
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000004'
   AND d.customer_id = 'cccccccc-0000-4000-8000-000000005000';
-- sizes are remembered per server: another server knows none of them
CREATE SERVER ct_other FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url :'sim_url');
CREATE FOREIGN TABLE ct_other_details (customer_id uuid, subscriber_id uuid)
  SERVER ct_other OPTIONS (resource 'subscriber_details');
SELECT ct_scan_rows($$SELECT * FROM ct_other_details
                       WHERE customer_id = 'cccccccc-0000-4000-8000-000000005000'$$) AS rows_5000;

DROP FOREIGN TABLE ct_default, ct_off, ct_no_total_subs, ct_no_total_details, ct_other_details;
DROP SERVER ct_no_total CASCADE;
DROP SERVER ct_no_total_once CASCADE;
DROP SERVER ct_other;
DROP FUNCTION ct_requests(json), ct_scan_rows(text), ct_count_of(uuid);
