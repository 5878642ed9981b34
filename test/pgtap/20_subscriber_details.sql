-- SPEC 2, subscriber_details, on a customer of 1000 subscribers read in
-- point-in-time chunks of 100: every row exactly once, and values and quirks
-- equal to the simulator's formulas (computed here with generate_series).
-- The requests of point-in-time scans (pitId chaining, totals, LIMIT,
-- rescans) and their errors (an expired pitId, a server that never ends) are
-- shown in sql/subscriber_details.sql.
\ir include/preamble.psql
SELECT plan(27);
SET LOCAL TimeZone = 'UTC';

SELECT tap.server('tap20', NULL, 'fetch_size ''100''');

-- the simulator's records of customer ...001000, from its formulas
CREATE TEMP VIEW want AS
SELECT i,
       (lpad(to_hex(i), 8, '0') || '-0000-4000-a010-000000000000')::uuid AS subscriber_id,
       CASE WHEN i % 3 = 0 THEN '0090923122299992' || lpad(i::text, 13, '0') END AS eid,
       (ARRAY['ACTIVE','SUSPEND','INACTIVE','TERMINATED'])[i % 4 + 1] AS status,
       CASE WHEN i % 10 <> 7 THEN '35430611' || lpad(i::text, 7, '0') END AS imei,
       '35430611' || lpad(i::text, 7, '0') || '01' AS imeisv,
       CASE WHEN i % 5 = 4 THEN 'cccccccc-0000-4000-9000-000000001000'
            ELSE 'cccccccc-0000-4000-8000-000000001000' END::uuid AS attached_customer_id,
       CASE WHEN i % 5 = 4 THEN 'Sub-customer 1000' ELSE 'Customer 1000' END AS attached_customer_name,
       CASE WHEN i % 7 <> 3 THEN '8935711001000' || lpad(i::text, 6, '0') || '0' END AS active_iccid,
       CASE WHEN i % 7 <> 3 THEN '222001000' || lpad(i::text, 5, '0') || (i % (1 + i % 3)) END AS active_imsi,
       CASE WHEN i % 7 <> 3 AND NOT (i % (1 + i % 3) = 1 AND i % 4 = 1)
            THEN '991000' || lpad(i::text, 7, '0') || (i % (1 + i % 3)) END AS active_msisdn,
       1 + i % 2 AS nprofiles,
       (i % 50)::numeric AS daily_sms_usage,
       (i % 1000) / 10.0 AS daily_data_usage_mb,
       (i % 350)::numeric AS weekly_sms_usage,
       (i % 7000) / 10.0 AS weekly_data_usage_mb,
       CASE WHEN i % 13 <> 6 THEN (i % 1500)::numeric END AS monthly_sms_usage,
       (i % 30000) / 10.0 AS monthly_data_usage_mb,
       CASE WHEN i % 10 <> 9 THEN '724' END AS last_network_mcc,
       CASE WHEN i % 10 <> 9 THEN lpad((i % 10)::text, 2, '0') END AS last_network_mnc,
       CASE WHEN i % 10 <> 9 THEN 'BRA' || lpad((i % 10)::text, 2, '0') END AS last_network_plmn,
       CASE WHEN i % 10 <> 9 THEN (ARRAY['BRA','DEU','USA','IRL'])[i % 4 + 1] END AS last_network_country,
       CASE WHEN i % 12 <> 1 THEN '734' END AS last_usage_mcc,
       CASE WHEN i % 12 <> 1 THEN '04' END AS last_usage_mnc,
       CASE WHEN i % 12 <> 1 THEN jsonb_build_object('mcc', '734', 'mnc', '04', 'lac', '',
            'tac', i::text, 'cid', '', 'sac', '', 'rac', '', 'enb', '') END AS last_usage_location,
       CASE WHEN i % 11 = 7 THEN NULL
            WHEN i % 17 = 5 THEN ('2001:db8::' || to_hex((i >> 16) & 255) || ':' || to_hex((i >> 8) & 255) || ':' || to_hex(i & 255))::inet
            ELSE format('10.%s.%s.%s', (i >> 16) & 255, (i >> 8) & 255, i & 255)::inet END AS last_ip,
       CASE WHEN i % 10 <> 9 THEN i % 2 = 1 END AS is_in_data_session,
       CASE WHEN i % 13 <> 6 THEN t + interval '1 year' END AS last_data_session,
       t + interval '2 years' AS last_data_session_record,
       CASE WHEN i % 11 <> 7 THEN t END AS first_activated_time
  FROM generate_series(0, 999) i,
       LATERAL (SELECT make_timestamptz(2020, 1 + i % 12, 1 + i % 28, i % 24, i % 60, 0, 'UTC')
                       + ((i / 60) % 60) * interval '1 second'
                       + (i % 1000000) * interval '1 microsecond' AS t) ts;

