#!/usr/bin/env bash
# Set-up behind `make run`, `make test` and `make bench`.
#
# On a fresh machine that only has the Odoo 19.0 source at ODOO_PATH this installs the system packages
# (as root), starts PostgreSQL, builds a virtualenv cached outside the checkout (keyed by a hash of Odoo's
# and our requirement files), writes an Odoo configuration and then does what the sub-command asks.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE=rma_recovery
ODOO_PATH=${ODOO_PATH:-/opt/odoo}
CACHE=${RMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rma_recovery}
PYTHON=${PYTHON:-python3}
DB_HOST=${RMA_DB_HOST:-127.0.0.1}
DB_PORT=${RMA_DB_PORT:-5432}
DB_USER=${RMA_DB_USER:-odoo}
DB_PASSWORD=${RMA_DB_PASSWORD:-odoo}
HTTP_PORT=${RMA_HTTP_PORT:-8069}
SYSTEM_PACKAGES=(postgresql libpq-dev libldap2-dev libsasl2-dev build-essential python3-venv wkhtmltopdf chromium
                 fonts-dejavu-core)

log() { printf '[rma] %s\n' "$*" >&2; }
die() { printf '[rma] error: %s\n' "$*" >&2; exit 2; }

require_odoo() {
    if [ ! -f "$ODOO_PATH/odoo-bin" ] || [ ! -f "$ODOO_PATH/odoo/release.py" ]; then
        die "no Odoo source at ODOO_PATH=$ODOO_PATH: set ODOO_PATH to an Odoo 19.0 Community tree (the folder with odoo-bin)."
    fi
    grep -q "^version_info = (19, 0," "$ODOO_PATH/odoo/release.py" \
        || die "ODOO_PATH=$ODOO_PATH is not Odoo 19.0 (see odoo/release.py)."
}

