-- SPEC 2 and 7, issue 15: subscriber_details and customer_subscribers on the
-- simulator's varied family (customer cccccccc-0000-4000-9999-000000001000,
-- 1000 subscribers, formulas at the top of test/simulator.py), whose records
-- carry every quirk of the API in a share of the records: \u escapes and raw
-- UTF-8, \" and \/ in names, numbers as strings, 12.0, 19-digit decimals,
-- IPv6 in three spellings, "" in place of objects, two profiles per eSIM,
-- unknown members, timestamps with 0, 3 or 6 fractional digits and "T" or a
-- space.  Every value of every row equals the formulas (computed here with
-- generate_series); each quirk, found in the raw records as sent, is in as
-- many records as the formulas say, and each of those rows reads right.
\ir include/preamble.psql
SELECT plan(40);
SET LOCAL TimeZone = 'UTC';

SELECT tap.server('tap25', NULL, 'fetch_size ''300''');
SELECT tap.server('tap25_tz', NULL, 'fetch_size ''1000'', remote_timezone ''America/Sao_Paulo''');

-- the records as the simulator sends them (json keeps their text)
\set raw `curl -s -u sim:sim-secret -H 'Content-Type: application/json' -d '{"size":1000}' "$SIM_URL/api/v2/customer/cccccccc-0000-4000-9999-000000001000/subscriber-all-details"`
CREATE TEMP TABLE raw AS
SELECT (e->>'subscriberId')::uuid AS subscriber_id, e::text AS txt
  FROM json_array_elements((:'raw')::json -> 'content') e;

-- an SMS usage v of a record whose i % 5 is c (12.0 when c = 1), and a
-- timestamp of record i with 0, 3 or 6 fractional digits, in UTC
CREATE FUNCTION tap.sms(c int, v int) RETURNS numeric LANGUAGE sql AS
$$ SELECT CASE WHEN c = 1 THEN (v || '.0')::numeric ELSE v END $$;
CREATE FUNCTION tap.ts(year int, i int, digits int) RETURNS timestamptz LANGUAGE sql AS
$$ SELECT make_timestamptz(year, 1 + i % 12, 1 + i % 28, i % 24, i % 60, (i / 60) % 60, 'UTC')
          + CASE digits WHEN 3 THEN (i % 1000000) / 1000 * interval '1 millisecond'
                        WHEN 6 THEN (i % 1000000) * interval '1 microsecond'
                        ELSE interval '0' END $$;

-- record i's index, from its subscriber id
CREATE TEMP TABLE idx AS
SELECT i, (lpad(to_hex(i), 8, '0') || '-0000-4000-b010-000000000000')::uuid AS subscriber_id
  FROM generate_series(0, 999) i;

