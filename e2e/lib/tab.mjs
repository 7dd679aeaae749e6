// One browser tab running the app: open, read the node through `window.flotilla`, drive it, and
// do to it what a person or the OS does to a tab (reload, close, freeze, cover it with another).
//
// Every tab gets a window of its own, so that all of them stay visible as side-by-side windows
// would: tabs sharing a window would be hidden (and throttled) behind the active one. Scenario 7
// hides one on purpose by opening a tab over it in its window.
import { installE2e } from './in-page.mjs';
import { waitFor } from './wait.mjs';

/// Lines of console output kept per tab for failure reports.
const CONSOLE_LINES = 200;

/// Everything the hook tells, read in one round trip. `null` until the node has started.
const READ_STATE = `(() => {
  const f = window.flotilla;
  if (!f || !f.ready) return null;
  return {
    nodeId: f.nodeId, name: f.name, room: f.room, role: f.role, leader: f.leader, term: f.term,
    commit: f.commit, applied: f.applied, lastIndex: f.lastIndex, committedCount: f.committedCount,
    voters: f.voters, learners: f.learners, isMember: f.isMember, paused: f.paused,
    isolated: f.isolated, lastElection: f.lastElection, visibility: document.visibilityState,
    timeOrigin: performance.timeOrigin,
  };
})()`;

export class Tab {
  /// A blank tab in a new window of browser context `contextId`, its console recorded. Then
  /// `navigate` loads the app.
  static async create(browser, { contextId, label }) {
    const { targetId } = await browser.send('Target.createTarget', {
      url: 'about:blank',
      browserContextId: contextId,
      newWindow: true,
    });
    const tab = new Tab(browser, targetId, contextId, label);
    await tab.attach();
    return tab;
  }

  constructor(browser, targetId, contextId, label) {
    this.browser = browser;
    this.targetId = targetId;
    this.contextId = contextId;
    this.label = label;
    this.sessionId = undefined;
    this.console = [];
    this.closed = false;
    /// Whether a tab opened over this one hides it (scenario 7).
    this.covered = false;
    /// When the last navigation or reload started, and when its node had started (epoch ms).
    this.loadStartedAt = undefined;
    this.readyAt = undefined;
  }

  async attach() {
    const { sessionId } = await this.browser.send('Target.attachToTarget', {
      targetId: this.targetId,
      flatten: true,
    });
    this.sessionId = sessionId;
    const on = (method, listener) => this.browser.on(sessionId, method, listener);
    on('Runtime.consoleAPICalled', ({ type, args }) =>
      this.log(type, args.map((arg) => arg.value ?? arg.description ?? arg.type).join(' ')),
    );
    on('Runtime.exceptionThrown', ({ exceptionDetails: d }) =>
      this.log('exception', d.exception?.description ?? d.text),
    );
    on('Log.entryAdded', ({ entry }) => this.log(`log.${entry.level}`, `${entry.text} ${entry.url ?? ''}`.trim()));
    on('Inspector.targetCrashed', () => this.log('crash', 'the renderer crashed'));
    await Promise.all([
      this.send('Runtime.enable'),
      this.send('Page.enable'),
      this.send('Log.enable'),
    ]);
  }

  log(kind, text) {
    const at = new Date().toISOString().slice(11, 23);
    this.console.push(`${at} ${kind}: ${text}`);
    this.console.splice(0, Math.max(0, this.console.length - CONSOLE_LINES));
  }

  /// Console errors and uncaught exceptions seen so far (the UI must have none).
  errors() {
    return this.console.filter((line) => / (error|exception|crash|log\.error): /.test(line));
  }

  send(method, params = {}) {
    return this.browser.send(method, params, this.sessionId);
  }

  /// Loads `url` and waits for the node to start.
  async navigate(url, readyTimeoutMs = 10_000) {
    this.loadStartedAt = Date.now();
    await this.send('Page.navigate', { url });
    await this.whenReady(readyTimeoutMs);
  }

  /// Reloads the page (sessionStorage survives: the same node restarts) and waits for the node.
  async reload(readyTimeoutMs = 10_000) {
    this.loadStartedAt = Date.now();
    await this.send('Page.reload');
    // The old document's hook may still answer for a moment: wait for the new one.
    await waitFor(`${this.label} to unload`, async () => (await this.evaluate('window.__e2e === undefined')), {
      timeoutMs: readyTimeoutMs,
    });
    await this.whenReady(readyTimeoutMs);
  }

  async whenReady(timeoutMs) {
    await waitFor(`${this.label}'s node to start`, () => this.state(), { timeoutMs, everyMs: 10 });
    this.readyAt = Date.now();
    await this.evaluate(`(${installE2e})()`);
  }

  /// Runs `expression` in the page; returns its value (awaiting a promise). A thrown error or a
  /// rejected promise throws here with the page's message.
  async evaluate(expression) {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    if (exceptionDetails) {
      const reason = exceptionDetails.exception?.value ?? exceptionDetails.exception?.description ?? exceptionDetails.text;
      throw new Error(`${this.label}: ${reason}`);
    }
    return result.value;
  }

