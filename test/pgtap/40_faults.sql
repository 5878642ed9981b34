-- Faults: for every fault class of the simulator, the SQLSTATE of the error
-- (or the rows, where the fault is retried away), what the simulator's log
-- saw, and that the same session runs a normal query right afterwards.
-- Also query cancel / statement_timeout during a request and during a
-- retry's backoff, and that no secret of the user mapping shows in an error
-- or in EXPLAIN.  Spec strings carry a per-run id, so the simulator's
-- per-spec fault counters start afresh on every run without a reset.
\getenv sim_url SIM_URL
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set run `date +%s%N`
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS subscriber_fdw;

BEGIN;
SELECT plan(113);
SET LOCAL client_min_messages = warning;
SELECT set_config('tap40.sim', :'sim_url', true) \g /dev/null
SELECT set_config('tap40.run', :'run', true) \g /dev/null

-- A server on the simulator behind the fault spec "spec,id=<run>-<name>",
-- its user mapping, and the three tables imported into schema <name>.
CREATE FUNCTION tap40_server(name text, spec text, opts text DEFAULT '',
                             password text DEFAULT 'sim-secret')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER subscriber_fdw OPTIONS '
                 '(base_url %L, tenant ''acme'' %s %s)',
                 name,
                 current_setting('tap40.sim') || '/_fault/' || spec || ',id=' ||
                 current_setting('tap40.run') || '-' || name,
                 CASE WHEN opts LIKE '%request_timeout%' THEN '' ELSE ', request_timeout ''10''' END,
                 CASE WHEN opts = '' THEN '' ELSE ', ' || opts END);
  EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (username ''sim'', password %L)',
                 name, password);
  EXECUTE format('CREATE SCHEMA %I', name);
  EXECUTE format('IMPORT FOREIGN SCHEMA api FROM SERVER %I INTO %I', name, name);
END $$;

