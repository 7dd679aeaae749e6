// `browser join_ms=...`: from a new tab's page load until it is a voter with the whole log, in a
// 5-tab cluster (4 tabs with 1,000 entries, then the fifth); median of 5 joins. The end is the
// page's own record (see `joinOne`), as for re-election times.
import { Cluster } from '../lib/cluster.mjs';
import { form, joinOne } from '../lib/procedures.mjs';
import { percentile } from '../lib/wait.mjs';

const JOINS = 5;

export default {
  id: 6,
  name: 'join_ms',
  timeoutMs: 120_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'join');
    const { leader } = await form(cluster, 4);
    await leader.e2e('timedBurst', 1_000);
    const times = [];
    for (let i = 0; i < JOINS; i++) {
      const { tab, ms } = await joinOne(cluster);
      times.push(ms);
      // Leave room for the next one: the cluster goes back to 4 tabs.
      await cluster.close(tab);
      await cluster.waitForAgreement({ timeoutMs: 10_000 });
    }
    return { '': percentile(times, 50) };
  },
};
