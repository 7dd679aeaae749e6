// Scenario 1: open 3 tabs, then 5. Within 3 s each time: one leader, every tab a voter.
//
// The tabs of each step open together, which is the hard case for bootstrapping: only one of
// several new tabs may start the cluster, or two clusters with different histories would form.
import { Cluster } from '../lib/cluster.mjs';

/// The bound, from the moment the tabs were opened (page load and wasm start included).
const WITHIN_MS = 3_000;

async function grow(cluster, count) {
  const start = Date.now();
  await cluster.open(count);
  await cluster.waitForAgreement({ timeoutMs: WITHIN_MS - (Date.now() - start) });
  return Date.now() - start;
}

export default {
  id: 1,
  name: 'form',
  timeoutMs: 30_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'form');
    const three = await grow(cluster, 3);
    const five = await grow(cluster, 2);
    const errors = cluster.tabs.flatMap((tab) => tab.errors());
    if (errors.length) throw new Error(`console errors: ${errors.slice(0, 3).join(' | ')}`);
    return { three_tabs_ms: three, five_tabs_ms: five };
  },
};
