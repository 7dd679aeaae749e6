// Scenario 7: hide the leader's tab for 30 s; no election happens.
//
// Hidden the way people hide tabs: another tab opened over it in its window. Chromium then
// reports it `hidden` and throttles its main-thread timers to once a second (shared/NOTES.md);
// a leader whose heartbeats came from those timers would be deposed within a second. Headless
// Chromium has no minimised or occluded windows, but a covered tab is hidden for real (the page
// sees `visibilitychange`), which is why the harness drives Chromium without Playwright (see
// lib/cdp.mjs). Meanwhile a follower keeps appending, so the hidden leader also has work to do.
import { Cluster } from '../lib/cluster.mjs';
import { form } from '../lib/procedures.mjs';
import { sleep } from '../lib/wait.mjs';

const TABS = 3;
const HIDDEN_MS = 30_000;
const CHECK_EVERY_MS = 1_000;

export default {
  id: 7,
  name: 'hide_leader',
  timeoutMs: 60_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'hide');
    const { leader, term } = await form(cluster, TABS);
    const { nodeId } = await leader.state();
    const follower = cluster.tabs.find((tab) => tab !== leader);
    // Proof that the hide is real: a main-thread timer of the page, which Chromium throttles to
    // about 1 Hz in a hidden page (10 Hz when visible).
    await leader.evaluate('window.__ticks = 0; window.__timer = setInterval(() => window.__ticks++, 100)');
    await leader.hide();
    const hiddenAt = Date.now();
    const end = Date.now() + HIDDEN_MS;
    let appended = 0;
    while (Date.now() < end) {
      await follower.append(`while hidden ${appended++}`);
      const states = await cluster.states();
      if (states.some((s) => s.term !== term || s.leader !== nodeId)) throw new Error(`election while the leader was hidden: ${await cluster.summary()}`);
      if ((await leader.evaluate('document.visibilityState')) !== 'hidden') throw new Error('the leader tab became visible');
      await sleep(CHECK_EVERY_MS);
    }
    const timerHz = (await leader.evaluate('window.__ticks')) / ((Date.now() - hiddenAt) / 1000);
    await leader.show();
    await leader.evaluate('clearInterval(window.__timer)');
    if (timerHz > 3) throw new Error(`the hidden page's timers ran at ${timerHz.toFixed(1)} Hz: it was not throttled`);
    await cluster.waitForAgreement({ timeoutMs: 5_000 });
    await cluster.waitForSameLog({ timeoutMs: 10_000 });
    return { hidden_s: HIDDEN_MS / 1000, page_timer_hz: timerHz.toFixed(1), appends_while_hidden: appended };
  },
};
