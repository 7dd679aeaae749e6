// `browser throughput entries_per_s=...`: the leader proposes bursts of appends (one batch each)
// and waits until all committed; entries committed per second, median of the runs.
import { Cluster } from '../lib/cluster.mjs';
import { form } from '../lib/procedures.mjs';
import { percentile } from '../lib/wait.mjs';

const BURST = 10_000;
const RUNS = 3;

export default {
  id: 1,
  name: 'throughput',
  timeoutMs: 120_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'throughput');
    const { leader } = await form(cluster, 3);
    // A first, smaller burst warms up the wasm code paths and the data channels.
    await leader.e2e('timedBurst', 1_000);
    const rates = [];
    for (let run = 0; run < RUNS; run++) {
      const { committed, failed, firstError, ms } = await leader.e2e('timedBurst', BURST);
      if (failed) throw new Error(`${failed} of ${BURST} failed: ${firstError}`);
      rates.push((committed / ms) * 1000);
    }
    return { entries_per_s: Math.round(percentile(rates, 50)), burst: BURST };
  },
};
