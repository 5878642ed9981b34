-- subscriber_sessions (SPEC sections 2 and 4):
-- GET /pcc/spcm/subscribers/{msisdn}/sessions
--
-- SPEC 2: "Lists are always returned as JSON arrays: a missing list, or one
-- whose length is "0", is []"; "A subscriber that the API answers with 404
-- has no sessions: zero rows, no error"; sent "with the headers tenant
-- (server option) and Accept: application/json".
--
-- The simulator gives an all-digit msisdn n = (last digit) % 4 sessions; with
-- b = the last two digits, session j has
--   installedRuleList    by (b + j) % 4: 0 absent, 1 bare object,
--                        2 array of two, 3 {"length": "0"}
--   locationProfileList  by (b + j + 1) % 3: 0 absent, 1 bare object,
--                        2 array of two
--   plmnId "12300<j>", absent for j = 2
-- and "sessionInfo" is a bare object when n = 1, absent when n = 0.
\getenv sim_url SIM_URL
\set VERBOSITY terse
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null

\d api.subscriber_sessions

-- ...00 and ...04: no sessions (no sessionInfo at all, length "0")
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = '990000000000';
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = '990000000004';

-- ...01: one session, sessionInfo a bare object; installedRuleList a bare
-- object (b+0 = 1), locationProfileList an array (b+1 = 2)
SELECT * FROM api.subscriber_sessions WHERE msisdn = '990000000001';

-- ...02: two sessions; j=0: rules an array, locations absent;
-- j=1: rules length "0", locations a bare object
SELECT * FROM api.subscriber_sessions WHERE msisdn = '990000000002' ORDER BY session_id;

-- ...03: three sessions; j=0: rules length "0", locations bare;
-- j=1: rules absent, locations an array; j=2: rules bare, locations absent,
-- no plmnId
SELECT * FROM api.subscriber_sessions WHERE msisdn = '990000000003' ORDER BY session_id;

-- ...13: three sessions with other shapes (b = 13)
SELECT * FROM api.subscriber_sessions WHERE msisdn = '990000000013' ORDER BY session_id;

-- lists are always JSON arrays, never objects or NULL
SELECT msisdn, session_id,
       jsonb_typeof(installed_rules) AS rules_type,
       jsonb_array_length(installed_rules) AS rules,
       jsonb_typeof(location_profiles) AS locations_type,
       jsonb_array_length(location_profiles) AS locations
  FROM api.subscriber_sessions
 WHERE msisdn IN ('990000000001', '990000000002', '990000000003', '990000000013')
 ORDER BY msisdn, session_id;

-- columns in any order, a subset, and text for jsonb
CREATE FOREIGN TABLE ss_by_hand (
  rules text OPTIONS (json_path 'installedRuleList.length'),
  session_id text,
  msisdn text
) SERVER sim OPTIONS (resource 'subscriber_sessions');
SELECT * FROM ss_by_hand WHERE msisdn = '990000000003' ORDER BY session_id;
DROP FOREIGN TABLE ss_by_hand;

-- 404 (msisdn starting with 404, or not all digits): no sessions, no error
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = '404123';
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = 'not-a-number';

-- every request so far: the tenant header, Accept: application/json and
-- Basic authentication; the 404s were answered 404
\set log `curl -s "$SIM_URL/_sim/log?path_contains=/pcc/spcm/subscribers/"`
SELECT e->>'method' AS method, e->>'path' AS path, e->>'tenant' AS tenant,
       e->>'accept' AS accept, e->>'auth' AS auth, e->>'status' AS status,
       e->>'body' AS body
  FROM json_array_elements(:'log'::json) e
 ORDER BY e->>'path';

-- Bearer authentication from a user mapping with a token
CREATE SERVER ss_bearer FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'acme');
CREATE USER MAPPING FOR PUBLIC SERVER ss_bearer OPTIONS (token 'sim-token');
CREATE FOREIGN TABLE sessions_bearer (msisdn text, session_id text)
  SERVER ss_bearer OPTIONS (resource 'subscriber_sessions');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT * FROM sessions_bearer WHERE msisdn = '990000000006' ORDER BY session_id;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT e->>'path' AS path, e->>'tenant' AS tenant, e->>'accept' AS accept,
       e->>'auth' AS auth, e->>'status' AS status
  FROM json_array_elements(:'log'::json) e;

