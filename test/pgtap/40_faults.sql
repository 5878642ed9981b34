-- SPEC 6, faults, asserted on what the simulator saw: how many requests each
-- fault class costs (retried up to max_retries, or not at all), the spacing
-- that Retry-After asks for, a redirect not followed, the rows that a retry
-- recovers, lost responses, and how fast statement_timeout ends a request or
-- a backoff wait.  The errors themselves (SQLSTATE, message, detail, hint,
-- context) and the session going on after each are shown in sql/faults.sql;
-- secrets in errors, EXPLAIN and the server log are checked by
-- test/secrets.sh.
\ir include/preamble.psql
SELECT plan(22);

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

CREATE TEMP TABLE tap40_out (name text PRIMARY KEY, o jsonb) ON COMMIT DROP;
CREATE FUNCTION tap40_run(name text, q text) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO tap40_out VALUES (name, tap40_outcome(q)) $$;
CREATE FUNCTION tap40_o(name text) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT o FROM tap40_out WHERE tap40_out.name = $1 $$;

-- the server without faults
SELECT tap.server('tap40_ok', '');
\set subs_c3 'SELECT * FROM %s.customer_subscribers WHERE customer_id = ''cccccccc-0000-4000-8000-000000000003'''

-- ---------------------------------------------------------------------
-- "Transient failures (connection refused or reset, timeouts, 429, 502,
-- 503, 504, GLOBAL_1001) are retried up to max_retries times with
-- exponential backoff and jitter, honouring Retry-After; a retry never
-- duplicates or skips rows."
-- ---------------------------------------------------------------------
-- 503 twice, then success: retried, rows intact
SELECT tap.server('tap40_retry', 'status=503,times=2', 'max_retries ''3''');
SELECT results_eq(
  $$SELECT subscriber_id::text, status FROM tap40_retry.customer_subscribers
     WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' ORDER BY 1$$,
  $$VALUES ('00000000-0000-4000-a000-030000000000', 'ACTIVE'),
           ('00000001-0000-4000-a000-030000000000', 'SUSPEND'),
           ('00000002-0000-4000-a000-030000000000', 'INACTIVE')$$,
  '503 twice then 200 with max_retries 3: all rows, once each');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_retry/"`
SELECT is(ARRAY(SELECT status FROM tap.requests(:'log')), ARRAY[503, 503, 200],
          '503 twice then 200: the simulator saw exactly 3 requests');

-- 503 forever: max_retries retries, then the error
SELECT tap.server('tap40_503', 'status=503', 'max_retries ''2''');
SELECT tap40_run('503', format(:'subs_c3', 'tap40_503'));
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_503/"`
SELECT is((SELECT count(*)::int FROM tap.requests(:'log')), 3, '503 forever with max_retries 2: 3 requests');

-- 429 with Retry-After: 1, once: the retry waits at least a second
SELECT tap.server('tap40_429', 'status=429,retry_after=1,times=1', 'max_retries ''3''');
SELECT tap40_run('429', format(:'subs_c3', 'tap40_429'));
SELECT is(tap40_o('429')->>'rows', '3', '429 then 200: the rows');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_429/"`
SELECT is(ARRAY(SELECT status FROM tap.requests(:'log')), ARRAY[429, 200],
          '429 then 200: two requests');
SELECT cmp_ok((SELECT max(t_start) - min(t_end) FROM tap.requests(:'log')),
              '>=', 0.99::float8,
              'Retry-After: 1 honoured: the retry started at least 1 s after the 429 was sent');

-- GLOBAL_1001 in a 200: retried
SELECT tap.server('tap40_g1001', 'error=GLOBAL_1001', 'max_retries ''2''');
SELECT tap40_run('g1001', format(:'subs_c3', 'tap40_g1001'));
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_g1001/"`
SELECT is((SELECT count(*)::int FROM tap.requests(:'log')), 3, 'GLOBAL_1001 with max_retries 2: 3 requests');

-- other failures are not transient: 401 and 500 are not retried
SELECT tap.server('tap40_401', 'status=401');
SELECT tap40_run('401', format(:'subs_c3', 'tap40_401'));
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_401/"`
SELECT is((SELECT count(*)::int FROM tap.requests(:'log')), 1, '401: not retried');
SELECT tap.server('tap40_500', 'status=500');
SELECT tap40_run('500', format(:'subs_c3', 'tap40_500'));
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_500/"`
SELECT is((SELECT count(*)::int FROM tap.requests(:'log')), 1, '500: not retried');

-- connection reset: retried
SELECT tap.server('tap40_reset', 'reset=1', 'max_retries ''1''');
SELECT tap40_run('reset', format(:'subs_c3', 'tap40_reset'));
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_reset/"`
-- libcurl itself resends once when a reused keep-alive connection turns out
-- dead, so the simulator sees 2 or 3 requests
SELECT ok((SELECT count(*) FROM tap.requests(:'log')) IN (2, 3),
          'connection reset with max_retries 1: 2 or 3 requests, no more');
SELECT tap.server('tap40_reset1', 'reset=1,times=1', 'max_retries ''1''');
SELECT tap40_run('reset1', format(:'subs_c3', 'tap40_reset1'));
SELECT is(tap40_o('reset1')->>'rows', '3', 'one reset then 200: retried to the rows');

