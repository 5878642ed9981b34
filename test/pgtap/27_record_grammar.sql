-- SPEC 7, issue 15: the record parser reads exactly the JSON that
-- PostgreSQL reads.  Records are parsed by the extension's own parser and,
-- where it refuses one, again over PostgreSQL's JSON lexer, which names the
-- problem.  Each case below is one member value of a record, sent as given
-- (the simulator's fault set=), and the outcome must be PostgreSQL's jsonb
-- for the same text: the same jsonb and text when jsonb accepts it, and when
-- it does not, the same detail (the record parser adds the byte position)
-- with SQLSTATE 22032 for 22P02 (22P05, \u0000, stays).  The texts hold no
-- "," or "|", which the fault spec cannot carry.
\ir include/preamble.psql
SELECT plan(69);

SELECT tap.server('tap27', '');
CREATE FOREIGN TABLE tap27.t (
    customer_id uuid,
    v text OPTIONS (json_path 'status'),
    j jsonb OPTIONS (json_path 'status'))
  SERVER tap27 OPTIONS (resource 'customer_subscribers');

-- every byte of a text percent-encoded, for a fault spec in base_url
CREATE FUNCTION tap.pct(t text) RETURNS text LANGUAGE sql IMMUTABLE
  RETURN (SELECT string_agg('%' || lpad(to_hex(get_byte(b, i)), 2, '0'), '' ORDER BY i)
            FROM (SELECT convert_to(t, 'UTF8') AS b) x,
                 generate_series(0, length(convert_to(t, 'UTF8')) - 1) i);

-- What the extension makes of a record whose member "status" is the JSON
-- text m: its jsonb (binary, hex) and text values, or its error.
CREATE FUNCTION tap.record_outcome(m text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v text;
  j jsonb;
  state text;
  detail text;
BEGIN
  EXECUTE format('ALTER SERVER tap27 OPTIONS (SET base_url %L)',
                 current_setting('tap.sim_url') || '/_fault/set=status=' || tap.pct(m) ||
                 ',id=' || current_setting('tap.run') || '-tap27');
  SELECT t.v, t.j INTO v, j FROM tap27.t
   WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003' LIMIT 1;
  RETURN 'accepted: ' || coalesce(encode(jsonb_send(j), 'hex'), 'NULL') || ' / ' || coalesce(v, 'NULL');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
  RETURN 'refused: ' || state || ': ' || regexp_replace(detail, ' \(at byte \d+ of the record\)$', '');
END $$;

-- The same outcome as PostgreSQL's jsonb says it should be: a JSON null,
-- and "" in a jsonb column, are NULL; a text column holds a string's
-- contents, and the other values as sent.
CREATE FUNCTION tap.jsonb_outcome(m text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  jb jsonb;
  state text;
  detail text;
BEGIN
  jb := m::jsonb;
  RETURN 'accepted: ' ||
         coalesce(encode(jsonb_send(CASE WHEN jb IN ('null', '""') THEN NULL ELSE jb END), 'hex'), 'NULL') ||
         ' / ' ||
         coalesce(CASE jsonb_typeof(jb) WHEN 'string' THEN jb #>> '{}'
                                        WHEN 'null' THEN NULL
                                        ELSE btrim(m, E' \t\n\r') END, 'NULL');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
  RETURN 'refused: ' || CASE state WHEN '22P02' THEN '22032' ELSE state END || ': ' || detail;
END $$;

-- the valid texts, then the invalid ones
CREATE TEMP TABLE grammar_case (n serial, m text, valid boolean);
INSERT INTO grammar_case (m, valid) VALUES
  -- numbers
  ('0', true), ('-0', true), ('12', true), ('-12.50', true), ('0.25', true),
  ('1e5', true), ('1E+5', true), ('1.5e-3', true), ('123456789012345678901234567890.5', true),
  ('1234567890.123456789012345', true),
  -- literals
  ('true', true), ('false', true), ('null', true),
  -- strings: short, long (past eight bytes at a time), escapes, UTF-8
  ('""', true), ('"a"', true), ('"abcdefghijklmnopqrstuvwxyz0123456789"', true),
  (E'"\\"\\\\\\/\\b\\f\\n\\r\\t"', true), ('"abcdefgh\"ijklmnop"', true),
  (E'"abcdefghijklmn\\u00e9"', true), (E'"\\u00e9\\u6771\\u4eac"', true),
  (E'"\\ud83d\\ude9a truck"', true), ('"Müller & Söhne GmbH über alles"', true),
  (E'"\\u0041\\u0062"', true),
  -- containers and white space
  ('{}', true), ('[]', true), ('[[[[]]]]', true), ('{"a":{"b":[null]}}', true),
  (E' \t\n\r[ 1 ]\n', true), ('{ "k" : "v" }', true), ('[{}]', true),
  -- numbers the grammar refuses
  ('01', false), ('1.', false), ('.5', false), ('-', false), ('1e', false),
  ('1e+', false), ('+1', false), ('-01', false), ('1.e5', false), ('0x10', false),
  ('NaN', false), ('Infinity', false),
  -- literals misspelt or run on
  ('tru', false), ('truex', false), ('nul', false), ('True', false), ('falsey', false),
  ('nullnull', false),
  -- escapes and characters the grammar refuses
  (E'"\\x"', false), (E'"\\u12G4"', false), (E'"\\u12"', false), (E'"abcdefghijk\\x"', false),
  (E'"a\tb"', false), (E'"abcdefghij\tb"', false), (E'"\\ud800"', false), (E'"\\udc00"', false),
  (E'"\\ud800\\u0041"', false), (E'"\\u0000"', false), (E'"abcdefgh\\u0000"', false),
  -- structure the grammar refuses
  ('{"a" 1}', false), ('{"a":}', false), ('{1:2}', false), ('[1 2]', false),
  ('{"a":1 "b":2}', false), ('{:}', false), ('[:]', false), ('@', false);

SELECT is(count(*)::int, 30, 'thirty texts PostgreSQL accepts') FROM grammar_case WHERE valid;
SELECT is(count(*)::int, 37, 'thirty-seven texts PostgreSQL refuses') FROM grammar_case WHERE NOT valid;

-- each case: what jsonb says, and that it is what the case list says
SELECT is(tap.record_outcome(m), tap.jsonb_outcome(m),
          format('%s %s as PostgreSQL''s jsonb does', CASE WHEN valid THEN 'accepts' ELSE 'refuses' END, to_json(m)))
  FROM grammar_case
 WHERE (tap.jsonb_outcome(m) LIKE 'accepted:%') = valid
 ORDER BY n;

SELECT * FROM finish();
ROLLBACK;
