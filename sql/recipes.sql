-- The README's examples and recipes, run exactly as the README shows them.
--
-- Every ```sql block of README.md is a verbatim part of this file, and the
-- last queries below check that, so the documentation cannot drift from the
-- code: change a block there, change it here (and the expected output).
-- Statements marked "(test only)" are not in the README: they point the
-- README's server at the simulator instead of https://api.example.com.
-- The numbers are the simulator's (see its docstring): customer
-- cccccccc-0000-4000-8000-NNNNNNNNNNNN has NNNNNNNNNNNN subscribers.
\getenv sim_url SIM_URL
SET TimeZone = 'UTC';

-- ===== Connecting to a real API =====
CREATE EXTENSION IF NOT EXISTS subscriber_fdw;

CREATE SERVER connectivity FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'https://api.example.com', tenant 'acme');

CREATE USER MAPPING FOR CURRENT_USER SERVER connectivity
  OPTIONS (username 'api-user', password 'api-password');
-- or, with a bearer token instead:
--   CREATE USER MAPPING FOR CURRENT_USER SERVER connectivity
--     OPTIONS (token 'eyJhbGciOi...');

CREATE SCHEMA fleet;
IMPORT FOREIGN SCHEMA api FROM SERVER connectivity INTO fleet;

-- (test only) the same server and mapping, on the simulator
ALTER SERVER connectivity OPTIONS (SET base_url :'sim_url');
ALTER USER MAPPING FOR CURRENT_USER SERVER connectivity
  OPTIONS (SET username 'sim', SET password 'sim-secret');

SELECT foreign_table_name
  FROM information_schema.foreign_tables
 WHERE foreign_table_schema = 'fleet'
 ORDER BY 1;

SELECT count(*) FROM fleet.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010';

CREATE SCHEMA sessions_only;
IMPORT FOREIGN SCHEMA api LIMIT TO (subscriber_sessions)
  FROM SERVER connectivity INTO sessions_only;

SELECT foreign_table_schema, foreign_table_name
  FROM information_schema.foreign_tables
 WHERE foreign_table_schema = 'sessions_only'
 ORDER BY 1, 2;

-- a hand-made table: a subset of the columns, and fields by JSON path
CREATE FOREIGN TABLE fleet.subscriber_location (
  customer_id   uuid,
  subscriber_id uuid,
  status        text,
  country       text    OPTIONS (json_path 'lastConnectedNetwork.countryCode'),
  tac           integer OPTIONS (json_path 'lastUsageLocation.tac')
) SERVER connectivity OPTIONS (resource 'subscriber_details');

SELECT subscriber_id, status, country, tac
  FROM fleet.subscriber_location
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'
 ORDER BY subscriber_id;

-- a default customer for queries that name none
ALTER SERVER connectivity
  OPTIONS (ADD customer_id 'cccccccc-0000-4000-8000-000000000010');

SELECT count(*) FROM fleet.customer_subscribers;

EXPLAIN (COSTS OFF)
SELECT iccid FROM fleet.customer_subscribers;

-- (test only) no default customer in the recipes below
ALTER SERVER connectivity OPTIONS (DROP customer_id);

-- ===== Pushdown =====
EXPLAIN (COSTS OFF)
SELECT iccid, status
  FROM fleet.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025';

EXPLAIN (COSTS OFF)
SELECT iccid, status
  FROM fleet.customer_subscribers
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000010');

SELECT customer_id, count(*)
  FROM fleet.customer_subscribers
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000010')
 GROUP BY customer_id
 ORDER BY customer_id;

EXPLAIN (COSTS OFF)
SELECT iccid, status
  FROM fleet.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'
 LIMIT 5;

EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT iccid, status
  FROM fleet.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'
 LIMIT 5;

-- a sort between the scan and the LIMIT: every record is needed
EXPLAIN (COSTS OFF)
SELECT iccid, status
  FROM fleet.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'
 ORDER BY iccid
 LIMIT 5;

PREPARE subscribers_of(uuid) AS
SELECT count(*) FROM fleet.customer_subscribers WHERE customer_id = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE subscribers_of('cccccccc-0000-4000-8000-000000000025');
EXECUTE subscribers_of('cccccccc-0000-4000-8000-000000000025');
EXECUTE subscribers_of('cccccccc-0000-4000-8000-000000000003');
RESET plan_cache_mode;
DEALLOCATE subscribers_of;

EXPLAIN (COSTS OFF)
SELECT * FROM fleet.subscriber_details LIMIT 0;

EXPLAIN (COSTS OFF)
SELECT customer_id, count(*)
  FROM fleet.subscriber_details
 WHERE customer_id IN ('cccccccc-0000-4000-8000-000000000003',
                       'cccccccc-0000-4000-8000-000000000025')
 GROUP BY customer_id;
-- ===== Pushdown: a batched join =====
CREATE TABLE wanted (msisdn text);
INSERT INTO wanted VALUES ('990000000001'), ('990000000002'), (NULL), ('404000');
ANALYZE wanted;
EXPLAIN (COSTS OFF)
SELECT w.msisdn, x.session_id
  FROM wanted w
  LEFT JOIN fleet.subscriber_sessions x ON x.msisdn = w.msisdn AND x.plmn_id = '123000';
SELECT w.msisdn, x.session_id
  FROM wanted w
  LEFT JOIN fleet.subscriber_sessions x ON x.msisdn = w.msisdn AND x.plmn_id = '123000'
 ORDER BY 1, 2;
DROP TABLE wanted;

-- ===== Recipe: a materialized view refreshed concurrently =====
CREATE MATERIALIZED VIEW fleet.details_snapshot AS
SELECT *
  FROM fleet.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025';

CREATE UNIQUE INDEX ON fleet.details_snapshot (subscriber_id);

-- later, and as often as needed; readers are never blocked
REFRESH MATERIALIZED VIEW CONCURRENTLY fleet.details_snapshot;

SELECT count(*) AS sims,
       count(*) FILTER (WHERE status = 'ACTIVE') AS active,
       sum(monthly_data_usage_mb) AS monthly_data_mb,
       max(last_data_session_record) AS latest_record
  FROM fleet.details_snapshot;

-- ===== Recipe: a local table of customers =====
CREATE TABLE customers (
  customer_id uuid PRIMARY KEY,
  name        text NOT NULL
);
INSERT INTO customers VALUES
  ('cccccccc-0000-4000-8000-000000000003', 'Acme Logistics'),
  ('cccccccc-0000-4000-8000-000000000010', 'Globex Metering'),
  ('cccccccc-0000-4000-8000-000000000025', 'Initech Fleet');
ANALYZE customers;

-- ===== Recipe: fleet dashboard, usage by country and status =====
EXPLAIN (COSTS OFF)
SELECT d.last_network_country AS country,
       d.status,
       count(*) AS sims,
       count(*) FILTER (WHERE d.is_in_data_session) AS in_session,
       sum(d.monthly_data_usage_mb) AS monthly_data_mb,
       sum(d.monthly_sms_usage) AS monthly_sms
  FROM fleet.subscriber_details d
 WHERE d.customer_id = ANY (ARRAY(SELECT customer_id FROM customers))
 GROUP BY d.last_network_country, d.status
 ORDER BY country NULLS LAST, d.status;

SELECT d.last_network_country AS country,
       d.status,
       count(*) AS sims,
       count(*) FILTER (WHERE d.is_in_data_session) AS in_session,
       sum(d.monthly_data_usage_mb) AS monthly_data_mb,
       sum(d.monthly_sms_usage) AS monthly_sms
  FROM fleet.subscriber_details d
 WHERE d.customer_id = ANY (ARRAY(SELECT customer_id FROM customers))
 GROUP BY d.last_network_country, d.status
 ORDER BY country NULLS LAST, d.status;

-- ===== Recipe: joining the foreign tables with the customers table =====
EXPLAIN (COSTS OFF)
SELECT c.name,
       count(s.subscriber_id) AS sims,
       count(*) FILTER (WHERE s.status = 'ACTIVE') AS active
  FROM customers c
  JOIN fleet.customer_subscribers s ON s.customer_id = c.customer_id
 GROUP BY c.name
 ORDER BY c.name;

SELECT c.name,
       count(s.subscriber_id) AS sims,
       count(*) FILTER (WHERE s.status = 'ACTIVE') AS active
  FROM customers c
  JOIN fleet.customer_subscribers s ON s.customer_id = c.customer_id
 GROUP BY c.name
 ORDER BY c.name;

SELECT c.name, u.sims, u.monthly_data_mb
  FROM customers c
  CROSS JOIN LATERAL (
    SELECT count(*) AS sims, sum(d.monthly_data_usage_mb) AS monthly_data_mb
      FROM fleet.subscriber_details d
     WHERE d.customer_id = c.customer_id) u
 ORDER BY c.name;

-- ===== Recipe: sessions of a customer's active subscribers =====
EXPLAIN (COSTS OFF)
SELECT s.iccid, x.session_id, x.plmn_id, x.installed_rules, x.location_profiles
  FROM fleet.customer_subscribers s
  JOIN fleet.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000025'
   AND s.status = 'ACTIVE'
 ORDER BY s.iccid, x.session_id;

SELECT s.iccid, x.session_id, x.plmn_id, x.installed_rules, x.location_profiles
  FROM fleet.customer_subscribers s
  JOIN fleet.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000025'
   AND s.status = 'ACTIVE'
 ORDER BY s.iccid, x.session_id;

EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT s.iccid, x.session_id
  FROM fleet.customer_subscribers s
  JOIN fleet.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000025'
   AND s.status = 'ACTIVE';

-- ===== Troubleshooting =====
\set VERBOSITY default
SELECT count(*) FROM fleet.subscriber_sessions;

SELECT count(*) FROM fleet.customer_subscribers
 WHERE customer_id = '3bd92beb-0367-4e68-b50d-72c0fb08beab';

-- (test only) wrong credentials
ALTER USER MAPPING FOR CURRENT_USER SERVER connectivity
  OPTIONS (SET password 'wrong');
SELECT count(*) FROM fleet.customer_subscribers;
ALTER USER MAPPING FOR CURRENT_USER SERVER connectivity
  OPTIONS (SET password 'sim-secret');

-- ===== The README's SQL is this file's =====
-- (run from the source directory, as "make installcheck" does)
\set readme `cat README.md`
\set recipes `cat sql/recipes.sql`
SELECT count(*) AS readme_sql_blocks
  FROM regexp_matches(:'readme', '```sql\n(.*?)```', 'g') AS block;
SELECT block[1] AS readme_block_not_in_recipes
  FROM regexp_matches(:'readme', '```sql\n(.*?)```', 'g') AS block
 WHERE strpos(:'recipes', block[1]) = 0;

-- clean up
DROP TABLE customers;
DROP SCHEMA fleet CASCADE;
DROP SCHEMA sessions_only CASCADE;
DROP USER MAPPING FOR CURRENT_USER SERVER connectivity;
DROP SERVER connectivity;
