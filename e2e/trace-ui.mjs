// What a view costs each tab: a 3-tab cluster, spaced single appends from the leader (100, 20 ms
// apart, like the latency benchmark), with a Chrome trace of the whole browser. Per tab: the
// views (animation frames that ran the app's callback) and their CPU time (trace `tdur`, so
// that a loaded machine does not inflate it) split into the callback (the runtime's view and
// Yew's render), style, layout, pre-paint and paint.
//
//   ../shared/tools/isolated-net node e2e/trace-ui.mjs --dist DIR --server-bin PATH
//
// Options (environment): TRACE_APPENDS=N; TRACE_FRAME=1 lists what the view tasks hold by trace
// event; TRACE_VERBOSE=1 all main-thread events, long tasks, layout sizes and (with
// TRACE_INVAL=1, slow) the DOM nodes that invalidated style and layout; TRACE_WALL=1 wall time
// instead of CPU time; TRACE_MUTATIONS=1 counts DOM mutations by panel instead of tracing;
// TRACE_PROFILE=1 takes CPU profiles instead (build without wasm-opt, with data-keep-debug, to see
// Rust names), time under functions matching TRACE_PATTERN and self time; TRACE_SHOT=PATH saves
// the leader's screenshots after the appends (PATH-top.png, PATH-end.png with the shared log
// scrolled to its end). A diagnostic, like hops.mjs: not part of the suite or the benchmark.
import { Cluster } from './lib/cluster.mjs';
import { main } from './lib/harness.mjs';
import { form } from './lib/procedures.mjs';

const N = Number(process.env.TRACE_APPENDS ?? 100);

async function startTrace(browser) {
  const events = [];
  const done = new Promise((resolve) => {
    browser.on('', 'Tracing.dataCollected', ({ value }) => events.push(...value));
    browser.on('', 'Tracing.tracingComplete', resolve);
  });
  await browser.send('Tracing.start', {
    traceConfig: { includedCategories: (process.env.TRACE_INVAL ? ['disabled-by-default-devtools.timeline.invalidationTracking'] : []).concat(['devtools.timeline', 'blink', 'toplevel', 'disabled-by-default-devtools.timeline']) },
    transferMode: 'ReportEvents',
  });
  return async () => {
    await browser.send('Tracing.end');
    await done;
    return events;
  };
}

