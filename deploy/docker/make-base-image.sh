#!/bin/sh
# Make the Dockerfile's base image locally, for machines that reach Debian's mirrors but no image
# registry: a Debian bookworm root filesystem with its Python 3.11 (python3, python3-venv), built
# by mmdebstrap (Debian package `mmdebstrap`; needs root) and imported into the engine that
# DOCKER_HOST names. The root filesystem tarball is cached, so a second run only imports it.
#
#   deploy/docker/make-base-image.sh                    # -> image podium/python-base:bookworm
#   docker build --build-arg BASE_IMAGE=podium/python-base:bookworm -t podium:local .
#
# Where a registry is reachable, skip this: the Dockerfile's default base is python:3.11-slim-bookworm.
set -eu

IMAGE=${1:-podium/python-base:bookworm}
SUITE=${PODIUM_BASE_SUITE:-bookworm}
MIRROR=${PODIUM_BASE_MIRROR:-http://deb.debian.org/debian}
CACHE=${PODIUM_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podium}
PACKAGES=python3,python3-venv,ca-certificates
tarball="$CACHE/python-base-$SUITE.tar"

if [ ! -s "$tarball" ]; then
    command -v mmdebstrap >/dev/null || { echo "mmdebstrap not found: apt-get install mmdebstrap" >&2; exit 2; }
    mkdir -p "$CACHE"
    # minbase: essential packages and apt only; the python packages pull in what they need
    mmdebstrap --quiet --format=tar --variant=minbase --include="$PACKAGES" \
        --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/usr/share/doc/* "$1"/usr/share/man/*' \
        "$SUITE" "$tarball.part" "$MIRROR"
    mv "$tarball.part" "$tarball"
fi

docker import \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' \
    --message "podium base: Debian $SUITE + python3 via mmdebstrap" \
    "$tarball" "$IMAGE" >/dev/null
echo "$IMAGE"
