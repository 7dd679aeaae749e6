// Scenario 4: freeze the leader's tab. The others elect a new leader after the election
// timeout; thawed, the old leader works through what it held, meets the new term, steps down
// and catches up on what was committed meanwhile.
//
// Both freezes the issue names, one after the other in one cluster:
// - the UI's Pause button: the node stops ticking and holds its input, channels open, like a
//   stopped process. The others hear nothing and must wait out their election timeout.
// - DevTools' lifecycle "frozen" state: Chromium stops the page and its worker, and (Chromium
//   156) closes the page's connections, so the others see the tab leave at once.
import { Cluster } from '../lib/cluster.mjs';
import { FREEZES, form, reelect, SETTLE_MS } from '../lib/procedures.mjs';

const TABS = 3;
/// The runtime's largest election timeout (web/src/runtime/settings.rs) and the margin.
const ELECTION_TIMEOUT_MAX_MS = 600;
const MARGIN_MS = 150;

/// One freeze of the leader, the `FREEZES` way `how`. Returns the time to the new leader.
async function freezeOnce(cluster, how) {
  const { freeze, thaw } = FREEZES[how];
  const { oldLeader, newLeader, ms } = await reelect(cluster, freeze);
  for (let i = 0; i < 10; i++) await newLeader.append(`while ${how} ${i}`);
  await thaw(oldLeader);
  await cluster.waitForAgreement({ timeoutMs: 10_000, stableMs: SETTLE_MS });
  if ((await oldLeader.state()).role === 'leader') throw new Error(`${how}: the thawed tab still leads`);
  const log = await cluster.waitForSameLog({ timeoutMs: 10_000 });
  const held = log.filter((post) => post.text.startsWith(`while ${how} `)).length;
  if (held !== 10) throw new Error(`${how}: ${held} of the 10 appends made meanwhile are in the log`);
  if (ms > ELECTION_TIMEOUT_MAX_MS + MARGIN_MS) {
    throw new Error(`${how}: new leader after ${ms} ms, above ${ELECTION_TIMEOUT_MAX_MS} + ${MARGIN_MS} ms`);
  }
  return ms;
}

export default {
  id: 4,
  name: 'freeze_leader',
  timeoutMs: 60_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'freeze');
    await form(cluster, TABS);
    const paused = await freezeOnce(cluster, 'pause');
    const frozen = await freezeOnce(cluster, 'lifecycle');
    return { pause_reelect_ms: paused, lifecycle_reelect_ms: frozen };
  },
};
