# Podium — two commands on a fresh machine:
#   make run    create .venv, install, start the dashboard on http://localhost:8501
#   make test   install test dependencies (system packages when root), run every test tier

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# Debian packages the test tiers use: a real Docker engine (Swarm tier), busybox for the test
# image, Chromium for the browser tier, iproute2 for multi-node network namespaces, PostgreSQL for
# the history store (the tests start a throwaway server with initdb/pg_ctl; none runs as a service),
# openssl for the TLS tests' throwaway certificate authorities; Prometheus and Alertmanager for the
# metrics and alert tests (the tests start throwaway ones on loopback ports; none runs as a service);
# mmdebstrap for the image tier's base image (built from Debian's mirrors where no registry is
# reachable: deploy/docker/make-base-image.sh)
TEST_PACKAGES := docker.io busybox-static chromium iproute2 postgresql openssl prometheus prometheus-alertmanager \
                 mmdebstrap

.PHONY: run test test-fast system-deps clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/activate requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

system-deps:
	@missing=""; \
	command -v dockerd >/dev/null || missing="$$missing docker.io"; \
	[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && ! ldd /bin/busybox >/dev/null 2>&1 \
	  || missing="$$missing busybox-static"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v prometheus-alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	command -v mmdebstrap >/dev/null || missing="$$missing mmdebstrap"; \
	if [ -z "$$missing" ]; then echo "system test dependencies present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "missing:$$missing (not root: the tiers needing them will skip)"; fi

test: system-deps $(VENV)/.dev
	$(BIN)/python -m pytest

# unit tier only: no dockerd, no browser, no image build
test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -m "not swarm and not e2e and not scale and not image and not replicas"

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
