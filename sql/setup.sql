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

-- The helpers of the fault tests (faults, hostile, http_limits, conversion):
-- where the simulator is and an id of this run, which fault specs carry so
-- that the simulator's per-spec counters start afresh (the id never shows
-- in output, nor do ports or timings).
\set run `date +%s%N`
CREATE TABLE regress_env AS SELECT :'sim_url'::text AS sim_url, :'run'::text AS run;

-- a server on the simulator behind a fault spec, a user mapping, the three
-- tables imported into a schema of the same name
CREATE FUNCTION fault_server(name text, spec text, opts text DEFAULT '')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER subscriber_fdw OPTIONS '
                 '(base_url %L, tenant ''acme''%s)', name,
                 (SELECT sim_url FROM regress_env) || '/_fault/' || spec || ',id=' ||
                 (SELECT run FROM regress_env) || '-' || name,
                 CASE WHEN opts = '' THEN '' ELSE ', ' || opts END);
  EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (username ''sim'', password ''sim-secret'')', name);
  EXECUTE format('CREATE SCHEMA %I', name);
  EXECUTE format('IMPORT FOREIGN SCHEMA api FROM SERVER %I INTO %I', name, name);
END $$;

-- Runs a query to its end with every column converted, and shows the rows
-- it counted or the error: SQLSTATE, message, detail, hint and the first
-- line of the context where it says more than the query.  libcurl's own
-- words (which carry ports, timings and vary between versions) are cut
-- from transport errors, keeping the count of retries.
CREATE FUNCTION fault_show(q text) RETURNS TABLE (item text, value text)
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  st text; msg text; det text; hin text; ctx text;
BEGIN
  EXECUTE 'SELECT count(*) FROM (' || q || ') t WHERE t::text IS NOT NULL' INTO n;
  item := 'rows'; value := n; RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
    det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
  IF st IN ('08001', '08006') THEN
    det := '<libcurl message>' || coalesce(substring(det FROM ' \(after [0-9]+ retries\)\.$'), '');
  END IF;
  item := 'sqlstate'; value := st; RETURN NEXT;
  item := 'message'; value := msg; RETURN NEXT;
  -- and byte counts that depend on the simulator's port
  det := regexp_replace(det, '[0-9]+ bytes long', 'N bytes long');
  IF det <> '' THEN item := 'detail'; value := det; RETURN NEXT; END IF;
  IF hin <> '' THEN item := 'hint'; value := hin; RETURN NEXT; END IF;
  -- the context of errors that name their request in the message is only
  -- this function's own statement
  IF ctx NOT LIKE 'SQL statement%' THEN
    item := 'context'; value := split_part(ctx, E'\n', 1); RETURN NEXT;
  END IF;
END $$;