-- the rows of subscriber_details, column for column, from the formulas
CREATE TEMP TABLE want AS
SELECT 'cccccccc-0000-4000-9999-000000001000'::uuid AS customer_id,
       x.subscriber_id,
       CASE WHEN b % 3 = 0 THEN '8904903201000' || lpad(i::text, 16, '0') END AS eid,
       (ARRAY['ACTIVE','SUSPEND','INACTIVE','TERMINATED'])[i % 4 + 1] AS status,
       CASE WHEN NOT (c = 4 AND i % 2 = 1) THEN '86' || lpad(i::text, 13, '0') END AS imei,
       '86' || lpad(i::text, 13, '0') || (i % 10) AS imeisv,
       (CASE WHEN d IN (0, 6) THEN 'cccccccc-0000-4000-9999-000000001000'
             ELSE 'cccccccc-0000-4000-999' || d || '-000000001000' END)::uuid AS attached_customer_id,
       (ARRAY['Gualas LTD', 'Café Télécom', '"Quoted" Logistics & Co', 'Müller & Söhne GmbH',
              '東京 IoT 株式会社', 'Fleet/Ops 🚚 Ltd', 'Gualas LTD'])[d + 1] AS attached_customer_name,
       CASE WHEN act1 THEN '894451000' || lpad((2 * i + 1)::text, 10, '0')
            WHEN act0 THEN '894451000' || lpad((2 * i)::text, 10, '0') END AS active_iccid,
       CASE WHEN act1 THEN '21407000' || lpad(i::text, 6, '0') || '9'
            WHEN act0 THEN '21407000' || lpad(i::text, 6, '0') || (i % 2) END AS active_imsi,
       CASE WHEN act1 THEN '34000' || lpad(i::text, 6, '0') || '9'
            WHEN act0 THEN '34000' || lpad(i::text, 6, '0') || (i % 2) END AS active_msisdn,
       (SELECT jsonb_agg(p ORDER BY n) FROM (
          SELECT 0 AS n, jsonb_build_object('iccid', '894451000' || lpad((2 * i)::text, 10, '0'),
                   'imsiMsisdnPairs', (SELECT jsonb_agg(jsonb_build_object(
                       'imsi', '21407000' || lpad(i::text, 6, '0') || k,
                       'msisdn', '34000' || lpad(i::text, 6, '0') || k,
                       'isLastActive', act0 AND k = i % 2) ORDER BY k)
                     FROM generate_series(0, i % 2) k)) AS p
          UNION ALL
          SELECT 1, jsonb_build_object('iccid', '894451000' || lpad((2 * i + 1)::text, 10, '0'),
                   'imsiMsisdnPairs', jsonb_build_array(jsonb_build_object(
                       'imsi', '21407000' || lpad(i::text, 6, '0') || '9',
                       'msisdn', '34000' || lpad(i::text, 6, '0') || '9',
                       'isLastActive', act1)))
           WHERE b % 3 = 0) ps) AS profiles,
       tap.sms(c, i % 50) AS daily_sms_usage,
       CASE WHEN c = 3 THEN ((1000 + i % 9000) || '.' || lpad(((i::bigint * 2654435761) % 1000000000000000)::text, 15, '0'))::numeric
            ELSE ((i % 1000) / 10 || '.' || i % 10)::numeric END AS daily_data_usage_mb,
       tap.sms(c, i % 350) AS weekly_sms_usage,
       ((i % 7000) / 10 || '.' || i % 10)::numeric AS weekly_data_usage_mb,
       tap.sms(c, i % 1500) AS monthly_sms_usage,
       CASE WHEN c = 3 THEN ((1000 + i % 9000) || '.' || lpad(((i::bigint * 1000003) % 1000000000000000)::text, 15, '0'))::numeric
            ELSE ((i % 30000) / 10 || '.' || i % 10)::numeric END AS monthly_data_usage_mb,
       CASE WHEN a <> 6 THEN '214' END AS last_network_mcc,
       CASE WHEN a <> 6 THEN lpad((i % 10)::text, 2, '0') END AS last_network_mnc,
       CASE WHEN a <> 6 THEN 'ESP' || lpad((i % 10)::text, 2, '0') END AS last_network_plmn,
       CASE WHEN a <> 6 THEN (ARRAY['BRA','DEU','USA','IRL'])[i % 4 + 1] END AS last_network_country,
       CASE WHEN a <> 14 THEN '214' END AS last_usage_mcc,
       CASE WHEN a <> 14 THEN '07' END AS last_usage_mnc,
       CASE WHEN a <> 14 THEN jsonb_build_object('mcc', '214', 'mnc', '07', 'lac', '', 'tac', i::text,
            'cid', '', 'sac', '', 'rac', '', 'enb', '') END AS last_usage_location,
       CASE WHEN a = 8 THEN NULL
            WHEN a IN (3, 11) THEN ('2001:db8:' || to_hex(i >> 16) || '::' || to_hex(i & 65535))::inet
            WHEN a = 7 THEN ('2001:db8::' || to_hex(i >> 16) || ':0:0:0:' || to_hex(i & 65535))::inet
            WHEN a = 15 THEN format('::ffff:10.%s.%s.%s', (i >> 16) & 255, (i >> 8) & 255, i & 255)::inet
            ELSE format('10.%s.%s.%s', (i >> 16) & 255, (i >> 8) & 255, i & 255)::inet END AS last_ip,
       (ARRAY['1','6','8'])[d % 3 + 1] AS last_rat_type,
       (ARRAY['3G (UTRAN 1)','4G (WB-EUTRAN 6)','NB-IoT/LTE-M (E-UTRAN 8)'])[d % 3 + 1] AS last_rat_type_label,
       (ARRAY['1','6','8'])[d % 3 + 1] AS last_data_rat_type,
       (ARRAY['3G (UTRAN 1)','4G (WB-EUTRAN 6)','NB-IoT/LTE-M (E-UTRAN 8)'])[d % 3 + 1] AS last_data_rat_type_label,
       (ARRAY['flolive.net','iot.1nce.net','internet.m2m'])[i % 3 + 1] AS last_apn,
       CASE WHEN a <> 6 THEN i % 2 = 1 END AS is_in_data_session,
       CASE WHEN NOT (d = 4 AND a % 2 = 0) THEN tap.ts(2023, i, (ARRAY[0,3,6])[b / 3 + 1]) END AS last_data_session,
       tap.ts(2024, i, (ARRAY[0,3,6])[(b / 3 + 1) % 3 + 1]) AS last_data_session_record,
       CASE WHEN a <> 8 THEN tap.ts(2022, i, (ARRAY[0,3,6])[(b / 3 + 2) % 3 + 1]) END AS first_activated_time
  FROM idx x,
       LATERAL (SELECT i::bigint % 16 AS a, i % 9 AS b, i % 5 AS c, i % 7 AS d,
                       i % 9 <> 3 AND i % 35 <> 13 AS act0, i % 9 = 3 AND i % 35 <> 13 AS act1) r
 ORDER BY i;