CREATE TEMP TABLE have AS
SELECT * FROM tap20.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000001000';

-- SPEC 3: "it never returns duplicated or missing rows"; the key column is
-- "the {id} that was requested"
SELECT is((SELECT count(*) FROM have), 1000::bigint, 'every record of 1000 is read');
SELECT is((SELECT count(DISTINCT subscriber_id) FROM have), 1000::bigint, 'no record twice');
SELECT set_eq('SELECT subscriber_id FROM have', 'SELECT subscriber_id FROM want',
              'the subscriber ids are the simulator''s');
SELECT is((SELECT count(*) FROM have WHERE customer_id = 'cccccccc-0000-4000-8000-000000001000'),
          1000::bigint, 'customer_id is the requested key on every row');

-- SPEC 2: "numeric | dailySmsUsage" etc.: sums against the formulas
SELECT is((SELECT sum(daily_sms_usage) FROM have),
          (SELECT sum(i % 50)::numeric FROM generate_series(0, 999) i),
          'sum of daily_sms_usage (string and number quirks)');
SELECT is((SELECT sum(daily_data_usage_mb) FROM have),
          (SELECT sum((i % 1000) / 10.0) FROM generate_series(0, 999) i),
          'sum of daily_data_usage_mb');
SELECT is((SELECT sum(monthly_sms_usage) FROM have),
          (SELECT sum(i % 1500)::numeric FROM generate_series(0, 999) i WHERE i % 13 <> 6),
          'sum of monthly_sms_usage (null when i % 13 = 6)');
SELECT is((SELECT sum(weekly_data_usage_mb) + sum(monthly_data_usage_mb) + sum(weekly_sms_usage) FROM have),
          (SELECT sum((i % 7000) / 10.0) + sum((i % 30000) / 10.0) + sum(i % 350)
             FROM generate_series(0, 999) i),
          'sums of the weekly and monthly usages');

-- SPEC 2: "A JSON field that is absent, null, or an empty string where the
-- column's type is not text gives SQL NULL"; "imeisv, or meisv where only
-- that is present"; "lastDataRatTypeLabel, or astDataRatTypeLabel"
SELECT is((SELECT count(*) FROM have WHERE last_ip IS NULL),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 11 = 7),
          'lastIp "" gives NULL');
SELECT is((SELECT count(*) FROM have WHERE family(last_ip) = 6),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 17 = 5 AND i % 11 <> 7),
          'IPv6 addresses');
SELECT is((SELECT count(*) FROM have WHERE first_activated_time IS NULL),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 11 = 7),
          'firstActivatedTime "" gives NULL');
SELECT is((SELECT count(*) FROM have WHERE last_data_session IS NULL),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 13 = 6),
          'lastDataSession null gives NULL');
SELECT is((SELECT count(*) FROM have WHERE imeisv IS NULL), 0::bigint,
          'imeisv is filled also from "meisv"');
SELECT is((SELECT count(*) FROM have h JOIN want w USING (subscriber_id)
            WHERE w.i % 9 = 4 AND h.imeisv = w.imeisv),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 9 = 4),
          'imeisv of the "meisv" records');
SELECT is((SELECT count(*) FROM have WHERE last_data_rat_type_label = '4G (WB-EUTRAN 6)'), 1000::bigint,
          'last_data_rat_type_label is filled also from "astDataRatTypeLabel"');
