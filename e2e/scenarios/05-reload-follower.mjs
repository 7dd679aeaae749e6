// Scenario 5: reload a follower. It comes back as the same node (its id and log from
// sessionStorage) and catches up with what was committed while it was away.
import { Cluster } from '../lib/cluster.mjs';
import { form } from '../lib/procedures.mjs';

const TABS = 3;

export default {
  id: 5,
  name: 'reload_follower',
  timeoutMs: 40_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'reload');
    const { leader } = await form(cluster, TABS);
    for (let i = 0; i < 20; i++) await leader.append(`before ${i}`);
    const follower = cluster.tabs.find((tab) => tab !== leader);
    const before = await follower.state();
    // Committed while the follower is away (or restarting): it must catch up on these.
    const appending = (async () => {
      for (let i = 0; i < 20; i++) await leader.append(`during ${i}`);
    })();
    appending.catch(() => {}); // Rethrown by the `await` below; not an unhandled rejection meanwhile.
    await follower.reload();
    const restarted = await follower.state();
    if (restarted.nodeId !== before.nodeId) {
      throw new Error(`the reload changed the node id: ${before.nodeId} -> ${restarted.nodeId}`);
    }
    // Its durable log came back with it: not a blank node fetching everything again.
    if (restarted.lastIndex < before.commit) {
      throw new Error(`restarted with last index ${restarted.lastIndex}, below its commit ${before.commit} before`);
    }
    await cluster.waitForAgreement({ timeoutMs: 10_000 });
    const backMs = Date.now() - follower.loadStartedAt;
    await appending;
    const log = await cluster.waitForSameLog({ timeoutMs: 10_000 });
    const during = log.filter((post) => post.text.startsWith('during ')).length;
    if (during !== 20) throw new Error(`${during} of the 20 appends made during the reload are in the log`);
    return { back_ms: backMs, restored_index: restarted.lastIndex };
  },
};
