#!/usr/bin/env bash
# Installs code-server's VS Code (offline-capable, from npm only) for the real-VS Code tests and
# the demo. Cached in test/e2e/.cache/code-server-<version>/, keyed by version; a finished install
# leaves a marker, so a second run is a no-op. Prints the install root on stdout (the last line).
#
# code-server's own install scripts download binaries (ripgrep) and would fail offline, so they are
# skipped and the needed steps run by hand (see FIELD-NOTES.md, "Real VS Code without a download").
set -euo pipefail
cd "$(dirname "$0")/.."

version=${CODE_SERVER_VERSION:-4.100.3}
if [[ ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "install-code-server: bad version '$version' (expected x.y.z)" >&2
  exit 2
fi
root="$(pwd)/test/e2e/.cache/code-server-$version"
marker="$root/.installed"
if [[ -f $marker ]]; then
  echo "$root"
  exit 0
fi

for tool in rg node npm; do
  command -v "$tool" >/dev/null || {
    echo "install-code-server: '$tool' is missing (scripts/setup-machine.sh installs it)" >&2
    exit 1
  }
done
[[ -e /usr/include/krb5.h || -e /usr/include/krb5/krb5.h ]] ||
  echo "install-code-server: libkrb5-dev seems missing; the kerberos rebuild may fail" >&2

# Build in a fresh folder and move it into place at the end, so an interrupted run never leaves a
# half install behind the marker.
work="$root.partial.$$"
trap 'rm -rf "$work"' EXIT
rm -rf "$work"
mkdir -p "$work"
started=$SECONDS
log() { echo "install-code-server: $* ($((SECONDS - started)) s)" >&2; }

(
  cd "$work"
  echo '{"name":"code-server-host","private":true}' >package.json
  npm install --no-audit --no-fund --ignore-scripts --no-save "code-server@$version" >&2
)
log "code-server $version fetched"

vscode="$work/node_modules/code-server/lib/vscode"
(
  cd "$vscode"
  npm install --omit=dev --ignore-scripts --no-audit --no-fund >&2
  # @vscode/ripgrep's install script downloads a binary; Debian's rg does the same job.
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  npm_config_yes=true npm rebuild node-pty @parcel/watcher @vscode/spdlog kerberos native-watchdog @vscode/deviceid >&2
  ln -sfn node_modules node_modules.asar
  cd extensions
  npm install --omit=dev --ignore-scripts --no-audit --no-fund >&2
)
log "VS Code server dependencies built"
# code-server's password hashing; npm hoists it next to code-server, so rebuild it at the top.
(
  cd "$work"
  npm rebuild argon2 >&2
  node -e 'require(require.resolve("argon2", { paths: [process.argv[1]] }))' "$work/node_modules/code-server" >&2
)

[[ -f $vscode/out/server-main.js ]] || {
  echo "install-code-server: $vscode/out/server-main.js missing after install" >&2
  exit 1
}
touch "$work/.installed"
rm -rf "$root"
mv "$work" "$root"
trap - EXIT
log "installed in $root"
echo "$root"
