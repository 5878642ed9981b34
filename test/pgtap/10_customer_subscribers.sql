-- SPEC 2, customer_subscribers: every row and column against the
-- simulator's formulas (customers of 8 and 23 subscribers in one page, of
-- 50 in pages of 7), and the computed columns cross-checked against the raw
-- imsiMsisdnPairs for a customer of 50.  The rows of small customers, the
-- requests of paging and the key errors with their SQLSTATEs are shown in
-- sql/customer_subscribers.sql.
\ir include/preamble.psql
SELECT plan(20);

SELECT tap.server('tap10');
-- the same resource read in pages of 7
CREATE FOREIGN TABLE tap10.paged (
  customer_id uuid, subscriber_id uuid, iccid text, status text, imei text,
  imeisv text, attached_customer_id uuid, attached_customer_name text,
  active_imsi text, active_msisdn text, imsi_msisdn_pairs jsonb
) SERVER tap10 OPTIONS (resource 'customer_subscribers', fetch_size '7');

-- The simulator's data formulas (test/simulator.py), written again in SQL:
-- subscriber i of customer cccccccc-0000-4000-8000-NNNNNNNNNNNN (S = the 12
-- digits), as the table should show it.
CREATE FUNCTION tap10.sim_subscribers(n bigint)
RETURNS TABLE (customer_id uuid, subscriber_id uuid, iccid text, status text,
               imei text, imeisv text, attached_customer_id uuid,
               attached_customer_name text, active_imsi text,
               active_msisdn text, imsi_msisdn_pairs jsonb)
LANGUAGE sql AS $$
  SELECT ('cccccccc-0000-4000-8000-' || s)::uuid,
         format('%s-%s-4%s-a%s-%s0000000000', lpad(to_hex(i), 8, '0'),
                substr(s, 1, 4), substr(s, 5, 3), substr(s, 8, 3), substr(s, 11, 2))::uuid,
         '8935711' || right(s, 6) || lpad(i::text, 7, '0'),
         (ARRAY['ACTIVE', 'SUSPEND', 'INACTIVE', 'TERMINATED'])[i % 4 + 1],
         CASE WHEN i % 10 <> 7 THEN '35430611' || lpad(i::text, 7, '0') END,
         '35430611' || lpad(i::text, 7, '0') || '01',
         ((CASE WHEN i % 5 = 4 THEN 'cccccccc-0000-4000-9000-' ELSE 'cccccccc-0000-4000-8000-' END) || s)::uuid,
         CASE WHEN i % 5 = 4 THEN 'Sub-customer ' ELSE 'Customer ' END || n,
         p.active_imsi, p.active_msisdn, p.pairs
    FROM (SELECT lpad(n::text, 12, '0') AS s) c
   CROSS JOIN generate_series(0, n - 1) AS i
   CROSS JOIN LATERAL (
     SELECT max(imsi) FILTER (WHERE active) AS active_imsi,
            max(msisdn) FILTER (WHERE active) AS active_msisdn,
            jsonb_agg(jsonb_build_object('imsi', imsi, 'isLastActive', active)
                      || CASE WHEN msisdn IS NULL THEN '{}'::jsonb
                              ELSE jsonb_build_object('msisdn', msisdn) END
                      ORDER BY k) AS pairs
       FROM (SELECT k,
                    '2220' || right(s, 5) || lpad(i::text, 5, '0') || k AS imsi,
                    CASE WHEN k = 1 AND i % 4 = 1 THEN NULL
                         ELSE '99' || right(s, 4) || lpad(i::text, 7, '0') || k END AS msisdn,
                    k = i % (1 + i % 3) AND i % 7 <> 3 AS active
               FROM generate_series(0, i % 3) AS k) pair) p
$$;

