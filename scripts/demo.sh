#!/usr/bin/env bash
# The README's main command (`npm run demo`, as root on Debian 12): installs what is missing,
# builds and packages fieldtrace.vsix, sets up a local "node" (sshd on 127.0.0.1 with throwaway
# keys, tracefs), installs the extension into code-server, opens a demo workspace and starts the
# mini-Envoy. The workbench listens on 127.0.0.1 only and asks for a password. Ctrl+C stops
# everything it started.
#
# Environment: FIELDTRACE_DEMO_DIR (default $TMPDIR/fieldtrace-demo: outside any git tree, so the
# workbench has no parent repository to offer), FIELDTRACE_DEMO_PORT (default 8080),
# FIELDTRACE_DEMO_NO_SETUP=1 skips apt/npm installs (for a machine that is already set up).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

die() {
  echo "demo: $*" >&2
  exit 1
}
[[ $(id -u) -eq 0 ]] || die "run as root: bpftrace needs it, and the demo node is root@127.0.0.1"

demo=$(realpath -m -- "${FIELDTRACE_DEMO_DIR:-${TMPDIR:-/tmp}/fieldtrace-demo}")
# The demo folder is deleted and rebuilt on every start, as root. Only a folder this script made
# (it holds the marker below, a plain file) or a missing or empty one is ever deleted: the
# variable may name any path, and a typo must not cost a home directory.
demo_marker=.fieldtrace-demo
check_demo_dir() {
  [[ $demo != / ]] || die "FIELDTRACE_DEMO_DIR is /; refusing"
  [[ -e $demo || -L $demo ]] || return 0
  [[ -d $demo && ! -L $demo ]] || die "FIELDTRACE_DEMO_DIR=$demo is not a folder; refusing to delete it"
  [[ -n $(ls -A -- "$demo") ]] || return 0
  [[ -f $demo/$demo_marker && ! -L $demo/$demo_marker ]] ||
    die "FIELDTRACE_DEMO_DIR=$demo is not empty and was not made by the demo (no $demo_marker); refusing to delete it"
}
check_demo_dir
port=${FIELDTRACE_DEMO_PORT:-8080}
[[ $port =~ ^[0-9]+$ ]] || die "FIELDTRACE_DEMO_PORT must be a number"