ensure_system_packages() {
    local missing=() pkg
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return
    if [ "$(id -u)" -ne 0 ]; then
        log "missing system packages (install them as root): ${missing[*]}"
        return
    fi
    log "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pg_ready() { pg_isready -h "$DB_HOST" -p "$DB_PORT" -q 2>/dev/null; }

ensure_postgres() {
    if ! pg_ready; then
        [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not running on $DB_HOST:$DB_PORT; start it or set RMA_DB_HOST/RMA_DB_PORT."
        local version
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
            log "creating PostgreSQL $version cluster"
            pg_createcluster "$version" main >/dev/null
        fi
        local cluster
        cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
        log "starting PostgreSQL cluster $cluster"
        # The server outlives this script: it must not inherit our descriptors (a caller's flock on fd 3 would
        # otherwise stay held by PostgreSQL for ever).
        # shellcheck disable=SC2086
        pg_ctlcluster $cluster start 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- || true
        for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
        pg_ready || die "PostgreSQL did not start (pg_lsclusters shows its state)."
    fi
    if [ "$(id -u)" -eq 0 ] && ! PGPASSWORD=$DB_PASSWORD psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        log "creating PostgreSQL role $DB_USER"
        runuser -u postgres -- psql -p "$DB_PORT" -q -v ON_ERROR_STOP=1 -c \
            "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
                 CREATE ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
             ELSE ALTER ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD'; END IF; END\$\$;"
    fi
}

ensure_venv() {
    local pyver hash
    pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    hash=$(cat "$ODOO_PATH/requirements.txt" "$REPO/requirements.txt" | sha256sum | cut -c1-16)
    VENV="$CACHE/venv-py$pyver-$hash"
    mkdir -p "$CACHE"
    exec 9>"$CACHE/venv.lock"
    flock 9
    if [ ! -f "$VENV/.complete" ]; then
        log "building virtualenv $VENV (first run only)"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip wheel "setuptools<81"
        "$VENV/bin/pip" install -q -r "$ODOO_PATH/requirements.txt"
        "$VENV/bin/pip" install -q -r "$REPO/requirements.txt"
        touch "$VENV/.complete"
    fi
    flock -u 9
    export PATH="$VENV/bin:$PATH"
    export PYTHONPATH="$ODOO_PATH${PYTHONPATH:+:$PYTHONPATH}"
}

# Odoo finds an addon by its folder's name, and a clone may live in a folder of any name: give the
# checkout its module name through a symlink in a folder of its own, keyed by the checkout's path.
# The options every Odoo the harness starts shares (make run, the tests, the benches, the cluster's servers): the
# addons, the data directory (filestore, sessions) and the database server.
odoo_common_options() {
    cat <<EOF
[options]
addons_path = $ODOO_PATH/addons,$ODOO_PATH/odoo/addons,$RUN_DIR/addons
data_dir = $CACHE/data
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_password = $DB_PASSWORD
EOF
}

write_config() {
    local key
    key=$(printf '%s' "$REPO" | sha256sum | cut -c1-12)
    RUN_DIR="$CACHE/run-$key"
    mkdir -p "$RUN_DIR/addons" "$CACHE/data"
    ln -sfn "$REPO" "$RUN_DIR/addons/$MODULE"
    ADDON_DIR="$RUN_DIR/addons/$MODULE"
    CONFIG="$RUN_DIR/odoo.conf"
    {
        odoo_common_options
        cat <<EOF
http_interface = 127.0.0.1
http_port = $HTTP_PORT
max_cron_threads = 0
EOF
    } >"$CONFIG"
}

setup() {
    require_odoo
    ensure_system_packages
    ensure_postgres
    ensure_venv
    write_config
}

odoo_bin() { python "$ODOO_PATH/odoo-bin" -c "$CONFIG" "$@"; }

db_exists() {
    [ "$(psql_admin -tAc "select 1 from pg_database where datname = '$1'")" = 1 ]
}

psql_admin() { PGPASSWORD=$DB_PASSWORD psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -q "$@"; }

# Installing stock_account and repair takes minutes: they are installed once into a template database
# (keyed by the Odoo source, our dependencies, the extra modules and the demo flag) that every fresh database is
# copied from. Our addon itself is always installed anew into the copy.
# template_db DEMO [EXTRA]: DEMO is "--with-demo" or empty, EXTRA more modules to install (comma-separated, e.g. the
# modules whose suites `make test-core` runs).
template_db() {
    local demo=$1 extra=${2:-} key
    key=$( { cat "$ODOO_PATH/odoo/release.py"; stat -c %Y "$ODOO_PATH/addons" "$ODOO_PATH/odoo";
             grep -A3 '"depends"' "$REPO/__manifest__.py"; echo "$demo"; [ -z "$extra" ] || echo "$extra"; } \
           | sha256sum | cut -c1-10)
    TEMPLATE="rma_tmpl_$key"
    if [ ! -f "$CACHE/$TEMPLATE.ok" ] || ! db_exists "$TEMPLATE"; then
        log "building template database $TEMPLATE with the addon's dependencies${extra:+ and $extra} (first run only)"
        psql_admin -c "DROP DATABASE IF EXISTS \"$TEMPLATE\" WITH (FORCE)"
        rm -rf "$CACHE/data/filestore/$TEMPLATE"
        local depends
        depends=$(python -c "import ast, sys; print(','.join(ast.literal_eval(open(sys.argv[1]).read())['depends']))" \
            "$REPO/__manifest__.py")
        odoo_bin -d "$TEMPLATE" -i "$depends${extra:+,$extra}" --stop-after-init --log-level=warn $demo
        touch "$CACHE/$TEMPLATE.ok"
    fi
}

# copy_template DB DEMO [EXTRA]: database DB as a copy of the template (the addon's dependencies, not the addon).
copy_template() {
    local db=$1 demo=${2:-} extra=${3:-}
    template_db "$demo" "$extra"
    log "creating database $db from $TEMPLATE"
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
    psql_admin -c "CREATE DATABASE \"$db\" TEMPLATE \"$TEMPLATE\""
    rm -rf "$CACHE/data/filestore/$db"
    mkdir -p "$CACHE/data/filestore"
    [ -d "$CACHE/data/filestore/$TEMPLATE" ] && cp -a "$CACHE/data/filestore/$TEMPLATE" "$CACHE/data/filestore/$db"
    return 0
}

# fresh_db DB DEMO [EXTRA]: a copy of the template with the addon installed.
fresh_db() {
    local db=$1 demo=${2:-}
    copy_template "$@"
    log "installing $MODULE into $db"
    odoo_bin -d "$db" -i "$MODULE" --stop-after-init --log-level=warn $demo
}

cmd_run() {
    local db=${RMA_DB:-rma_demo}
    if db_exists "$db"; then
        odoo_bin -d "$db" -u "$MODULE" --stop-after-init --log-level=warn
    else
        fresh_db "$db" --with-demo
    fi
    [[ $(wkhtmltopdf --version 2>/dev/null || true) == *"(with patched qt)"* ]] \
        || log "warning: this wkhtmltopdf is not the patched-Qt build: PDFs print without company header and footer" \
               "(production needs wkhtmltopdf 0.12.6 with patched Qt, see the README)"
    demo_api_key "$db"
    log "Odoo serves $db on http://127.0.0.1:$HTTP_PORT (login: admin, password: admin; the portal customer: portal," \
        "password portal)"
    # One cron thread: the scheduled jobs run as in production (the customers' mails, seals, KPI reports); the tests
    # and benches keep max_cron_threads = 0 and run the jobs they measure themselves.
    exec python "$ODOO_PATH/odoo-bin" -c "$CONFIG" -d "$db" --db-filter="^$db\$" --max-cron-threads=1
}

# A new API key of the demo's web-shop connector (the previous demo key revoked), printed with the variables
# docs/API.md's examples use: they work as written against the demo database $1.
demo_api_key() {
    local db=$1 answer
    answer=$(echo 'print("RMA_DEMO_API", *(env["rma.demo"]._demo_api_key() or ())); env.cr.commit()' \
        | python "$ODOO_PATH/odoo-bin" shell -c "$CONFIG" -d "$db" --no-http --log-level=warn 2>/dev/null | grep '^RMA_DEMO_API ' || true)
    read -r _tag key login rma_id <<<"$answer"
    if [ -z "${key:-}" ]; then
        log "no demo API key: $db has no demo web-shop connector (a database installed without demo data)"
        return 0
    fi
    log "the demo's API key of $login, valid 30 days: the examples of docs/API.md work after"
    cat <<EXPORTS
export ODOO_URL=http://127.0.0.1:$HTTP_PORT ODOO_DB=$db ODOO_API_KEY=$key RMA_ID=$rma_id
EXPORTS
}

# pytest-odoo against database $1 (browser tests in headless Chromium); the rest are pytest's arguments.
run_pytest() {
    local db=$1 rc=0
    shift
    pytest -p no:cacheprovider --odoo-config="$CONFIG" --odoo-database="$db" --odoo-http "$@" || rc=$?
    [ "$rc" -eq 5 ] && log "pytest collected no test"
    return "$rc"
}

cmd_test() {
    local db=${RMA_TEST_DB:-rma_test}
    fresh_db "$db"
    log "running the tests with pytest-odoo (browser tests in headless Chromium)"
    cd "$ADDON_DIR"
    run_pytest "$db" "$ADDON_DIR/tests" "$@"
    if [ $# -eq 0 ]; then cmd_test_upgrade; fi
}

# The upgrades, each from an old version with data: that version (git archive of its commit) installed with its demo
# data into a fresh database, prepared by a script of tests/upgrade/ run by the old version (a JSON snapshot of what
# it left), then the current version's upgrade, then the tests of tests/upgrade/ comparing with the snapshot.
UPGRADE_FROM=420456661e45bd1b3ab03de905eabd2784ebea22  # rma_recovery 19.0.1.1.0: a disposition the old way
UPGRADE_FROM_RELEASE=41ab2052778fbfd26dab8d5be47ace69a9d595ee  # rma_recovery 19.0.1.12.0, the last release
cmd_test_upgrade() {
    upgrade_from "$UPGRADE_FROM" 19.0.1.1.0 prepare_from_19_0_1_1_0.py RMA_UPGRADE_SNAPSHOT "${RMA_UPGRADE_DB:-rma_upgrade}"
    upgrade_from "$UPGRADE_FROM_RELEASE" 19.0.1.12.0 prepare_from_release.py RMA_UPGRADE_RELEASE_SNAPSHOT \
        "${RMA_UPGRADE_DB:-rma_upgrade}_release"
}

upgrade_from() {
    local commit=$1 version=$2 prepare=$3 snapshot_var=$4 db=$5
    local old_addons="$RUN_DIR/upgrade-from-$version" old_config="$RUN_DIR/odoo-upgrade-from-$version.conf"
    if ! git -C "$REPO" cat-file -e "$commit^{commit}" 2>/dev/null; then
        log "the upgrade test needs commit $commit ($version) in the clone's history: clone without --depth"
        return 1
    fi
    rm -rf "$old_addons"
    mkdir -p "$old_addons/$MODULE"
    git -C "$REPO" archive "$commit" | tar -x -C "$old_addons/$MODULE"
    sed "s#^addons_path = .*#addons_path = $ODOO_PATH/addons,$ODOO_PATH/odoo/addons,$old_addons#" "$CONFIG" >"$old_config"
    template_db --with-demo
    log "upgrade test: installing $MODULE $version with its demo data into $db"
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
    psql_admin -c "CREATE DATABASE \"$db\" TEMPLATE \"$TEMPLATE\""
    rm -rf "$CACHE/data/filestore/$db"
    [ -d "$CACHE/data/filestore/$TEMPLATE" ] && cp -a "$CACHE/data/filestore/$TEMPLATE" "$CACHE/data/filestore/$db"
    python "$ODOO_PATH/odoo-bin" -c "$old_config" -d "$db" -i "$MODULE" --stop-after-init --log-level=warn --with-demo
    local snapshot="$RUN_DIR/upgrade-snapshot-$version.json"
    rm -f "$snapshot"
    RMA_UPGRADE_SNAPSHOT="$snapshot" python "$ODOO_PATH/odoo-bin" shell -c "$old_config" -d "$db" --log-level=warn \
        --no-http <"$REPO/tests/upgrade/$prepare"
    [ -s "$snapshot" ] || { log "upgrade test: the $version database could not be prepared"; return 1; }
    log "upgrade test: upgrading $db from $version to the current version"
    odoo_bin -d "$db" -u "$MODULE" --stop-after-init --log-level=warn
    (export "$snapshot_var=$snapshot" && run_pytest "$db" "$ADDON_DIR/tests/upgrade")
}

# Odoo stays Odoo: its own suites of the modules the addon extends or that build on what it changes (CORE_SUITES),
# run the same way (pytest-odoo, full registry loaded) against a fresh database where the addon is installed, with
# sale_stock and purchase_stock installed for their suites (in the template, not in the addon's dependencies).
# The baseline: RMA_CORE_WITHOUT_ADDON=1 runs the same suites on a copy of that template without the addon; both
# runs must give the same result. `stock` and `account` are not in the list: their suites alone take longer than
# CI's time allows (give their test folders as arguments to run them too).
CORE_SUITES=(stock_account repair sale_stock purchase_stock)
CORE_EXTRA_MODULES=sale_stock,purchase_stock
cmd_test_core() {
    local db=${RMA_CORE_DB:-rma_core} suite paths=()
    if [ "${RMA_CORE_WITHOUT_ADDON:-}" = 1 ]; then
        db=${RMA_CORE_BASE_DB:-rma_core_base}
        copy_template "$db" "" "$CORE_EXTRA_MODULES"
        log "running Odoo's ${CORE_SUITES[*]} tests WITHOUT $MODULE (baseline)"
    else
        fresh_db "$db" "" "$CORE_EXTRA_MODULES"
        log "running Odoo's ${CORE_SUITES[*]} tests with $MODULE installed"
    fi
    for suite in "${CORE_SUITES[@]}"; do paths+=("$ODOO_PATH/addons/$suite/tests"); done
    cd "$ODOO_PATH/addons"
    run_pytest "$db" "${paths[@]}" "$@"
}

cmd_bench() {
    local db=${RMA_BENCH_DB:-rma_bench} only=${RMA_BENCH_ONLY:-}
    fresh_db "$db"
    local script
    for script in "$REPO"/bench/bench_*.py; do
        # RMA_BENCH_ONLY=bench_api.py runs that script alone (names separated by spaces), without the concurrent one.
        [[ -z $only || " $only " == *" $(basename "$script") "* ]] || continue
        log "bench: $(basename "$script")"
        python "$REPO/bench/run.py" --config "$CONFIG" --database "$db" "$script"
        # Each script rolls back: what it wrote stays behind as dead rows (100,000 units for the seal bench) that
        # the next script would scan until autovacuum runs. Vacuum as autovacuum would in service.
        # The database's owner vacuums its own tables; the shared catalogs it may not touch are skipped quietly.
        PGOPTIONS=--client-min-messages=error PGPASSWORD=$DB_PASSWORD \
            psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$db" -q -c "VACUUM ANALYZE"
    done
    [[ -n $only ]] || cmd_bench_concurrent
}

# A depot's history generated into a fresh database (bench/generate.py), kept: RMA_GEN_DB, RMA_GEN_RMAS, RMA_GEN_SEED.
cmd_generate() {
    local db=${RMA_GEN_DB:-rma_gen}
    fresh_db "$db"
    python "$REPO/bench/generate.py" --config "$CONFIG" --database "$db" --rmas "${RMA_GEN_RMAS:-200}" \
        --seed "${RMA_GEN_SEED:-42}" "$@"
}

# The user's calls on the generator's database (bench/scale_calls.py), after VACUUM ANALYZE as autovacuum would.
cmd_bench_scale() {
    local db=${RMA_GEN_DB:-rma_gen}
    PGOPTIONS=--client-min-messages=error PGPASSWORD=$DB_PASSWORD \
        psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$db" -q -c "VACUUM ANALYZE"
    python "$REPO/bench/run.py" --config "$CONFIG" --database "$db" "$REPO/bench/scale_calls.py"
}

# Scanners at once: Odoo serving with --workers on 127.0.0.1, clients over HTTP (bench/concurrent.py).
cmd_bench_concurrent() {
    local db=${RMA_BENCH_CONCURRENT_DB:-rma_bench_concurrent}
    fresh_db "$db"
    log "bench: concurrent.py"
    python "$REPO/bench/concurrent.py" --config "$CONFIG" --database "$db" "$@"
}

# The randomized accounting test (tests/test_rma_accounting_fuzz.py) with many more sequences than `make test` runs,
# from a random seed (printed, and hypothesis prints the shrunk failing sequence).
cmd_fuzz() {
    local db=${RMA_FUZZ_DB:-rma_fuzz}
    export RMA_FUZZ_EXAMPLES=${RMA_FUZZ_EXAMPLES:-500}
    export RMA_FUZZ_SEED=${RMA_FUZZ_SEED:-$RANDOM}
    fresh_db "$db"
    log "fuzz: $RMA_FUZZ_EXAMPLES sequences, seed $RMA_FUZZ_SEED"
    cd "$ADDON_DIR"
    run_pytest "$db" "$ADDON_DIR/tests/test_rma_accounting_fuzz.py" --hypothesis-seed="$RMA_FUZZ_SEED" "$@"
}

cmd_lint() {
    ruff check "$REPO"
    ruff format --check "$REPO"
    python "$REPO/scripts/check_doc_links.py" "$REPO"
    # pylint-odoo reads the addon through its module name, like Odoo.
    (cd "$RUN_DIR/addons" && PYTHONPATH="$ODOO_PATH" pylint --rcfile="$REPO/.pylintrc" "$MODULE")
}

# make cluster, cluster-stop, bench-cluster: Odoo's multi-server topology on this machine (scripts/cluster.sh).
# shellcheck source=scripts/cluster.sh
source "$REPO/scripts/cluster.sh"

# The benchmark of the cluster (bench/cluster.py): the cluster started (or reused), its proxy against one server.
cmd_bench_cluster() {
    cmd_cluster
    log "bench: cluster.py"
    python "$REPO/bench/cluster.py" --config "$CONFIG" --database "$CLUSTER_DB" \
        --proxy "http://127.0.0.1:$PROXY_PORT" --single "http://127.0.0.1:$CLUSTER_PORT" "$@"
}

# The checks of what make cluster promises (bench/cluster_check.py) against the running cluster.
cmd_cluster_check() {
    cmd_cluster
    python "$REPO/bench/cluster_check.py" --config "$CONFIG" --database "$CLUSTER_DB" \
        --proxy "http://127.0.0.1:$PROXY_PORT" --replica-port "$REPLICA_PORT"
}

case "${1:-}" in
    run | test | test-upgrade | test-core | bench | bench-concurrent | generate | bench-scale | fuzz | lint | cluster | cluster-stop | cluster-check | bench-cluster)
        command=${1//-/_}
        shift
        setup
        "cmd_$command" "$@"
        ;;
    *)
        echo "usage: $0 run|test|test-upgrade|test-core|bench|bench-concurrent|generate|bench-scale|fuzz|lint|cluster|cluster-stop|cluster-check|bench-cluster" >&2
        exit 2
        ;;
esac
