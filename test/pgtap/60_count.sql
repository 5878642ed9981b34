-- Counts from the API's totals, asserted: the same answers as reading the
-- records, and the bounds of the memory of known sizes.
--
-- Simulator data (test/simulator.py): customer
-- cccccccc-0000-4000-8000-NNNNNNNNNNNN has NNNNNNNNNNNN subscribers.
\getenv sim_url SIM_URL
\set QUIET on
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS subscriber_fdw;

BEGIN;
SELECT plan(12);

CREATE SERVER tap60_sim FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', request_timeout '30');
CREATE USER MAPPING FOR PUBLIC SERVER tap60_sim
  OPTIONS (username 'sim', password 'sim-secret');
CREATE SCHEMA tap60;
IMPORT FOREIGN SCHEMA api EXCEPT (subscriber_sessions) FROM SERVER tap60_sim INTO tap60;
-- the same tables reading the records
CREATE SCHEMA tap60_records;
IMPORT FOREIGN SCHEMA api EXCEPT (subscriber_sessions) FROM SERVER tap60_sim INTO tap60_records;
ALTER FOREIGN TABLE tap60_records.customer_subscribers OPTIONS (ADD count_pushdown 'false');
ALTER FOREIGN TABLE tap60_records.subscriber_details OPTIONS (ADD count_pushdown 'false');

CREATE FUNCTION tap60.customer(n int) RETURNS uuid LANGUAGE sql IMMUTABLE AS
  $$ SELECT ('cccccccc-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid $$;
-- the plan of a query as text, and the row estimate of its first foreign scan
CREATE FUNCTION tap60.plan(query text) RETURNS text
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
CREATE FUNCTION tap60.scan_rows(query text) RETURNS float8
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
-- the totals give what the records give
--
SELECT results_eq(
  $$SELECT customer_id, count(*) FROM tap60.customer_subscribers
     WHERE customer_id = ANY (ARRAY(SELECT tap60.customer(g) FROM generate_series(0, 30) g))
     GROUP BY 1 ORDER BY 1$$,
  $$SELECT customer_id, count(*) FROM tap60_records.customer_subscribers
     WHERE customer_id = ANY (ARRAY(SELECT tap60.customer(g) FROM generate_series(0, 30) g))
     GROUP BY 1 ORDER BY 1$$,
  'customer_subscribers: per-customer counts of 31 customers from the totals equal those from the records');
SELECT results_eq(
  $$SELECT customer_id, count(*), count(1), count(customer_id) FROM tap60.subscriber_details
     WHERE customer_id = ANY (ARRAY(SELECT tap60.customer(g) FROM generate_series(0, 30) g))
     GROUP BY 1 ORDER BY 1$$,
  $$SELECT customer_id, count(*), count(1), count(customer_id) FROM tap60_records.subscriber_details
     WHERE customer_id = ANY (ARRAY(SELECT tap60.customer(g) FROM generate_series(0, 30) g))
     GROUP BY 1 ORDER BY 1$$,
  'subscriber_details: per-customer counts of 31 customers from the totals equal those from the records');
SELECT is(
  (SELECT count(*) FROM tap60.subscriber_details
    WHERE customer_id IN (tap60.customer(7001), tap60.customer(0), tap60.customer(12))),
  (SELECT count(*) FROM tap60_records.subscriber_details
    WHERE customer_id IN (tap60.customer(7001), tap60.customer(0), tap60.customer(12))),
  'a count over three customers, one of them empty, equals the count of the records');
SELECT matches(
  tap60.plan($$SELECT count(*) FROM tap60.subscriber_details WHERE customer_id = tap60.customer(5)$$),
  'Count: from the API''s totals',
  'the count of one customer comes from the totals');
SELECT doesnt_match(
  tap60.plan($$SELECT count(*) FROM tap60_records.subscriber_details WHERE customer_id = tap60.customer(5)$$),
  'Count:',
  'with count_pushdown off it does not');

--
-- known sizes: from counts, from scans (also with LIMIT, also with
-- count_pushdown off), and forgotten beyond the capacity of 1,024 keys
--
SELECT is(
  tap60.scan_rows($$SELECT * FROM tap60.subscriber_details WHERE customer_id = tap60.customer(7001)$$),
  7001::float8, 'a size seen by a count is the estimate of a later scan');
SELECT is(
  (SELECT count(*) FROM (SELECT * FROM tap60.customer_subscribers
                          WHERE customer_id = tap60.customer(7002) LIMIT 3) s),
  3::bigint, 'LIMIT 3 of a customer of 7002');
SELECT is(
  tap60.scan_rows($$SELECT * FROM tap60.customer_subscribers WHERE customer_id = tap60.customer(7002)$$),
  7002::float8, 'a scan with a LIMIT learns the whole size from its first answer');
SELECT is(
  (SELECT count(*) FROM tap60_records.subscriber_details WHERE customer_id = tap60.customer(703)),
  703::bigint, 'a count that reads the records');
SELECT is(
  tap60.scan_rows($$SELECT * FROM tap60.subscriber_details WHERE customer_id = tap60.customer(703)$$),
  703::float8, 'and so does its scan: the estimate of a later scan');
-- 1,024 other customers counted: customer 7001 is the least recently used
SELECT is(
  (SELECT count(*) FROM tap60.subscriber_details
    WHERE customer_id = ANY (ARRAY(SELECT tap60.customer(g) FROM generate_series(1, 1024) g))),
  (1024 * 1025 / 2)::bigint, 'a count of 1,024 customers');
SELECT is(
  ARRAY[tap60.scan_rows($$SELECT * FROM tap60.subscriber_details WHERE customer_id = tap60.customer(7001)$$),
        tap60.scan_rows($$SELECT * FROM tap60.subscriber_details WHERE customer_id = tap60.customer(1024)$$)],
  ARRAY[1000, 1024]::float8[],
  'beyond 1,024 keys the least recently used size is forgotten (1,000 again), the newest kept');

SELECT * FROM finish();
ROLLBACK;
