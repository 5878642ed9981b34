-- Conversion of values the API sends in odd forms, with the simulator's
-- fault set= serving chosen member values (test/simulator.py): timestamps
-- read the same in every session, domains checked for NULLs too, and long
-- remote text and keys shortened in messages.  Runs after "setup" (server
-- sim, schema api, fault_show()).
\getenv sim_url SIM_URL
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
CREATE SCHEMA conv;

-- every byte of a text percent-encoded, for a fault spec in base_url
CREATE FUNCTION conv.pct(t text) RETURNS text LANGUAGE sql IMMUTABLE
  RETURN (SELECT string_agg('%' || lpad(to_hex(get_byte(b, i)), 2, '0'), '' ORDER BY i)
            FROM (SELECT convert_to(t, 'UTF8') AS b) x,
                 generate_series(0, length(convert_to(t, 'UTF8')) - 1) i);

-- a server whose records have the member "field" set to the JSON texts
-- "vals" (record i gets vals[i % n]), with more server options in "opts"
CREATE FUNCTION conv.server(name text, field text, vals text[], opts text DEFAULT '')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url %L%s)',
                 name,
                 (SELECT sim_url FROM regress_env) || '/_fault/set=' || field || '=' ||
                   (SELECT string_agg(conv.pct(v), '|' ORDER BY n)
                      FROM unnest(vals) WITH ORDINALITY u(v, n)),
                 CASE WHEN opts = '' THEN '' ELSE ', ' || opts END);
  EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (username ''sim'', password ''sim-secret'')', name);
END $$;


-- 1. Timestamps.  Zone-less values are local times of remote_timezone
-- (Asia/Kolkata here, +05:30), values with "Z" or an offset keep it, and
-- neither the session's TimeZone nor its DateStyle changes the instant.
SELECT conv.server('conv_ts', 'lastDataSession', ARRAY[
  '"2024-01-02 10:00:00"', '"2024-01-02T10:00:00.123456"', '"2024-01-02T10:00"',
  '"2024-01-02"', '"2024-01-02T10:00:00Z"', '"2024-01-02 10:00:00+02:00"',
  '"2024-01-02T10:00:00.5 -0330"', '"2024-01-02T10:00:00.1234567"',
  '"2024-02-29 23:59:60"', '"infinity"'], 'remote_timezone ''Asia/Kolkata''');
CREATE FOREIGN TABLE conv.ts (
    customer_id uuid, subscriber_id uuid,
    sent text OPTIONS (json_path 'lastDataSession'),
    last_data_session timestamptz,
    local_time timestamp OPTIONS (json_path 'lastDataSession'),
    seconds timestamptz(0) OPTIONS (json_path 'lastDataSession'))
  SERVER conv_ts OPTIONS (resource 'subscriber_details');
CREATE TABLE conv.seen (setting text, i int, sent text, instant timestamptz,
                        local_time timestamp, seconds timestamptz);
