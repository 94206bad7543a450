# Shared by test/run and test/demo: install what is missing, build and
# install the extension, start and stop a throwaway cluster.
#
# The cluster runs as the "postgres" OS user when we are root (initdb refuses
# root); otherwise as ourselves.  Variables a caller may set: PGM_PORT, and
# PGM_CLUSTER_PARENT (where the cluster's directory is made; default /tmp).

set -euo pipefail

PGM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGM_PG_VERSION=${PGM_PG_VERSION:-15}
PGM_PORT=${PGM_PORT:-55432}
PGM_BINDIR=/usr/lib/postgresql/$PGM_PG_VERSION/bin
PGM_SOCKDIR=${PGM_SOCKDIR:-/tmp}
PGM_DATA=""

log() { printf '\n==> %s\n' "$*"; }

# Run a command as the postgres OS user when we are root, otherwise as
# ourselves.  runuser keeps the caller's working directory, which postgres
# cannot enter when the checkout is private (a clone under /root, or under a
# mktemp -d directory): initdb and the server then print 'could not change
# directory to "...": Permission denied'.  So as root the command runs from
# PGM_PG_CWD (default /), a directory postgres can enter; give it absolute
# paths.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		(cd "${PGM_PG_CWD:-/}" && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# Debian packages the build and the tests need; install only what is missing.
pgm_install_packages() {
	local want=(postgresql-$PGM_PG_VERSION postgresql-server-dev-$PGM_PG_VERSION
		build-essential libipc-run-perl python3 python3-alembic python3-psycopg2
		postgresql-$PGM_PG_VERSION-cron graphviz)
	local missing=()
	for p in "${want[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
}

pgm_build() {
	log "building pg_migrate"
	make -C "$PGM_ROOT" -s PG_CONFIG="$PGM_BINDIR/pg_config" clean >/dev/null 2>&1 || true
	make -C "$PGM_ROOT" -s PG_CONFIG="$PGM_BINDIR/pg_config"
	make -C "$PGM_ROOT" -s PG_CONFIG="$PGM_BINDIR/pg_config" install >/dev/null
}

# Start a fresh cluster in a temporary directory; stopped by pgm_stop_cluster.
# Extra postgresql.conf lines may be passed as arguments.
pgm_start_cluster() {
	PGM_DATA=$(mktemp -d "${PGM_CLUSTER_PARENT:-/tmp}/pg_migrate_cluster.XXXXXX")
	[ "$(id -u)" = 0 ] && chown postgres: "$PGM_DATA"
	log "starting a throwaway cluster in $PGM_DATA on port $PGM_PORT"
	as_pg "$PGM_BINDIR/initdb" -D "$PGM_DATA/data" -U postgres -A trust --no-sync >/dev/null
	{
		echo "port = $PGM_PORT"
		echo "unix_socket_directories = '$PGM_SOCKDIR'"
		echo "listen_addresses = ''"
		echo "fsync = off"
		echo "max_locks_per_transaction = 256"
		for line in "$@"; do echo "$line"; done
	} | as_pg tee -a "$PGM_DATA/data/postgresql.conf" >/dev/null
	as_pg "$PGM_BINDIR/pg_ctl" -D "$PGM_DATA/data" -l "$PGM_DATA/server.log" -w start >/dev/null
	export PGHOST=$PGM_SOCKDIR PGPORT=$PGM_PORT PGUSER=postgres
	trap pgm_stop_cluster EXIT
}

pgm_stop_cluster() {
	if [ -n "$PGM_DATA" ] && [ -d "$PGM_DATA/data" ]; then
		as_pg "$PGM_BINDIR/pg_ctl" -D "$PGM_DATA/data" -m fast -w stop >/dev/null 2>&1 || true
		rm -rf "$PGM_DATA"
	fi
	PGM_DATA=""
}
