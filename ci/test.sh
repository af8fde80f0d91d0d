#!/usr/bin/env bash
# Installs what kfc needs and runs its whole test suite, as root (the tests make loop mounts,
# namespaces, chroots, a zfs-fuse pool and microVM boots; each skips with a reason when it
# cannot run). The fixtures are read from KFC_FIXTURES, else ../shared/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
swift build --build-tests
swift test --skip-build
