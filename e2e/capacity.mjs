// How many posts a cluster holds before sessionStorage fills: 3 tabs, the leader appends bursts
// of 10,000 of the benchmark's short posts until some fail; after each burst, every tab's stored
// characters (keys and values), role and snapshot index. Every tab stores the whole shared log
// (its snapshot holds every post), so all of them fill at about the same time. Then, each second
// for 4 s, every tab's state, and the last of each tab's timeline (its error).
//
//   ../shared/tools/isolated-net node e2e/capacity.mjs --dist DIR --server-bin PATH
//
// A diagnostic, like floor.mjs: not part of the suite or the benchmark.
import { Cluster } from './lib/cluster.mjs';
import { main } from './lib/harness.mjs';
import { form } from './lib/procedures.mjs';

const BURST = 10_000;
const STORED_CHARS = `(() => { let n = 0; for (let i = 0; i < sessionStorage.length; i++) {
  const key = sessionStorage.key(i); n += key.length + sessionStorage.getItem(key).length; } return n; })()`;
const STATE = 'JSON.stringify([flotilla.role, flotilla.term, flotilla.snapshotIndex, flotilla.commit])';

const capacity = {
  id: 1,
  name: 'capacity',
  timeoutMs: 900_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'capacity');
    const { leader } = await form(cluster, 3);
    const each = (expression) => Promise.all(cluster.tabs.map((tab) => tab.evaluate(expression)));
    let posts = 0;
    for (;;) {
      const { committed, failed, firstError } = await leader.e2e('timedBurst', BURST);
      posts += committed;
      console.log(`${posts} posts, stored chars ${(await each(STORED_CHARS)).join('/')}, ${(await each(STATE)).join(' ')}`);
      if (!failed) continue;
      for (let second = 1; second <= 4; second++) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        console.log(`+${second} s: ${(await each(STATE)).join(' ')}`);
      }
      for (const tab of cluster.tabs) console.log(tab.label, await tab.evaluate('JSON.stringify(flotilla.timeline().slice(-1))'));
      return { posts, first_error: JSON.stringify(firstError) };
    }
  },
};

await main([capacity], 'browser', { bench: true });
