// Scenario 10: the README's screenshot, taken from a real 3-tab cluster by every run so that it
// shows the app as it is. The leader's tab at 1280x800, after each tab appended a few posts.
import { writeFileSync } from 'node:fs';
import { Cluster } from '../lib/cluster.mjs';
import { form } from '../lib/procedures.mjs';
import { sleep } from '../lib/wait.mjs';

const TABS = 3;
const POSTS = ['Hello from the first tab', 'Appends commit on a majority', 'Close the leader, watch a new one arise'];

export default {
  id: 10,
  name: 'screenshot',
  timeoutMs: 30_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'screenshot');
    const { leader } = await form(cluster, TABS);
    for (const [i, tab] of cluster.tabs.entries()) await tab.append(POSTS[i % POSTS.length]);
    await cluster.waitForSameLog({ timeoutMs: 5_000 });
    // Let the last messages' animations in the ring settle into a readable picture.
    await sleep(1_000);
    const png = await leader.screenshot();
    writeFileSync(harness.options.screenshot, png);
    const errors = cluster.tabs.flatMap((tab) => tab.errors());
    if (errors.length) throw new Error(`console errors: ${errors.slice(0, 3).join(' | ')}`);
    return { bytes: png.length };
  },
};
