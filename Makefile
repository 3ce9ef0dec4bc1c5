# The README's commands. Each does all set-up on a fresh machine with the Odoo 19.0 source at ODOO_PATH.
HARNESS := bash scripts/harness.sh

.PHONY: run test test-upgrade test-core bench bench-concurrent generate bench-scale fuzz lint cluster cluster-stop cluster-check bench-cluster

run:   ## serve the demo database rma_demo on http://127.0.0.1:8069
	$(HARNESS) run

test:  ## fresh database, install without demo, every test through pytest-odoo (browser tests included)
	$(HARNESS) test $(PYTEST_ARGS)

test-upgrade: ## the upgrades from 19.0.1.1.0 and from the last release, with data (also run by make test)
	$(HARNESS) test-upgrade

test-core: ## Odoo's own stock_account, repair, sale_stock and purchase_stock suites, with the addon installed (RMA_CORE_WITHOUT_ADDON=1: without it, the baseline)
	$(HARNESS) test-core $(PYTEST_ARGS)

bench: ## benchmarks in bench/ against a fresh database, Odoo's native return flow as baseline
	$(HARNESS) bench

bench-concurrent: ## only the concurrent scanners (Odoo with --workers, clients over HTTP on 127.0.0.1)
	$(HARNESS) bench-concurrent

generate: ## a depot's history (bench/generate.py) in a fresh database RMA_GEN_DB (rma_gen), RMA_GEN_RMAS RMAs (200)
	$(HARNESS) generate $(if $(RMA_GEN_TEMPLATE),--template-rmas $(RMA_GEN_TEMPLATE)) $(if $(RMA_GEN_RECENT),--recent-rmas $(RMA_GEN_RECENT))

bench-scale: ## the users' calls on the generator's database RMA_GEN_DB: median and p95 over 50 calls
	$(HARNESS) bench-scale

fuzz:  ## the randomized accounting test with many sequences and a random seed (RMA_FUZZ_EXAMPLES, RMA_FUZZ_SEED)
	$(HARNESS) fuzz

cluster: ## (root) Odoo's multi-server topology on 127.0.0.1: nginx, 2 Odoo servers with workers, a cron server, PostgreSQL replica
	$(HARNESS) cluster

cluster-stop: ## stop what make cluster started (by pid)
	$(HARNESS) cluster-stop

cluster-check: ## (root) read-only calls on the replica, writes on the primary, a scan's screen right under replica lag
	$(HARNESS) cluster-check

bench-cluster: ## 16 scanners and a dashboard over make cluster's proxy for 60 s, then against one server
	$(HARNESS) bench-cluster $(BENCH_ARGS)

lint:
	$(HARNESS) lint
