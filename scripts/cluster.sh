# shellcheck shell=bash
# `make cluster` and `make cluster-stop`: Odoo's own multi-server topology on this machine, on 127.0.0.1 only
# (sourced by scripts/harness.sh, which has set up PostgreSQL, the virtualenv and $CONFIG first).
#
#   nginx :8280 ──/────────────> Odoo HTTP 1 :8270 (--workers=2) ─┐ writes   PostgreSQL primary :5432 (the harness's)
#              │               > Odoo HTTP 2 :8272 (--workers=2) ─┼───────>        │ streaming replication
#              └─/websocket──> their gevent ports :8271, :8273   ─┘ @api.readonly  v
#                              Odoo cron :no HTTP (max_cron_threads) ──────> PostgreSQL replica :5433 (pg_basebackup)
#
# The two HTTP servers stand for two hosts: they share the data_dir (filestore and sessions), as hosts share an NFS
# mount. Everything runs in the background; its pids are in $CLUSTER_DIR/pids and `make cluster-stop` stops them by
# pid. The replica's data directory belongs to the postgres user, who cannot enter root's cache: it lives beside
# the main cluster's (RMA_CLUSTER_PGDATA).

CLUSTER_DIR="$CACHE/cluster"
CLUSTER_DB=${RMA_CLUSTER_DB:-rma_cluster}
CLUSTER_PORT=${RMA_CLUSTER_PORT:-8270}  # HTTP 1, its gevent port, HTTP 2, its gevent port: 4 ports from here
PROXY_PORT=${RMA_CLUSTER_PROXY_PORT:-8280}
REPLICA_PORT=${RMA_CLUSTER_REPLICA_PORT:-5433}
REPLICA_PGDATA=${RMA_CLUSTER_PGDATA:-/var/lib/postgresql/rma_recovery-replica}
CLUSTER_WORKERS=${RMA_CLUSTER_WORKERS:-2}
NGINX_TEMP=/tmp/rma_recovery-cluster-nginx

