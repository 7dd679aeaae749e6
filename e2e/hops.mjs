// Where one commit's milliseconds go, hop by hop: a 3-tab cluster whose pages record (before the
// app loads) every data channel send, every data channel message handled, every sessionStorage
// write and every message to the ticker worker, each with its start time on the shared wall clock
// (`performance.timeOrigin + performance.now()`) and its duration. Then single appends at light
// load from the leader and from a follower, and for each the events of all tabs inside it, in
// order, as offsets from the append: the median offset and duration of each step. With
// HOPS_CLOSED_LOOP=1, also each tab's main-thread time during the benchmark's closed loop.
//
//   ../shared/tools/isolated-net node e2e/hops.mjs --dist DIR --server-bin PATH
//
// A diagnostic, like profile.mjs: not part of the suite or the benchmark.
import { Cluster } from './lib/cluster.mjs';
import { main } from './lib/harness.mjs';
import { Tab } from './lib/tab.mjs';

const APPENDS = Number(process.env.HOPS_APPENDS ?? 100);
const GAP_MS = 20;

/// Installed before the app's script: wraps the browser calls on the hot path.
function recorder() {
  const clock = () => performance.timeOrigin + performance.now();
  const events = [];
  window.__hops = { events, on: false };
  const wrap = (proto, name, kind) => {
    const original = proto[name];
    proto[name] = function (...args) {
      if (!window.__hops.on) return original.apply(this, args);
      const at = clock();
      try {
        return original.apply(this, args);
      } finally {
        events.push([kind, at, clock() - at, kind === 'send' ? args[0].byteLength : 0]);
      }
    };
  };
  wrap(RTCDataChannel.prototype, 'send', 'send');
  wrap(Storage.prototype, 'setItem', 'setItem');
  wrap(Worker.prototype, 'postMessage', 'worker.post');
  const add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if (type === 'message' && (this instanceof RTCDataChannel || this instanceof Worker)) {
      const kind = this instanceof Worker ? 'tick' : 'recv';
      const inner = listener;
      listener = function (event) {
        if (!window.__hops.on) return inner.call(this, event);
        const at = clock();
        try {
          return inner.call(this, event);
        } finally {
          events.push([kind, at, clock() - at, event.data?.byteLength ?? 0]);
        }
      };
    }
    return add.call(this, type, listener, options);
  };
  // Long tasks (over 50 ms), with what the browser did after the script: a view's style,
  // layout and paint are not inside the animation frame callback.
  new PerformanceObserver((list) => {
    if (!window.__hops.on) return;
    for (const entry of list.getEntries()) {
      const script = entry.scripts?.map((s) => `${s.invoker || s.name} ${s.duration.toFixed(0)}`).join('; ') ?? '';
      const layout = entry.styleAndLayoutStart ? entry.startTime + entry.duration - entry.styleAndLayoutStart : 0;
      const render = entry.renderStart ? entry.startTime + entry.duration - entry.renderStart : 0;
      events.push(['long:' + entry.entryType + ` render ${render.toFixed(0)} layout ${layout.toFixed(0)} [${script}]`, performance.timeOrigin + entry.startTime, entry.duration, 0]);
    }
  }).observe({ type: 'long-animation-frame', buffered: false });
  // Animation frames (views) and timers, which may delay a hop.
  const raf = window.requestAnimationFrame;
  window.requestAnimationFrame = function (callback) {
    return raf.call(window, (t) => {
      if (!window.__hops.on) return callback(t);
      const at = clock();
      try {
        return callback(t);
      } finally {
        events.push(['frame', at, clock() - at, 0]);
      }
    });
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/// Main-thread time of each tab during `during()`, by the page's own counters (CDP
/// `Performance.getMetrics`): tasks, script, style and layout, in ms per second.
async function mainThread(cluster, label, during) {
  const read = async (tab) => {
    const { metrics } = await tab.send('Performance.getMetrics');
    return Object.fromEntries(metrics.map(({ name, value }) => [name, value]));
  };
  for (const tab of cluster.tabs) await tab.send('Performance.enable', { timeDomain: 'threadTicks' });
  const before = await Promise.all(cluster.tabs.map(read));
  const start = Date.now();
  await during();
  const seconds = (Date.now() - start) / 1000;
  const after = await Promise.all(cluster.tabs.map(read));
  for (let i = 0; i < cluster.tabs.length; i++) {
    const per = (name) => ((1000 * (after[i][name] - before[i][name])) / seconds).toFixed(0).padStart(4);
    console.log(`  ${label} ${cluster.tabs[i].label}: main thread ms/s: tasks ${per('TaskDuration')} script ${per('ScriptDuration')} style ${per('RecalcStyleDuration')} layout ${per('LayoutDuration')} (${seconds.toFixed(1)} s)`);
  }
}

async function measure(cluster, proposer, label) {
  for (const tab of cluster.tabs) await tab.evaluate('window.__hops.events.length = 0, window.__hops.on = true');
  const appends = await proposer.evaluate(`(async () => {
    const out = [];
    for (let n = 1; n <= ${APPENDS}; n++) {
      const start = performance.timeOrigin + performance.now();
      await window.flotilla.append('hop-${label}-' + n);
      out.push([start, performance.timeOrigin + performance.now()]);
      await new Promise((resolve) => setTimeout(resolve, ${GAP_MS}));
    }
    return out;
  })()`);
  const events = [];
  for (const tab of cluster.tabs) {
    const role = tab === proposer ? 'P' : (await tab.state()).role === 'leader' ? 'L' : 'F';
    const tabEvents = await tab.evaluate('(window.__hops.on = false, window.__hops.events)');
    for (const [kind, at, ms, bytes] of tabEvents) events.push({ tab: `${tab.label}/${role}`, kind, at, ms, bytes });
  }
  events.sort((a, b) => a.at - b.at);
  // Per append: its events in order, keyed by position (tab, kind, nth) so that appends line up.
  const steps = new Map();
  const latencies = [];
  for (const [start, end] of appends) {
    latencies.push(end - start);
    const seen = new Map();
    for (const e of events) {
      if (e.at < start || e.at > end) continue;
      const base = `${e.tab} ${e.kind}`;
      const nth = (seen.get(base) ?? 0) + 1;
      seen.set(base, nth);
      const key = `${base}#${nth}`;
      const step = steps.get(key) ?? { offsets: [], durations: [], bytes: [] };
      step.offsets.push(e.at - start);
      step.durations.push(e.ms);
      step.bytes.push(e.bytes);
      steps.set(key, step);
    }
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))].toFixed(2);
  console.log(`\n=== ${APPENDS} appends from the ${label} (${proposer.label}), ${GAP_MS} ms apart: latency p50 ${p(50)} p90 ${p(90)} p99 ${p(99)} ms`);
  console.log('  step (tab/role kind#n)            in % of appends   median start  median duration  bytes');
  const rows = [...steps.entries()]
    .filter(([, s]) => s.offsets.length >= APPENDS / 5)
    .sort((a, b) => median(a[1].offsets) - median(b[1].offsets));
  for (const [key, s] of rows) {
    const share = ((100 * s.offsets.length) / APPENDS).toFixed(0);
    console.log(`  ${key.padEnd(34)} ${share.padStart(4)}%  ${median(s.offsets).toFixed(3).padStart(12)}  ${median(s.durations).toFixed(3).padStart(14)}  ${median(s.bytes)}`);
  }
  // Long animation frames (over 50 ms) of each tab during the appends, and how long they were.
  for (const tab of cluster.tabs) {
    const frames = events.filter((e) => e.tab.startsWith(tab.label + '/') && e.kind.startsWith('long:'));
    // HOPS_LOAF=1: each long frame, with its rendering and layout time and its scripts.
    if (process.env.HOPS_LOAF) for (const e of frames) console.log(`    ${e.ms.toFixed(0)} ms ${e.kind}`);
    const long = frames.map((e) => e.ms).sort((a, b) => a - b);
    const total = long.reduce((sum, ms) => sum + ms, 0);
    console.log(`  long animation frames ${tab.label}: ${long.length}, median ${(long[long.length >> 1] ?? 0).toFixed(0)} ms, max ${(long.at(-1) ?? 0).toFixed(0)} ms, total ${total.toFixed(0)} ms`);
  }
  // Long events that overlapped appends: what the slow ones waited for.
  const slow = appends.map(([s, e]) => [s, e, e - s]).sort((a, b) => b[2] - a[2]).slice(0, 5);
  for (const [start, end, ms] of slow) {
    const inside = events.filter((e) => e.at + e.ms >= start && e.at <= end && e.ms > 1);
    console.log(`  slow append ${ms.toFixed(1)} ms; long events in it: ${inside.map((e) => `${e.tab} ${e.kind} ${e.ms.toFixed(1)} ms at ${(e.at - start).toFixed(1)}`).join(', ') || 'none'}`);
  }
}