function summarize(label, events, main) {
  const mine = events.filter((e) => main && e.pid === main.pid && e.tid === main.tid);
  const byName = new Map();
  // Thread time (CPU) when the trace has it: wall time on a loaded machine counts the
  // time other processes held the core.
  const cpu = (e) => (process.env.TRACE_WALL ? e.dur : e.tdur ?? e.dur) ?? 0;
  for (const e of mine) {
    if (e.ph !== 'X') continue;
    const entry = byName.get(e.name) ?? { ms: 0, n: 0, max: 0 };
    entry.ms += cpu(e) / 1000; entry.n++; entry.max = Math.max(entry.max, cpu(e) / 1000);
    byName.set(e.name, entry);
  }
  const views = byName.get('FireAnimationFrame')?.n ?? 0;
  if (views === 0) return;
  const per = (name) => ((byName.get(name)?.ms ?? 0) / views).toFixed(1).padStart(5);
  const frameTasks = mine.filter((e) => e.name === 'RunTask' && e.ph === 'X' && mine.some((f) => f.name === 'FireAnimationFrame' && f.ts >= e.ts && f.ts <= e.ts + e.dur)).map((e) => cpu(e) / 1000).sort((a, b) => b - a);
  console.log(`=== ${label}: ${views} views; per view ms: rAF+yew ${per('FireAnimationFrame')} style ${per('UpdateLayoutTree')} layout ${per('Layout')} prepaint ${per('PrePaint')} paint ${per('Paint')} lifecycle ${per('WebFrameWidgetImpl::UpdateLifecycle')} commit ${per('Commit')}; view tasks ${frameTasks.map((t) => t.toFixed(0)).join(' ')}`);
  if (process.env.TRACE_FRAME) {
    // What the view tasks hold: events inside them by name (nested ones counted in each).
    const tasks = mine.filter((e) => e.name === 'RunTask' && e.ph === 'X' && mine.some((f) => f.name === 'FireAnimationFrame' && f.ts >= e.ts && f.ts <= e.ts + e.dur));
    const inside = new Map();
    for (const e of mine) {
      if (e.ph !== 'X' || e.name === 'RunTask') continue;
      if (!tasks.some((t) => e.ts >= t.ts && e.ts <= t.ts + t.dur)) continue;
      inside.set(e.name, (inside.get(e.name) ?? 0) + cpu(e) / 1000);
    }
    for (const [name, ms] of [...inside.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`  ${(ms / views).toFixed(2).padStart(7)} ms/view  ${name}`);
  }
  if (!process.env.TRACE_VERBOSE) return;
  console.log(`--- ${label}: main thread by trace event (total ms, count, max ms)`);
  for (const [name, { ms, n, max }] of [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 22)) {
    console.log(`  ${ms.toFixed(1).padStart(8)} ${String(n).padStart(6)} ${max.toFixed(1).padStart(6)}  ${name}`);
  }
  const tasks = mine.filter((e) => e.name === 'RunTask' && e.ph === 'X').map((e) => e.dur / 1000).sort((a, b) => b - a);
  console.log(`  tasks > 5 ms: ${tasks.filter((t) => t > 5).length}, > 10 ms: ${tasks.filter((t) => t > 10).length}, > 20: ${tasks.filter((t) => t > 20).length}; longest ${tasks.slice(0, 8).map((t) => t.toFixed(1)).join(' ')}`);
  const layouts = mine.filter((e) => e.name === 'Layout' && e.ph === 'X');
  const objs = layouts.map((e) => e.args?.beginData?.dirtyObjects + '/' + e.args?.beginData?.totalObjects);
  console.log(`  layouts ${layouts.length}: dirty/total sample ${objs.slice(-12).join(' ')}`);
  const styles = mine.filter((e) => e.name === 'UpdateLayoutTree' && e.ph === 'X');
  console.log(`  style recalcs ${styles.length}: elements sample ${styles.slice(-12).map((e) => e.args?.elementCount).join(' ')}`);
  const inval = new Map();
  for (const e of mine) {
    if (!/InvalidationTracking/.test(e.name)) continue;
    const d = e.args?.data ?? {};
    const key = `${e.name.replace('InvalidationTracking', '')} ${d.nodeName ?? ''} ${d.reason ?? d.invalidationSet?.[0]?.id ?? ''}`;
    inval.set(key, (inval.get(key) ?? 0) + 1);
  }
  for (const [k, n] of [...inval.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${String(n).padStart(6)}  ${k}`);
}

/// Time under each function matching TRACE_PATTERN (self and callees), per tab.
function inclusive(label, profile) {
  const pattern = new RegExp(process.env.TRACE_PATTERN ?? 'FunctionProvider.*::run|Shared::render|Driver::view|ClusterView|scheduler|Bundle|reconcile');
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const under = new Map();
  let total = 0, idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    total += ms;
    const leaf = byId.get(profile.samples[i]);
    if (leaf.callFrame.functionName === '(idle)') idle += ms;
    const names = new Set();
    for (let node = leaf; node; node = parent.get(node.id)) {
      const name = node.callFrame.functionName.replace(/::h[0-9a-f]{16}$/, '');
      if (pattern.test(name)) names.add(name.slice(-100));
    }
    for (const name of names) under.set(name, (under.get(name) ?? 0) + ms);
  }
  console.log(`--- ${label}: busy ${(total - idle).toFixed(0)} of ${total.toFixed(0)} ms`);
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const name = byId.get(profile.samples[i]).callFrame.functionName.replace(/::h[0-9a-f]{16}$/, '').slice(-90);
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  }
  for (const [name, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  self ${ms.toFixed(1).padStart(8)} ms  ${name}`);
  for (const [name, ms] of [...under.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${name}`);
}

await main([{
  id: 1, name: 'trace-ui', timeoutMs: 180_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'trace-ui');
    const { leader } = await form(cluster, 3);
    await leader.e2e('spacedAppends', 'warm', 50, 5);
    if (process.env.TRACE_SHOT) {
      // Screenshots of a busy leader: as it is, then with its shared log scrolled to the end.
      const { writeFileSync } = await import('node:fs');
      await leader.e2e('spacedAppends', 'shot', N, 20);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      writeFileSync(process.env.TRACE_SHOT + '-top.png', await leader.screenshot());
      await leader.evaluate(`document.querySelector('.panel-shared .entries').scrollTop = 1e6`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      writeFileSync(process.env.TRACE_SHOT + '-end.png', await leader.screenshot());
      return {};
    }
    if (process.env.TRACE_MUTATIONS) {
      const observe = `(() => {
        const counts = window.__mutations = {};
        const where = (node) => {
          const el = node.nodeType === 1 ? node : node.parentElement;
          const panel = el?.closest('.panel');
          return panel ? panel.className.split(' ').find((c) => c.startsWith('panel-')) : (el?.closest('header') ? 'header' : 'other');
        };
        const describe = (node) => node.nodeType === 1 ? node.tagName.toLowerCase() + '.' + (node.getAttribute('class') || '').split(' ')[0] : '#text';
        new MutationObserver((list) => {
          for (const m of list) {
            const base = where(m.target) + ' ' + m.type;
            const keys = m.type === 'attributes' ? [base + ' ' + describe(m.target) + ' @' + m.attributeName]
              : m.type === 'characterData' ? [base + ' ' + describe(m.target.parentElement ?? m.target)]
              : [...[...m.addedNodes].map((n) => base + ' +' + describe(n)), ...[...m.removedNodes].map((n) => base + ' -' + describe(n))];
            for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
          }
        }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      })()`;
      for (const tab of cluster.tabs) await tab.evaluate(observe);
      await leader.e2e('spacedAppends', 'tr', N, 20);
      for (const tab of cluster.tabs) {
        const counts = await tab.evaluate('window.__mutations');
        console.log(`--- ${tab.label}${tab === leader ? ' (leader)' : ''}: DOM mutations during ${N} appends`);
        for (const [k, n] of Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${String(n).padStart(6)}  ${k}`);
      }
      return {};
    }
    if (process.env.TRACE_PROFILE) {
      for (const tab of cluster.tabs) {
        await tab.send('Profiler.enable');
        await tab.send('Profiler.setSamplingInterval', { interval: 100 });
        await tab.send('Profiler.start');
      }
      const { latencies } = await leader.e2e('spacedAppends', 'tr', N, 20);
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(`latency p50 ${sorted[Math.floor(N / 2)].toFixed(2)} p99 ${sorted[Math.floor(N * 0.99)].toFixed(2)}`);
      for (const tab of cluster.tabs) inclusive(tab.label + (tab === leader ? ' (leader)' : ''), (await tab.send('Profiler.stop')).profile);
      return {};
    }
    const stop = await startTrace(cluster.browser);
    const { latencies } = await leader.e2e('spacedAppends', 'tr', N, 20);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`latency p50 ${sorted[Math.floor(N / 2)].toFixed(2)} p99 ${sorted[Math.floor(N * 0.99)].toFixed(2)}`);
    const events = await stop();
    const mains = events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
    for (const m of mains) summarize(`renderer main pid ${m.pid} tid ${m.tid}`, events, m);
    return {};
  },
}], 'trace-ui', { bench: true });
