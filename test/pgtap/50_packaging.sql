-- SPEC 2, the SQL objects ("CREATE EXTENSION subscriber_fdw; creates the
-- foreign-data wrapper subscriber_fdw, with its handler and validator";
-- "subscriber_fdw_version() returns the extension's version string"), and
-- packaging: the installed version, the script files and their names, the
-- update paths, and the objects of the extension with their signatures.
--
-- The discipline (README, "Versions and upgrades"): default_version in the
-- control file; sql/subscriber_fdw--X.Y.sql installs version X.Y and
-- sql/subscriber_fdw--X.Y--X.Z.sql updates X.Y to X.Z; released scripts are
-- never edited or removed.  Every available version is installed and updated
-- to the default here (1.0 to 1.1 today), each inside this file's
-- transaction, which is rolled back at the end.
\ir include/preamble.psql

-- the default version, the versions that can be installed, the script files
CREATE TEMP TABLE pkg_default AS
SELECT default_version FROM pg_available_extensions WHERE name = 'subscriber_fdw';
CREATE TEMP TABLE pkg_versions AS
SELECT version FROM pg_available_extension_versions WHERE name = 'subscriber_fdw';
CREATE TEMP TABLE pkg_files AS
SELECT file
  FROM pg_ls_dir((SELECT setting FROM pg_config WHERE name = 'SHAREDIR') || '/extension') AS file
 WHERE file LIKE 'subscriber\_fdw%';
CREATE TEMP TABLE pkg_install_scripts AS
SELECT substring(file FROM '^subscriber_fdw--([0-9]+\.[0-9]+)\.sql$') AS version
  FROM pkg_files
 WHERE file ~ '^subscriber_fdw--[0-9]+\.[0-9]+\.sql$';
CREATE TEMP TABLE pkg_update_scripts AS
SELECT substring(file FROM '^subscriber_fdw--([0-9]+\.[0-9]+)--') AS source,
       substring(file FROM '--([0-9]+\.[0-9]+)\.sql$') AS target
  FROM pkg_files
 WHERE file ~ '^subscriber_fdw--[0-9]+\.[0-9]+--[0-9]+\.[0-9]+\.sql$';
-- the updates to test: from every installable version to the default
CREATE TEMP TABLE pkg_paths AS
SELECT p.source, p.target, p.path
  FROM pg_extension_update_paths('subscriber_fdw') AS p
 WHERE p.target = (SELECT default_version FROM pkg_default)
   AND p.source IN (SELECT version FROM pkg_versions)
   AND p.path IS NOT NULL;

-- Installs a version and updates it to another; returns the version then
-- installed, or the error.  A failure leaves the extension as it was.
CREATE FUNCTION pg_temp.update_from(source text, target text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  installed text;
BEGIN
  DROP EXTENSION subscriber_fdw CASCADE;
  EXECUTE format('CREATE EXTENSION subscriber_fdw VERSION %L', source);
  EXECUTE format('ALTER EXTENSION subscriber_fdw UPDATE TO %L', target);
  SELECT extversion INTO installed FROM pg_extension WHERE extname = 'subscriber_fdw';
  RETURN installed;
EXCEPTION WHEN OTHERS THEN
  RETURN 'error: ' || SQLERRM;
END
$$;

SELECT plan(26 + (SELECT count(*)::int FROM pkg_paths));

-- versions
SELECT has_extension('subscriber_fdw');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'subscriber_fdw'),
          subscriber_fdw_version(),
          'the installed version is subscriber_fdw_version()');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'subscriber_fdw'),
          (SELECT default_version FROM pkg_default),
          'the installed version is the control file''s default_version');

-- script files
SELECT ok((SELECT default_version FROM pkg_default) IN (SELECT version FROM pkg_install_scripts),
          'the default version has an install script subscriber_fdw--X.Y.sql');
SELECT is((SELECT count(*) FROM pkg_versions),
          (SELECT count(*) FROM pkg_install_scripts),
          'as many available versions as install scripts');
SELECT set_eq('SELECT version FROM pkg_versions',
              'SELECT version FROM pkg_install_scripts',
              'the available versions are those of the install scripts');
