// Scenario 8: isolate a tab from the UI (its Raft and gossip traffic dropped, the data channels
// up, as in a network partition). We isolate the leader, the harder case: its appends cannot
// commit, the others elect a leader and go on. Healed, it steps down and converges.
import { Cluster } from '../lib/cluster.mjs';
import { form, waitForNewLeader } from '../lib/procedures.mjs';
import { sleep } from '../lib/wait.mjs';

const TABS = 3;
/// Isolated for less than `dead_after` (10 s), so the others do not remove it meanwhile.
const ISOLATED_MS = 3_000;

export default {
  id: 8,
  name: 'isolate_heal',
  timeoutMs: 40_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'isolate');
    const { leader, term } = await form(cluster, TABS);
    await leader.append('before the partition');
    const others = cluster.tabs.filter((tab) => tab !== leader);
    await leader.click('isolate');
    const isolatedAt = Date.now();
    const cut = await leader.state();
    if (!cut.isolated) throw new Error('the isolate control did not isolate the tab');
    // Left pending in the page: it must not commit while isolated.
    await leader.evaluate(`window.__stranded = window.flotilla.append('stranded').then(
      (index) => ({ committed: index }), (error) => ({ error: String(error) }))`);
    const next = await waitForNewLeader(cluster, others, { oldTerm: term, timeoutMs: 5_000 });
    for (let i = 0; i < 10; i++) await next.leader.append(`majority ${i}`);
    await sleep(Math.max(0, ISOLATED_MS - (Date.now() - isolatedAt)));
    const still = await leader.state();
    if (still.commit !== cut.commit) {
      throw new Error(`the isolated tab's commit moved from ${cut.commit} to ${still.commit}`);
    }
    // The same button heals (it reads "Heal" while isolated).
    await leader.click('isolate');
    if ((await leader.state()).isolated) throw new Error('the heal control did not heal the tab');
    await cluster.waitForAgreement({ timeoutMs: 10_000 });
    const log = await cluster.waitForSameLog({ timeoutMs: 10_000 });
    const stranded = await leader.evaluate('window.__stranded');
    const inLog = log.some((post) => post.text === 'stranded');
    if (stranded?.committed !== undefined && !inLog) throw new Error('the stranded append was acknowledged but is not in the log');
    if (log.filter((post) => post.text.startsWith('majority ')).length !== 10) {
      throw new Error('appends committed by the majority are missing after the heal');
    }
    return { new_leader_ms: Math.round(next.at - isolatedAt), stranded: stranded ? Object.keys(stranded)[0] : 'pending' };
  },
};
