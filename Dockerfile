# Podium's image: the dashboard and its routes (/healthz, /readyz, /api/v1/…, /metrics) on port 8501.
# Runs as a non-root user with a read-only root filesystem: the only writable places are /data
# (a volume: the config and the snapshot history) and /tmp (a tmpfs: Streamlit's home and
# scratch). docs/deployment.md has the commands; deploy/docker/build-offline.sh builds it where
# no registry is reachable (base image from Debian's mirrors, wheels from the host's pip).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# set PIP_NO_INDEX=1 to install only from deploy/docker/wheels/ (offline builds)
ARG PIP_NO_INDEX=

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/podium/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp/podium-home \
    PODIUM_CONFIG=/data/clusters.yaml \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_GLOBAL_DEVELOPMENT_MODE=false

# metadata first: on copy-based storage drivers (vfs) every instruction copies the whole filesystem,
# so they come while it is small; VOLUME and USER must follow the RUN that prepares /data
WORKDIR /opt/podium/app
EXPOSE 8501
# (on the port the server listens on: STREAMLIT_SERVER_PORT may move it)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, sys, urllib.request; port = os.environ.get('STREAMLIT_SERVER_PORT', '8501'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status != 200)"]
CMD ["streamlit", "run", "app.py"]

# the app as .dockerignore lists it (an allow-list: code, the example config, requirements, wheels)
COPY . /opt/podium/app/

# one layer: the venv; the app's bytecode compiled ahead (the root filesystem is read-only at run
# time; pip compiles the packages'); the user (written to /etc/passwd: minimal bases have no
# useradd); the volume's mount point
RUN python3 -m venv /opt/podium/venv \
 && pip install --no-cache-dir --disable-pip-version-check --find-links /opt/podium/app/deploy/docker/wheels \
        -r /opt/podium/app/requirements.txt \
 && rm -rf /opt/podium/app/deploy \
 && python3 -m compileall -q /opt/podium/app \
 && echo "podium:x:10001:10001:podium:/tmp/podium-home:/usr/sbin/nologin" >> /etc/passwd \
 && echo "podium:x:10001:" >> /etc/group \
 && mkdir -p /data && chown 10001:10001 /data

VOLUME ["/data"]
USER 10001:10001
