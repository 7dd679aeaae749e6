// `browser reelect_close ...` over 20 closes of the leader's tab, and `browser reelect_freeze ...`
// over 10 freezes: ms from the fault to the new leader's election, p50 and p99.
//
// reelect_freeze freezes with the UI's Pause (silent, as a stopped process: the figure the
// issue's "maximum election timeout + 150 ms" target is about); 10 DevTools lifecycle freezes
// follow as `lifecycle_p50_ms`/`lifecycle_p99_ms` (Chromium closes a frozen page's connections,
// so the others learn of it at once).
import { Cluster } from '../lib/cluster.mjs';
import { closeLeaderRounds, form, freezeLeaderRounds } from '../lib/procedures.mjs';
import { fmt, percentile } from '../lib/wait.mjs';

/// p50 and p99 of `times`, under keys starting with `prefix`.
function spread(times, prefix = '') {
  return { [`${prefix}p50_ms`]: fmt(percentile(times, 50)), [`${prefix}p99_ms`]: fmt(percentile(times, 99)) };
}

export const reelectClose = {
  id: 4,
  name: 'reelect_close',
  timeoutMs: 180_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'reelect-close');
    await form(cluster, 3);
    const times = await closeLeaderRounds(cluster, 20);
    return { ...spread(times), n: times.length };
  },
};

export const reelectFreeze = {
  id: 5,
  name: 'reelect_freeze',
  timeoutMs: 180_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'reelect-freeze');
    await form(cluster, 3);
    const paused = await freezeLeaderRounds(cluster, 10, 'pause');
    const frozen = await freezeLeaderRounds(cluster, 10, 'lifecycle');
    return { ...spread(paused), n: paused.length, ...spread(frozen, 'lifecycle_') };
  },
};
