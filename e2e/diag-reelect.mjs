// Diagnostic, not run by `cargo xtask`: closes the leader's tab ROUNDS times (env, default 30)
// and prints, for each round, the time to the new leader and its term, and for a slow one (over
// 100 ms; every one with ALL=1) the survivors' timelines around it, on the close's clock (ms
// after the close was asked for). Timeline events say when a goodbye or `peer_left` came and
// when the new leader was elected; a build with more events on it shows more.
//
//   ROUNDS=40 ../shared/tools/isolated-net node e2e/diag-reelect.mjs --dist DIR --server-bin PATH
import { Cluster } from './lib/cluster.mjs';
import { main } from './lib/harness.mjs';
import { form, reelect, SETTLE_MS } from './lib/procedures.mjs';
import { fmt, percentile } from './lib/wait.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 30);

async function events(tab, since) {
  return tab.evaluate(`(() => {
    const origin = performance.timeOrigin;
    return (window.flotilla?.timeline?.() ?? [])
      .map((e) => ({ t: origin + e.at - ${since}, text: e.kind + ': ' + e.text }))
      .filter((e) => e.t > -100);
  })()`);
}

const diag = {
  id: 1,
  name: 'diag_reelect',
  timeoutMs: 600_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'diag-reelect');
    await form(cluster, 3);
    const times = [];
    for (let round = 0; round < ROUNDS; round++) {
      let start;
      const { ms, oldLeader, term } = await reelect(cluster, async (leader) => {
        start = Date.now();
        await cluster.close(leader);
      });
      times.push(ms);
      const lines = [];
      for (const tab of cluster.tabs) {
        for (const e of await events(tab, start)) lines.push(`${e.t.toFixed(1).padStart(7)} ${tab.label}: ${e.text}`);
      }
      lines.sort((a, b) => parseFloat(a) - parseFloat(b));
      console.log(`round ${round} closed ${oldLeader.label}: ${ms} ms term ${term}${ms > 100 ? '  SLOW' : ''}`);
      if (ms > 100 || process.env.ALL) console.log(lines.map((l) => '   ' + l).join('\n'));
      await cluster.open(1);
      await cluster.waitForAgreement({ timeoutMs: 10_000, stableMs: SETTLE_MS });
    }
    return { p50_ms: fmt(percentile(times, 50)), p99_ms: fmt(percentile(times, 99)), times: times.join(',') };
  },
};

await main([diag], 'diag', { bench: true });
