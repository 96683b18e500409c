#!/usr/bin/env bash
#
# The quick look: install what is missing, build evpnd (no sanitizers),
# then bring up a small fabric in network namespaces -- an FRR route
# reflector and two evpnd leaves -- show the sessions, and tear it all
# down again.  Run as root.  BUILD_DIR as for scripts/build.sh.

set -euo pipefail

cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-$(pwd)/build}

if [ "${SKIP_DEPS:-0}" != 1 ]; then
	scripts/deps.sh
fi
scripts/build.sh
exec tests/integration/demo_fabric.sh
