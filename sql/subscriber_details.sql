-- subscriber_details (SPEC sections 2, 3 and 4): every column and every
-- quirk of the API's records, zone-less timestamps in remote_timezone,
-- point-in-time chunking (pitId chaining, fetch_size, totals, an empty
-- customer, a server that never ends, an expired pitId), LIMIT pushdown and
-- a rescan.  The same values over 1000 records are asserted in
-- test/pgtap/20_subscriber_details.sql.
--
-- Customer ...000000000010 has subscribers i = 0..9, which is enough for
-- every quirk of the simulator (test/simulator.py):
--   i % 9 == 4  "meisv" instead of "imeisv"               (i = 4)
--   i % 6 == 2  "astDataRatTypeLabel"                       (i = 2)
--   i % 8 == 5  usages as JSON strings                      (i = 5)
--   i % 11 == 7 lastIp "" and firstActivatedTime ""         (i = 7)
--   i % 13 == 6 lastDataSession and monthlySmsUsage null    (i = 6)
--   i % 10 == 9 lastConnectedNetwork, isInDataSession absent (i = 9)
--   i % 12 == 1 lastUsageLocation ""                        (i = 1)
--   i % 17 == 5 IPv6 lastIp                                 (i = 5)
--   i % 7 == 3  no pair is isLastActive                     (i = 3)
--   i % 10 == 7 imei absent                                 (i = 7)
--   i % 4 == 1  msisdn absent in pair 1                     (i = 1, 5, 9)
--   i % 5 == 4  attached to the sub-customer                (i = 4, 9)
\getenv sim_url SIM_URL
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
\pset null '(null)'
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
CREATE SCHEMA details;
-- i, the subscriber's number, from the first group of its subscriberId
CREATE FUNCTION details.i(uuid) RETURNS int LANGUAGE sql IMMUTABLE
  RETURN ('x' || left($1::text, 8))::bit(32)::int;
-- the simulator's log as rows; a non-empty pitId is shown as <pit>
CREATE FUNCTION details.requests(log json)
  RETURNS TABLE (n bigint, method text, status int, records int, body text)
  LANGUAGE sql AS $$
    SELECT row_number() OVER (ORDER BY (e->>'seq')::int), e->>'method',
           (e->>'status')::int, (e->>'records')::int,
           regexp_replace(e->>'body', '"pitId":"[^"]+"', '"pitId":"<pit>"')
      FROM json_array_elements(log) e
     ORDER BY 1 $$;
-- how many different non-empty pitIds the requests sent
CREATE FUNCTION details.distinct_pits(log json) RETURNS bigint
  LANGUAGE sql AS $$
    SELECT count(DISTINCT (e->>'body')::json->>'pitId')
      FROM json_array_elements(log) e
     WHERE (e->>'body')::json->>'pitId' <> '' $$;

