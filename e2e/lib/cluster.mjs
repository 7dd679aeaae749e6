// A cluster of tabs in one room: open them, ask whether they agree, and check their logs.
//
// Each cluster gets a browser context of its own (its own sessionStorage and BroadcastChannel,
// like a separate browser profile) and a room of its own, so scenarios cannot see each other's
// tabs even when one leaves something behind.
import { Tab } from './tab.mjs';
import { waitFor } from './wait.mjs';

let clusters = 0;

export class Cluster {
  /// A new, empty cluster named `name` (the room is `e2e-${name}-N`).
  static async create(harness, name) {
    const { browserContextId } = await harness.browser.send('Target.createBrowserContext', {
      disposeOnDetach: true,
    });
    const cluster = new Cluster(harness, browserContextId, `e2e-${name}-${++clusters}`);
    harness.clusters.push(cluster);
    return cluster;
  }

  constructor(harness, contextId, room) {
    this.harness = harness;
    this.browser = harness.browser;
    this.contextId = contextId;
    this.room = room;
    /// Live tabs, oldest first. Closed tabs move to `gone` (their console stays readable).
    this.tabs = [];
    this.gone = [];
    this.opened = 0;
  }

  get url() {
    return `${this.harness.server.url}/?room=${encodeURIComponent(this.room)}`;
  }

  /// Opens `count` tabs at once (as a person opening several quickly) and waits for their nodes.
  async open(count = 1) {
    const tabs = await Promise.all(
      Array.from({ length: count }, () =>
        Tab.create(this.browser, { contextId: this.contextId, label: `tab${++this.opened}` }),
      ),
    );
    // Members before they load, so that a failure report shows their consoles.
    this.tabs.push(...tabs);
    await Promise.all(tabs.map((tab) => tab.navigate(this.url)));
    return tabs;
  }

  /// Closes `tab` and forgets it as a member.
  async close(tab) {
    await tab.close();
    this.tabs = this.tabs.filter((t) => t !== tab);
    this.gone.push(tab);
  }

  /// Every live tab's state, in `tabs` order.
  states(tabs = this.tabs) {
    return Promise.all(tabs.map((tab) => tab.state()));
  }

  /// Whether `tabs` agree: exactly one leader, whom every tab follows in one term, and whose
  /// voters are exactly these tabs. Returns `{leader, term, states}` or `null`.
  async agreement(tabs = this.tabs) {
    const states = await this.states(tabs);
    if (states.some((s) => s === null)) return null;
    const leaders = states.filter((s) => s.role === 'leader');
    if (leaders.length !== 1) return null;
    const [lead] = leaders;
    const ids = states.map((s) => s.nodeId).sort();
    const voters = [...(lead.voters ?? [])].sort();
    const agreed =
      states.every((s) => s.leader === lead.nodeId && s.term === lead.term && s.isMember) &&
      JSON.stringify(voters) === JSON.stringify(ids);
    if (!agreed) return null;
    return { leader: tabs[states.indexOf(lead)], term: lead.term, states };
  }

  /// Waits for `agreement` among `tabs`, holding unchanged (same leader and term) for at least
  /// `stableMs`.
  async waitForAgreement({ timeoutMs, tabs = this.tabs, stableMs = 0, what = 'one leader followed by every tab, every tab a voter' }) {
    const describe = () => this.summary(tabs);
    let since;
    let held;
    return waitFor(
      stableMs ? `${what}, for ${stableMs} ms` : what,
      async () => {
        const now = await this.agreement(tabs);
        if (!now || now.leader !== held?.leader || now.term !== held?.term) {
          since = Date.now();
          held = now;
        }
        return now && Date.now() - since >= stableMs ? now : null;
      },
      { timeoutMs, describe },
    );
  }

  /// Waits until `tabs` have committed and applied the same log, then checks that their shared
  /// logs are equal post for post. Returns the common log.
  async waitForSameLog({ timeoutMs, tabs = this.tabs }) {
    await waitFor(
      'every tab to commit and apply the same log',
      async () => {
        const states = await this.states(tabs);
        if (states.some((s) => s === null)) return false;
        const [first] = states;
        return states.every(
          (s) => s.commit === first.commit && s.applied === s.commit && s.committedCount === first.committedCount,
        );
      },
      { timeoutMs, describe: () => this.summary(tabs) },
    );
    const logs = await Promise.all(tabs.map((tab) => tab.posts()));
    const reference = JSON.stringify(logs[0]);
    logs.forEach((log, i) => {
      if (JSON.stringify(log) !== reference) {
        throw new Error(`${tabs[i].label}'s shared log differs from ${tabs[0].label}'s (${log.length} vs ${logs[0].length} posts)`);
      }
    });
    return logs[0];
  }

  /// One line per tab: role, term, leader, indexes. For timeouts.
  async summary(tabs = this.tabs) {
    const states = await this.states(tabs).catch(() => tabs.map(() => null));
    return states
      .map((s, i) =>
        s
          ? `${tabs[i].label}=${s.nodeId}:${s.role} t${s.term} L${s.leader} c${s.commit}/${s.lastIndex} n${s.committedCount} v[${s.voters}]${s.paused ? ' paused' : ''}${s.isolated ? ' isolated' : ''}`
          : `${tabs[i].label}=not started`,
      )
      .join('; ');
  }

  /// Every tab's state and console, for a failure report.
  async report() {
    const parts = [`=== room ${this.room}`];
    for (const tab of [...this.tabs, ...this.gone]) parts.push(await tab.report());
    return parts.join('\n');
  }

  /// Closes every tab and the context.
  async dispose() {
    await this.browser.send('Target.disposeBrowserContext', { browserContextId: this.contextId }).catch(() => {});
    for (const tab of this.tabs) {
      tab.closed = true;
      this.browser.forget(tab.sessionId);
    }
  }
}

/// Checks that every acknowledged append is in `log` exactly once. `acked` is `[{text, index}]`
/// (texts are unique per run), `log` the committed posts. Throws otherwise.
export function checkAcknowledged(acked, log) {
  const counts = new Map();
  for (const post of log) counts.set(post.text, (counts.get(post.text) ?? 0) + 1);
  const missing = acked.filter((a) => !counts.has(a.text));
  const doubled = acked.filter((a) => counts.get(a.text) > 1);
  if (missing.length || doubled.length) {
    throw new Error(
      `${acked.length} acknowledged appends: ${missing.length} missing (e.g. ${JSON.stringify(missing.slice(0, 3))}), ` +
        `${doubled.length} more than once (e.g. ${JSON.stringify(doubled.slice(0, 3))})`,
    );
  }
}
