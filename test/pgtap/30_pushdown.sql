-- SPEC 4, keys and pushdown, asserted where pg_regress cannot show it:
-- NULL keys from a sub-select or a PL/pgSQL variable send nothing, a join
-- returns what asking for each key on its own returns, duplicate outer keys,
-- and concurrent fetching of several keys.  The plan, the rows and the
-- requests of every form of key are shown in sql/pushdown.sql.
--
-- Simulator data (test/simulator.py): an all-digit msisdn has
-- (last digit) % 4 sessions named "sess-<msisdn>-<j>"; customer
-- cccccccc-0000-4000-8000-000000000010 has 10 subscribers, 8 of them with
-- an active msisdn.
\ir include/preamble.psql
SELECT plan(13);

SELECT tap.server('tap30');

-- the most requests of a log in flight at once (a request is in flight from
-- its start to its end; the simulator logs an end just after its answer
-- leaves, so another request that starts less than 50 ms before that end is
-- not counted as overlapping: the slow server below holds every request
-- 200 ms)
CREATE FUNCTION tap30.max_in_flight(log json) RETURNS bigint
LANGUAGE sql AS $$
  SELECT coalesce(max(n), 0) FROM (
    SELECT (SELECT count(*) FROM tap.requests(log) q
             WHERE q.t_start <= r.t_start AND q.t_end > r.t_start + 0.05) AS n
      FROM tap.requests(log) r) c
$$;
-- the sessions of one msisdn, asked for on its own
CREATE FUNCTION tap30.sessions_of(m text)
RETURNS TABLE (msisdn text, session_id text, plmn_id text)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT x.msisdn, x.session_id, x.plmn_id
                 FROM tap30.subscriber_sessions x WHERE x.msisdn = m;
END
$$;

--
-- "A key that is NULL sends nothing and matches nothing"
--
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT is((SELECT count(*) FROM tap30.subscriber_sessions WHERE msisdn = (SELECT NULL::text)),
  0::bigint, 'a NULL from a sub-select: no rows');
SELECT is((SELECT count(*) FROM tap30.sessions_of(NULL)), 0::bigint,
  'a NULL PL/pgSQL variable: no rows');
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT is((SELECT count(*) FROM tap.requests(:'log')), 0::bigint,
  'NULL keys: no request at all');

--
-- "The answer is exactly that of the same join done row by row"
--
SELECT results_eq(
  $$SELECT s.subscriber_id, x.msisdn, x.session_id, x.plmn_id
      FROM tap30.customer_subscribers s
      JOIN tap30.subscriber_sessions x ON x.msisdn = s.active_msisdn
     WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000010'
     ORDER BY 1, 3$$,
  $$SELECT s.subscriber_id, o.msisdn, o.session_id, o.plmn_id
      FROM (SELECT subscriber_id, active_msisdn FROM tap30.customer_subscribers
             WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
            OFFSET 0) s,
           LATERAL tap30.sessions_of(s.active_msisdn) o
     ORDER BY 1, 3$$,
  'join: the same rows as asking for each subscriber''s msisdn on its own');

-- "NULL and duplicate outer keys": a local table joined USING (msisdn),
-- duplicates and a NULL in it
CREATE TEMP TABLE tap30_wanted (msisdn text) ON COMMIT DROP;
INSERT INTO tap30_wanted VALUES ('990000000021'), ('990000000022'), ('990000000022'), (NULL),
  ('404000'), ('990000000027');
ANALYZE tap30_wanted;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT results_eq(
  $$SELECT msisdn, count(*) FROM tap30_wanted JOIN tap30.subscriber_sessions USING (msisdn)
     GROUP BY 1 ORDER BY 1$$,
  $$VALUES ('990000000021', 1::bigint), ('990000000022', 4::bigint), ('990000000027', 3::bigint)$$,
  'join with a local table: sessions of each row, twice for the twice-listed msisdn');
\set log `curl -s "$SIM_URL/_sim/log"`
SELECT is((SELECT count(DISTINCT path) FROM tap.requests(:'log')), 4::bigint,
  'join with a local table: the 4 distinct non-NULL msisdns were requested');
SELECT is((SELECT count(*) FROM tap.requests(:'log') WHERE path NOT LIKE '/pcc/spcm/subscribers/%/sessions'),
  0::bigint, 'join with a local table: nothing else was requested');

--
-- "Several keys in one scan are fetched concurrently, up to max_concurrency
-- requests at a time"
--
SELECT tap.server('tap30_slow', 'delay=200', 'max_concurrency ''8''');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT is(
  (SELECT count(*) FROM tap30_slow.subscriber_sessions
    WHERE msisdn IN ('990000000100', '990000000101', '990000000102', '990000000103',
                     '990000000104', '990000000105', '990000000106', '990000000107',
                     '990000000108', '990000000109', '990000000110', '990000000111',
                     '990000000112', '990000000113', '990000000114', '990000000115')),
  20::bigint, '16 msisdns through a slow server: all 20 sessions');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap30_slow/"`
SELECT is((SELECT count(*) FROM tap.requests(:'log')), 16::bigint,
  '16 msisdns: 16 requests');
SELECT cmp_ok(tap30.max_in_flight(:'log'), '>=', 2::bigint,
  '16 msisdns, max_concurrency 8: requests overlap');
SELECT cmp_ok(tap30.max_in_flight(:'log'), '<=', 8::bigint,
  '16 msisdns, max_concurrency 8: never more than 8 in flight');

-- max_concurrency 1 on the table: one at a time
ALTER FOREIGN TABLE tap30_slow.subscriber_sessions OPTIONS (ADD max_concurrency '1');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT is(
  (SELECT count(*) FROM tap30_slow.subscriber_sessions
    WHERE msisdn IN ('990000000201', '990000000202', '990000000203', '990000000205')),
  7::bigint, '4 msisdns, max_concurrency 1: all 7 sessions');
\set log `curl -s "$SIM_URL/_sim/log?path_contains=id=:run-tap30_slow/"`
SELECT is(tap30.max_in_flight(:'log'), 1::bigint,
  '4 msisdns, max_concurrency 1: one request in flight at a time');

SELECT * FROM finish();
ROLLBACK;
