/* subscriber_fdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION subscriber_fdw" to load this file. \quit

CREATE FUNCTION subscriber_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION subscriber_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION subscriber_fdw_version()
RETURNS text
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION subscriber_fdw_version() IS 'version of the subscriber_fdw extension';

CREATE FOREIGN DATA WRAPPER subscriber_fdw
  HANDLER subscriber_fdw_handler
  VALIDATOR subscriber_fdw_validator;
