# The fleet's entry points. `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLEET := $(BIN)/fleet
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv run up down status doctor logs clean provision test test-unit lint format schemas validate-deploy bench soak record-histories upgrade-drill k8s-up k8s-node k8s-down k8s-test k8s-status k8s-logs k8s-check dapr-system images compose-up compose-down

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (apt-get install python3.11 python3.11-venv)"; exit 1; }
	@echo "[venv] creating $(VENV) from requirements.lock"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

venv: $(STAMP) ## create the virtual environment from the lock

# make up SCALE=2: two replicas of every app, every one with its sidecar, on one PostgreSQL
run: $(STAMP) ## build what is missing, start the whole fleet in the foreground; Ctrl-C stops it
	@$(FLEET) run $(if $(SCALE),--scale $(SCALE))

up: $(STAMP) ## start the fleet in the background (SCALE=N replicas); returns when healthy
	@$(FLEET) up $(if $(SCALE),--scale $(SCALE))

down: $(STAMP) ## stop every process of the fleet (data is kept)
	@$(FLEET) down

status: $(STAMP) ## each process with pid, ports and health
	@$(FLEET) status

doctor: $(STAMP) ## prove every hop of the running fleet works
	@$(FLEET) doctor

provision: $(STAMP) ## build or download every piece (Dapr, Kafka, Zipkin, kustomize, ...) into the cache
	@$(FLEET) provision

clean: $(STAMP) ## wipe the fleet's data (orders, Kafka log, state); caches are kept
	@$(FLEET) clean

# make test TIERS=unit,local runs some tiers only (provision, deploy-checks, unit, local, ...)
test: $(STAMP) ## provision, deploy file checks, unit tests, then each end-to-end tier; every stage timed
	@$(BIN)/python -m tests.tiers

test-unit: $(STAMP) ## fast tests only, no processes (the deploy checks need kustomize)
	@$(FLEET) provision kustomize
	@$(BIN)/pytest tests/unit -q

# make chaos ORDERS=40 FAULTS=4 (SEED=n repeats a run's load and fault schedule; SCALE=2 runs
# it on two replicas of every app, with PostgreSQL kills and a rolling restart)
ORDERS ?= 1000
FAULTS ?= 20
.PHONY: chaos
chaos: $(STAMP) ## orders while seeded faults kill and pause fleet processes, then invariants; chaos/results/
	@$(BIN)/python -m chaos --orders $(ORDERS) --faults $(FAULTS) $(if $(SEED),--seed $(SEED)) $(if $(SCALE),--scale $(SCALE))

lint: $(STAMP) ## ruff format check, ruff lint, mypy
	@$(BIN)/ruff format --check .
	@$(BIN)/ruff check .
	@$(BIN)/mypy .

images: $(STAMP) ## build every container image here (no registry), cached by content
	@$(BIN)/python -m fleet.containers.images

# Host ports: FLEET_API_PORT=8000 FLEET_KAFKA_PORT=9092 FLEET_ZIPKIN_PORT=9411 by default
compose-up: $(STAMP) ## docker-compose.yml for real: our engine if none runs, images, up, wait healthy
	@$(BIN)/python -m fleet.containers.compose up

# make compose-down WIPE=1 also removes the data volumes (Kafka log, PostgreSQL, read model)
compose-down: $(STAMP) ## stop and remove the compose fleet; stops our engine if we started it
	@$(BIN)/python -m fleet.containers.compose down $(if $(filter 1 yes true,$(WIPE)),--volumes)

# The deployment suite (tests/targets) against compose; the fleet is taken down afterwards.
compose-test: $(STAMP) ## the deployment tests against docker compose (compose-up first if it is not up)
	@$(FLEET) provision --for compose
	@FLEET_TARGET=compose $(BIN)/pytest tests/targets -q

k8s-test: $(STAMP) ## the deployment tests against the local Kubernetes node (brought up, then down)
	@$(FLEET) provision --for k8s
	@FLEET_TARGET=k8s $(BIN)/pytest tests/targets -q

