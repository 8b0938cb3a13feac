#!/usr/bin/env bash
# Builds the mini-Envoy test target three ways, into test/targets/build/<variant>/envoy (the
# binary is named `envoy` so that its main thread's comm is `envoy`, as in a real proxy):
#   gcc       g++ -g -O0 -fno-omit-frame-pointer            (libstdc++ frames)
#   clang     clang++ -stdlib=libc++ -g -O0 -fno-omit-frame-pointer  (Envoy's toolchain: $_N, std::__1::)
#   clang-O2  clang++ -stdlib=libc++ -g -O2 -fno-omit-frame-pointer  (inlined frames, for DWARF tests)
# Idempotent: a variant is rebuilt only when its sources, flags or compiler changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/mini-envoy"
out="$here/build"
mkdir -p "$out"

mapfile -t sources < <(cd "$src" && find source -name '*.cc' | sort)
common=(-std=c++17 -pthread -Wall -Wextra -Wno-unused-parameter -I "$src")

build() {
  local variant=$1 compiler=$2
  shift 2
  local flags=("${common[@]}" "$@")
  local dir="$out/$variant"
  local stamp
  stamp="$( (
    command -v "$compiler"
    "$compiler" --version | head -1
    printf '%s\n' "${flags[@]}"
    cd "$src" && find . -type f \( -name '*.cc' -o -name '*.h' \) -print0 | sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -d' ' -f1)"
  if [[ -x "$dir/envoy" && -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]; then
    return 0
  fi
  if ! command -v "$compiler" >/dev/null; then
    echo "build.sh: $compiler is not installed (Debian: apt-get install g++ clang libc++-dev)" >&2
    return 1
  fi
  mkdir -p "$dir"
  # Compile to a temporary name and rename, so a concurrent reader never sees half a binary.
  (cd "$src" && "$compiler" "${flags[@]}" "${sources[@]}" -o "$dir/envoy.tmp.$$")
  mv -f "$dir/envoy.tmp.$$" "$dir/envoy"
  echo "$stamp" >"$dir/.stamp"
  echo "built $dir/envoy"
}

pids=()
build gcc g++ -g -O0 -fno-omit-frame-pointer & pids+=($!)
build clang clang++ -stdlib=libc++ -g -O0 -fno-omit-frame-pointer & pids+=($!)
build clang-O2 clang++ -stdlib=libc++ -g -O2 -fno-omit-frame-pointer & pids+=($!)
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit $status
