// Writes `NAME.br` and `NAME.gz` beside each text or wasm file of a release build (the trunk
// post-build hook, web/minify-js.sh, runs it last), at the highest levels. The signal server
// serves them as they are (tower-http's ServeDir with precompressed variants): compressing on
// the fly would cost every first visit tens of milliseconds of the server's one thread (40-50 ms
// for the wasm at brotli 5), during which signaling waits, and would compress less.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node precompress.mjs DIR');
  process.exit(2);
}
const compressible = /\.(wasm|js|css|html|svg|json|txt)$/;
for (const name of readdirSync(dir).filter((n) => compressible.test(n))) {
  const path = join(dir, name);
  const bytes = readFileSync(path);
  const brotli = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  writeFileSync(`${path}.br`, brotli);
  writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
}
