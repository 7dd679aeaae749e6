// Scenario 3: close the leader's tab while every tab appends; a new leader arises. Ten times, a
// new tab taking the closed one's place each time. No acknowledged append is lost, and the time
// to each new leader is recorded.
import { Cluster } from '../lib/cluster.mjs';
import { closeLeaderRounds, form, Writers } from '../lib/procedures.mjs';
import { fmt, percentile } from '../lib/wait.mjs';

const TABS = 3;
const ROUNDS = 10;

export default {
  id: 3,
  name: 'close_leader',
  timeoutMs: 120_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'close');
    await form(cluster, TABS);
    const writers = new Writers();
    await writers.start(cluster.tabs, { inFlight: 2 });
    const times = await closeLeaderRounds(cluster, ROUNDS, writers);
    await writers.stop(cluster.tabs);
    const log = await cluster.waitForSameLog({ timeoutMs: 10_000 });
    writers.check(log);
    return {
      reelect_p50_ms: fmt(percentile(times, 50)),
      reelect_max_ms: fmt(Math.max(...times)),
      reelect_all_ms: times.join(','),
      acked: writers.acked.length,
      failed: writers.failures.length,
    };
  },
};
