// Scenario 6: a tab that joins after 10,000 entries catches up by snapshot. The core compacts
// its log every few thousand applied entries, so the leader no longer has the first entries and
// must send the new tab a snapshot.
import { Cluster } from '../lib/cluster.mjs';
import { form, inspectorSnapshotIndex, joinOne } from '../lib/procedures.mjs';
import { waitFor } from '../lib/wait.mjs';

const TABS = 3;
const ENTRIES = 10_000;

/// Appends `ENTRIES` posts from the leader of `cluster` in bursts. Returns how long it took.
export async function fill(cluster, leader) {
  const start = Date.now();
  for (let done = 0; done < ENTRIES; done += 2_000) {
    const result = await leader.e2e('timedBurst', 2_000);
    if (result.failed) throw new Error(`burst: ${result.failed} failed, e.g. ${result.firstError}`);
  }
  await cluster.waitForSameLog({ timeoutMs: 20_000 });
  return Date.now() - start;
}

export default {
  id: 6,
  name: 'snapshot_join',
  timeoutMs: 90_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'snapshot');
    const { leader } = await form(cluster, TABS);
    const fillMs = await fill(cluster, leader);
    const { tab: late, log, ms: joinMs } = await joinOne(cluster);
    if (log.length < ENTRIES) throw new Error(`the log has ${log.length} posts, not ${ENTRIES}`);
    // The inspector renders on animation frames: give it one.
    const snapshot = await waitFor('the late tab to show a snapshot', async () => (await inspectorSnapshotIndex(late)) || false, {
      timeoutMs: 2_000,
    });
    return { fill_ms: fillMs, join_ms: joinMs, snapshot_index: snapshot };
  },
};
