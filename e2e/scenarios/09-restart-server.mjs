// Scenario 9: restart the signal server. While it is down, the cluster keeps committing over its
// data channels (the server only introduces tabs); once it is back, the tabs reconnect, which a
// new tab proves by joining: its offers reach every member only through the server.
import { Cluster } from '../lib/cluster.mjs';
import { form, Writers } from '../lib/procedures.mjs';
import { sleep } from '../lib/wait.mjs';

const TABS = 3;
const DOWN_MS = 3_000;

export default {
  id: 9,
  name: 'restart_server',
  timeoutMs: 60_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'restart');
    const { leader } = await form(cluster, TABS);
    const writers = new Writers();
    const writing = [...cluster.tabs];
    await writers.start(writing, { gapMs: 10 });
    await harness.server.stop();
    const before = (await leader.state()).commit;
    await sleep(DOWN_MS);
    const during = (await leader.state()).commit - before;
    if (during <= 0) throw new Error('nothing committed while the signal server was down');
    await harness.server.start();
    const restartedAt = Date.now();
    await cluster.open(1);
    await cluster.waitForAgreement({ timeoutMs: 15_000 });
    const joinMs = Date.now() - restartedAt;
    // Only the first tabs write: the new one may even reload on its way in (a tab that founded a
    // cluster of its own gives it up for the room's, see web/src/runtime/cluster.rs).
    await writers.stop(writing);
    writers.check(await cluster.waitForSameLog({ timeoutMs: 10_000 }));
    return { committed_while_down: during, join_after_restart_ms: joinMs };
  },
};
