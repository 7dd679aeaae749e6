// What scenarios and benchmarks do to a cluster, written once: form it, keep writers appending,
// knock out the leader and time the next one, read the inspector.
import { checkAcknowledged } from './cluster.mjs';
import { waitFor } from './wait.mjs';

/// Opens `count` tabs in `cluster` and waits until they agree (one leader, all voters).
/// Returns the agreement and how long it took from the first tab's page load (ms).
export async function form(cluster, count, { timeoutMs = 15_000 } = {}) {
  const start = Date.now();
  await cluster.open(count);
  const agreement = await cluster.waitForAgreement({ timeoutMs });
  return { ...agreement, ms: Date.now() - start };
}

/// The acknowledged appends of writers running in several tabs (see in-page.mjs `Writer`),
/// gathered as the harness collects them, to check against the final log.
export class Writers {
  constructor() {
    this.acked = [];
    this.failures = [];
    this.started = 0;
  }

  /// Starts a writer in each of `tabs`. Texts are prefixed by the tab's label and a count of
  /// writers started, so they stay unique even if a tab gets a second writer after a reload.
  async start(tabs, { inFlight = 1, gapMs = 0 } = {}) {
    await Promise.all(tabs.map((tab) => tab.e2e('startWriter', `${tab.label}.${++this.started}`, inFlight, gapMs)));
  }

  /// Collects what `tab`'s writer acknowledged so far (before closing the tab, say).
  async take(tab) {
    this.add(await tab.e2e('takeAcks'));
  }

  /// Stops the writers of `tabs` and collects the rest.
  async stop(tabs) {
    for (const result of await Promise.all(tabs.map((tab) => tab.e2e('stopWriter')))) this.add(result);
  }

  add({ acked, failures }) {
    this.acked.push(...acked);
    this.failures.push(...failures);
  }

  /// Throws unless every acknowledged append is in `log` exactly once.
  check(log) {
    if (this.acked.length === 0) throw new Error('no append was acknowledged');
    checkAcknowledged(this.acked, log);
  }
}

/// When the node in `state` became leader of its current term (epoch ms), by its own record.
function electedAt(state) {
  const e = state.lastElection;
  if (!e || e.term !== state.term || e.leader !== state.nodeId) return undefined;
  return state.timeOrigin + e.at;
}

/// Waits until one of `tabs` leads in a term above `oldTerm` and every one of `tabs` follows it.
/// Returns `{ leader, term, at }`, `at` being when it became leader (epoch ms; when it was seen,
/// if the node did not record it).
export async function waitForNewLeader(cluster, tabs, { oldTerm, timeoutMs }) {
  return waitFor(
    `a new leader (term above ${oldTerm}) followed by ${tabs.map((t) => t.label).join(', ')}`,
    async () => {
      const states = await cluster.states(tabs);
      const lead = states.find((s) => s?.role === 'leader' && s.term > oldTerm);
      if (!lead || !states.every((s) => s && s.leader === lead.nodeId && s.term === lead.term)) return null;
      return { leader: tabs[states.indexOf(lead)], term: lead.term, at: electedAt(lead) ?? Date.now() };
    },
    { timeoutMs, everyMs: 10, describe: () => cluster.summary(tabs) },
  );
}

/// How long an agreement must hold before the next fault of a series. Membership changes trail
/// an election by a few membership rounds (100 ms each): a fault that hits the new leader while
/// it still removes or admits a tab measures two faults at once, not one.
export const SETTLE_MS = 500;

/// Knocks out the agreed leader with `fault(leaderTab)` (close it, freeze it, ...) and times the
/// next leader among the other tabs: ms from just before the fault to the new leader's election.
export async function reelect(cluster, fault, { timeoutMs = 5_000 } = {}) {
  const { leader, term } = await cluster.waitForAgreement({ timeoutMs: 10_000 });
  const others = cluster.tabs.filter((tab) => tab !== leader);
  const start = Date.now();
  await fault(leader);
  const next = await waitForNewLeader(cluster, others, { oldTerm: term, timeoutMs });
  return { oldLeader: leader, newLeader: next.leader, term: next.term, ms: Math.max(0, Math.round(next.at - start)) };
}

/// The "snapshot" index the node inspector shows (the hook has none yet).
export async function inspectorSnapshotIndex(tab) {
  return tab.evaluate(`(() => {
    for (const dt of document.querySelectorAll('.panel-inspector dt')) {
      if (dt.textContent.trim() === 'snapshot') return Number(dt.nextElementSibling.textContent);
    }
    return null;
  })()`);
}

/// Closes the leader's tab `rounds` times, a new tab taking its place each time (so the cluster
/// keeps its size). `writers`, if given, keep appending in every tab, new ones included.
/// Returns the time to each new leader (ms).
export async function closeLeaderRounds(cluster, rounds, writers = undefined) {
  const times = [];
  for (let round = 0; round < rounds; round++) {
    const { ms } = await reelect(cluster, async (leader) => {
      // What the closing tab's writer was told until now counts; it cannot report later.
      if (writers) await writers.take(leader);
      await cluster.close(leader);
    });
    times.push(ms);
    const [fresh] = await cluster.open(1);
    if (writers) await writers.start([fresh], { inFlight: 2 });
    await cluster.waitForAgreement({ timeoutMs: 10_000, stableMs: SETTLE_MS });
  }
  return times;
}

/// The two ways to freeze a tab (see `Tab.pause` and `Tab.freeze`).
export const FREEZES = {
  /// The UI's Pause: silent, the others must wait out their election timeout.
  pause: { freeze: (tab) => tab.pause(), thaw: (tab) => tab.resume() },
  /// DevTools' lifecycle "frozen": Chromium closes the page's connections.
  lifecycle: { freeze: (tab) => tab.freeze(), thaw: (tab) => tab.unfreeze() },
};

/// Freezes the leader's tab `rounds` times, the `FREEZES` way `how`; each time, once a new
/// leader is elected, thaws it and waits until it follows again. Returns the time to each new
/// leader (ms).
export async function freezeLeaderRounds(cluster, rounds, how = 'pause') {
  const { freeze, thaw } = FREEZES[how];
  const times = [];
  for (let round = 0; round < rounds; round++) {
    const { oldLeader, ms } = await reelect(cluster, freeze);
    times.push(ms);
    await thaw(oldLeader);
    await cluster.waitForAgreement({ timeoutMs: 10_000, stableMs: SETTLE_MS });
  }
  return times;
}

/// Opens one more tab and waits until it is a voter and has the cluster's whole log. Returns the
/// tab and the time from its page load (ms).
export async function joinOne(cluster) {
  const target = Math.max(0, ...(await cluster.states()).map((state) => state?.commit ?? 0));
  const [tab] = await cluster.open(1);
  // From the page load to a voter holding what the cluster had committed when it loaded, on
  // the page's clock (as re-election times are); the checks below are not timed.
  const at = await tab.e2e('whenVoterAt', target);
  const timeOrigin = await tab.evaluate('performance.timeOrigin');
  await cluster.waitForAgreement({ timeoutMs: 15_000 });
  const log = await cluster.waitForSameLog({ timeoutMs: 15_000 });
  return { tab, log, ms: Math.round(timeOrigin + at - tab.loadStartedAt) };
}
