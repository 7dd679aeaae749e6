// Scenario 4: freeze the leader's tab with the DevTools lifecycle state "frozen" (no tasks, no
// timers, in the page and its worker, as when Chromium freezes a background tab or a laptop
// sleeps). The others elect a new leader after the election timeout. Unfrozen, the old leader
// works through what it held, meets the new term, steps down and catches up.
import { Cluster } from '../lib/cluster.mjs';
import { form, reelect } from '../lib/procedures.mjs';

const TABS = 3;
/// The runtime's largest election timeout (web/src/runtime/settings.rs) and the margin.
const ELECTION_TIMEOUT_MAX_MS = 600;
const MARGIN_MS = 150;

export default {
  id: 4,
  name: 'freeze_leader',
  timeoutMs: 40_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'freeze');
    await form(cluster, TABS);
    const { oldLeader, newLeader, ms } = await reelect(cluster, (leader) => leader.freeze());
    for (let i = 0; i < 10; i++) await newLeader.append(`while frozen ${i}`);
    await oldLeader.unfreeze();
    await cluster.waitForAgreement({ timeoutMs: 10_000 });
    const after = await oldLeader.state();
    if (after.role === 'leader') throw new Error('the unfrozen tab still leads');
    await cluster.waitForSameLog({ timeoutMs: 10_000 });
    if (ms > ELECTION_TIMEOUT_MAX_MS + MARGIN_MS) {
      throw new Error(`new leader after ${ms} ms, above ${ELECTION_TIMEOUT_MAX_MS} + ${MARGIN_MS} ms`);
    }
    return { reelect_ms: ms };
  },
};