  /// Calls `window.__e2e[name](...args)` (see in-page.mjs).
  e2e(name, ...args) {
    return this.evaluate(`window.__e2e.${name}(...${JSON.stringify(args)})`);
  }

  /// Calls `window.flotilla[name](...args)` (the app's hook).
  hook(name, ...args) {
    return this.evaluate(`window.flotilla.${name}(...${JSON.stringify(args)})`);
  }

  /// The node as the hook reports it, or `null` before it started.
  state() {
    return this.evaluate(READ_STATE);
  }

  /// Appends one post; resolves with its committed index.
  append(text) {
    return this.hook('append', text);
  }

  /// Every committed post of this tab's shared log.
  posts() {
    return this.hook('posts');
  }

  /// Clicks a control of the UI by its element id (e.g. `isolate`, `pause`).
  async click(id) {
    const found = await this.evaluate(`(() => {
      const button = document.getElementById(${JSON.stringify(id)});
      if (!button) return false;
      button.click();
      return true;
    })()`);
    if (!found) throw new Error(`${this.label}: no #${id} control in the UI`);
  }

  /// The DevTools "frozen" lifecycle state: no tasks and no timers in the page and its workers.
  /// Chromium 156 also closes a frozen page's WebSocket ("Page entered Back-Forward Cache") and
  /// its peer connections, so the other tabs see this one leave: a freeze with a goodbye.
  freeze() {
    return this.send('Page.setWebLifecycleState', { state: 'frozen' });
  }

  unfreeze() {
    return this.send('Page.setWebLifecycleState', { state: 'active' });
  }

  /// The UI's Pause button: the node stops ticking and holds its input, its channels stay open,
  /// as a stopped process would. A freeze without a goodbye: the others notice only by timeout.
  async pause() {
    await this.click('pause');
    if (!(await this.state()).paused) throw new Error(`${this.label}: the Pause button did not pause`);
  }

  /// The same button resumes.
  async resume() {
    await this.click('pause');
    if ((await this.state()).paused) throw new Error(`${this.label}: the Pause button did not resume`);
  }

  /// Hides this tab the way a person does: opens another tab over it in its window (what a link
  /// opened in a new tab does), then checks that the page really reports `hidden`.
  async hide() {
    // `window.open` needs a user gesture to get past the popup blocker; `userGesture` is one.
    // (CDP's `Target.createTarget` would open the tab in whichever window was active last.)
    const { exceptionDetails } = await this.send('Runtime.evaluate', {
      expression: `window.__cover = window.open('about:blank', '_blank'); !!window.__cover`,
      userGesture: true,
    });
    if (exceptionDetails) throw new Error(`${this.label}: cannot open a tab over it: ${exceptionDetails.text}`);
    this.covered = true;
    await waitFor(`${this.label} to be hidden`, async () => (await this.evaluate('document.visibilityState')) === 'hidden', {
      timeoutMs: 2_000,
    });
  }

  /// Closes the covering tab: this one is shown again.
  async show() {
    if (!this.covered) return;
    await this.evaluate('window.__cover.close()');
    this.covered = false;
    await waitFor(`${this.label} to be visible`, async () => (await this.evaluate('document.visibilityState')) === 'visible', {
      timeoutMs: 2_000,
    });
  }

  /// A PNG of the page laid out at `width`×`height` CSS pixels (the window's own size leaves
  /// less than its height to the page).
  async screenshot({ width = 1280, height = 800 } = {}) {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    // Two animation frames: the app lays out for the new size and paints.
    await this.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    await this.send('Emulation.clearDeviceMetricsOverride');
    return Buffer.from(data, 'base64');
  }

  /// Closes the tab as a person would (its `pagehide` runs), and stops listening to it.
  async close() {
    if (this.closed) return;
    this.closed = true;
    if (this.covered) await this.evaluate('window.__cover.close()').catch(() => {});
    await this.browser.send('Target.closeTarget', { targetId: this.targetId }).catch(() => {});
    this.browser.forget(this.sessionId);
  }

  /// What a failure report shows of this tab: the node's state, its timeline's last events and
  /// the console's last lines.
  async report() {
    if (this.closed) return `--- ${this.label} (closed)\n${this.console.slice(-20).join('\n')}`;
    const read = (expression) =>
      Promise.race([
        this.evaluate(expression).catch((error) => `unreadable: ${error.message}`),
        new Promise((resolve) => setTimeout(() => resolve('unreadable: no answer in 2 s (frozen?)'), 2_000)),
      ]);
    const state = await read(READ_STATE);
    const timeline = await read(
      `(window.flotilla?.timeline?.() ?? []).slice(-15).map((e) => \`\${(e.at / 1000).toFixed(3)} \${e.kind}: \${e.text}\`)`,
    );
    const events = Array.isArray(timeline) ? timeline.join('\n  ') : timeline;
    return `--- ${this.label} state: ${JSON.stringify(state)}\n  timeline:\n  ${events}\n  console:\n${this.console.slice(-40).join('\n')}`;
  }
}