SELECT is_empty($$SELECT file FROM pkg_files
                   WHERE file !~ '^subscriber_fdw(\.control|--[0-9]+\.[0-9]+\.sql|--[0-9]+\.[0-9]+--[0-9]+\.[0-9]+\.sql)$'$$,
                'every file is subscriber_fdw.control, subscriber_fdw--X.Y.sql or subscriber_fdw--X.Y--X.Z.sql');
SELECT is_empty($$SELECT source FROM pkg_update_scripts
                   WHERE source NOT IN (SELECT version FROM pkg_versions)
                  UNION
                  SELECT target FROM pkg_update_scripts
                   WHERE target NOT IN (SELECT version FROM pkg_versions)$$,
                'every version an update script names can still be installed');
SELECT is_empty($$SELECT version FROM pkg_versions
                   WHERE version <> (SELECT default_version FROM pkg_default)
                     AND version NOT IN (SELECT source FROM pkg_paths)$$,
                'every available version has an update path to the default');

-- objects and signatures
SELECT has_function('subscriber_fdw_handler', '{}'::name[]);
SELECT function_returns('subscriber_fdw_handler', '{}'::name[], 'fdw_handler');
SELECT has_function('subscriber_fdw_validator', ARRAY['text[]', 'oid']::name[]);
SELECT function_returns('subscriber_fdw_validator', ARRAY['text[]', 'oid']::name[], 'void');
SELECT has_function('subscriber_fdw_version', '{}'::name[]);
SELECT function_returns('subscriber_fdw_version', '{}'::name[], 'text');
SELECT volatility_is('subscriber_fdw_version', '{}'::name[], 'immutable');
SELECT is_strict('subscriber_fdw_handler', '{}'::name[]);
SELECT is_strict('subscriber_fdw_validator', ARRAY['text[]', 'oid']::name[]);
SELECT ok(EXISTS (SELECT 1
                    FROM pg_foreign_data_wrapper
                   WHERE fdwname = 'subscriber_fdw'
                     AND fdwhandler = 'subscriber_fdw_handler()'::regprocedure
                     AND fdwvalidator = 'subscriber_fdw_validator(text[], oid)'::regprocedure),
          'foreign-data wrapper subscriber_fdw has its handler and validator');
SELECT set_eq($$SELECT pg_describe_object(classid, objid, objsubid)
                  FROM pg_depend
                 WHERE refclassid = 'pg_extension'::regclass
                   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'subscriber_fdw')
                   AND deptype = 'e'$$,
              ARRAY['function subscriber_fdw_handler()',
                    'function subscriber_fdw_validator(text[],oid)',
                    'function subscriber_fdw_version()',
                    'function subscriber_fdw_stats()',
                    'function subscriber_fdw_stats_reset()',
                    'view subscriber_fdw_stats',
                    'foreign-data wrapper subscriber_fdw'],
              'the extension has exactly these members');
SELECT has_view('subscriber_fdw_stats');
SELECT columns_are('subscriber_fdw_stats',
                   ARRAY['server', 'scope', 'requests', 'retries', 'errors', 'throttled',
                         'bytes_received', 'wait_ms', 'in_flight', 'stats_reset'],
                   'the view has the columns of SPEC 10');
SELECT col_type_is('subscriber_fdw_stats', 'stats_reset', 'timestamp with time zone',
                   'stats_reset is a timestamptz');
SELECT ok(NOT has_function_privilege('public', 'subscriber_fdw_stats_reset()', 'EXECUTE'),
          'PUBLIC may not reset the statistics');
SELECT ok((SELECT extrelocatable FROM pg_extension WHERE extname = 'subscriber_fdw'),
          'the extension is relocatable');
SELECT ok(NOT has_foreign_data_wrapper_privilege('public', 'subscriber_fdw', 'USAGE'),
          'PUBLIC has no USAGE on the wrapper: only trusted roles may create servers');

-- updates: each available version, installed and updated to the default
SELECT is(pg_temp.update_from(source, target), target,
          format('CREATE EXTENSION VERSION %L, then ALTER EXTENSION UPDATE TO %L (%s)',
                 source, target, path))
  FROM pkg_paths
 ORDER BY source;

SELECT * FROM finish();
ROLLBACK;
