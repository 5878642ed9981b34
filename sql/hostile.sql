-- Hostile answers: what a server that breaks the paging protocol, hides
-- its errors or floods a scan gets (SPEC 3, 5 and 6).  Runs after "setup"
-- and "faults" (fault_server(), fault_show(), the view faults_normal).  Each
-- case shows the outcome and, from the simulator's log, how many requests
-- the scan sent.
\getenv sim_url SIM_URL
SET client_min_messages = warning;
-- a server that ignores the rules must not make a query run for ever
SET statement_timeout = '60s';

-- the requests the simulator logged for one fault server of this run
CREATE FUNCTION hostile_requests(log json, name text) RETURNS bigint
LANGUAGE sql AS $$
  SELECT count(*) FROM json_array_elements(log) e
   WHERE e->>'path' LIKE '%,id=' || (SELECT run FROM regress_env) || '-' || name || '/%'
$$;

-- SPEC 3: a paged scan ends when the records reach totalElements, and asks
-- for no more pages than that total needs, whatever totalPages says
SELECT fault_server('h_pages', 'never_end=1,total_pages=1000000000,total_elements=25',
                    'fetch_size ''10''');
SELECT * FROM fault_show($$SELECT * FROM h_pages.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);
\set log `curl -s "$SIM_URL/_sim/log?path_contains=-h_pages/"`
SELECT hostile_requests(:'log', 'h_pages') AS requests;

-- without any total, a short page is the last one
SELECT fault_server('h_nototal', 'no_pageable=1', 'fetch_size ''10''');
SELECT * FROM fault_show($$SELECT * FROM h_nototal.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);
\set log `curl -s "$SIM_URL/_sim/log?path_contains=-h_nototal/"`
SELECT hostile_requests(:'log', 'h_nototal') AS requests;

-- without any total, a server that answers every page with the first one
-- is an error, not the same rows over and over
SELECT fault_server('h_repeat', 'no_pageable=1,ignore_page=1', 'fetch_size ''10''');
SELECT * FROM fault_show($$SELECT * FROM h_repeat.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);
\set log `curl -s "$SIM_URL/_sim/log?path_contains=-h_repeat/"`
SELECT hostile_requests(:'log', 'h_repeat') AS requests;

-- pages that end before totalElements lost records: an error, never a part
SELECT fault_server('h_gap', 'empty_page=2', 'fetch_size ''10''');
SELECT * FROM fault_show($$SELECT * FROM h_gap.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);

-- SPEC 5: a success without the member that holds the records names the
-- request; it is not a customer without subscribers
SELECT fault_server('h_norecords', 'body=no_records');
SELECT * FROM fault_show($$SELECT * FROM h_norecords.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);
SELECT * FROM fault_show($$SELECT * FROM h_norecords.subscriber_details
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);

-- an error code is read whatever way it is written: as a number it is
-- refused, escaped or twice it is still the error
SELECT fault_server('h_code_number', 'body=code_number');
SELECT * FROM fault_show($$SELECT * FROM h_code_number.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);
SELECT fault_server('h_code_escaped', 'body=code_escaped');
SELECT * FROM fault_show($$SELECT * FROM h_code_escaped.subscriber_details
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);
SELECT fault_server('h_code_twice', 'body=code_duplicate');
SELECT * FROM fault_show($$SELECT * FROM h_code_twice.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);

-- invalid JSON is an error even in a member the scan does not read
SELECT fault_server('h_bad_member', 'body=bad_member');
SELECT * FROM fault_show($$SELECT * FROM h_bad_member.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);

-- member names are compared as decoded: the records under "cont\u0065nt"
SELECT fault_server('h_escaped_name', 'body=records_escaped', 'fetch_size ''100''');
SELECT * FROM fault_show($$SELECT * FROM h_escaped_name.customer_subscribers
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);

-- SPEC 6: a response holds no more records than were asked for, and a
-- subscriber's sessions no more than one response may; a record no more
-- values than one parsed record may: a flood is an error, not memory
SELECT fault_server('h_flood', 'tiny_records=1000000');
SELECT * FROM fault_show($$SELECT * FROM h_flood.subscriber_sessions WHERE msisdn = '3531234567'$$);
SELECT fault_server('h_wide', 'body=wide_record');
SELECT * FROM fault_show($$SELECT * FROM h_wide.subscriber_details
                           WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);

-- memory does not grow with the scan: of 150 pitIds of 100 kB each only
-- the latest is kept, and of 3,000 keys only the last one converted
SELECT fault_server('h_big_cursor', 'cursor_bytes=100000', 'fetch_size ''1''');
BEGIN;
DECLARE big_cursor CURSOR FOR
  SELECT subscriber_id FROM h_big_cursor.subscriber_details
   WHERE customer_id = 'cccccccc-0000-4000-8000-000000000200';
MOVE 150 IN big_cursor;
SELECT sum(total_bytes) < 2000000 AS scan_memory_bounded
  FROM pg_backend_memory_contexts WHERE name LIKE 'subscriber_fdw%';
COMMIT;
BEGIN;
DECLARE many_keys CURSOR FOR
  SELECT msisdn FROM api.subscriber_sessions
   WHERE msisdn = ANY (ARRAY(SELECT '35312' || lpad(i::text, 5, '0')
                               FROM generate_series(1, 3000) i));
MOVE ALL IN many_keys;
SELECT total_bytes < 65536 AS converter_memory_bounded
  FROM pg_backend_memory_contexts WHERE name = 'subscriber_fdw scan';
COMMIT;

-- remote text is shortened in messages: a 10 MB errorMessage
SELECT fault_server('h_long_message', 'error=CUSTOMER_1006,message_bytes=10000000');
SELECT item, length(value) < 400 AS short, left(value, 60) AS starts
  FROM fault_show($$SELECT * FROM h_long_message.customer_subscribers
                    WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'$$);

-- after all of these, the normal query works
SELECT count(*) FROM faults_normal;
RESET statement_timeout;
