-- customer_subscribers (SPEC sections 2 and 4): the columns of a few
-- customers, paging, where the key comes from, errors, and hand-made
-- tables.  Every row and column of larger customers is checked against the
-- simulator's formulas in test/pgtap/10_customer_subscribers.sql.
\getenv sim_url SIM_URL
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null

------------------------------------------------------------------------
-- a customer of 3 subscribers, key from a constant
------------------------------------------------------------------------
EXPLAIN (COSTS OFF)
SELECT * FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
SELECT * FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'
 ORDER BY subscriber_id;

------------------------------------------------------------------------
-- a customer of 8: i = 1 has its active pair without msisdn, i = 3 has no
-- active pair (i % 7 = 3), i = 4 belongs to a sub-customer (i % 5 = 4),
-- i = 5 has a middle pair without msisdn, i = 7 has no imei (i % 10 = 7)
------------------------------------------------------------------------
SELECT subscriber_id, iccid, status, imei, imeisv, attached_customer_id,
       attached_customer_name
  FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000008'
 ORDER BY subscriber_id;
SELECT subscriber_id, active_imsi, active_msisdn, imsi_msisdn_pairs
  FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000008'
 ORDER BY subscriber_id;
-- one request per query: page 1 (1-based) in the default size
\set log `curl -s "$SIM_URL/_sim/log?path_contains=/subscriber"`
SELECT e->>'method' AS method, e->>'path' AS path, e->>'auth' AS auth,
       (e->>'status')::int AS status, (e->>'records')::int AS records
  FROM json_array_elements(:'log'::json) e ORDER BY (e->>'seq')::int;
-- the types the SPEC gives
SELECT pg_typeof(customer_id) AS customer_id, pg_typeof(subscriber_id) AS subscriber_id,
       pg_typeof(attached_customer_id) AS attached, pg_typeof(imsi_msisdn_pairs) AS pairs
  FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000001';
------------------------------------------------------------------------
-- a customer spanning several pages: a hand-made table with fetch_size 7
-- (SPEC 2: "The API pages its answer (pageable): every page is read, page
-- numbers 1-based, sent as the query parameters page and size")
------------------------------------------------------------------------
CREATE FOREIGN TABLE cs_paged (
  customer_id uuid, subscriber_id uuid, iccid text, status text, imei text,
  imeisv text, attached_customer_id uuid, attached_customer_name text,
  active_imsi text, active_msisdn text, imsi_msisdn_pairs jsonb
) SERVER sim OPTIONS (resource 'customer_subscribers', fetch_size '7');
-- 23 subscribers: pages of 7, 7, 7 and 2
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*), count(DISTINCT subscriber_id) AS distinct_ids,
       count(DISTINCT iccid) AS distinct_iccids,
       min(iccid), max(iccid)
  FROM cs_paged WHERE customer_id = 'cccccccc-0000-4000-8000-000000000023';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=000000000023"`
SELECT substring(e->>'path' from '\?(.*)$') AS query, (e->>'status')::int AS status,
       (e->>'records')::int AS records
  FROM json_array_elements(:'log'::json) e ORDER BY (e->>'seq')::int;
-- 21 subscribers fill exactly 3 pages: no page 4 is asked for
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*), count(DISTINCT subscriber_id) AS distinct_ids
  FROM cs_paged WHERE customer_id = 'cccccccc-0000-4000-8000-000000000021';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=000000000021"`
SELECT substring(e->>'path' from '\?(.*)$') AS query, (e->>'records')::int AS records
  FROM json_array_elements(:'log'::json) e ORDER BY (e->>'seq')::int;
-- a customer without subscribers: one request, no rows
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) FROM cs_paged WHERE customer_id = 'cccccccc-0000-4000-8000-000000000000';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=000000000000"`
SELECT substring(e->>'path' from '\?(.*)$') AS query, (e->>'records')::int AS records
  FROM json_array_elements(:'log'::json) e ORDER BY (e->>'seq')::int;

