-- The validator (SPEC section 2): unknown options, options at the wrong
-- level, secrets outside user mappings, malformed and out-of-range values,
-- missing required options, and the accepted cases.  Default verbosity, so
-- every HINT is part of the expected output.

-- refusal(sql, secret): runs a statement that must fail and tells its
-- SQLSTATE and whether the secret shows in what the error reports (message,
-- detail, hint; the context would only quote the statement itself).
CREATE FUNCTION pg_temp.refusal(stmt text, secret text)
RETURNS TABLE (sqlstate text, secret_shown boolean)
LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text; hnt text;
BEGIN
  BEGIN
    EXECUTE stmt;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
      det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN QUERY SELECT st, strpos(concat_ws(' ', msg, det, hnt), secret) > 0;
    RETURN;
  END;
  RAISE EXCEPTION 'statement was accepted: %', stmt;
END $$;

-- a server and user mapping that the table and user mapping cases use
CREATE SERVER v_srv FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9/');
CREATE USER MAPPING FOR CURRENT_USER SERVER v_srv
  OPTIONS (username 'u', password 'p');

------------------------------------------------------------------------
-- unknown option names, at every level; the hint lists what is valid there
------------------------------------------------------------------------
ALTER FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (ADD base_path '/x');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', host 'x');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', "Fetch_Size" '5');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', page_size '5');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (user 'u', password 'p');
CREATE FOREIGN TABLE v_t (customer_id uuid OPTIONS (column_name 'x')) SERVER v_srv
  OPTIONS (resource 'customer_subscribers');

------------------------------------------------------------------------
-- options at the wrong level; the hint says where the option belongs
------------------------------------------------------------------------
-- the wrapper takes none
ALTER FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (ADD base_url 'http://127.0.0.1:9');
ALTER FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (ADD fetch_size '5');
-- server
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', resource 'customer_subscribers');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', json_path 'a.b');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', username 'u');
-- table
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', base_url 'http://127.0.0.1:9');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', tenant 'acme');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', json_path 'a.b');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', remote_timezone 'UTC');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', tls_verify 'false');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', ca_file '/etc/ssl/ca.pem');
-- user mapping
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (token 't', fetch_size '5');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (token 't', customer_id 'cccccccc-0000-4000-8000-000000000003');
-- column
CREATE FOREIGN TABLE v_t (customer_id uuid OPTIONS (resource 'customer_subscribers')) SERVER v_srv
  OPTIONS (resource 'customer_subscribers');
CREATE FOREIGN TABLE v_t (customer_id uuid OPTIONS (fetch_size '5')) SERVER v_srv
  OPTIONS (resource 'customer_subscribers');

------------------------------------------------------------------------
-- secrets: refused on the wrapper, a server, a table and a column, and the
-- value (hunter2-secret) never shows in what the error reports
------------------------------------------------------------------------
ALTER FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (ADD password 'hunter2-secret');
ALTER FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (ADD token 'hunter2-secret');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', password 'hunter2-secret');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', token 'hunter2-secret');
ALTER SERVER v_srv OPTIONS (ADD password 'hunter2-secret');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', password 'hunter2-secret');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', token 'hunter2-secret');
CREATE FOREIGN TABLE v_t (customer_id uuid OPTIONS (token 'hunter2-secret')) SERVER v_srv
  OPTIONS (resource 'customer_subscribers');
-- the same, checked on the whole error report
SELECT * FROM pg_temp.refusal(
  $$ALTER FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (ADD password 'hunter2-secret')$$, 'hunter2');
SELECT * FROM pg_temp.refusal(
  $$CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://127.0.0.1:9', token 'hunter2-secret')$$, 'hunter2');
SELECT * FROM pg_temp.refusal(
  $$CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv OPTIONS (resource 'customer_subscribers', password 'hunter2-secret')$$, 'hunter2');
-- a user mapping's secret that is refused for another reason is not echoed
SELECT * FROM pg_temp.refusal(
  $$CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (password 'hunter2-secret')$$, 'hunter2');
SELECT * FROM pg_temp.refusal(
  $$CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (username 'u', password 'hunter2-secret', token 'hunter2-token')$$, 'hunter2');
-- a password written into base_url is refused, and not repeated either
SELECT * FROM pg_temp.refusal(
  $$CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'https://apiuser:hunter2-secret@api.example.com/')$$, 'hunter2');

