// `browser closed_loop writes_per_s=...`: every tab appends one entry at a time and waits for it
// to commit before the next (shosti/wraft's way of counting); all tabs' commits per second.
import { Cluster } from '../lib/cluster.mjs';
import { form } from '../lib/procedures.mjs';

const DURATION_MS = 5_000;

export default {
  id: 2,
  name: 'closed_loop',
  timeoutMs: 60_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'closed-loop');
    await form(cluster, 3);
    const results = await Promise.all(cluster.tabs.map((tab) => tab.e2e('closedLoop', tab.label, DURATION_MS)));
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    if (failed) throw new Error(`${failed} appends failed, e.g. ${results.find((r) => r.firstError).firstError}`);
    const committed = results.reduce((sum, r) => sum + r.committed, 0);
    return { writes_per_s: Math.round(committed / (DURATION_MS / 1000)) };
  },
};