SELECT is((SELECT count(*) FROM have WHERE last_network_mcc IS NULL AND last_network_country IS NULL),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 10 = 9),
          'absent lastConnectedNetwork gives NULLs');
SELECT is((SELECT count(*) FROM have WHERE is_in_data_session IS NULL),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 10 = 9),
          'absent isInDataSession gives NULL');
SELECT is((SELECT count(*) FROM have WHERE last_usage_location IS NULL AND last_usage_mcc IS NULL
                                         AND last_usage_mnc IS NULL),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 12 = 1),
          'lastUsageLocation "" gives NULL jsonb, mcc and mnc');
SELECT is((SELECT count(*) FROM have WHERE active_iccid IS NULL AND active_imsi IS NULL),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 7 = 3),
          'no active pair gives NULLs');
SELECT is((SELECT count(*) FROM have WHERE imei IS NULL),
          (SELECT count(*) FROM generate_series(0, 999) i WHERE i % 10 = 7),
          'absent imei gives NULL');

-- SPEC 2: every value of every row, timestamps "read in remote_timezone"
SELECT set_eq('SELECT subscriber_id, eid, status, imei, imeisv, attached_customer_id,
                      attached_customer_name FROM have',
              'SELECT subscriber_id, eid, status, imei, imeisv, attached_customer_id,
                      attached_customer_name FROM want',
              'identity columns equal the formulas');
SELECT set_eq('SELECT subscriber_id, active_iccid, active_imsi, active_msisdn,
                      jsonb_array_length(profiles) FROM have',
              'SELECT subscriber_id, active_iccid, active_imsi, active_msisdn, nprofiles FROM want',
              'active pair columns equal the formulas');
SELECT set_eq('SELECT subscriber_id, daily_sms_usage, daily_data_usage_mb, weekly_sms_usage,
                      weekly_data_usage_mb, monthly_sms_usage, monthly_data_usage_mb FROM have',
              'SELECT subscriber_id, daily_sms_usage, daily_data_usage_mb, weekly_sms_usage,
                      weekly_data_usage_mb, monthly_sms_usage, monthly_data_usage_mb FROM want',
              'usage columns equal the formulas');
SELECT set_eq('SELECT subscriber_id, last_network_mcc, last_network_mnc, last_network_plmn,
                      last_network_country, last_usage_mcc, last_usage_mnc, last_usage_location,
                      last_ip FROM have',
              'SELECT subscriber_id, last_network_mcc, last_network_mnc, last_network_plmn,
                      last_network_country, last_usage_mcc, last_usage_mnc, last_usage_location,
                      last_ip FROM want',
              'network columns equal the formulas');
SELECT set_eq('SELECT subscriber_id, is_in_data_session, last_data_session,
                      last_data_session_record, first_activated_time FROM have',
              'SELECT subscriber_id, is_in_data_session, last_data_session,
                      last_data_session_record, first_activated_time FROM want',
              'session columns and timestamps (remote_timezone UTC) equal the formulas');
SELECT is((SELECT count(*) FROM have
            WHERE (last_rat_type, last_rat_type_label, last_data_rat_type, last_apn)
                = ('1', '3G (UTRAN 1)', '6', 'flolive.net')), 1000::bigint,
          'radio type columns and APN');

-- SPEC 3: the scan "ends when ... the records received reach
-- totalRecordAmount": 300 records in chunks of 100 are three requests (the
-- count reads the records: count_pushdown is off), and
-- no fourth is sent, so a point in time that the API refuses after three
-- uses does not fail the scan
SELECT tap.server('tap20_expire', 'pit_expire_after=3',
                  'fetch_size ''100'', count_pushdown ''false''');
SELECT is((SELECT count(*) FROM tap20_expire.subscriber_details
            WHERE customer_id = 'cccccccc-0000-4000-8000-000000000300'), 300::bigint,
          'a scan within the pitId''s uses still works');

SELECT * FROM finish();
ROLLBACK;