-- 1. Every column, on customer ...010 (10 subscribers)
SELECT count(*) AS rows, count(DISTINCT subscriber_id) AS distinct_ids,
       count(*) FILTER (WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010') AS key_column_set
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010';

-- identity; i = 4 reads "meisv", i = 7 has no imei, i = 4 and 9 belong to the sub-customer
SELECT details.i(subscriber_id) AS i, subscriber_id, eid, status, imei, imeisv,
       attached_customer_id, attached_customer_name
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1;

-- the active pair: the first profile holding a pair with isLastActive;
-- i = 3 has none; i = 1, 5, 9 have an active pair without msisdn
SELECT details.i(subscriber_id) AS i, active_iccid, active_imsi, active_msisdn,
       jsonb_array_length(profiles) AS nprofiles
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1;
SELECT details.i(subscriber_id) AS i, profiles
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1;

-- usages: i = 5 sends daily usages as strings, i = 6 monthlySmsUsage null
SELECT details.i(subscriber_id) AS i, daily_sms_usage, daily_data_usage_mb,
       weekly_sms_usage, weekly_data_usage_mb, monthly_sms_usage, monthly_data_usage_mb
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1;

-- networks: i = 9 has no lastConnectedNetwork, i = 1 lastUsageLocation "",
-- i = 7 lastIp "", i = 5 an IPv6 address
SELECT details.i(subscriber_id) AS i, last_network_mcc, last_network_mnc,
       last_network_plmn, last_network_country, last_usage_mcc, last_usage_mnc,
       last_ip, family(last_ip) AS ip_family
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1;
SELECT details.i(subscriber_id) AS i, last_usage_location
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1;

-- radio and data session: i = 2 sends "astDataRatTypeLabel", i = 9 has no isInDataSession
SELECT details.i(subscriber_id) AS i, last_rat_type, last_rat_type_label,
       last_data_rat_type, last_data_rat_type_label, last_apn, is_in_data_session
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1;

-- timestamps (remote_timezone UTC): i = 6 lastDataSession null, i = 7 firstActivatedTime ""
SELECT details.i(subscriber_id) AS i, last_data_session, last_data_session_record,
       first_activated_time
  FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
 ORDER BY 1;

-- 2. Zone-less timestamps are read in remote_timezone (SPEC 2:
-- "lastDataSession, read in remote_timezone")
CREATE SERVER details_utc FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', remote_timezone 'UTC');
CREATE USER MAPPING FOR PUBLIC SERVER details_utc
  OPTIONS (username 'sim', password 'sim-secret');
CREATE SERVER details_kolkata FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', remote_timezone 'Asia/Kolkata');
CREATE USER MAPPING FOR PUBLIC SERVER details_kolkata
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE details.times_utc (
    customer_id uuid, subscriber_id uuid, last_data_session timestamptz,
    last_data_session_record timestamptz, first_activated_time timestamptz)
  SERVER details_utc OPTIONS (resource 'subscriber_details');
CREATE FOREIGN TABLE details.times_kolkata (
    customer_id uuid, subscriber_id uuid, last_data_session timestamptz,
    last_data_session_record timestamptz, first_activated_time timestamptz)
  SERVER details_kolkata OPTIONS (resource 'subscriber_details');
-- record i = 1: "2021-02-02 01:01:00.000001" etc.
SELECT 'UTC' AS remote_timezone, last_data_session, last_data_session_record, first_activated_time
  FROM details.times_utc
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
   AND subscriber_id = '00000001-0000-4000-a000-100000000000'
UNION ALL
SELECT 'Asia/Kolkata', last_data_session, last_data_session_record, first_activated_time
  FROM details.times_kolkata
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'
   AND subscriber_id = '00000001-0000-4000-a000-100000000000';
-- every record: the same local time is 5:30 earlier as an instant in Kolkata
SELECT count(*) AS records,
       count(*) FILTER (WHERE u.last_data_session - k.last_data_session = '05:30') AS session_5_30,
       count(*) FILTER (WHERE u.last_data_session_record - k.last_data_session_record = '05:30') AS record_5_30,
       count(*) FILTER (WHERE u.first_activated_time - k.first_activated_time = '05:30') AS activated_5_30,
       count(*) FILTER (WHERE u.last_data_session IS NULL AND k.last_data_session IS NULL) AS both_null_session,
       count(*) FILTER (WHERE u.first_activated_time IS NULL AND k.first_activated_time IS NULL) AS both_null_activated
  FROM details.times_utc u
  JOIN details.times_kolkata k USING (customer_id, subscriber_id)
 WHERE u.customer_id = 'cccccccc-0000-4000-8000-000000000010'
   AND k.customer_id = 'cccccccc-0000-4000-8000-000000000010';

-- 3. Point-in-time chunks (SPEC 3: "A point-in-time scan sends pitId empty
-- with pitKeepAlive and size first, then each next request with the pitId
-- of the latest response (it may change from response to response).  It
-- ends when a chunk brings no records or the records received reach
-- totalRecordAmount").  With pit_rotate=1 every response carries a new
-- pitId and invalidates the old one, so a scan that does not send the
-- latest pitId fails with GLOBAL_1018.
\set fault_url :sim_url '/_fault/pit_rotate=1'
CREATE SERVER details_rotate FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'fault_url');
CREATE USER MAPPING FOR PUBLIC SERVER details_rotate
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE details.fs1 (customer_id uuid, subscriber_id uuid, status text)
  SERVER details_rotate OPTIONS (resource 'subscriber_details', fetch_size '1');
CREATE FOREIGN TABLE details.fs7 (customer_id uuid, subscriber_id uuid, status text)
  SERVER details_rotate OPTIONS (resource 'subscriber_details', fetch_size '7');
CREATE FOREIGN TABLE details.fs10000 (customer_id uuid, subscriber_id uuid, status text)
  SERVER details_rotate OPTIONS (resource 'subscriber_details', fetch_size '10000');

-- 21 subscribers, fetch_size 7: three full chunks, the scan ends on the total
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) AS rows, count(DISTINCT subscriber_id) AS distinct_ids,
       count(*) = 21 AS all_records,
       min(details.i(subscriber_id)) AS first_i, max(details.i(subscriber_id)) AS last_i
  FROM details.fs7 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000021';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');
SELECT details.distinct_pits(:'log') AS distinct_pits;

-- 20 subscribers, fetch_size 7: 7 + 7 + 6
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) AS rows, count(DISTINCT subscriber_id) AS distinct_ids,
       count(*) = 20 AS all_records,
       min(details.i(subscriber_id)) AS first_i, max(details.i(subscriber_id)) AS last_i
  FROM details.fs7 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');
SELECT details.distinct_pits(:'log') AS distinct_pits;

-- 3 subscribers, fetch_size 1
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) AS rows, count(DISTINCT subscriber_id) AS distinct_ids,
       count(*) = 3 AS all_records,
       min(details.i(subscriber_id)) AS first_i, max(details.i(subscriber_id)) AS last_i
  FROM details.fs1 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');
