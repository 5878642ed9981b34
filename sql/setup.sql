-- Shared set-up of the pg_regress suite: a server on the simulator, a user
-- mapping, and the three tables imported into schema api (SPEC 2:
-- "IMPORT FOREIGN SCHEMA api FROM SERVER s INTO local_schema; creates the
-- three tables below, with exactly these column names and types (LIMIT TO
-- and EXCEPT work as usual)").
\getenv sim_url SIM_URL
SELECT subscriber_fdw_version();

CREATE SERVER sim FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'acme', request_timeout '10');
CREATE USER MAPPING FOR PUBLIC SERVER sim
  OPTIONS (username 'sim', password 'sim-secret');

CREATE SCHEMA api;
IMPORT FOREIGN SCHEMA api FROM SERVER sim INTO api;
\d api.customer_subscribers
\d api.subscriber_details
\d api.subscriber_sessions

-- LIMIT TO and EXCEPT
CREATE SCHEMA only_sessions;
IMPORT FOREIGN SCHEMA api LIMIT TO (subscriber_sessions) FROM SERVER sim INTO only_sessions;
CREATE SCHEMA no_sessions;
IMPORT FOREIGN SCHEMA api EXCEPT (subscriber_sessions) FROM SERVER sim INTO no_sessions;
SELECT foreign_table_schema, foreign_table_name
  FROM information_schema.foreign_tables
 WHERE foreign_table_schema IN ('only_sessions', 'no_sessions')
 ORDER BY 1, 2;
-- only schema "api" exists remotely
IMPORT FOREIGN SCHEMA public FROM SERVER sim INTO no_sessions;