-- a wrong token: 401, SQLSTATE 28000
ALTER USER MAPPING FOR PUBLIC SERVER ss_bearer OPTIONS (SET token 'not-the-token');
\set VERBOSITY default
\set SHOW_CONTEXT always
SELECT * FROM sessions_bearer WHERE msisdn = '990000000006';
\set VERBOSITY sqlstate
SELECT * FROM sessions_bearer WHERE msisdn = '990000000006';
\set VERBOSITY terse
\unset SHOW_CONTEXT

-- a wrong password: 401, SQLSTATE 28000; the message holds no secret
CREATE SERVER ss_badpass FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'acme');
CREATE USER MAPPING FOR PUBLIC SERVER ss_badpass
  OPTIONS (username 'sim', password 'wrong-secret');
CREATE FOREIGN TABLE sessions_badpass (msisdn text, session_id text)
  SERVER ss_badpass OPTIONS (resource 'subscriber_sessions');
\set VERBOSITY default
\set SHOW_CONTEXT always
SELECT * FROM sessions_badpass WHERE msisdn = '990000000006';
\set VERBOSITY sqlstate
SELECT * FROM sessions_badpass WHERE msisdn = '990000000006';
\set VERBOSITY terse
\unset SHOW_CONTEXT

-- a wrong tenant: 403, SQLSTATE 42501
CREATE SERVER ss_badtenant FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'umbrella');
CREATE USER MAPPING FOR PUBLIC SERVER ss_badtenant
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE sessions_badtenant (msisdn text, session_id text)
  SERVER ss_badtenant OPTIONS (resource 'subscriber_sessions');
\set VERBOSITY default
\set SHOW_CONTEXT always
SELECT * FROM sessions_badtenant WHERE msisdn = '990000000006';
\set VERBOSITY sqlstate
SELECT * FROM sessions_badtenant WHERE msisdn = '990000000006';
\set VERBOSITY terse
\unset SHOW_CONTEXT

-- no tenant option: the API answers 400, which is an error too
CREATE SERVER ss_notenant FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url');
CREATE USER MAPPING FOR PUBLIC SERVER ss_notenant
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE sessions_notenant (msisdn text, session_id text)
  SERVER ss_notenant OPTIONS (resource 'subscriber_sessions');
\set VERBOSITY sqlstate
SELECT * FROM sessions_notenant WHERE msisdn = '990000000006';
\set VERBOSITY terse

-- no key: an error that says which condition to add (SQLSTATE HV00L)
\set VERBOSITY default
SELECT * FROM api.subscriber_sessions;
SELECT * FROM api.subscriber_sessions WHERE msisdn LIKE '99%';
SELECT * FROM api.subscriber_sessions WHERE session_id = 'sess-990000000001-0';
\set VERBOSITY sqlstate
SELECT * FROM api.subscriber_sessions;
\set VERBOSITY terse

-- a NULL or empty key sends nothing and matches nothing (SPEC 4: "A key
-- that is NULL sends nothing and matches nothing")
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT * FROM api.subscriber_sessions WHERE msisdn = NULL::text;
SELECT * FROM api.subscriber_sessions WHERE msisdn IN (NULL);
SELECT * FROM api.subscriber_sessions WHERE msisdn = ANY ('{NULL,NULL}'::text[]);
SELECT * FROM api.subscriber_sessions WHERE msisdn = '';
PREPARE null_key(text) AS SELECT * FROM api.subscriber_sessions WHERE msisdn = $1;
EXECUTE null_key(NULL);
SET plan_cache_mode = force_generic_plan;
EXECUTE null_key(NULL);
RESET plan_cache_mode;
DEALLOCATE null_key;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT count(*) AS requests FROM json_array_elements(:'log'::json) e;
-- NULLs among other keys are skipped
SELECT msisdn, session_id FROM api.subscriber_sessions
 WHERE msisdn = ANY ('{NULL,990000000001,NULL}'::text[]) ORDER BY 1, 2;
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT e->>'path' AS path FROM json_array_elements(:'log'::json) e;

-- SPEC 4: "Key values are percent-encoded in the URL path: no value can
-- change the request's path, query or host".
-- key values are percent-encoded into one path segment: "/", "?", "#", "%"
-- and dots cannot change the path, the query or the host; the simulator
-- answers 404 for these non-digit msisdns, so no rows
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = 'a/b?c#d%2F../e';
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = '..';
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = '.';
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = '99 00@evil.example:80\';
SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = 'ü+&=';
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT e->>'method' AS method, e->>'path' AS path, e->>'status' AS status
  FROM json_array_elements(:'log'::json) e
 ORDER BY (e->>'seq')::int;

DROP SERVER ss_bearer, ss_badpass, ss_badtenant, ss_notenant CASCADE;