# --- what we start, stopped on exit (Ctrl+C included), each as its own process group -----------
pids=()
envoy_pid=
sleeper=
cleanup() {
  trap - EXIT INT TERM HUP
  # Ctrl+C also ends a pipe reader (`npm run demo | tee log`): a message to it must not kill the
  # cleanup with SIGPIPE, nor a failed write stop it, or everything below keeps running.
  trap '' PIPE
  set +e
  # Newest first: the workbench goes before sshd, so its SSH channels close and every trace's
  # wrapper stops bpftrace on the node before sshd itself ends.
  local all=(${envoy_pid:+"$envoy_pid"})
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do all+=("${pids[i]}"); done
  ((${#all[@]})) || return 0
  { echo; echo "demo: stopping ${#all[@]} process group(s)"; } 2>/dev/null
  # What runs on the "node" under sshd (sessions, traces): reparented once sshd is gone.
  local on_node=()
  [[ -z ${pids[0]:-} ]] || mapfile -t on_node < <(descendants_of "${pids[0]}")
  for pid in "${all[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  # Each trace's wrapper stops its bpftrace when the SSH channel closes; bpftrace takes a moment
  # to detach its probes. Wait for that, then make sure.
  for pid in "${on_node[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [[ -z $sleeper ]] || kill "$sleeper" 2>/dev/null || true
  wait "${all[@]}" 2>/dev/null || true
}

# descendants_of PID: every process below PID.
descendants_of() {
  ps -e -o pid= -o ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      for (p in parent) {
        q = p
        while ((q in parent) && q != root && q > 1) q = parent[q]
        if (q == root && p != root) print p
      }
    }'
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 129' HUP

# start NAME LOGFILE CMD...: runs CMD in a new session (its own process group) in the background;
# sets $started to its pid.
started=
start() {
  local name=$1 logfile=$2
  shift 2
  setsid "$@" >"$logfile" 2>&1 </dev/null &
  started=$!
  echo "demo: started $name (pid $started, log $logfile)"
}

# wait_for WHAT SECONDS CMD...: polls CMD until it succeeds, with a deadline.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local end=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || die "timed out waiting for $what"
    sleep 0.2
  done
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# --- install and build ---------------------------------------------------------------------------
if [[ ${FIELDTRACE_DEMO_NO_SETUP:-} != 1 ]]; then
  bash scripts/setup-machine.sh
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --ignore-scripts --no-audit --no-fund
  fi
fi
npm run package --silent
vscode_root=$(bash scripts/install-code-server.sh | tail -1)
code_server=$vscode_root/node_modules/code-server/out/node/entry.js
[[ -f $code_server ]] || die "code-server is missing at $code_server"
bash test/targets/build.sh >/dev/null
envoy_bin=$repo/test/targets/build/clang/envoy
[[ -x $envoy_bin ]] || die "the mini-Envoy did not build ($envoy_bin)"

port_free "$port" || die "port $port on 127.0.0.1 is taken; set FIELDTRACE_DEMO_PORT"
for p in 15000 15001 15006; do port_free "$p" || die "port $p (the mini-Envoy's) is taken"; done

# --- a fresh demo folder: keys, HOME, workspace --------------------------------------------------
check_demo_dir
rm -rf "$demo"
mkdir -p "$demo"
: >"$demo/$demo_marker"
home=$demo/home
mkdir -p "$home/.ssh" /run/sshd
chmod 700 "$home/.ssh"
ssh-keygen -q -t ed25519 -N '' -C fieldtrace-demo-host -f "$demo/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C fieldtrace-demo-client -f "$home/.ssh/id_ed25519"
cp "$home/.ssh/id_ed25519.pub" "$demo/authorized_keys"

ssh_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat >"$demo/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $demo/ssh_host_ed25519_key
AuthorizedKeysFile $demo/authorized_keys
PidFile $demo/sshd.pid
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
cat >"$home/.ssh/config" <<EOF
# The demo node: this machine over SSH on loopback, with the demo's throwaway key.
Host fieldtrace-demo
  HostName 127.0.0.1
  Port $ssh_port
  User root
  IdentityFile $home/.ssh/id_ed25519
  IdentitiesOnly yes
EOF
# The host key is known in advance, as it would be for a node you have logged into before.
echo "[127.0.0.1]:$ssh_port $(cut -d' ' -f1,2 "$demo/ssh_host_ed25519_key.pub")" >"$home/.ssh/known_hosts"
chmod 600 "$home/.ssh/config" "$home/.ssh/known_hosts"

workspace=$demo/workspace
cp -r test/e2e/fixtures/demo "$workspace"
mkdir -p "$workspace/envoy" "$workspace/.vscode"
cp -r test/targets/mini-envoy/. "$workspace/envoy/"
cat >"$workspace/.vscode/settings.json" <<EOF
{
  "fieldtrace.bpftrace.version": "$(bpftrace --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)",
  "git.openRepositoryInParentFolders": "never"
}
EOF

# The same offline settings as the test rig: no update checks, no gallery, no telemetry.
user_data=$demo/code-server/user-data
mkdir -p "$user_data/User" "$demo/code-server/extensions"
cat >"$user_data/User/settings.json" <<'EOF'
{
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off",
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "terminal.integrated.gpuAcceleration": "off"
}
EOF
cs_args=(--user-data-dir "$user_data" --extensions-dir "$demo/code-server/extensions")
HOME=$home EXTENSIONS_GALLERY='{}' node "$code_server" "${cs_args[@]}" --install-extension "$repo/fieldtrace.vsix" >"$demo/install.log" 2>&1 ||
  die "installing the extension failed: $(cat "$demo/install.log")"

# --- start the node, the target and the workbench ------------------------------------------------
start sshd "$demo/sshd.log" /usr/sbin/sshd -D -e -f "$demo/sshd_config"
pids+=("$started")
wait_for "sshd on 127.0.0.1:$ssh_port" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ssh_port"

start_envoy() {
  start mini-envoy "$demo/envoy.log" "$envoy_bin" --admin-port 15000 --listener 127.0.0.1:15001 \
    --listener 127.0.0.1:15006 --concurrency 2
  envoy_pid=$started
  wait_for "the mini-Envoy" 10 grep -q '"ready":true' "$demo/envoy.log"
}
start_envoy

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$password" >"$demo/password"
chmod 600 "$demo/password"
# The workbench runs as root with a password, on loopback only; never start it without one.
start code-server "$demo/code-server.log" env HOME="$home" PASSWORD="$password" EXTENSIONS_GALLERY='{}' \
  node "$code_server" "${cs_args[@]}" --bind-addr "127.0.0.1:$port" --auth password \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  --app-name Fieldtrace "$workspace"
pids+=("$started")
wait_for "code-server on 127.0.0.1:$port" 60 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"

cat <<EOF

  Fieldtrace demo is running.
    Workbench: http://127.0.0.1:$port/   (password: $password, also in $demo/password)
               from another machine: ssh -L $port:127.0.0.1:$port <this host>, then open that URL
    Node:      SSH host "fieldtrace-demo" (root@127.0.0.1:$ssh_port), in the demo HOME's ~/.ssh/config
    Target:    mini-Envoy pid $(grep -o '"pid":[0-9]*' "$demo/envoy.log" | cut -d: -f2), admin 127.0.0.1:15000, listeners 127.0.0.1:15001 and :15006, 2 workers
  Try: open listeners.bt or typo.bt; run "Fieldtrace: Run Listener Trace" on fieldtrace-demo.
  Press Enter here to restart the mini-Envoy and open 20 connections (a running trace sees it
  bind, dup and listen, and the accepts per worker). Ctrl+C stops everything.

EOF

connect_some() {
  node -e '
    const net = require("net");
    let open = 0;
    for (const port of [15001, 15006]) for (let i = 0; i < 10; i++) {
      open++;
      net.connect(port, "127.0.0.1").on("connect", function () { this.end(); }).on("close", () => --open || process.exit(0)).on("error", () => {});
    }'
}

while true; do
  if ! read -r _; then
    # No terminal to read from (stdin closed): keep running until a signal.
    while true; do
      sleep 3600 &
      sleeper=$!
      wait "$sleeper" || true
    done
  fi
  kill -TERM -- "-$envoy_pid" 2>/dev/null || true
  wait "$envoy_pid" 2>/dev/null || true
  envoy_pid=
  start_envoy
  connect_some && echo "demo: mini-Envoy restarted (pid $envoy_pid), 20 connections made"
done
