// Scenario 1: open 3 tabs, then 5. Within 3 s each time: one leader, every tab a voter.
//
// The tabs of each step open together, which is the hard case for bootstrapping: only one of
// several new tabs may start the cluster, or two clusters with different histories would form.
//
// The 3 s are counted from the moment the last of the new tabs' nodes started: loading and
// compiling the wasm is the browser's part, and on a loaded two-core machine it alone can take
// seconds when tabs open together. The time from opening the tabs is reported as well.
import { Cluster } from '../lib/cluster.mjs';

const WITHIN_MS = 3_000;

/// Opens `count` more tabs; returns ms from the nodes' start and from the opening to agreement.
async function grow(cluster, count) {
  const opened = Date.now();
  const tabs = await cluster.open(count);
  const started = Math.max(...tabs.map((tab) => tab.readyAt));
  await cluster.waitForAgreement({ timeoutMs: WITHIN_MS - (Date.now() - started) });
  const agreed = Date.now();
  return { fromStart: agreed - started, fromOpen: agreed - opened };
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
    return {
      three_ms: three.fromStart,
      five_ms: five.fromStart,
      three_from_open_ms: three.fromOpen,
      five_from_open_ms: five.fromOpen,
    };
  },
};
