#!/usr/bin/env bash
# Runs flotilla-web's wasm-bindgen tests in headless Chromium, inside a loopback-only network
# namespace so that WebRTC traffic never leaves the machine.
#
# Usage: web/run-browser-tests.sh [extra cargo test args...]   (from anywhere; needs root)
# Needs: the wasm32-unknown-unknown target, wasm-bindgen-test-runner at Cargo.lock's
# wasm-bindgen version, /usr/bin/chromium and /usr/bin/chromedriver.
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), FLOTILLA_ISOLATED_NET (the
# namespace wrapper; default ../shared/tools/isolated-net beside the repository).
set -euo pipefail

web_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$web_dir")"
isolated_net="${FLOTILLA_ISOLATED_NET:-$repo_dir/../shared/tools/isolated-net}"
if [[ ! -x "$isolated_net" ]]; then
  # A clone without the shared tools beside it: the same loopback-only namespace, inline.
  isolated_net="$web_dir/../.ci/isolated-net"
fi

# Chromium's switches, one per line with the reason it is there. The script writes them to
# webdriver.json, where wasm-bindgen-test-runner reads them (beside the crate's Cargo.toml).
chromium_args=(
  --headless=new                           # no display on CI
  --no-sandbox                             # runs as root, where the sandbox refuses to start
  --disable-gpu                            # no GPU here; avoids GPU process start-up errors
  --disable-dev-shm-usage                  # /dev/shm is small in containers; use /tmp
  --disable-quic                           # no QUIC probing of a network that is not there
  --no-first-run                           # no first-run UI or profile set-up work
  --disable-background-networking          # no update/metrics fetches from inside tests
  --disable-component-update               # ditto for component downloads
  --disable-sync                           # no account sync attempts
  --allow-loopback-in-peer-connection      # let ICE gather 127.0.0.1 host candidates
  --use-fake-ui-for-media-stream           # grant media permission without a prompt: Chromium
                                           # lists network interfaces to ICE only for pages
                                           # that hold it, so without it there are no candidates
)
{
  printf '{\n  "goog:chromeOptions": {\n    "args": [\n'
  for i in "${!chromium_args[@]}"; do
    separator=","
    [[ $i -eq $((${#chromium_args[@]} - 1)) ]] && separator=""
    printf '      "%s"%s\n' "${chromium_args[$i]}" "$separator"
  done
  printf '    ]\n  }\n}\n'
} > "$web_dir/webdriver.json"

cd "$web_dir"
# Build first, outside the namespace: cargo may need the registry, the namespace has no network.
cargo test -p flotilla-web --target wasm32-unknown-unknown --no-run "$@"
exec "$isolated_net" env \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
  WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-90}" \
  cargo test -p flotilla-web --target wasm32-unknown-unknown --offline "$@"
