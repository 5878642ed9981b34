#!/usr/bin/env bash
# The main job on the bundled simulator: installs what is missing, builds,
# starts a throw-away cluster and the simulator on loopback, imports the
# schema and runs real queries.  Everything is removed on exit.
#
#   bash test/demo.sh            (or: make demo)
#
# To point the same set-up at a real API, replace the CREATE SERVER and
# CREATE USER MAPPING below with your base_url, tenant and credentials (see
# the README, "Connecting to a real API").
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

sf_start_all

psql -X -v ON_ERROR_STOP=1 -v sim_url="$SIM_URL" <<'SQL'
CREATE EXTENSION subscriber_fdw;
SELECT subscriber_fdw_version();

CREATE SERVER connectivity FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'acme',
           customer_id 'cccccccc-0000-4000-8000-000000000025');
CREATE USER MAPPING FOR CURRENT_USER SERVER connectivity
  OPTIONS (username 'sim', password 'sim-secret');
CREATE SCHEMA fleet;
IMPORT FOREIGN SCHEMA api FROM SERVER connectivity INTO fleet;

\echo '-- the subscribers of the default customer (option customer_id)'
SELECT subscriber_id, iccid, status, active_imsi, active_msisdn
  FROM fleet.customer_subscribers
 ORDER BY iccid
 LIMIT 8;

\echo '-- usage by country and status'
SELECT last_network_country AS country, status, count(*) AS sims,
       sum(monthly_data_usage_mb) AS monthly_mb
  FROM fleet.subscriber_details
 WHERE customer_id = 'cccccccc-0000-4000-8000-000000000025'
 GROUP BY 1, 2
 ORDER BY 1, 2;

\echo '-- sessions of the active subscribers, one request per MSISDN'
EXPLAIN (COSTS OFF)
SELECT s.iccid, x.session_id, x.plmn_id, x.installed_rules
  FROM fleet.customer_subscribers s
  JOIN fleet.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000025';
SELECT s.iccid, x.session_id, x.plmn_id, x.installed_rules
  FROM fleet.customer_subscribers s
  JOIN fleet.subscriber_sessions x ON x.msisdn = s.active_msisdn
 WHERE s.customer_id = 'cccccccc-0000-4000-8000-000000000025'
 ORDER BY 1, 2
 LIMIT 10;
SQL