------------------------------------------------------------------------
-- numeric options: below, above, not a number (server and table level)
------------------------------------------------------------------------
ALTER SERVER v_srv OPTIONS (ADD fetch_size '0');
ALTER SERVER v_srv OPTIONS (ADD fetch_size '10001');
ALTER SERVER v_srv OPTIONS (ADD fetch_size 'abc');
ALTER SERVER v_srv OPTIONS (ADD fetch_size '12abc');
ALTER SERVER v_srv OPTIONS (ADD fetch_size '');
ALTER SERVER v_srv OPTIONS (ADD fetch_size '2.5');
ALTER SERVER v_srv OPTIONS (ADD fetch_size '99999999999999999999');
ALTER SERVER v_srv OPTIONS (ADD pit_keep_alive '0');
ALTER SERVER v_srv OPTIONS (ADD pit_keep_alive '31');
ALTER SERVER v_srv OPTIONS (ADD connect_timeout '0');
ALTER SERVER v_srv OPTIONS (ADD connect_timeout '301');
ALTER SERVER v_srv OPTIONS (ADD connect_timeout 'ten');
ALTER SERVER v_srv OPTIONS (ADD request_timeout '0');
ALTER SERVER v_srv OPTIONS (ADD request_timeout '3601');
ALTER SERVER v_srv OPTIONS (ADD request_timeout '-5');
ALTER SERVER v_srv OPTIONS (ADD max_retries '-1');
ALTER SERVER v_srv OPTIONS (ADD max_retries '11');
ALTER SERVER v_srv OPTIONS (ADD max_concurrency '0');
ALTER SERVER v_srv OPTIONS (ADD max_concurrency '65');
ALTER SERVER v_srv OPTIONS (ADD max_response_size '134217729');
ALTER SERVER v_srv OPTIONS (ADD max_response_size '1023');
ALTER SERVER v_srv OPTIONS (ADD max_response_size '128MB');
-- the same checks on a table
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', fetch_size '0');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', pit_keep_alive '31');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', max_response_size '134217729');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', max_concurrency 'many');

------------------------------------------------------------------------
-- other values
------------------------------------------------------------------------
ALTER SERVER v_srv OPTIONS (ADD tls_verify 'maybe');
ALTER SERVER v_srv OPTIONS (ADD remote_timezone 'Mars/Olympus');
ALTER SERVER v_srv OPTIONS (ADD customer_id 'not-a-uuid');
ALTER SERVER v_srv OPTIONS (ADD customer_id '{cccccccc-0000-4000-8000-000000000003}');
ALTER SERVER v_srv OPTIONS (ADD tenant '');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', customer_id 'cccccccc00004000800000000000000');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customers');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'Customer_Subscribers');
CREATE FOREIGN TABLE v_t (x text OPTIONS (json_path 'a..b')) SERVER v_srv
  OPTIONS (resource 'customer_subscribers');
CREATE FOREIGN TABLE v_t (x text OPTIONS (json_path '.a')) SERVER v_srv
  OPTIONS (resource 'customer_subscribers');
CREATE FOREIGN TABLE v_t (x text OPTIONS (json_path 'a.')) SERVER v_srv
  OPTIONS (resource 'customer_subscribers');
CREATE FOREIGN TABLE v_t (x text OPTIONS (json_path '')) SERVER v_srv
  OPTIONS (resource 'customer_subscribers');
-- base_url: scheme, host, credentials, query, fragment, spaces
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'ftp://api.example.com');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'file:///etc/passwd');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'api.example.com');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'https:///api/v2');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://apiuser@api.example.com');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com/?tenant=acme');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com/x#y');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com/a b');
-- base_url: the port, when given, is a number from 1 to 65535; the host is
-- not percent-encoded (libcurl would decode it into another host)
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com:0');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com:65536/v2');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com:99999999999999999999');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com:-1');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com:http');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api.example.com:/v2');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'https://[::1]:70000');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'https://[::1');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'https://::1/');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://:8080/');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://[]:8080/');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://127.0.0.%31:8080');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://api%2Eexample.com');
-- ALTER SERVER is checked the same way
ALTER SERVER v_srv OPTIONS (SET base_url 'http://127.0.0.1:65536');
ALTER SERVER v_srv OPTIONS (SET base_url 'http://127.0.0.1%2F');

