#!/usr/bin/env bash
# The README's test command: sets up a fresh Debian 12 machine, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-machine.sh
# Install scripts are not needed: esbuild ships its binary as an optional dependency, ssh2 falls
# back to JavaScript crypto, and tree-sitter grammars are used as .wasm files.
npm ci --ignore-scripts --no-audit --no-fund
npm run build
npm run package
bash scripts/run-tests.sh all