-- every row and column equals the formulas, both ways ("The API pages its
-- answer (pageable): every page is read")
SELECT bag_eq(
  $$SELECT * FROM tap10.customer_subscribers WHERE customer_id = 'cccccccc-0000-4000-8000-000000000008'$$,
  'SELECT * FROM tap10.sim_subscribers(8)',
  'customer of 8: every row and column equals the formulas');
SELECT bag_eq(
  $$SELECT * FROM tap10.customer_subscribers WHERE customer_id = 'cccccccc-0000-4000-8000-000000000023'$$,
  'SELECT * FROM tap10.sim_subscribers(23)',
  'customer of 23: every row and column equals the formulas');
SELECT bag_eq(
  $$SELECT * FROM tap10.paged WHERE customer_id = 'cccccccc-0000-4000-8000-000000000050'$$,
  'SELECT * FROM tap10.sim_subscribers(50)',
  'customer of 50 over 8 pages of 7: every row and column equals the formulas');

-- one read of customer 50 into a temporary table; each row's index i
-- (0-based) is the first 8 hex digits of its subscriber_id
CREATE TEMP TABLE tap10_rows ON COMMIT DROP AS
  SELECT s.*, ('x' || left(s.subscriber_id::text, 8))::bit(32)::int AS i
    FROM tap10.customer_subscribers s
   WHERE customer_id = 'cccccccc-0000-4000-8000-000000000050';
-- the pairs whose isLastActive is true, straight from the jsonb
CREATE TEMP VIEW tap10_active AS
  SELECT r.subscriber_id, p
    FROM tap10_rows r, jsonb_array_elements(r.imsi_msisdn_pairs) p
   WHERE (p->>'isLastActive')::boolean;

-- "customer_id | uuid | the {id} that was requested (the key)"
SELECT is((SELECT count(*)::int FROM tap10_rows), 50, 'customer 50 has 50 rows');
SELECT is((SELECT count(DISTINCT subscriber_id)::int FROM tap10_rows), 50,
          'all subscriber_ids are distinct');
SELECT results_eq(
  'SELECT i FROM tap10_rows ORDER BY i',
  'SELECT generate_series(0, 49)',
  'the subscribers are numbers 0 to 49');
SELECT is((SELECT count(*)::int FROM tap10_rows
            WHERE customer_id IS DISTINCT FROM 'cccccccc-0000-4000-8000-000000000050'),
          0, 'every row''s customer_id is the requested one');
-- "imsi_msisdn_pairs | jsonb | imsiMsisdnPairs, as received"
SELECT is((SELECT count(*)::int FROM tap10_rows
            WHERE jsonb_typeof(imsi_msisdn_pairs) IS DISTINCT FROM 'array'),
          0, 'imsi_msisdn_pairs is always a JSON array');
SELECT is((SELECT count(*)::int FROM tap10_rows
            WHERE jsonb_array_length(imsi_msisdn_pairs) <> 1 + i % 3),
          0, 'subscriber i has 1 + i % 3 pairs');
-- "active_imsi | imsi of the pair whose isLastActive is true, else NULL";
-- "active_msisdn | msisdn of that pair"
SELECT is((SELECT max(n)::int FROM (SELECT count(*) AS n FROM tap10_active
                                     GROUP BY subscriber_id) c),
          1, 'no subscriber has more than one active pair');
SELECT is((SELECT count(*)::int FROM tap10_rows r
            WHERE r.active_imsi IS DISTINCT FROM
                  (SELECT a.p->>'imsi' FROM tap10_active a
                    WHERE a.subscriber_id = r.subscriber_id)),
          0, 'active_imsi is the imsi of the pair with isLastActive true');
SELECT is((SELECT count(*)::int FROM tap10_rows r
            WHERE r.active_msisdn IS DISTINCT FROM
                  (SELECT a.p->>'msisdn' FROM tap10_active a
                    WHERE a.subscriber_id = r.subscriber_id)),
          0, 'active_msisdn is the msisdn of the pair with isLastActive true');
SELECT is((SELECT count(*)::int FROM tap10_rows WHERE active_imsi IS NULL),
          (SELECT count(*)::int FROM tap10_rows r WHERE NOT EXISTS
             (SELECT FROM tap10_active a WHERE a.subscriber_id = r.subscriber_id)),
          'active_imsi is NULL exactly where no pair is active');
SELECT results_eq(
  'SELECT i FROM tap10_rows WHERE active_imsi IS NULL ORDER BY i',
  'SELECT i FROM generate_series(0, 49) i WHERE i % 7 = 3',
  'the subscribers without an active pair are those with i % 7 = 3');
SELECT is((SELECT count(*)::int FROM tap10_rows
            WHERE active_imsi IS NOT NULL AND active_msisdn IS NULL),
          (SELECT count(*)::int FROM tap10_active WHERE NOT p ? 'msisdn'),
          'active_msisdn is NULL where the active pair has no msisdn');
SELECT cmp_ok((SELECT count(*)::int FROM tap10_active WHERE NOT p ? 'msisdn'), '>', 0,
              'some active pairs have no msisdn');
-- "attached_customer_id | customerId (... a sub-customer's id for a
-- sub-customer's subscriber)"
SELECT is((SELECT count(*)::int FROM tap10_rows
            WHERE attached_customer_id <> customer_id),
          (SELECT count(*)::int FROM tap10_rows
            WHERE attached_customer_name = 'Sub-customer 50'),
          'the rows attached elsewhere are the sub-customer''s');
SELECT results_eq(
  'SELECT i FROM tap10_rows WHERE attached_customer_id <> customer_id ORDER BY i',
  'SELECT i FROM generate_series(0, 49) i WHERE i % 5 = 4',
  'sub-customer subscribers are those with i % 5 = 4');
-- "A JSON field that is absent ... gives SQL NULL"
SELECT results_eq(
  'SELECT i FROM tap10_rows WHERE imei IS NULL ORDER BY i',
  'SELECT i FROM generate_series(0, 49) i WHERE i % 10 = 7',
  'imei is NULL where the record has none (i % 10 = 7)');
SELECT is((SELECT count(*)::int FROM tap10_rows
            WHERE imeisv IS DISTINCT FROM '35430611' || lpad(i::text, 7, '0') || '01'),
          0, 'imeisv follows the simulator''s formula');

SELECT * FROM finish();
ROLLBACK;
