# test/cluster.sh: shared by run_tests.sh, demo.sh and the benchmark.
#
# Functions to install what is missing, build, and start a throw-away
# PostgreSQL cluster and the API simulator on loopback.  Source it; call
# sf_cleanup (set as an EXIT trap by sf_start_all) to stop both.
# PostgreSQL refuses to run as root, so as root the cluster runs as the
# "postgres" OS user in a temporary directory that user owns.

SF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SF_PACKAGES="make gcc valgrind postgresql-15 postgresql-server-dev-15 libcurl4-openssl-dev libjson-c-dev postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl python3 curl openssl libpostgresql-jdbc-java default-jre-headless python3-psycopg2 odbc-postgresql unixodbc python3-pyodbc"

sf_log() { printf '==> %s\n' "$*" >&2; }

# Installs the Debian packages that are missing (only as root).
sf_install_packages() {
	local missing=""
	for pkg in $SF_PACKAGES; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		sf_log "missing packages:$missing (run as root, or install them)"
		return 1
	fi
	sf_log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

sf_pg_bin() { echo "$(pg_config --bindir)"; }

# Builds and installs the extension; root is needed to install it.
sf_build() {
	sf_log "building and installing subscriber_fdw"
	make -C "$SF_ROOT" -s >/dev/null
	if [ "$(id -u)" = 0 ]; then
		make -C "$SF_ROOT" -s install >/dev/null
	else
		sudo -n make -C "$SF_ROOT" -s install >/dev/null 2>&1 || make -C "$SF_ROOT" -s install >/dev/null
	fi
}

sf_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the cluster's owner (from /, which that user can enter
# even when the clone sits in root's home directory).
sf_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# Starts a cluster on 127.0.0.1 in a fresh temporary directory.  With
# SF_PRELOAD=1 the library is in shared_preload_libraries, so that the limits
# of SPEC 10 hold for the whole instance.
sf_start_cluster() {
	SF_TMP=$(mktemp -d /tmp/subscriber_fdw.XXXXXX)
	chmod 755 "$SF_TMP"
	[ "$(id -u)" = 0 ] && chown postgres: "$SF_TMP"
	SF_PGDATA="$SF_TMP/data"
	PGPORT=$(sf_free_port)
	sf_log "starting PostgreSQL on 127.0.0.1:$PGPORT in $SF_TMP"
	sf_as_owner "$(sf_pg_bin)/initdb" -D "$SF_PGDATA" -U postgres -A trust --no-sync >"$SF_TMP/initdb.log" 2>&1 ||
		{ cat "$SF_TMP/initdb.log" >&2; return 1; }
	cat >>"$SF_PGDATA/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $PGPORT
		unix_socket_directories = '$SF_TMP'
		fsync = off
		max_connections = 40
		shared_buffers = 128MB
		log_min_messages = ${SF_LOG_MIN_MESSAGES:-warning}
	EOF
	[ -n "${SF_PRELOAD:-}" ] &&
		echo "shared_preload_libraries = 'subscriber_fdw'" >>"$SF_PGDATA/postgresql.conf"
	if [ -n "${SF_PG_WRAPPER:-}" ]; then
		# e.g. valgrind: the postmaster runs under the wrapper, children too
		sf_as_owner $SF_PG_WRAPPER "$(sf_pg_bin)/postgres" -D "$SF_PGDATA" \
			>"$SF_TMP/postgres.log" 2>&1 &
		for _ in $(seq 1 600); do
			"$(sf_pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break
			sleep 0.5
		done
	else
		sf_as_owner "$(sf_pg_bin)/pg_ctl" -D "$SF_PGDATA" -l "$SF_TMP/postgres.log" -w start >/dev/null
	fi
	export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres
}

# Starts the API simulator on a free loopback port; exports SIM_URL.
sf_start_simulator() {
	local portfile="$SF_TMP/sim.port"
	python3 "$SF_ROOT/test/simulator.py" --port 0 --port-file "$portfile" --quiet "$@" \
		>"$SF_TMP/simulator.log" 2>&1 &
	SF_SIM_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$portfile" ] && break
		sleep 0.1
	done
	[ -s "$portfile" ] || { cat "$SF_TMP/simulator.log" >&2; return 1; }
	export SIM_URL="http://127.0.0.1:$(cat "$portfile")"
	sf_log "simulator listening on $SIM_URL"
}

# Starts a second, preloaded cluster beside the running one (and its
# simulator), for the tests of shared limits: sets PRELOAD_PGPORT and
# PRELOAD_PGDATA; sf_cleanup stops it too.
sf_start_preloaded_cluster() {
	local tmp=$SF_TMP pgdata=$SF_PGDATA port=$PGPORT
	SF_PRELOAD=1 sf_start_cluster
	PRELOAD_TMP=$SF_TMP PRELOAD_PGDATA=$SF_PGDATA PRELOAD_PGPORT=$PGPORT
	SF_TMP=$tmp SF_PGDATA=$pgdata PGPORT=$port
	export PRELOAD_PGPORT
}

sf_cleanup() {
	if [ -n "${PRELOAD_PGDATA:-}" ] && [ -d "$PRELOAD_PGDATA" ]; then
		sf_as_owner "$(sf_pg_bin)/pg_ctl" -D "$PRELOAD_PGDATA" -m immediate stop >/dev/null 2>&1
		[ -n "${SF_KEEP_TMP:-}" ] || rm -rf "$PRELOAD_TMP"
	fi
	[ -n "${SF_SIM_PID:-}" ] && kill "$SF_SIM_PID" 2>/dev/null
	if [ -n "${SF_PGDATA:-}" ] && [ -d "$SF_PGDATA" ]; then
		sf_as_owner "$(sf_pg_bin)/pg_ctl" -D "$SF_PGDATA" -m immediate stop >/dev/null 2>&1
	fi
	[ -n "${SF_KEEP_TMP:-}" ] || { [ -n "${SF_TMP:-}" ] && rm -rf "$SF_TMP"; }
}

# Everything a test, the demo or the benchmark needs, torn down on exit.
sf_start_all() {
	sf_install_packages
	export PATH="$(pg_config --bindir):$PATH"
	sf_build
	trap sf_cleanup EXIT
	sf_start_cluster
	sf_start_simulator "$@"
}