validate-deploy: $(STAMP) ## check compose, dapr.yaml and deploy/k8s offline: schemas, topology, secrets
	@$(FLEET) provision kustomize
	@$(BIN)/python -m deploy.validate

schemas: $(STAMP) ## re-export the JSON Schemas of every message to contracts/schemas/
	@$(BIN)/python -m contracts.schemas

format: $(STAMP) ## apply ruff formatting and safe fixes
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

# make bench QUICK=1 (about two minutes), RUNS=3 (back to back, no restart), RATES="1 2 3"
# PEER=temporal: also the saga and a floor on Temporal, side by side (its engine is built first)
bench: $(STAMP) ## open-loop load through Kafka at stepped rates vs the runtime's floor; results in bench/results/
	@$(if $(PEER),$(FLEET) provision --for bench)
	@$(BIN)/python -m bench run $(if $(filter 1 yes true,$(QUICK)),--quick) $(if $(RUNS),--runs $(RUNS)) $(if $(RATES),--rates "$(RATES)") $(if $(SCALE),--scale $(SCALE)) $(if $(PEER),--peer $(PEER))

soak: $(STAMP) ## a fixed rate for 10 minutes (SOAK_RATE=2, SOAK_MINUTES=10): RSS slope per process, MB/min
	@$(BIN)/python -m bench soak --rate $(or $(SOAK_RATE),2) --minutes $(or $(SOAK_MINUTES),10)

# make record-histories ONLY=completed,bulk (FLEET_HOME=/other/checkout/.fleet for a fleet run elsewhere)
record-histories: $(STAMP) ## place an order per path on the running fleet; store their workflow histories in tests/unit/histories/
	@$(BIN)/python -m replay.record $(if $(ONLY),--only $(ONLY))

# make upgrade-drill BASE=<ref> (default upgrade/BASELINE) SCALE=2 (a rolling upgrade)
upgrade-drill: $(STAMP) ## orders left at every wait point on the previous workflow code finish after an upgrade
	@$(FLEET) provision --for run
	@$(BIN)/python -m upgrade $(if $(BASE),--base $(BASE)) $(if $(SCALE),--scale $(SCALE))

# The local Kubernetes node (fleet/cluster/): root, one per machine. Host ports for the
# fleet's API, Kafka and Zipkin: FLEET_K8S_API_PORT, FLEET_K8S_KAFKA_PORT, FLEET_K8S_ZIPKIN_PORT.
K8S_PIECES := debian-node-packages kubernetes etcd coredns crictl pause
k8s-up: $(STAMP) ## a real single-node Kubernetes here with Dapr and the fleet: returns once every pod is ready
	@$(FLEET) provision --for k8s
	@$(BIN)/python -m fleet.cluster up
	@$(BIN)/python -m fleet.cluster dapr
	@$(BIN)/python -m fleet.cluster fleet

k8s-node: $(STAMP) ## only the node (no Dapr, no fleet): returns once it is Ready and DNS answers
	@$(FLEET) provision $(K8S_PIECES)
	@$(BIN)/python -m fleet.cluster up

k8s-down: $(STAMP) ## stop the node and remove every trace of it (PURGE=1 also drops its images)
	@$(BIN)/python -m fleet.cluster down $(if $(filter 1 yes true,$(PURGE)),--purge)

k8s-status: $(STAMP) ## the node's daemons and pods
	@$(BIN)/python -m fleet.cluster status

k8s-logs: $(STAMP) ## make k8s-logs POD=name (a pod, or a node daemon such as kubelet)
	@$(BIN)/python -m fleet.cluster logs $(POD)

k8s-check: $(STAMP) ## prove DNS, Services, webhooks and the Dapr control plane work from pods
	@$(BIN)/python -m fleet.cluster check

dapr-system: $(STAMP) ## render deploy/dapr-system/ again from the Dapr chart in the dapr module (dev-time; CHECK=1 only checks)
	@$(BIN)/python -m deploy.render_dapr_system $(if $(filter 1 yes true,$(CHECK)),--check)
