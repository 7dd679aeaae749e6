// `browser reelect_close ...` over 20 closes of the leader's tab, and `browser reelect_freeze ...`
// over 10 freezes: ms from the fault to the new leader's election, p50 and p99.
import { Cluster } from '../lib/cluster.mjs';
import { closeLeaderRounds, form, freezeLeaderRounds } from '../lib/procedures.mjs';
import { fmt, percentile } from '../lib/wait.mjs';

function reelectBench(id, name, rounds, runRounds) {
  return {
    id,
    name,
    timeoutMs: 180_000,
    async run(harness) {
      const cluster = await Cluster.create(harness, name);
      await form(cluster, 3);
      const times = await runRounds(cluster, rounds);
      return { p50_ms: fmt(percentile(times, 50)), p99_ms: fmt(percentile(times, 99)), n: times.length };
    },
  };
}

export const reelectClose = reelectBench(4, 'reelect_close', 20, closeLeaderRounds);
export const reelectFreeze = reelectBench(5, 'reelect_freeze', 10, freezeLeaderRounds);
