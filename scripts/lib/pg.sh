# shellcheck shell=bash
# Throwaway PostgreSQL clusters for tests. Sourced by scripts/test.
#
# pg_bin_dir            print the directory holding initdb, pg_ctl and postgres (empty if none)
# pg_start_cluster BIN  initdb + start; sets PG_DIR, PG_PORT, PG_URL
# pg_stop_cluster BIN   stop and delete the cluster started by pg_start_cluster (safe to call twice)
# pg_stop_dir BIN DIR   stop and delete any cluster laid out as DIR/data (also those Go tests make)

# Set by pg_start_cluster, read by the script that sources this file.
# shellcheck disable=SC2034
PG_DIR='' PG_PORT='' PG_URL=''

pg_bin_dir() {
	local d
	if [[ -n ${LATCH_TEST_PG_BIN:-} && -x ${LATCH_TEST_PG_BIN}/initdb ]]; then
		echo "$LATCH_TEST_PG_BIN"
		return 0
	fi
	if d=$(command -v initdb 2>/dev/null); then
		# /usr/local/bin/initdb is a symlink: the real directory also holds postgres.
		d=$(dirname "$(readlink -f "$d")")
		if [[ -x $d/pg_ctl && -x $d/postgres ]]; then
			echo "$d"
			return 0
		fi
	fi
	# Debian's layout; newest version first.
	for d in $(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V -r); do
		if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
			echo "$d"
			return 0
		fi
	done
	return 0
}

# pg_run DIR CMD...: run as the postgres OS user (initdb and postgres refuse root),
# from inside the cluster's DIR so a working directory postgres cannot read does no harm.
pg_run() {
	local dir=$1
	shift
	if ((EUID == 0)); then
		(cd "$dir" && runuser -u postgres -- "$@")
	else
		(cd "$dir" && "$@")
	fi
}

# pg_port_busy PORT: true if something already listens there.
pg_port_busy() {
	(: </dev/tcp/127.0.0.1/"$1") 2>/dev/null
}

pg_start_cluster() {
	local bin=$1 try
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/latch-pg.XXXXXX")
	if ((EUID == 0)); then
		chown postgres: "$PG_DIR"
	fi
	# --no-sync: the cluster lives for one run, durability is worthless here.
	if ! pg_run "$PG_DIR" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
		>"$PG_DIR/initdb.log" 2>&1; then
		cat "$PG_DIR/initdb.log" >&2
		return 1
	fi
	# Loopback only; socket in our own dir so no system path is touched; speed over safety.
	cat >>"$PG_DIR/data/postgresql.conf" <<-CONF
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$PG_DIR'
		max_connections = 300
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	CONF
	# A random port below the kernel's ephemeral range; retry if we lose a race for it.
	for try in 1 2 3 4 5 6 7 8; do
		PG_PORT=$((15000 + RANDOM % 17000))
		if pg_port_busy "$PG_PORT"; then
			continue
		fi
		if pg_run "$PG_DIR" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null; then
			PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
			return 0
		fi
	done
	echo "pg_start_cluster: could not start PostgreSQL (tried $try ports)" >&2
	cat "$PG_DIR/server.log" >&2 || true
	return 1
}

pg_stop_cluster() {
	if [[ -n ${PG_DIR:-} ]]; then
		pg_stop_dir "$1" "$PG_DIR"
		PG_DIR=
	fi
}

pg_stop_dir() {
	local bin=$1 dir=$2
	if [[ ! -d $dir ]]; then
		return 0
	fi
	if [[ -f $dir/data/postmaster.pid ]]; then
		pg_run "$dir" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			pg_run "$dir" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}