pg_bin() { echo "/usr/lib/postgresql/$(pg_version)/bin/$1"; }
pg_version() { ls /usr/lib/postgresql | sort -V | tail -n 1; }
as_postgres() { runuser -u postgres -- "$@" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; }
primary_sql() { PGOPTIONS=--client-min-messages=warning as_postgres psql -p "$DB_PORT" -d "${2:-postgres}" -tAc "$1"; }
replica_sql() { as_postgres psql -p "$REPLICA_PORT" -d "${2:-postgres}" -tAc "$1"; }
replica_streaming() { [ "$(replica_sql "select status from pg_stat_wal_receiver" 2>/dev/null)" = streaming ]; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# The replica: a second cluster of the same PostgreSQL, copied from the primary with pg_basebackup -R (which writes
# standby.signal and the primary's address), hot standby on REPLICA_PORT. Its settings that hot standby requires to be
# at least the primary's are read from the primary. An existing copy is reused if it catches up by streaming;
# otherwise (the primary recycled the WAL it missed: no replication slot holds WAL for a stopped replica) it is
# copied again.
start_replica() {
    local pg_ctl
    pg_ctl=$(pg_bin pg_ctl)
    if as_postgres "$pg_ctl" -D "$REPLICA_PGDATA" status >/dev/null 2>&1; then
        replica_streaming && return 0
        as_postgres "$pg_ctl" -D "$REPLICA_PGDATA" -m fast -w stop >/dev/null
    fi
    if [ -f "$REPLICA_PGDATA/standby.signal" ]; then
        write_replica_config
        as_postgres "$pg_ctl" -D "$REPLICA_PGDATA" -l "$REPLICA_PGDATA/replica.log" -w -t 60 start >/dev/null
        for _ in $(seq 1 30); do replica_streaming && return 0; sleep 1; done
        log "the replica does not catch up with the primary: copying it again"
        as_postgres "$pg_ctl" -D "$REPLICA_PGDATA" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$REPLICA_PGDATA"
    log "copying the primary (port $DB_PORT) into the replica $REPLICA_PGDATA with pg_basebackup"
    as_postgres "$(pg_bin pg_basebackup)" -p "$DB_PORT" -D "$REPLICA_PGDATA" -R -X stream -c fast
    write_replica_config
    as_postgres "$pg_ctl" -D "$REPLICA_PGDATA" -l "$REPLICA_PGDATA/replica.log" -w -t 120 start >/dev/null
    for _ in $(seq 1 60); do replica_streaming && return 0; sleep 1; done
    die "the replica on port $REPLICA_PORT does not stream from the primary (see $REPLICA_PGDATA/replica.log)"
}

write_replica_config() {
    local version settings
    version=$(pg_version)
    # Debian keeps a cluster's configuration in /etc/postgresql: the copy has none of its own.
    settings=$(primary_sql "select string_agg(name || ' = ' || setting, E'\n') from pg_settings where name in
        ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
         'max_locks_per_transaction')")
    cat >"$REPLICA_PGDATA/postgresql.conf" <<EOF
# The replica of make cluster (scripts/cluster.sh): hot standby of the primary on port $DB_PORT.
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '/var/run/postgresql'
hot_standby = on
# Long reads on the replica are not cancelled by the primary's vacuum (its cost: some bloat on the primary).
hot_standby_feedback = on
shared_preload_libraries = 'pg_stat_statements'
$settings
EOF
    cp "/etc/postgresql/$version/main/pg_hba.conf" "/etc/postgresql/$version/main/pg_ident.conf" "$REPLICA_PGDATA/"
    chown postgres: "$REPLICA_PGDATA/postgresql.conf" "$REPLICA_PGDATA/pg_hba.conf" "$REPLICA_PGDATA/pg_ident.conf"
}

# The configuration of one Odoo server of the cluster: NAME, then options appended to the common ones.
write_cluster_config() {
    local name=$1
    shift
    {
        odoo_common_options
        cat <<EOF
db_replica_host = 127.0.0.1
db_replica_port = $REPLICA_PORT
db_name = $CLUSTER_DB
dbfilter = ^$CLUSTER_DB\$
list_db = False
db_maxconn = 16
limit_memory_soft = 2147483648
limit_memory_hard = 2684354560
limit_time_cpu = 60
limit_time_real = 120
logfile = $CLUSTER_DIR/$name.log
EOF
        printf '%s\n' "$@"
    } >"$CLUSTER_DIR/$name.conf"
}

start_odoo() {
    local name=$1
    alive "$CLUSTER_DIR/pids/$name.pid" && return 0
    # Its own session and no inherited descriptors: it outlives this script (and a caller's flock).
    setsid python "$ODOO_PATH/odoo-bin" -c "$CLUSTER_DIR/$name.conf" </dev/null >>"$CLUSTER_DIR/$name.log" 2>&1 \
        3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    echo $! >"$CLUSTER_DIR/pids/$name.pid"
}

wait_http() {
    local url=$1
    for _ in $(seq 1 120); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/web/health")" = 200 ] && return 0
        sleep 1
    done
    die "$url does not answer (see the logs in $CLUSTER_DIR)"
}

write_nginx_config() {
    local http1=$CLUSTER_PORT gevent1=$((CLUSTER_PORT + 1)) http2=$((CLUSTER_PORT + 2)) gevent2=$((CLUSTER_PORT + 3))
    mkdir -p "$NGINX_TEMP"
    chown www-data: "$NGINX_TEMP"
    cat >"$CLUSTER_DIR/nginx.conf" <<EOF
# The proxy of make cluster (scripts/cluster.sh), after Odoo's deployment guide.
user www-data;
worker_processes auto;
pid $CLUSTER_DIR/pids/nginx.pid;
error_log $CLUSTER_DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log $CLUSTER_DIR/nginx-access.log;
    client_body_temp_path $NGINX_TEMP/body;
    proxy_temp_path $NGINX_TEMP/proxy;
    fastcgi_temp_path $NGINX_TEMP/fastcgi;
    uwsgi_temp_path $NGINX_TEMP/uwsgi;
    scgi_temp_path $NGINX_TEMP/scgi;
    types { text/html html; application/javascript js; text/css css; }
    # The two hosts' HTTP ports, and their gevent ports for the websocket (bus, live chatter).
    upstream odoo { server 127.0.0.1:$http1; server 127.0.0.1:$http2; }
    upstream odoochat { server 127.0.0.1:$gevent1; server 127.0.0.1:$gevent2; }
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$PROXY_PORT;
        client_max_body_size 64m;
        proxy_read_timeout 720s;
        proxy_connect_timeout 720s;
        proxy_send_timeout 720s;
        location /websocket {
            proxy_pass http://odoochat;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header X-Forwarded-Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Real-IP \$remote_addr;
        }
        location / {
            proxy_pass http://odoo;
            proxy_set_header X-Forwarded-Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_redirect off;
        }
        gzip on;
        gzip_types text/css text/plain application/json application/javascript;
    }
}
EOF
}