CREATE FUNCTION conv.record_in(setting text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO conv.seen
  SELECT setting, ('x' || left(subscriber_id::text, 8))::bit(32)::int, sent,
         last_data_session, local_time, seconds
    FROM conv.ts WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010' $$;
SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY';
SELECT conv.record_in('UTC, ISO MDY');
SET TimeZone = 'America/New_York'; SET DateStyle = 'SQL, DMY';
SELECT conv.record_in('New York, SQL DMY');
SET TimeZone = 'Asia/Tokyo'; SET DateStyle = 'German';
SELECT conv.record_in('Tokyo, German');
SET TimeZone = 'UTC'; SET DateStyle = 'ISO';
-- each value as an instant (shown in UTC) and as a local time of Kolkata
SELECT i, sent, instant, local_time, seconds
  FROM conv.seen WHERE setting = 'UTC, ISO MDY' ORDER BY i;
-- the same instants in all three sessions
SELECT count(*) AS values, count(DISTINCT setting) AS sessions,
       count(*) FILTER (WHERE instants = 1 AND local_times = 1 AND rounded = 1) AS same_everywhere
  FROM (SELECT i, count(DISTINCT instant) AS instants, count(DISTINCT local_time) AS local_times,
               count(DISTINCT seconds) AS rounded
          FROM conv.seen GROUP BY i) per_value,
       (SELECT DISTINCT setting FROM conv.seen) s
 GROUP BY ();

-- Layouts that PostgreSQL would read in the session's DateStyle or zone,
-- or that are no timestamp at all, are refused naming the column
CREATE FUNCTION conv.refused(v text) RETURNS TABLE (item text, value text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM conv.server('conv_refused', 'lastDataSession', ARRAY[v]);
  CREATE FOREIGN TABLE conv.refused (customer_id uuid, last_data_session timestamptz)
    SERVER conv_refused OPTIONS (resource 'subscriber_details');
  RETURN QUERY SELECT * FROM fault_show($q$SELECT last_data_session FROM conv.refused
                       WHERE customer_id = 'cccccccc-0000-4000-8000-000000000001'$q$);
  DROP SERVER conv_refused CASCADE;
END $$;
SET client_min_messages = warning;
SELECT * FROM conv.refused('"01/02/2024 10:00:00"');
SELECT * FROM conv.refused('"20240102T100000"');
SELECT * FROM conv.refused('"2024-01-02 10:00:00 Europe/Paris"');
SELECT * FROM conv.refused('"2"');
SELECT * FROM conv.refused('"2024-01-0"');
SELECT * FROM conv.refused('"2024-02-30 10:00:00"');
SELECT * FROM conv.refused('"2024-01-02T10:00:00+16:00"');
RESET client_min_messages;

-- 2. Domains: their NOT NULL and CHECK constraints hold for values that
-- are absent or null too.  Customer ...010: imei is absent at i = 7,
-- monthlySmsUsage null at i = 6, lastConnectedNetwork absent at i = 9,
-- weeklySmsUsage is i.
CREATE DOMAIN conv.imei_nn AS text NOT NULL;
CREATE DOMAIN conv.usage_set AS numeric CHECK (VALUE IS NOT NULL);
CREATE DOMAIN conv.usage_small AS numeric CHECK (VALUE < 5);
CREATE DOMAIN conv.mcc AS text;
CREATE DOMAIN conv.instant AS timestamptz;
CREATE FOREIGN TABLE conv.dom (
    customer_id uuid, subscriber_id uuid, imei conv.imei_nn,
    monthly_sms_usage conv.usage_set, weekly_sms_usage conv.usage_small,
    last_network_mcc conv.mcc, last_data_session conv.instant,
    plain_session timestamptz OPTIONS (json_path 'lastDataSession'))
  SERVER sim OPTIONS (resource 'subscriber_details');
SELECT * FROM fault_show($$SELECT imei FROM conv.dom
                          WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'$$);
SELECT * FROM fault_show($$SELECT monthly_sms_usage FROM conv.dom
                          WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'$$);
SELECT * FROM fault_show($$SELECT weekly_sms_usage FROM conv.dom
                          WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'$$);
-- a domain without constraints is NULL where the field is absent, and a
-- domain over timestamptz is read in remote_timezone like timestamptz
SET TimeZone = 'Asia/Tokyo';
SELECT count(*) AS rows, count(*) FILTER (WHERE last_network_mcc IS NULL) AS null_mcc,
       count(*) FILTER (WHERE last_data_session = plain_session) AS same_session,
       count(*) FILTER (WHERE last_data_session IS NULL AND plain_session IS NULL) AS both_null
  FROM conv.dom WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010';
SET TimeZone = 'UTC';

-- 3. A long value and a long key are shortened in the message and the
-- context: a session id of 1,000-odd bytes that is no integer, in the
-- answer for an MSISDN of 1,000 digits
CREATE FOREIGN TABLE conv.long_sessions (msisdn text, session_id int)
  SERVER sim OPTIONS (resource 'subscriber_sessions');
SELECT item, length(value) AS bytes, value
  FROM fault_show(format($$SELECT session_id FROM conv.long_sessions WHERE msisdn = %L$$,
                        repeat('5', 1000)));

\set VERBOSITY terse
DROP SCHEMA conv CASCADE;
DROP SERVER conv_ts CASCADE;