-- "Redirects are not followed."
SELECT tap.server('tap40_redirect', 'redirect=1');
SELECT tap40_run('redirect', format(:'subs_c3', 'tap40_redirect'));
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_redirect/"`
\set log2 `curl -s "$SIM_URL/_sim/log?path_contains=cccccccc-0000-4000-8000-000000000001"`
SELECT is((SELECT count(*)::int FROM tap.requests(:'log')), 1, 'redirect: one request to the fault server');
SELECT is((SELECT count(*)::int FROM tap.requests(:'log2')
            WHERE t_start >= (SELECT min(t_start) FROM tap.requests(:'log'))),
          0, 'redirect: the Location was not requested');

-- a response lost after the API handled it: the point in time moved on, so
-- resending the same pitId would skip a chunk.  20 rows or an error, never
-- fewer rows without an error.  (libcurl also resends by itself once when a
-- reused connection dies, so this happens even with max_retries 0.)
SELECT tap.server('tap40_lose_pit', 'lose=1,after=1,times=1', 'max_retries ''3'', fetch_size ''7''');
SELECT tap40_run('lose pit', $$SELECT * FROM tap40_lose_pit.subscriber_details
                              WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'$$);
SELECT ok(tap40_o('lose pit')->>'rows' = '20' OR tap40_o('lose pit')->>'state' <> 'ok',
          format('lost response mid point-in-time scan: all 20 rows or an error (got %s)',
                 coalesce(tap40_o('lose pit')->>'rows', tap40_o('lose pit')->>'state')));
-- pages are idempotent GETs: a lost page is fetched again
SELECT tap.server('tap40_lose_page', 'lose=1,after=1,times=1', 'max_retries ''3'', fetch_size ''7''');
SELECT tap40_run('lose page', $$SELECT * FROM tap40_lose_page.customer_subscribers
                               WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'$$);
SELECT tap40_run('page ref', $$SELECT * FROM tap40_ok.customer_subscribers
                              WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'$$);
SELECT is(tap40_o('lose page'), tap40_o('page ref'), 'lost response of a page: retried, the same 20 rows');

-- ---------------------------------------------------------------------
-- timeouts (SPEC 2 request_timeout) and the response size limit (SPEC 2
-- max_response_size): what is within them works
-- ---------------------------------------------------------------------
-- an API that thinks for 3 s before it answers is within request_timeout 10:
-- the low-speed limit is about a trickling body, not the wait for the answer
SELECT tap.server('tap40_think', 'delay=3000', 'max_retries ''0'', request_timeout ''10''');
SELECT tap40_run('think', format(:'subs_c3', 'tap40_think'));
SELECT is(tap40_o('think')->>'rows', '3',
          format('a response that starts after 3 s, request_timeout 10: the rows (got %s %s)',
                 tap40_o('think')->>'state', tap40_o('think')->>'detail'));

-- 200 bytes/s: the low-speed limit (1 KiB/s for request_timeout/4 = 2 s)
-- ends it long before request_timeout (8 s) would
SELECT tap.server('tap40_trickle', 'trickle=200', 'max_retries ''0'', request_timeout ''8''');
SELECT tap40_run('trickle', $$SELECT * FROM tap40_trickle.subscriber_details
                             WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
SELECT alike(tap40_o('trickle')->>'detail', '%slower than 1024 bytes/s%', 'trickling body: aborted by the low-speed limit, not the timeout');

SELECT tap.server('tap40_big_ok', 'oversize=200000', 'max_response_size ''300000''');
SELECT tap40_run('oversize_ok', format(:'subs_c3', 'tap40_big_ok'));
SELECT is(tap40_o('oversize_ok')->>'rows', '3', 'a padded response within max_response_size: the rows');

-- ---------------------------------------------------------------------
-- "Query cancel and statement_timeout interrupt a request in flight within
-- a second, and leave the backend able to run the next query."
-- ---------------------------------------------------------------------
SELECT tap.server('tap40_hang', 'delay=5000', 'max_retries ''0''');
SELECT tap.server('tap40_backoff', 'status=503,retry_after=10', 'max_retries ''3''');
SET LOCAL statement_timeout = '1s';
INSERT INTO tap40_out VALUES ('cancel request',
  tap40_cancel(format(:'subs_c3', 'tap40_hang')));
INSERT INTO tap40_out VALUES ('cancel backoff',
  tap40_cancel(format(:'subs_c3', 'tap40_backoff')));
SET LOCAL statement_timeout = 0;
SELECT cmp_ok((tap40_o('cancel request')->>'ms')::float8, '<', 2000::float8,
              format('statement_timeout 1s cancels a 5 s request within a second of the timeout (got %s)',
                     tap40_o('cancel request')->>'state'));
SELECT cmp_ok((tap40_o('cancel backoff')->>'ms')::float8, '<', 2000::float8,
              format('statement_timeout 1s cancels a 10 s backoff within a second of the timeout (got %s)',
                     tap40_o('cancel backoff')->>'state'));
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap40_backoff/"`
SELECT is((SELECT count(*)::int FROM tap.requests(:'log')), 1, 'the cancelled backoff sent no retry');
SELECT is((SELECT count(*) FROM tap40_ok.subscriber_details
            WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020'), 20::bigint,
          'a point-in-time scan works after the cancels');

SELECT * FROM finish();
ROLLBACK;