------------------------------------------------------------------------
-- key from a parameter: seven executions of a prepared statement (the plan
-- cache goes generic after five), then a forced generic plan (SPEC 4: "key =
-- $1 (also under generic plans)").  The customers are new to this session:
-- for customers whose sizes it knows, custom plans would estimate better
-- than the generic one and stay.
------------------------------------------------------------------------
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
PREPARE cs_count(uuid) AS
  SELECT count(*), min(attached_customer_name) AS name
    FROM api.customer_subscribers WHERE customer_id = $1;
EXECUTE cs_count('cccccccc-0000-4000-8000-000000000011');
EXECUTE cs_count('cccccccc-0000-4000-8000-000000000012');
EXECUTE cs_count('cccccccc-0000-4000-8000-000000000013');
EXECUTE cs_count('cccccccc-0000-4000-8000-000000000014');
EXECUTE cs_count('cccccccc-0000-4000-8000-000000000015');
EXECUTE cs_count('cccccccc-0000-4000-8000-000000000016');
EXECUTE cs_count('cccccccc-0000-4000-8000-000000000017');
SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
 WHERE name = 'cs_count';
EXPLAIN (COSTS OFF) EXECUTE cs_count('cccccccc-0000-4000-8000-000000000017');
-- one request per execution, each for its own customer
\set log `curl -s "$SIM_URL/_sim/log?path_contains=/subscriber"`
SELECT e->>'path' AS path, (e->>'records')::int AS records
  FROM json_array_elements(:'log'::json) e ORDER BY (e->>'seq')::int;
DEALLOCATE cs_count;

SET plan_cache_mode = force_generic_plan;
PREPARE cs_rows(uuid) AS
  SELECT customer_id, subscriber_id, status
    FROM api.customer_subscribers WHERE customer_id = $1 ORDER BY subscriber_id;
EXPLAIN (COSTS OFF) EXECUTE cs_rows('cccccccc-0000-4000-8000-000000000002');
EXECUTE cs_rows('cccccccc-0000-4000-8000-000000000002');
EXECUTE cs_rows('cccccccc-0000-4000-8000-000000000001');
-- a NULL key matches nothing
EXECUTE cs_rows(NULL);
SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
 WHERE name = 'cs_rows';
DEALLOCATE cs_rows;
RESET plan_cache_mode;

------------------------------------------------------------------------
-- key from the customer_id option, on the table and on the server (SPEC 4:
-- "Failing all of those, a customer table uses the customer_id option")
------------------------------------------------------------------------
CREATE FOREIGN TABLE cs_opt (customer_id uuid, subscriber_id uuid, status text)
  SERVER sim OPTIONS (resource 'customer_subscribers',
                      customer_id 'cccccccc-0000-4000-8000-000000000002');
EXPLAIN (COSTS OFF) SELECT * FROM cs_opt;
SELECT * FROM cs_opt ORDER BY subscriber_id;
-- a key in the query wins over the option
SELECT * FROM cs_opt WHERE customer_id = 'cccccccc-0000-4000-8000-000000000001';
-- other conditions are checked locally
SELECT * FROM cs_opt WHERE status = 'SUSPEND';

CREATE SERVER cs_sim_cust FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', customer_id 'cccccccc-0000-4000-8000-000000000003');
CREATE USER MAPPING FOR PUBLIC SERVER cs_sim_cust OPTIONS (token 'sim-token');
CREATE FOREIGN TABLE cs_srv_opt (customer_id uuid, subscriber_id uuid)
  SERVER cs_sim_cust OPTIONS (resource 'customer_subscribers');
CREATE FOREIGN TABLE cs_srv_tab_opt (customer_id uuid, subscriber_id uuid)
  SERVER cs_sim_cust OPTIONS (resource 'customer_subscribers',
                              customer_id 'cccccccc-0000-4000-8000-000000000001');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT * FROM cs_srv_opt ORDER BY subscriber_id;
-- the table's option overrides the server's
SELECT * FROM cs_srv_tab_opt ORDER BY subscriber_id;
\set log `curl -s "$SIM_URL/_sim/log?path_contains=/subscriber"`
SELECT e->>'path' AS path, e->>'auth' AS auth
  FROM json_array_elements(:'log'::json) e ORDER BY (e->>'seq')::int;

------------------------------------------------------------------------
-- no key: an error at planning time that says what to add (SQLSTATE HV00L)
-- (SPEC 4: "otherwise the query fails with an error that says which
-- condition to add")
------------------------------------------------------------------------
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT * FROM api.customer_subscribers;
\set VERBOSITY sqlstate
SELECT * FROM api.customer_subscribers;
\set VERBOSITY default
SELECT count(*) FROM api.customer_subscribers WHERE status = 'ACTIVE';
-- a condition that is not "key = value" gives no key
SELECT * FROM api.customer_subscribers
 WHERE customer_id::text = 'cccccccc-0000-4000-8000-000000000003';
SELECT * FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'
    OR status = 'ACTIVE';
-- nothing was sent for them
\set log `curl -s "$SIM_URL/_sim/log?path_contains=/subscriber"`
SELECT count(*) AS requests FROM json_array_elements(:'log'::json) e;

------------------------------------------------------------------------
-- a customer that does not exist: CUSTOMER_1002, SQLSTATE 42704 (SPEC 5)
------------------------------------------------------------------------
SELECT * FROM api.customer_subscribers
 WHERE customer_id = '3bd92beb-0367-4e68-b50d-72c0fb08beab';
\set VERBOSITY sqlstate
SELECT * FROM api.customer_subscribers
 WHERE customer_id = '3bd92beb-0367-4e68-b50d-72c0fb08beab';
\set VERBOSITY default
DO $$
DECLARE st text; msg text;
BEGIN
  PERFORM * FROM api.customer_subscribers
   WHERE customer_id = 'dddddddd-0000-4000-8000-000000000003';
  RAISE NOTICE 'no error';
EXCEPTION WHEN undefined_object THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RAISE NOTICE 'caught %: %', st, msg;
END $$;
-- the session goes on
SELECT count(*) FROM api.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000004';

------------------------------------------------------------------------
-- hand-made tables: a subset of the columns in another order, text for
-- uuid columns, json_path columns (SPEC 2: "A column that is neither listed
-- nor given a json_path is an error at planning time that names the column")
------------------------------------------------------------------------
CREATE FOREIGN TABLE cs_hand (
  status text,
  pairs jsonb OPTIONS (json_path 'imsiMsisdnPairs'),
  customer_name text OPTIONS (json_path 'customerName'),
  subscriber_id text,
  nothing text OPTIONS (json_path 'no.such.field'),
  attached_customer_id text,
  customer_id uuid
) SERVER sim OPTIONS (resource 'customer_subscribers');
SELECT * FROM cs_hand WHERE customer_id = 'cccccccc-0000-4000-8000-000000000005'
 ORDER BY subscriber_id;
SELECT pg_typeof(subscriber_id), pg_typeof(pairs) FROM cs_hand
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000001';
-- the key column as text
CREATE FOREIGN TABLE cs_text_key (customer_id text, subscriber_id text, imei text)
  SERVER sim OPTIONS (resource 'customer_subscribers');
SELECT * FROM cs_text_key WHERE customer_id = 'cccccccc-0000-4000-8000-000000000002'
 ORDER BY subscriber_id;
-- a column that is neither listed nor given a json_path
CREATE FOREIGN TABLE cs_bad (customer_id uuid, subscriber_id uuid, msisdn text)
  SERVER sim OPTIONS (resource 'customer_subscribers');
SELECT subscriber_id FROM cs_bad WHERE customer_id = 'cccccccc-0000-4000-8000-000000000002';
-- a json_path fixes it
ALTER FOREIGN TABLE cs_bad ALTER COLUMN msisdn OPTIONS (ADD json_path 'imsiMsisdnPairs');
SELECT subscriber_id, msisdn FROM cs_bad
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000002' ORDER BY 1;

SET client_min_messages = warning;
DROP FOREIGN TABLE cs_paged, cs_opt, cs_hand, cs_text_key, cs_bad;
DROP SERVER cs_sim_cust CASCADE;
RESET client_min_messages;
