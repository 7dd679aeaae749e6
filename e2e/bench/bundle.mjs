// `browser bundle_gzip_kb=...`: what a first visit downloads, wasm plus JavaScript, each
// gzipped at the highest level, in KB (1,000 bytes).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export default {
  id: 7,
  name: 'bundle_gzip_kb',
  timeoutMs: 10_000,
  async run(harness) {
    const dist = harness.options.dist;
    const files = readdirSync(dist).filter((name) => name.endsWith('.wasm') || name.endsWith('.js'));
    if (!files.some((name) => name.endsWith('.wasm'))) throw new Error(`no .wasm in ${dist}`);
    const bytes = files.reduce((sum, name) => sum + gzipSync(readFileSync(join(dist, name)), { level: 9 }).length, 0);
    return { '': (bytes / 1000).toFixed(1) };
  },
};