CREATE TEMP TABLE have AS
SELECT * FROM tap25.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-9999-000000001000';

-- rows of have that equal want's, all columns in their text form (so that
-- the scale of a numeric, 12.0, counts too), with the raw record
CREATE TEMP VIEW same AS
SELECT x.i, r.txt
  FROM have h JOIN want w USING (subscriber_id) JOIN idx x USING (subscriber_id)
       JOIN raw r USING (subscriber_id)
 WHERE h::text = w::text;

SELECT is((SELECT count(*) FROM raw), 1000::bigint, 'the simulator sends 1000 records');
SELECT is((SELECT count(*) FROM have), 1000::bigint, 'every record is read');
SELECT is((SELECT count(DISTINCT subscriber_id) FROM have), 1000::bigint, 'no record twice');
SELECT is((SELECT count(*) FROM same), 1000::bigint, 'every value of every row equals the formulas');
SELECT set_eq('SELECT subscriber_id, eid, status, imei, imeisv, attached_customer_id, attached_customer_name,
                      active_iccid, active_imsi, active_msisdn, profiles FROM have',
              'SELECT subscriber_id, eid, status, imei, imeisv, attached_customer_id, attached_customer_name,
                      active_iccid, active_imsi, active_msisdn, profiles FROM want',
              'identity, names and profiles equal the formulas');
SELECT set_eq('SELECT subscriber_id, daily_sms_usage::text, daily_data_usage_mb::text, weekly_sms_usage::text,
                      weekly_data_usage_mb::text, monthly_sms_usage::text, monthly_data_usage_mb::text FROM have',
              'SELECT subscriber_id, daily_sms_usage::text, daily_data_usage_mb::text, weekly_sms_usage::text,
                      weekly_data_usage_mb::text, monthly_sms_usage::text, monthly_data_usage_mb::text FROM want',
              'usages equal the formulas, digit for digit');
SELECT set_eq('SELECT subscriber_id, last_network_mcc, last_network_mnc, last_network_plmn, last_network_country,
                      last_usage_mcc, last_usage_mnc, last_usage_location, last_ip, last_rat_type,
                      last_rat_type_label, last_data_rat_type, last_data_rat_type_label, last_apn FROM have',
              'SELECT subscriber_id, last_network_mcc, last_network_mnc, last_network_plmn, last_network_country,
                      last_usage_mcc, last_usage_mnc, last_usage_location, last_ip, last_rat_type,
                      last_rat_type_label, last_data_rat_type, last_data_rat_type_label, last_apn FROM want',
              'network, location, address and radio columns equal the formulas');
SELECT set_eq('SELECT subscriber_id, is_in_data_session, last_data_session, last_data_session_record,
                      first_activated_time FROM have',
              'SELECT subscriber_id, is_in_data_session, last_data_session, last_data_session_record,
                      first_activated_time FROM want',
              'session flag and timestamps equal the formulas');