-- Runs a query to its end, every column converted; returns the row count and
-- a digest, or the error's SQLSTATE and texts.
CREATE FUNCTION tap40_outcome(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  n bigint; digest text;
  st text; msg text; det text; hin text; ctx text;
BEGIN
  EXECUTE 'SELECT count(*), md5(string_agg(t::text, '';'' ORDER BY t::text)) FROM (' || q || ') t'
    INTO n, digest;
  RETURN jsonb_build_object('state', 'ok', 'rows', n, 'md5', digest);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
    det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
  RETURN jsonb_build_object('state', st, 'message', msg, 'detail', det,
                            'hint', hin, 'context', ctx);
END $$;

-- Runs a query that statement_timeout is expected to cancel; returns the
-- SQLSTATE and the milliseconds from the call to the cancel.
CREATE FUNCTION tap40_cancel(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN jsonb_build_object('state', 'ok');
EXCEPTION
  WHEN query_canceled THEN
    RETURN jsonb_build_object('state', '57014',
      'ms', extract(epoch FROM clock_timestamp() - t0) * 1000);
  WHEN OTHERS THEN
    RETURN jsonb_build_object('state', SQLSTATE, 'message', SQLERRM);
END $$;

-- EXPLAIN output as one text
CREATE FUNCTION tap40_explain(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN ' || q LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END $$;

CREATE TEMP TABLE tap40_out (name text PRIMARY KEY, o jsonb) ON COMMIT DROP;
CREATE FUNCTION tap40_run(name text, q text) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO tap40_out VALUES (name, tap40_outcome(q)) $$;
CREATE FUNCTION tap40_o(name text) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT o FROM tap40_out WHERE tap40_out.name = $1 $$;

-- the normal server and the query that must work after every fault
SELECT tap40_server('tap40_ok', 'delay=0');
CREATE FUNCTION tap40_normal() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM tap40_ok.customer_subscribers
   WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' AND status IS NOT NULL $$;
\set c3 '''cccccccc-0000-4000-8000-000000000003'''
\set subs_c3 'SELECT * FROM %s.customer_subscribers WHERE customer_id = ''cccccccc-0000-4000-8000-000000000003'''

-- ---------------------------------------------------------------------
-- 503 twice, then success: retried, rows intact
-- ---------------------------------------------------------------------
SELECT tap40_server('tap40_retry', 'status=503,times=2', 'max_retries ''3''');
SELECT results_eq(
  $$SELECT subscriber_id::text, status FROM tap40_retry.customer_subscribers
     WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' ORDER BY 1$$,
  $$VALUES ('00000000-0000-4000-a000-030000000000', 'ACTIVE'),
           ('00000001-0000-4000-a000-030000000000', 'SUSPEND'),
           ('00000002-0000-4000-a000-030000000000', 'INACTIVE')$$,
  '503 twice then 200 with max_retries 3: all rows, once each');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_retry/"`
SELECT is(jsonb_path_query_array(:'log'::jsonb, '$[*].status'), '[503, 503, 200]'::jsonb,
          '503 twice then 200: the simulator saw exactly 3 requests');
SELECT tap40_server('tap40_retryx', 'status=503,times=2', 'max_retries ''3''');
SELECT alike(tap40_explain($$(ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT * FROM tap40_retryx.customer_subscribers
   WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$),
  '%Requests: 3%Retries: 2%', 'EXPLAIN ANALYZE shows Requests: 3 and Retries: 2');

-- ---------------------------------------------------------------------
-- 503 forever: 53000 after max_retries retries
-- ---------------------------------------------------------------------
SELECT tap40_server('tap40_503', 'status=503', 'max_retries ''2''');
SELECT tap40_run('503', format(:'subs_c3', 'tap40_503'));
SELECT is(tap40_o('503')->>'state', '53000', '503 forever: SQLSTATE 53000');
SELECT alike(tap40_o('503')->>'detail', '%(after 2 retries)%', '503 forever: the detail counts 2 retries');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_503/"`
SELECT is(jsonb_array_length(:'log'::jsonb), 3, '503 forever with max_retries 2: 3 requests');
SELECT is(tap40_normal(), 3::bigint, 'the session works after 503 forever');

-- ---------------------------------------------------------------------
-- 429 with Retry-After: 1, once: the retry waits at least a second
-- ---------------------------------------------------------------------
SELECT tap40_server('tap40_429', 'status=429,retry_after=1,times=1', 'max_retries ''3''');
SELECT tap40_run('429', format(:'subs_c3', 'tap40_429'));
SELECT is(tap40_o('429')->>'rows', '3', '429 then 200: the rows');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_429/"`
SELECT is(jsonb_path_query_array(:'log'::jsonb, '$[*].status'), '[429, 200]'::jsonb,
          '429 then 200: two requests');
SELECT cmp_ok(((:'log'::jsonb)->1->>'start')::float8 - ((:'log'::jsonb)->0->>'end')::float8,
              '>=', 0.99::float8,
              'Retry-After: 1 honoured: the retry started at least 1 s after the 429 was sent');
-- 429 forever: overload after retries
SELECT tap40_server('tap40_429f', 'status=429', 'max_retries ''1''');
SELECT tap40_run('429f', format(:'subs_c3', 'tap40_429f'));
SELECT is(tap40_o('429f')->>'state', '53000', '429 forever: SQLSTATE 53000');

-- ---------------------------------------------------------------------
-- GLOBAL_1001 in a 200: retried, then 53000
-- ---------------------------------------------------------------------
SELECT tap40_server('tap40_g1001', 'error=GLOBAL_1001', 'max_retries ''2''');
SELECT tap40_run('g1001', format(:'subs_c3', 'tap40_g1001'));
SELECT is(tap40_o('g1001')->>'state', '53000', 'GLOBAL_1001: SQLSTATE 53000');
SELECT alike(tap40_o('g1001')->>'detail', '%GLOBAL_1001%', 'GLOBAL_1001: the remote code is in the detail');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_g1001/"`
SELECT is(jsonb_array_length(:'log'::jsonb), 3, 'GLOBAL_1001 with max_retries 2: 3 requests');
SELECT is(tap40_normal(), 3::bigint, 'the session works after GLOBAL_1001');

-- ---------------------------------------------------------------------
-- 401, 403, 500, CUSTOMER_1006, CUSTOMER_1002: not retried
-- ---------------------------------------------------------------------
SELECT tap40_server('tap40_401', 'status=401');
SELECT tap40_run('401', format(:'subs_c3', 'tap40_401'));
SELECT is(tap40_o('401')->>'state', '28000', '401: SQLSTATE 28000');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_401/"`
SELECT is(jsonb_array_length(:'log'::jsonb), 1, '401: not retried');
SELECT tap40_server('tap40_403', 'status=403');
SELECT tap40_run('403', format(:'subs_c3', 'tap40_403'));
SELECT is(tap40_o('403')->>'state', '42501', '403: SQLSTATE 42501');
SELECT tap40_server('tap40_500', 'status=500');
SELECT tap40_run('500', format(:'subs_c3', 'tap40_500'));
SELECT is(tap40_o('500')->>'state', 'HV000', '500: SQLSTATE HV000');
SELECT alike(tap40_o('500')->>'detail', '%simulated 500%', '500: the remote message is in the error');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_500/"`
SELECT is(jsonb_array_length(:'log'::jsonb), 1, '500: not retried');
SELECT tap40_server('tap40_c1006', 'error=CUSTOMER_1006');
SELECT tap40_run('c1006', format(:'subs_c3', 'tap40_c1006'));
SELECT is(tap40_o('c1006')->>'state', 'HV000', 'CUSTOMER_1006: SQLSTATE HV000');
SELECT alike(tap40_o('c1006')->>'message', '%CUSTOMER_1006%', 'CUSTOMER_1006: the remote code is in the message');
SELECT tap40_run('c1002', $$SELECT * FROM tap40_ok.subscriber_details
                           WHERE customer_id = '12345678-1234-4234-8234-123456789012'$$);
SELECT is(tap40_o('c1002')->>'state', '42704', 'unknown customer (CUSTOMER_1002): SQLSTATE 42704');
SELECT is(tap40_normal(), 3::bigint, 'the session works after 401, 403, 500 and remote codes');

-- ---------------------------------------------------------------------
-- transport: refused, reset, timeout, trickle, oversize, redirect
-- ---------------------------------------------------------------------
CREATE SERVER tap40_refused FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:1', max_retries '2', connect_timeout '2');
CREATE USER MAPPING FOR PUBLIC SERVER tap40_refused OPTIONS (username 'sim', password 'sim-secret');
CREATE SCHEMA tap40_refused;
IMPORT FOREIGN SCHEMA api FROM SERVER tap40_refused INTO tap40_refused;
SELECT tap40_run('refused', format(:'subs_c3', 'tap40_refused'));
SELECT is(tap40_o('refused')->>'state', '08001', 'connection refused: SQLSTATE 08001');
SELECT alike(tap40_o('refused')->>'detail', '%(after 2 retries)%', 'connection refused: retried max_retries (2) times');
SELECT is(tap40_normal(), 3::bigint, 'the session works after connection refused');

SELECT tap40_server('tap40_reset', 'reset=1', 'max_retries ''1''');
SELECT tap40_run('reset', format(:'subs_c3', 'tap40_reset'));
SELECT is(tap40_o('reset')->>'state', '08006', 'connection reset: SQLSTATE 08006');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_reset/"`
SELECT alike(tap40_o('reset')->>'detail', '%(after 1 retries)%', 'connection reset: retried max_retries (1) times');
-- libcurl itself resends once when a reused keep-alive connection turns out
-- dead, so the simulator sees 2 or 3 requests
SELECT ok(jsonb_array_length(:'log'::jsonb) IN (2, 3), 'connection reset with max_retries 1: 2 or 3 requests, no more');
SELECT tap40_server('tap40_reset1', 'reset=1,times=1', 'max_retries ''1''');
SELECT tap40_run('reset1', format(:'subs_c3', 'tap40_reset1'));
SELECT is(tap40_o('reset1')->>'rows', '3', 'one reset then 200: retried to the rows');
SELECT is(tap40_normal(), 3::bigint, 'the session works after connection reset');

SELECT tap40_server('tap40_slow', 'delay=3000', 'max_retries ''0'', request_timeout ''1''');
SELECT tap40_run('timeout', format(:'subs_c3', 'tap40_slow'));
SELECT is(tap40_o('timeout')->>'state', '08006', 'request_timeout exceeded: SQLSTATE 08006');
SELECT alike(tap40_o('timeout')->>'hint', '%request_timeout%', 'request_timeout exceeded: the hint names the option');

-- an API that thinks for 3 s before it answers is within request_timeout 10:
-- the low-speed limit is about a trickling body, not the wait for the answer
SELECT tap40_server('tap40_think', 'delay=3000', 'max_retries ''0'', request_timeout ''10''');
SELECT tap40_run('think', format(:'subs_c3', 'tap40_think'));
SELECT is(tap40_o('think')->>'rows', '3',
          format('a response that starts after 3 s, request_timeout 10: the rows (got %s %s)',
                 tap40_o('think')->>'state', tap40_o('think')->>'detail'));

-- 200 bytes/s: the low-speed limit (1 KiB/s for request_timeout/4 = 2 s)
-- ends it long before request_timeout (8 s) would
SELECT tap40_server('tap40_trickle', 'trickle=200', 'max_retries ''0'', request_timeout ''8''');
SELECT tap40_run('trickle', $$SELECT * FROM tap40_trickle.subscriber_details
                             WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT is(tap40_o('trickle')->>'state', '08006', 'trickling body: SQLSTATE 08006');
SELECT alike(tap40_o('trickle')->>'detail', '%slower than 1024 bytes/s%', 'trickling body: aborted by the low-speed limit, not the timeout');
SELECT is(tap40_normal(), 3::bigint, 'the session works after timeouts');

SELECT tap40_server('tap40_big', 'oversize=200000', 'max_response_size ''10000''');
SELECT tap40_run('oversize', format(:'subs_c3', 'tap40_big'));
SELECT is(tap40_o('oversize')->>'state', '54000', 'response over max_response_size: SQLSTATE 54000');
SELECT tap40_server('tap40_big_ok', 'oversize=200000', 'max_response_size ''300000''');
SELECT tap40_run('oversize_ok', format(:'subs_c3', 'tap40_big_ok'));
SELECT is(tap40_o('oversize_ok')->>'rows', '3', 'a padded response within max_response_size: the rows');

SELECT tap40_server('tap40_redirect', 'redirect=1');
SELECT tap40_run('redirect', format(:'subs_c3', 'tap40_redirect'));
SELECT is(tap40_o('redirect')->>'state', 'HV000', 'redirect: SQLSTATE HV000');
SELECT alike(tap40_o('redirect')->>'hint', '%base_url%', 'redirect: the hint says to fix base_url');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_redirect/"`
\set log2 `curl -s "$SIM_URL/_sim/log?path_contains=cccccccc-0000-4000-8000-000000000001"`
SELECT is(jsonb_array_length(:'log'::jsonb), 1, 'redirect: one request to the fault server');
SELECT is(jsonb_array_length(jsonb_path_query_array(:'log2'::jsonb, '$[*] ? (@.start >= $t)',
                                                   jsonb_build_object('t', (:'log'::jsonb)->0->'start'))),
          0, 'redirect: the Location was not requested');
SELECT is(tap40_normal(), 3::bigint, 'the session works after oversize and redirect');

-- a response lost after the API handled it: the point in time moved on, so
-- resending the same pitId would skip a chunk.  20 rows or an error, never
-- fewer rows without an error.  (libcurl also resends by itself once when a
-- reused connection dies, so this happens even with max_retries 0.)
SELECT tap40_server('tap40_lose_pit', 'lose=1,after=1,times=1', 'max_retries ''3'', fetch_size ''7''');
SELECT tap40_run('lose pit', $$SELECT * FROM tap40_lose_pit.subscriber_details
                              WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'$$);
SELECT ok(tap40_o('lose pit')->>'rows' = '20' OR tap40_o('lose pit')->>'state' <> 'ok',
          format('lost response mid point-in-time scan: all 20 rows or an error (got %s)',
                 coalesce(tap40_o('lose pit')->>'rows', tap40_o('lose pit')->>'state')));
-- pages are idempotent GETs: a lost page is fetched again
SELECT tap40_server('tap40_lose_page', 'lose=1,after=1,times=1', 'max_retries ''3'', fetch_size ''7''');
SELECT tap40_run('lose page', $$SELECT * FROM tap40_lose_page.customer_subscribers
                               WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'$$);
SELECT tap40_run('page ref', $$SELECT * FROM tap40_ok.customer_subscribers
                              WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'$$);
SELECT is(tap40_o('lose page'), tap40_o('page ref'), 'lost response of a page: retried, the same 20 rows');

-- ---------------------------------------------------------------------
-- bodies: each kind on each table
-- ---------------------------------------------------------------------
CREATE TEMP TABLE tap40_body (kind text, tbl text, expected text[]) ON COMMIT DROP;
INSERT INTO tap40_body
SELECT k.kind, t.tbl, k.expected::text[]
  FROM (VALUES ('malformed', '{22032}', true), ('truncated', '{22032}', true),
               ('notjson', '{22032}', true), ('trailing', '{22032}', true),
               ('empty', '{22032}', true), ('lie_length', '{08006}', true),
               ('content_string', '{HV004}', false), ('record_array', '{HV004}', false),
               ('deep', '{22032,HV004}', true), ('bad_utf8', '{22032,22021}', true),
               ('nul', '{22P05}', true), ('dupkey', '{22030}', true))
         AS k(kind, expected, sessions),
       (VALUES ('customer_subscribers'), ('subscriber_details'), ('subscriber_sessions')) AS t(tbl)
 WHERE k.sessions OR t.tbl <> 'subscriber_sessions';
SELECT tap40_server('tap40_b_' || kind, 'body=' || kind, 'max_retries ''0''')
  FROM (SELECT DISTINCT kind FROM tap40_body) k \g /dev/null
INSERT INTO tap40_out
SELECT 'body ' || kind || ' ' || tbl,
       tap40_outcome(format('SELECT * FROM %I.%I WHERE %s', 'tap40_b_' || kind, tbl,
                            CASE tbl WHEN 'subscriber_sessions' THEN 'msisdn = ''3531234567'''
                                     ELSE 'customer_id = ''cccccccc-0000-4000-8000-000000000003''' END))
  FROM tap40_body;
SELECT ok(tap40_o('body ' || kind || ' ' || tbl)->>'state' = ANY (expected),
          format('body=%s on %s: SQLSTATE %s (got %s)', kind, tbl, array_to_string(expected, ' or '),
                 tap40_o('body ' || kind || ' ' || tbl)->>'state'))
  FROM tap40_body ORDER BY kind, tbl;
SELECT is(tap40_normal(), 3::bigint, 'the session works after the bad bodies');

-- ---------------------------------------------------------------------
-- big numbers: an error or the exact value, never a wrong value
-- ---------------------------------------------------------------------
SELECT tap40_server('tap40_bignum', 'body=bignum', 'max_retries ''0''');
-- record 0: dailySmsUsage 1e400, monthlySmsUsage 123456789012345678901234567890
SELECT is((SELECT daily_sms_usage FROM tap40_bignum.subscriber_details
            WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'
              AND subscriber_id = '00000000-0000-4000-a000-030000000000'),
          '1e400'::numeric, 'bignum: 1e400 into numeric is exactly 1e400');
SELECT tap40_run('bignum monthly', $$SELECT monthly_sms_usage FROM tap40_bignum.subscriber_details
     WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'
       AND subscriber_id = '00000000-0000-4000-a000-030000000000'
       AND monthly_sms_usage = 123456789012345678901234567890$$);
SELECT ok(tap40_o('bignum monthly')->>'state' = '22003' OR tap40_o('bignum monthly')->>'rows' = '1',
          'bignum: 123456789012345678901234567890 into numeric is an error or exactly itself');
CREATE FOREIGN TABLE tap40_bignum.d_int (customer_id uuid, daily_sms_usage int)
  SERVER tap40_bignum OPTIONS (resource 'subscriber_details');
CREATE FOREIGN TABLE tap40_bignum.d_bigint (customer_id uuid, monthly_sms_usage bigint)
  SERVER tap40_bignum OPTIONS (resource 'subscriber_details');
CREATE FOREIGN TABLE tap40_bignum.d_float (customer_id uuid, daily_sms_usage float8)
  SERVER tap40_bignum OPTIONS (resource 'subscriber_details');
SELECT tap40_run('bignum int', 'SELECT * FROM tap40_bignum.d_int WHERE customer_id = ' || :'c3');
SELECT tap40_run('bignum bigint', 'SELECT * FROM tap40_bignum.d_bigint WHERE customer_id = ' || :'c3');
SELECT tap40_run('bignum float', 'SELECT * FROM tap40_bignum.d_float WHERE customer_id = ' || :'c3');
SELECT tap40_run('bignum subs', format(:'subs_c3', 'tap40_bignum'));
SELECT is(left(tap40_o('bignum int')->>'state', 2), '22', 'bignum: 1e400 into an integer column is a data error');
SELECT alike(tap40_o('bignum int')->>'context', '%column "daily_sms_usage", value "1e400"%',
            'bignum: the error names the column and the value');
SELECT is(tap40_o('bignum bigint')->>'state', '22003', 'bignum: 30 digits into bigint is 22003');
SELECT alike(tap40_o('bignum bigint')->>'context', '%value "123456789012345678901234567890"%',
             'bignum: the error names the value the API sent, not a clamped one');
SELECT is(tap40_o('bignum float')->>'state', '22003', 'bignum: 1e400 into float8 is 22003');
SELECT is(tap40_o('bignum subs')->>'state', 'HV004', 'bignum: a 30-digit totalElements is HV004');
SELECT is(tap40_normal(), 3::bigint, 'the session works after big numbers');

-- dupkey: the message names the member
SELECT alike(tap40_o('body dupkey customer_subscribers')->>'message', '%"status"%',
            'dupkey: the error names the duplicated member');

-- ---------------------------------------------------------------------
-- cancel: statement_timeout during a request and during a backoff wait
-- ---------------------------------------------------------------------
SELECT tap40_server('tap40_hang', 'delay=5000', 'max_retries ''0''');
SELECT tap40_server('tap40_backoff', 'status=503,retry_after=10', 'max_retries ''3''');
SET LOCAL statement_timeout = '1s';
INSERT INTO tap40_out VALUES ('cancel request',
  tap40_cancel(format(:'subs_c3', 'tap40_hang')));
INSERT INTO tap40_out VALUES ('cancel backoff',
  tap40_cancel(format(:'subs_c3', 'tap40_backoff')));
SET LOCAL statement_timeout = 0;
SELECT is(tap40_o('cancel request')->>'state', '57014', 'statement_timeout during a request: 57014');
SELECT cmp_ok((tap40_o('cancel request')->>'ms')::float8, '<', 2000::float8,
              'statement_timeout 1s ends a 5 s request within a second of the timeout');
SELECT is(tap40_o('cancel backoff')->>'state', '57014', 'statement_timeout during a 10 s backoff wait: 57014');
SELECT cmp_ok((tap40_o('cancel backoff')->>'ms')::float8, '<', 2000::float8,
              'statement_timeout 1s ends a 10 s backoff within a second of the timeout');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_backoff/"`
SELECT is(jsonb_array_length(:'log'::jsonb), 1, 'the cancelled backoff sent no retry');
SELECT is(tap40_normal(), 3::bigint, 'the session works after the cancels');
SELECT is((SELECT count(*) FROM tap40_ok.subscriber_details
            WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'), 20::bigint,
          'a point-in-time scan works after the cancels');

-- ---------------------------------------------------------------------
-- secrets never in an error or EXPLAIN
-- ---------------------------------------------------------------------
SELECT tap40_server('tap40_sec401', 'status=401', '', 'hunter2-secret');
CREATE SERVER tap40_secref FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:1', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER tap40_secref OPTIONS (username 'sim', password 'hunter2-secret');
CREATE SCHEMA tap40_secref;
CREATE FOREIGN TABLE tap40_secref.t (customer_id uuid, status text)
  SERVER tap40_secref OPTIONS (resource 'customer_subscribers');
SELECT tap40_server('tap40_sectok', 'status=401', '', 'x');
ALTER USER MAPPING FOR PUBLIC SERVER tap40_sectok
  OPTIONS (DROP username, DROP password, ADD token 'hunter2-secret-token');
SELECT tap40_run('secret 401', format(:'subs_c3', 'tap40_sec401'));
SELECT tap40_run('secret refused', 'SELECT * FROM tap40_secref.t WHERE customer_id = ' || :'c3');
SELECT tap40_run('secret token', format(:'subs_c3', 'tap40_sectok'));
SELECT tap40_run('secret pit', $$SELECT * FROM tap40_sec401.subscriber_details
                                WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT is(tap40_o('secret 401')->>'state', '28000', 'secrets: the password case fails with 401');
SELECT is(tap40_o('secret refused')->>'state', '08001', 'secrets: the refused case fails to connect');
SELECT is(tap40_o('secret token')->>'state', '28000', 'secrets: the token case fails with 401');
SELECT unalike(tap40_o(n)::text, '%hunter2%', 'secrets: no secret in the error of ' || n)
  FROM unnest(array['secret 401', 'secret refused', 'secret token', 'secret pit']) n;
SELECT unalike(tap40_explain('(VERBOSE, COSTS OFF) ' || format(:'subs_c3', 'tap40_sec401')), '%hunter2%',
              'secrets: not in EXPLAIN VERBOSE');
SELECT unalike(tap40_explain('(VERBOSE, COSTS OFF, FORMAT JSON) SELECT * FROM tap40_secref.t WHERE customer_id = ' || :'c3'), '%hunter2%',
              'secrets: not in EXPLAIN (VERBOSE, FORMAT JSON)');
SELECT unalike(tap40_explain('(VERBOSE, COSTS OFF) ' || format(:'subs_c3', 'tap40_sectok')), '%hunter2%',
              'secrets: the token not in EXPLAIN VERBOSE');
SELECT alike(tap40_explain('(VERBOSE, COSTS OFF) ' || format(:'subs_c3', 'tap40_sec401')), '%Endpoint%',
            'secrets: EXPLAIN VERBOSE did describe the scan');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_sectok/"`
SELECT is((:'log'::jsonb)->0->>'auth', 'bearer', 'secrets: the token was sent as a Bearer token');
SELECT is(tap40_normal(), 3::bigint, 'the session works at the end');

SELECT * FROM finish();
ROLLBACK;