------------------------------------------------------------------------
-- values that become part of a request: no control character (a byte
-- below 0x20, or 0x7F) in tenant, customer_id, username, password, token,
-- and no ":" in username, so that no value can add or change a header; a
-- refused secret or user name is never repeated
------------------------------------------------------------------------
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', tenant E'acme\r\nX-Injected: 1');
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://127.0.0.1:9', tenant E'acme\x7f');
ALTER SERVER v_srv OPTIONS (ADD tenant E'ac\tme');
ALTER SERVER v_srv OPTIONS (ADD customer_id E'cccccccc-0000-4000-8000-000000000003\r\nX-Injected: 1');
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', customer_id E'\ncccccccc-0000-4000-8000-00000000003');
-- a long refused value is shown shortened
SELECT E'\n' || repeat('x', 500) AS long_tenant \gset
ALTER SERVER v_srv OPTIONS (ADD tenant :'long_tenant');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (token E'hunter2-secret\r\nX-Injected: 1');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (username 'apiuser', password E'hunter2-secret\n');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (username E'hunter2-user\x01', password 'p');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (username 'hunter2:user', password 'p');
ALTER USER MAPPING FOR CURRENT_USER SERVER v_srv OPTIONS (SET password E'hunter2-secret\r');
ALTER USER MAPPING FOR CURRENT_USER SERVER v_srv OPTIONS (SET username E'hunter2:user');
-- the same, checked on the whole error report: the secret is not in it
SELECT * FROM pg_temp.refusal(
  $$CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (token E'hunter2-secret\r\nX-Injected: 1')$$, 'hunter2');
SELECT * FROM pg_temp.refusal(
  $$CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (username 'u', password E'\x7fhunter2-secret')$$, 'hunter2');
SELECT * FROM pg_temp.refusal(
  $$CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (username 'hunter2:user', password 'p')$$, 'hunter2');
SELECT * FROM pg_temp.refusal(
  $$ALTER USER MAPPING FOR CURRENT_USER SERVER v_srv OPTIONS (SET password E'hunter2-secret\n')$$, 'hunter2');
-- printable text, non-ASCII included, is accepted
CREATE SERVER v_ok3 FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url 'http://[::1]:65535/v2', tenant 'acme-ünïcode tenant');
CREATE USER MAPPING FOR PUBLIC SERVER v_ok3 OPTIONS (username 'api.user@example.com', password 'p:a:s:s wörd');
ALTER USER MAPPING FOR PUBLIC SERVER v_ok3 OPTIONS (DROP username, DROP password, ADD token 'a.b-c_d~e+f/g=');
ALTER SERVER v_ok3 OPTIONS (SET base_url 'https://127.0.0.1:1');
DROP SERVER v_ok3 CASCADE;

------------------------------------------------------------------------
-- required options and combinations
------------------------------------------------------------------------
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw;
CREATE SERVER v_bad FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (tenant 'acme');
ALTER SERVER v_srv OPTIONS (DROP base_url);
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv;
CREATE FOREIGN TABLE v_t (customer_id uuid) SERVER v_srv OPTIONS (fetch_size '5');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (password 'p');
ALTER USER MAPPING FOR CURRENT_USER SERVER v_srv OPTIONS (DROP username);
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (username 'u', token 't');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (username 'u', password 'p', token 't');
ALTER USER MAPPING FOR CURRENT_USER SERVER v_srv OPTIONS (ADD token 't');
CREATE USER MAPPING FOR PUBLIC SERVER v_srv OPTIONS (token '');
-- nothing of the refused statements was stored
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname LIKE 'v\_%' ORDER BY 1;
SELECT fdwoptions FROM pg_foreign_data_wrapper WHERE fdwname = 'subscriber_fdw';
SELECT count(*) FROM pg_class WHERE relname = 'v_t';
SELECT count(*) FROM pg_user_mappings WHERE srvname = 'v_srv';

------------------------------------------------------------------------
-- accepted cases
------------------------------------------------------------------------
CREATE SERVER v_ok FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (
  base_url 'https://api.example.com/prefix/v2', customer_id 'CCCCCCCC-0000-4000-8000-000000000003',
  tenant 'acme', fetch_size '1', pit_keep_alive '30', connect_timeout '1',
  request_timeout '3600', max_retries '0', max_concurrency '64',
  max_response_size '134217728', remote_timezone 'Europe/Berlin',
  tls_verify 'off', ca_file '/etc/ssl/certs/ca-certificates.crt');
