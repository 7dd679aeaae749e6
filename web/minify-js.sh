#!/bin/sh
# trunk post_build hook (Trunk.toml): in release builds, minifies the wasm-bindgen JavaScript glue
# in the staging directory with terser (about 2.6 KB gzip of the first visit, issue 5's bundle
# budget), then shortens the import and export names the wasm and the glue share
# (web/minify-names.mjs, about 7 KB gzip), and last writes brotli and gzip copies of each file
# for the server to send as they are (web/precompress.mjs). trunk's own `--minify` is not used: its minifier (minify-js) drops the
# `window.flotilla` hook's getters (trunk-rs/trunk#761) and fails on wasm-bindgen's
# `export default` (trunk-rs/trunk#1044).
#
# Needs `terser` on PATH in release builds, like wasm-opt: `cargo xtask run` installs it from npm
# (target/tools) and puts it there. A release build without it stops here instead of shipping a
# bigger bundle unnoticed.
set -eu
[ "${TRUNK_PROFILE:-}" = "release" ] || exit 0
if ! command -v terser >/dev/null 2>&1; then
  echo "minify-js: terser is not on PATH (npm install terser; see web/minify-js.sh)" >&2
  exit 1
fi
for js in "$TRUNK_STAGING_DIR"/*.js; do
  [ -e "$js" ] || continue
  # --module: an ES module (keeps its export names, may rename the rest). --keep-classnames:
  # wasm-bindgen's debug strings name an object by its constructor.
  terser "$js" --module --compress --mangle --keep-classnames --output "$js.min"
  mv "$js.min" "$js"
done
# Node runs terser already; these scripts need nothing else.
node "$(dirname "$0")/minify-names.mjs" "$TRUNK_STAGING_DIR"
node "$(dirname "$0")/precompress.mjs" "$TRUNK_STAGING_DIR"
