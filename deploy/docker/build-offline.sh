#!/bin/sh
# Build Podium's image with no image registry and no package index reachable from the build:
#   1. the base image from Debian's mirrors (make-base-image.sh: mmdebstrap, Python 3.11),
#   2. the wheels of requirements.txt for the image's Python (CPython 3.11, glibc 2.36, this machine's
#      architecture), downloaded by the host's pip (its index settings) into deploy/docker/wheels/,
#   3. `docker build` with no network at all, installing only those wheels.
# The engine is the one DOCKER_HOST names (default: the local one).
#
#   deploy/docker/build-offline.sh [tag]        # default tag: podium:local
#   PYTHON=.venv/bin/python deploy/docker/build-offline.sh     # which pip downloads the wheels
set -eu
cd "$(dirname "$0")/../.."
TAG=${1:-podium:local}
PYTHON=${PYTHON:-python3}

base=$(deploy/docker/make-base-image.sh)
# binary wheels only, for the image's interpreter whatever the host's Python is: Debian bookworm's
# CPython 3.11 on glibc 2.36 (any manylinux tag up to that), this machine's architecture
arch=$(uname -m)
platforms=""
for tag in manylinux_2_36 manylinux_2_34 manylinux_2_31 manylinux_2_28 manylinux_2_17 manylinux2014 manylinux1 linux; do
    platforms="$platforms --platform ${tag}_$arch"
done
# shellcheck disable=SC2086  # $platforms is a list of options
find deploy/docker/wheels -name '*.whl' -delete  # none left from older requirements
"$PYTHON" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    --implementation cp --python-version 3.11 --abi cp311 $platforms \
    -r requirements.txt -d deploy/docker/wheels
# without the buildx plugin (Debian's docker.io), the classic builder does the job
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
docker build --quiet --network none --build-arg BASE_IMAGE="$base" --build-arg PIP_NO_INDEX=1 -t "$TAG" . >/dev/null
echo "$TAG"