CREATE SERVER v_ok2 FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'HTTP://127.0.0.1:9');
ALTER SERVER v_ok OPTIONS (SET fetch_size '10000', SET pit_keep_alive '1', SET max_retries '10',
  SET max_response_size '1024', SET tls_verify 'true', DROP ca_file);
ALTER SERVER v_ok OPTIONS (SET base_url 'http://127.0.0.1:9');
CREATE USER MAPPING FOR PUBLIC SERVER v_ok OPTIONS (token 'bearer-token');
CREATE USER MAPPING FOR CURRENT_USER SERVER v_ok2;
ALTER USER MAPPING FOR CURRENT_USER SERVER v_ok2 OPTIONS (ADD username 'u');
ALTER USER MAPPING FOR CURRENT_USER SERVER v_ok2 OPTIONS (ADD password 'p');
-- from Basic to Bearer in one statement
ALTER USER MAPPING FOR CURRENT_USER SERVER v_srv
  OPTIONS (DROP username, DROP password, ADD token 't');
CREATE FOREIGN TABLE v_t (
  customer_id uuid,
  subscriber_id text,
  name text OPTIONS (json_path 'customerName'),
  mcc text OPTIONS (json_path 'lastConnectedNetwork.mcc')
) SERVER v_ok OPTIONS (resource 'customer_subscribers', customer_id 'cccccccc-0000-4000-8000-000000000003',
  fetch_size '7', pit_keep_alive '2', connect_timeout '300', request_timeout '1',
  max_retries '5', max_concurrency '1', max_response_size '2048');
ALTER FOREIGN TABLE v_t OPTIONS (SET fetch_size '9', SET resource 'subscriber_details');
ALTER FOREIGN TABLE v_t ALTER COLUMN mcc OPTIONS (SET json_path 'lastUsageLocation.mcc');
ALTER FOREIGN TABLE v_t ALTER COLUMN name OPTIONS (DROP json_path);
-- refused changes to accepted objects leave them as they were
ALTER FOREIGN TABLE v_t OPTIONS (DROP resource);
ALTER FOREIGN TABLE v_t OPTIONS (SET fetch_size '0');
ALTER FOREIGN TABLE v_t ALTER COLUMN mcc OPTIONS (SET json_path 'a..b');
ALTER SERVER v_ok OPTIONS (SET remote_timezone 'Mars/Olympus');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname LIKE 'v\_%' ORDER BY 1;
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'v_t'::regclass;
SELECT attname, attfdwoptions FROM pg_attribute
 WHERE attrelid = 'v_t'::regclass AND attnum > 0 ORDER BY attnum;
-- user mapping options are shown to the superuser running this test
SELECT srvname, usename, umoptions FROM pg_user_mappings
 WHERE srvname LIKE 'v\_%' ORDER BY 1, 2;

SET client_min_messages = warning;
DROP SERVER v_srv, v_ok, v_ok2 CASCADE;
RESET client_min_messages;

-- shared limits (SPEC 10): server options, one also on tables
CREATE SERVER v_srv FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url 'http://127.0.0.1:9');
ALTER SERVER v_srv OPTIONS (ADD max_requests_per_second '0');
ALTER SERVER v_srv OPTIONS (ADD max_requests_per_second 'fast');
ALTER SERVER v_srv OPTIONS (ADD max_requests_per_second '1001');
ALTER SERVER v_srv OPTIONS (ADD max_requests_per_second '2.5');
ALTER SERVER v_srv OPTIONS (ADD max_server_concurrency '0');
ALTER SERVER v_srv OPTIONS (ADD max_server_concurrency '1.5');
ALTER SERVER v_srv OPTIONS (ADD max_server_concurrency '4');
ALTER SERVER v_srv OPTIONS (ADD max_requests_per_query '-1');
ALTER SERVER v_srv OPTIONS (ADD max_requests_per_query '100');
CREATE FOREIGN TABLE v_budget (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', max_server_concurrency '2');
CREATE FOREIGN TABLE v_budget (customer_id uuid) SERVER v_srv
  OPTIONS (resource 'customer_subscribers', max_requests_per_query '5');
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'v_srv';
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'v_budget'::regclass;
DROP SERVER v_srv CASCADE;