SELECT details.distinct_pits(:'log') AS distinct_pits;

-- 25 subscribers, fetch_size 10000: one request
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) AS rows, count(DISTINCT subscriber_id) AS distinct_ids,
       count(*) = 25 AS all_records,
       min(details.i(subscriber_id)) AS first_i, max(details.i(subscriber_id)) AS last_i
  FROM details.fs10000 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');

-- a customer without subscribers: one request, no rows, no error
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) AS rows
  FROM details.fs7 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000000';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');

-- the default fetch_size (5000) of the server sim
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) AS rows, count(DISTINCT subscriber_id) AS distinct_ids
  FROM api.subscriber_details WHERE customer_id = 'cccccccc-0000-4000-8000-000000010001';
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');

-- 4. A server that never ends: every response promises more records than
-- there are (its totalRecordAmount grows with every chunk).  The scan
-- stops at the second response with an error instead of looping (SPEC 3:
-- "it never loops forever on a server that keeps answering").  The count
-- reads the records: count_pushdown is off.
\set fault_url :sim_url '/_fault/never_end=1'
CREATE SERVER details_never_end FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'fault_url', fetch_size '5', count_pushdown 'false');
CREATE USER MAPPING FOR PUBLIC SERVER details_never_end
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE details.never_end (customer_id uuid, subscriber_id uuid)
  SERVER details_never_end OPTIONS (resource 'subscriber_details');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) FROM details.never_end
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020';
\echo :LAST_ERROR_SQLSTATE
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');

-- 5. The pitId expires in the middle of the scan (the simulator refuses it
-- after two uses): GLOBAL_1018 fails the query, SQLSTATE 72000, with the
-- hint to raise pit_keep_alive; it is not retried (SPEC 3: "An expired or
-- unknown pitId in the middle of a scan (GLOBAL_1018) fails the query with
-- a hint to raise pit_keep_alive").  The count reads the records:
-- count_pushdown is off.
\set fault_url :sim_url '/_fault/pit_expire_after=2'
CREATE SERVER details_expire FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'fault_url', fetch_size '5', count_pushdown 'false');
CREATE USER MAPPING FOR PUBLIC SERVER details_expire
  OPTIONS (username 'sim', password 'sim-secret');
CREATE FOREIGN TABLE details.expire (customer_id uuid, subscriber_id uuid)
  SERVER details_expire OPTIONS (resource 'subscriber_details');
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT count(*) FROM details.expire
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000020';
\echo :LAST_ERROR_SQLSTATE
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');
-- the backend is fine afterwards
SELECT count(*) FROM details.fs7
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010';

-- 6. LIMIT: pushed down as the chunk size when nothing filters locally
-- (SPEC 4: "LIMIT n on a scan of one foreign table with no local filter
-- asks for no more than n records and stops after them")
EXPLAIN (COSTS OFF)
SELECT subscriber_id FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025' LIMIT 10;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT details.i(subscriber_id) AS i FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025' LIMIT 10;
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');

-- LIMIT with OFFSET asks for both
EXPLAIN (COSTS OFF)
SELECT subscriber_id FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025' LIMIT 3 OFFSET 4;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT details.i(subscriber_id) AS i FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025' LIMIT 3 OFFSET 4;
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');

-- a local filter on another column: no remote limit, every record is read
EXPLAIN (COSTS OFF)
SELECT subscriber_id FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025' AND status = 'TERMINATED' LIMIT 3;
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT details.i(subscriber_id) AS i, status FROM api.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025' AND status = 'TERMINATED' LIMIT 3;
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');

-- 7. A rescan starts a new point in time: the correlated subquery is run
-- once per outer row, each run reads all 20 records in 3 chunks
EXPLAIN (COSTS OFF)
SELECT g, (SELECT count(*) FROM details.fs7 d
            WHERE d.customer_id = 'cccccccc-0000-4000-8000-000000000020'
              AND d.status <> g) AS n
  FROM (VALUES ('x'), ('ACTIVE')) v(g);
\! curl -s -X POST "$SIM_URL/_sim/reset" >/dev/null
SELECT g, (SELECT count(*) FROM details.fs7 d
            WHERE d.customer_id = 'cccccccc-0000-4000-8000-000000000020'
              AND d.status <> g) AS n
  FROM (VALUES ('x'), ('ACTIVE')) v(g);
\set log `curl -s "$SIM_URL/_sim/log?path_contains=subscriber-all-details"`
SELECT * FROM details.requests(:'log');
SELECT details.distinct_pits(:'log') AS distinct_pits;

\set VERBOSITY terse
DROP SCHEMA details CASCADE;
DROP SERVER details_utc, details_kolkata, details_rotate, details_never_end,
  details_expire CASCADE;
