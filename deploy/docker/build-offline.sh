#!/bin/sh
# Build Podium's image with no image registry and no package index reachable from the build:
#   1. the base image from Debian's mirrors (make-base-image.sh: mmdebstrap, Python 3.11),
#   2. the wheels of requirements.txt by the host's pip (its index, its cache) into deploy/docker/wheels/,
#   3. `docker build` with no network at all, installing only those wheels.
# The engine is the one DOCKER_HOST names (default: the local one).
#
#   deploy/docker/build-offline.sh [tag]        # default tag: podium:local
#   PYTHON=.venv/bin/python deploy/docker/build-offline.sh
set -eu
cd "$(dirname "$0")/../.."
TAG=${1:-podium:local}
PYTHON=${PYTHON:-python3}

# the wheels must suit the image's Python: Debian bookworm's 3.11
version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$version" != "3.11" ]; then
    echo "$PYTHON is Python $version; the base image has 3.11: set PYTHON to a 3.11 interpreter" >&2
    exit 2
fi

base=$(deploy/docker/make-base-image.sh)
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check -r requirements.txt -w deploy/docker/wheels
# without the buildx plugin (Debian's docker.io), the classic builder does the job
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
docker build --quiet --network none --build-arg BASE_IMAGE="$base" --build-arg PIP_NO_INDEX=1 -t "$TAG" . >/dev/null
echo "$TAG"