cluster_running() {
    local name
    for name in nginx odoo-http-1 odoo-http-2 odoo-cron; do alive "$CLUSTER_DIR/pids/$name.pid" || return 1; done
    replica_streaming
}

cmd_cluster() {
    [ "$(id -u)" -eq 0 ] || die "make cluster runs the replica as the postgres user and nginx: run it as root."
    if cluster_running; then
        log "the cluster already serves $CLUSTER_DB on http://127.0.0.1:$PROXY_PORT (make cluster-stop stops it)"
        return 0
    fi
    SYSTEM_PACKAGES=(nginx)
    ensure_system_packages
    mkdir -p "$CLUSTER_DIR/pids"
    if db_exists "$CLUSTER_DB"; then
        odoo_bin -d "$CLUSTER_DB" -u "$MODULE" --stop-after-init --log-level=warn
    else
        fresh_db "$CLUSTER_DB" --with-demo
    fi
    # The replica counts its queries (bench/cluster_check.py reads them): the extension's views are created on the
    # primary and replicated; only the replica loads its library.
    primary_sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" "$CLUSTER_DB" >/dev/null
    start_replica
    local http1=$CLUSTER_PORT http2=$((CLUSTER_PORT + 2)) workers=$CLUSTER_WORKERS
    write_cluster_config odoo-http-1 "workers = $workers" "http_interface = 127.0.0.1" "http_port = $http1" \
        "gevent_port = $((http1 + 1))" "proxy_mode = True" "max_cron_threads = 0"
    write_cluster_config odoo-http-2 "workers = $workers" "http_interface = 127.0.0.1" "http_port = $http2" \
        "gevent_port = $((http2 + 1))" "proxy_mode = True" "max_cron_threads = 0"
    # The cron server: no HTTP, the scheduled jobs only (one thread per job that may run at once).
    write_cluster_config odoo-cron "http_enable = False" "workers = 0" "max_cron_threads = 2"
    local name
    for name in odoo-http-1 odoo-http-2 odoo-cron; do start_odoo "$name"; done
    wait_http "http://127.0.0.1:$http1"
    wait_http "http://127.0.0.1:$http2"
    write_nginx_config
    if ! alive "$CLUSTER_DIR/pids/nginx.pid"; then
        nginx -t -q -c "$CLUSTER_DIR/nginx.conf" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
        nginx -c "$CLUSTER_DIR/nginx.conf" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    fi
    wait_http "http://127.0.0.1:$PROXY_PORT"
    HTTP_PORT=$PROXY_PORT demo_api_key "$CLUSTER_DB"
    log "the cluster serves $CLUSTER_DB on http://127.0.0.1:$PROXY_PORT (nginx; login: admin, password: admin):" \
        "Odoo on :$http1 and :$http2 (--workers=$workers each), a cron server, PostgreSQL primary :$DB_PORT," \
        "replica :$REPLICA_PORT. Logs and pids in $CLUSTER_DIR; make cluster-stop stops it."
}

# Stops what cmd_cluster started, by the pids it recorded (and the replica through its postmaster.pid); does nothing
# for what is not running.
cmd_cluster_stop() {
    local name pid
    for name in nginx odoo-http-1 odoo-http-2 odoo-cron; do
        if alive "$CLUSTER_DIR/pids/$name.pid"; then
            pid=$(cat "$CLUSTER_DIR/pids/$name.pid")
            log "stopping $name (pid $pid)"
            if [ "$name" = nginx ]; then
                kill -QUIT "$pid"
            else
                # The prefork server's process group: its workers and gevent process stop with it.
                kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
            fi
            for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
            kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"; }
        fi
        rm -f "$CLUSTER_DIR/pids/$name.pid"
    done
    if [ -f "$REPLICA_PGDATA/postmaster.pid" ]; then
        log "stopping the replica (pid $(head -n 1 "$REPLICA_PGDATA/postmaster.pid"))"
        as_postgres "$(pg_bin pg_ctl)" -D "$REPLICA_PGDATA" -m fast -w stop >/dev/null || true
    fi
}
