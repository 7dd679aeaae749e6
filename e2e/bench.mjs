// The browser benchmark (`cargo xtask bench browser`): 3 tabs of the release build in real
// Chromium over real WebRTC, inside isolated-net. One line per figure, named as in issue 6:
//
//   browser throughput entries_per_s=...      browser closed_loop writes_per_s=...
//   browser latency p50_ms=... p99_ms=...     browser reelect_close p50_ms=... p99_ms=...
//   browser reelect_freeze p50_ms=... ...     browser join_ms=...     browser bundle_gzip_kb=...
//
//   node e2e/bench.mjs --dist DIR --server-bin PATH [--only latency,join_ms]
//
// It shares the suite's harness (lib/); a benchmark that fails prints a FAIL line with the
// reason and every tab's console instead of its figure, and the exit status is 1.
import bundle from './bench/bundle.mjs';
import closedLoop from './bench/closed-loop.mjs';
import join from './bench/join.mjs';
import latency from './bench/latency.mjs';
import { reelectClose, reelectFreeze } from './bench/reelect.mjs';
import throughput from './bench/throughput.mjs';
import { main } from './lib/harness.mjs';

await main([throughput, closedLoop, latency, reelectClose, reelectFreeze, join, bundle], 'browser', { bench: true });
