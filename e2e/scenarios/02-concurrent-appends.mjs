// Scenario 2: every tab appends at once. Every tab ends with the same committed log, and every
// acknowledged append is in it exactly once.
//
// Each tab runs a writer with several appends in flight, so followers forward while the leader
// proposes its own: the interleaving that loses or duplicates entries when forwarding or
// retries are wrong.
import { Cluster } from '../lib/cluster.mjs';
import { form, Writers } from '../lib/procedures.mjs';
import { sleep } from '../lib/wait.mjs';

const TABS = 3;
const WRITE_MS = 3_000;
const IN_FLIGHT = 4;

export default {
  id: 2,
  name: 'concurrent_appends',
  timeoutMs: 40_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'appends');
    await form(cluster, TABS);
    const writers = new Writers();
    await writers.start(cluster.tabs, { inFlight: IN_FLIGHT });
    await sleep(WRITE_MS);
    await writers.stop(cluster.tabs);
    const log = await cluster.waitForSameLog({ timeoutMs: 10_000 });
    writers.check(log);
    // Nothing disturbed this cluster: an append that failed is a bug, not bad luck.
    if (writers.failures.length) {
      throw new Error(`${writers.failures.length} appends failed, e.g. ${JSON.stringify(writers.failures[0])}`);
    }
    return { acked: writers.acked.length, per_s: Math.round(writers.acked.length / (WRITE_MS / 1000)) };
  },
};
