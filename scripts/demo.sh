#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds and packages fieldtrace.vsix.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --ignore-scripts --no-audit --no-fund
npm run package
echo "Packaged $(pwd)/fieldtrace.vsix — install it with: code --install-extension fieldtrace.vsix"