const hops = {
  id: 1,
  name: 'hops',
  timeoutMs: 120_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, process.env.HOPS_ROOM ?? 'hops');
    const tabs = await Promise.all(
      [1, 2, 3].map((i) => Tab.create(cluster.browser, { contextId: cluster.contextId, label: `tab${i}` })),
    );
    cluster.opened = 3;
    cluster.tabs.push(...tabs);
    for (const tab of tabs) await tab.send('Page.addScriptToEvaluateOnNewDocument', { source: `(${recorder})()` });
    await Promise.all(tabs.map((tab) => tab.navigate(cluster.url)));
    const { leader } = await cluster.waitForAgreement({ timeoutMs: 15_000 });
    const follower = cluster.tabs.find((tab) => tab !== leader);
    if (process.env.HOPS_HIDE) {
      // A/B: the same appends with part of the page not rendered (a CSS selector, e.g. 'body').
      const hide = JSON.stringify(process.env.HOPS_HIDE);
      for (const tab of cluster.tabs) await tab.evaluate(`document.querySelectorAll(${hide}).forEach((e) => e.style.display = 'none')`);
    }
    await leader.e2e('spacedAppends', 'warm', 50, 5);
    await mainThread(cluster, 'idle', () => new Promise((resolve) => setTimeout(resolve, 3_000)));
    await mainThread(cluster, 'appends from the leader', () => measure(cluster, leader, 'leader'));
    await mainThread(cluster, 'appends from a follower', () => measure(cluster, follower, 'follower'));
    if (process.env.HOPS_CLOSED_LOOP) {
      // The benchmark's closed loop (every tab, one append at a time): is a tab's main thread
      // the limit (tasks near 1000 ms/s), or do writes wait on something else?
      let writes = 0;
      await mainThread(cluster, 'closed loop, every tab', async () => {
        const results = await Promise.all(cluster.tabs.map((tab) => tab.e2e('closedLoop', `${tab.label}-loop`, 3_000)));
        writes = results.reduce((sum, r) => sum + r.committed, 0);
      });
      console.log(`  closed loop: ${Math.round(writes / 3)} writes/s`);
    }
    return {};
  },
};

await main([hops], 'hops', { bench: true });