-- each quirk: the records that carry it as sent (a pattern on their text)
-- are as many as the formulas say, and each of them reads right
CREATE FUNCTION tap.quirk(pattern text, expected bigint, what text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT is((SELECT count(*) FROM raw WHERE txt ~ pattern), expected, what || ': in ' || expected || ' records')
  UNION ALL
  SELECT is((SELECT count(*) FROM same WHERE txt ~ pattern), expected, what || ': each read right')
$$;
SELECT tap.quirk('\\u[0-9a-f]{4}', (SELECT count(*) FROM idx WHERE i % 16 < 11 AND i % 7 BETWEEN 1 AND 5),
                 '\u escapes (names)');
SELECT tap.quirk('"customerName":"[^"]*[^\x01-\x7f]', (SELECT count(*) FROM idx WHERE i % 16 >= 11 AND i % 7 IN (1, 3, 4, 5)),
                 'raw UTF-8 names');
SELECT tap.quirk('\\ud83d\\ude9a', (SELECT count(*) FROM idx WHERE i % 16 < 11 AND i % 7 = 5),
                 'a surrogate pair');
SELECT tap.quirk('"customerName":"\\"Quoted\\"', (SELECT count(*) FROM idx WHERE i % 7 = 2),
                 '\" in names');
SELECT tap.quirk('"dailySmsUsage":"', (SELECT count(*) FROM idx WHERE i % 9 = 4),
                 'numbers sent as strings');
SELECT tap.quirk('"weeklySmsUsage":"?[0-9]+\.0[",]', (SELECT count(*) FROM idx WHERE i % 5 = 1),
                 'integers sent as 12.0');
SELECT tap.quirk('"dailyDataUsage":"?[0-9]{4}\.[0-9]{15}[",]', (SELECT count(*) FROM idx WHERE i % 5 = 3),
                 '19-digit decimals');
SELECT tap.quirk('"lastIp":"[^"]*:', (SELECT count(*) FROM idx WHERE i % 4 = 3),
                 'IPv6 addresses (compressed, full upper-case, IPv4-mapped)');
SELECT tap.quirk('"(lastConnectedNetwork|lastUsageLocation)":""', (SELECT count(*) FROM idx WHERE i % 16 IN (6, 14)),
                 '"" in place of an object');
SELECT tap.quirk('"profile":\[\{[^]]*\]\},\{', (SELECT count(*) FROM idx WHERE i % 3 = 0),
                 'two profiles per eSIM');
SELECT tap.quirk('"_links":', (SELECT count(*) FROM idx WHERE i % 4 = 1),
                 'unknown members');
SELECT tap.quirk('"lastDataSessionRecord":"[0-9-]{10}T[0-9:]{8}"', (SELECT count(*) FROM idx WHERE i % 7 IN (1, 3, 5) AND i % 9 / 3 = 2),
                 'timestamps with T and no fraction');
SELECT tap.quirk('"lastDataSessionRecord":"[0-9-]{10} [0-9:]{8}\.[0-9]{6}"', (SELECT count(*) FROM idx WHERE i % 7 NOT IN (1, 3, 5) AND i % 9 / 3 = 1),
                 'timestamps with a space and 6 digits');

-- SPEC 2: timestamps "read in remote_timezone", with "T" or a space
SELECT is((SELECT count(*) FROM tap25_tz.subscriber_details t JOIN want w USING (subscriber_id)
            WHERE t.customer_id = 'cccccccc-0000-4000-9999-000000001000'
              AND t.last_data_session_record = (w.last_data_session_record AT TIME ZONE 'UTC') AT TIME ZONE 'America/Sao_Paulo'),
          1000::bigint, 'every timestamp is read in remote_timezone');

-- a few rows as written out by hand from the formulas
SELECT is((SELECT (attached_customer_name, last_ip, daily_data_usage_mb, monthly_data_usage_mb, active_iccid)::text
             FROM have WHERE subscriber_id = '00000003-0000-4000-b010-000000000000'),
          '("Müller & Söhne GmbH",2001:db8::3,1003.000007963307283,1003.000000003000009,8944510000000000007)',
          'record 3: escaped name, IPv6, 19 digits, the active pair in the second profile');
SELECT is((SELECT (attached_customer_name, daily_sms_usage, last_data_session, last_data_session_record,
                    first_activated_time)::text
             FROM have WHERE subscriber_id = '0000000c-0000-4000-b010-000000000000'),
          '("Fleet/Ops 🚚 Ltd",12,"2023-01-13 12:12:00+00","2024-01-13 12:12:00.000012+00","2022-01-13 12:12:00+00")',
          'record 12: raw UTF-8 name with a 4-byte character, timestamps with T and 3, 6 and 0 digits');
SELECT is((SELECT (daily_sms_usage, weekly_sms_usage, last_network_mcc, is_in_data_session, last_usage_location)::text
             FROM have WHERE subscriber_id = '00000006-0000-4000-b010-000000000000'),
          '(6.0,6.0,,,"{""cid"": """", ""enb"": """", ""lac"": """", ""mcc"": ""214"", ""mnc"": ""07"", ""rac"": """", ""sac"": """", ""tac"": ""6""}")',
          'record 6: 12.0 kept as 6.0; lastConnectedNetwork "" gives NULLs');
SELECT is((SELECT (daily_sms_usage, daily_data_usage_mb, last_ip, first_activated_time, attached_customer_name)::text
             FROM have WHERE subscriber_id = '0000001f-0000-4000-b010-000000000000'),
          '(31.0,3.1,::ffff:10.0.0.31,"2022-08-04 07:31:00+00","Müller & Söhne GmbH")',
          'record 31: "31.0" and "3.1" sent as strings, IPv4-mapped IPv6, raw UTF-8 name');

-- customer_subscribers reads the same subscribers the same way
SELECT set_eq('SELECT subscriber_id, status, imei, attached_customer_id, attached_customer_name
                 FROM tap25.customer_subscribers WHERE customer_id = ''cccccccc-0000-4000-9999-000000001000''',
              'SELECT subscriber_id, status, imei, attached_customer_id, attached_customer_name FROM want',
              'customer_subscribers: the same subscribers, names and ids');

SELECT * FROM finish();
ROLLBACK;
