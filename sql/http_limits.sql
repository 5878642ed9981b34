-- Requests that cannot be sent or answers that cannot be read say what
-- happened (issue 11, item 8), and the per-query budget of SPEC 10, in a
-- session of a cluster without preloading (scope 'session').  Runs after
-- "setup" (fault_server(), fault_show()).
\getenv sim_url SIM_URL
SET client_min_messages = warning;

-- a 200 KB response header: not "Out of memory"
SELECT fault_server('hl_header', 'big_header=200000', 'max_retries ''0''');
SELECT * FROM fault_show($$SELECT * FROM hl_header.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
-- headers just under the limit are read
SELECT fault_server('hl_header_ok', 'big_header=90000', 'max_retries ''0''');
SELECT * FROM fault_show($$SELECT * FROM hl_header_ok.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
-- a gzip body that was never asked for: not invalid UTF-8
SELECT fault_server('hl_gzip', 'gzip=1', 'max_retries ''0''');
SELECT * FROM fault_show($$SELECT * FROM hl_gzip.subscriber_details
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'$$);
-- keys too long for a URL, 3 MB and 10 MB: refused before anything is sent
SELECT * FROM fault_show($$SELECT * FROM api.subscriber_sessions WHERE msisdn = repeat('1', 3000000)$$);
SELECT * FROM fault_show($$SELECT * FROM api.subscriber_sessions WHERE msisdn = repeat('1', 10000000)$$);
-- a key that fits is still read
SELECT * FROM fault_show($$SELECT * FROM api.subscriber_sessions WHERE msisdn = repeat('1', 4000)$$);

-- max_requests_per_query: 3 requests, pages of 2 records
SELECT fault_server('hl_bud', '', 'fetch_size ''2'', max_requests_per_query ''3''');
-- 3 pages: within the budget, and again, as each statement has its own
SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000006';
SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000006';
-- 5 pages: fails before the 4th request
SELECT * FROM fault_show($$SELECT subscriber_id FROM hl_bud.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010'$$);
-- the budget counts every scan of the server in the statement: 1 + 2, then 1 + 3 pages
SELECT (SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
         WHERE customer_id = 'cccccccc-0000-4000-8000-000000000002') +
       (SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
         WHERE customer_id = 'cccccccc-0000-4000-8000-000000000004') AS rows;
SELECT * FROM fault_show($$SELECT (SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
                                 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000002') +
                               (SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
                                 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000006')$$);
-- a table's option overrides the server's
ALTER FOREIGN TABLE hl_bud.customer_subscribers OPTIONS (ADD max_requests_per_query '5');
SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010';
ALTER FOREIGN TABLE hl_bud.customer_subscribers OPTIONS (DROP max_requests_per_query);
-- a cursor's fetches are one query, whatever runs between them
BEGIN;
DECLARE c CURSOR FOR SELECT subscriber_id FROM hl_bud.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000010';
FETCH 3 FROM c;
SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000002';
\set VERBOSITY default
FETCH 4 FROM c;
ROLLBACK;

-- the statistics of this session: scope 'session' without preloading
SELECT server, scope, requests > 0 AS used, in_flight, stats_reset <= now() AS reset_before
  FROM subscriber_fdw_stats WHERE server LIKE 'hl\_%' ORDER BY 1;
SELECT subscriber_fdw_stats_reset();
SELECT count(*) AS rows_after_reset FROM subscriber_fdw_stats WHERE server LIKE 'hl\_%';
SELECT count(subscriber_id) FROM hl_bud.customer_subscribers
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000002';
SELECT server, requests, retries, errors, throttled, bytes_received > 0 AS bytes, in_flight
  FROM subscriber_fdw_stats WHERE server LIKE 'hl\_%';
