// Where a commit's milliseconds go: a 3-tab cluster, a closed loop from one tab at a time (the
// leader, then a follower), with each tab's message counters read before and after (messages per
// commit) and a CPU profile of every tab taken during the loop (self time by function, and how
// much of the main thread was idle).
//
//   ../shared/tools/isolated-net node e2e/profile.mjs --dist DIR --server-bin PATH
//
// A diagnostic, not part of the suite or the benchmark: build DIR without wasm-opt (and with
// `data-keep-debug`) to see Rust function names in the profiles.
import { Cluster } from './lib/cluster.mjs';
import { main } from './lib/harness.mjs';
import { form, joinOne } from './lib/procedures.mjs';

const LOOP_MS = 3_000;
const TOP = Number(process.env.PROFILE_TOP ?? 25);

function summarize(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const dt = profile.timeDeltas;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const ms = (dt[i + 1] ?? 0) / 1000;
    total += ms;
    const frame = node.callFrame;
    const key = `${frame.functionName || '(anonymous)'} ${frame.url ? frame.url.split('/').pop() : ''}`;
    self.set(key, (self.get(key) ?? 0) + ms);
  }
  const idle = self.get('(idle) ') ?? 0;
  const want = process.env.PROFILE_CALLERS;
  if (want) {
    // Who calls the functions whose names match the regular expression `want`: time by call
    // path (4 frames up; PROFILE_CALLER_PATHS paths, default 8).
    const parent = new Map();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
    const paths = new Map();
    const wanted = new RegExp(want);
    for (let i = 0; i < profile.samples.length; i++) {
      let node = byId.get(profile.samples[i]);
      if (!wanted.test(node.callFrame.functionName)) continue;
      const names = [];
      for (let up = parent.get(node.id); up && names.length < 4; up = parent.get(up.id)) {
        names.push(up.callFrame.functionName.replace(/::h[0-9a-f]{16}$/, '').slice(-90));
      }
      const key = names.join(' <- ');
      paths.set(key, (paths.get(key) ?? 0) + (dt[i + 1] ?? 0) / 1000);
    }
    for (const [path, ms] of [...paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_CALLER_PATHS ?? 8))) {
      console.log(`  callers of ${want}: ${ms.toFixed(1)} ms  ${path}`);
    }
  }
  const inclusive = process.env.PROFILE_INCLUSIVE;
  const under = new Map();
  if (inclusive) {
    // Time under each function whose name matches (self and callees), e.g. which component's
    // render costs what: PROFILE_INCLUSIVE='FunctionProvider|render|drain'.
    const parent = new Map();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
    const pattern = new RegExp(inclusive);
    for (let i = 0; i < profile.samples.length; i++) {
      const names = new Set();
      for (let node = byId.get(profile.samples[i]); node; node = parent.get(node.id)) {
        const name = node.callFrame.functionName.replace(/::h[0-9a-f]{16}$/, '');
        if (pattern.test(name)) names.add(name.slice(-110));
      }
      for (const name of names) under.set(name, (under.get(name) ?? 0) + (dt[i + 1] ?? 0) / 1000);
    }
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  for (const [name, ms] of [...under.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    top.push([`under ${name}`, ms]);
  }
  return { total, idle, top };
}

async function profileLoop(cluster, writer, label) {
  const before = await Promise.all(cluster.tabs.map((tab) => tab.hook('stats')));
  for (const tab of cluster.tabs) {
    await tab.send('Profiler.enable');
    await tab.send('Profiler.setSamplingInterval', { interval: 100 });
    await tab.send('Profiler.start');
  }
  const writers = label === 'all' ? cluster.tabs : [writer];
  const results = await Promise.all(writers.map((w) => w.e2e('closedLoop', `${w.label}-${label}`, LOOP_MS)));
  const result = { committed: results.reduce((n, r) => n + r.committed, 0), latencies: results.flatMap((r) => r.latencies) };
  const profiles = [];
  for (const tab of cluster.tabs) profiles.push((await tab.send('Profiler.stop')).profile);
  const after = await Promise.all(cluster.tabs.map((tab) => tab.hook('stats')));
  const lat = result.latencies.sort((a, b) => a - b);
  console.log(`\n=== closed loop from the ${label} (${writer.label}): ${result.committed} commits in ${LOOP_MS} ms, p50 ${lat[lat.length >> 1]?.toFixed(2)} ms`);
  let out = 0;
  for (let i = 0; i < cluster.tabs.length; i++) {
    const tab = cluster.tabs[i];
    const sent = after[i].messagesOut - before[i].messagesOut;
    out += sent;
    const { total, idle, top } = summarize(profiles[i]);
    const role = (await tab.state()).role;
    console.log(`--- ${tab.label} (${role}): messages out ${sent} (${(sent / result.committed).toFixed(2)}/commit), busy ${(total - idle).toFixed(0)} of ${total.toFixed(0)} ms`);
    for (const [name, ms] of top) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${name}`);
  }
  console.log(`all tabs: ${(out / result.committed).toFixed(2)} messages per commit`);
  return {};
}

/// Main-thread time of one tab by trace event name (style, layout, paint, tasks...) during
/// `during()`: what the CPU profile lumps together as "(program)". Nested events are counted
/// in their own name and their parent's.
async function traceLoop(tab, during) {
  const events = [];
  const done = new Promise((resolve) => {
    tab.browser.on(tab.sessionId, 'Tracing.dataCollected', ({ value }) => events.push(...value));
    tab.browser.on(tab.sessionId, 'Tracing.tracingComplete', resolve);
  });
  await tab.send('Tracing.start', {
    traceConfig: { includedCategories: ['devtools.timeline', 'blink', 'v8', 'toplevel'] },
    transferMode: 'ReportEvents',
  });
  await during();
  await tab.send('Tracing.end');
  await done;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const byName = new Map();
  const open = new Map();
  for (const e of events) {
    if (!main || e.pid !== main.pid || e.tid !== main.tid) continue;
    let dur;
    if (e.ph === 'X') dur = e.dur ?? 0;
    else if (e.ph === 'B') { open.set(e.name, e.ts); continue; }
    else if (e.ph === 'E' && open.has(e.name)) { dur = e.ts - open.get(e.name); open.delete(e.name); }
    else continue;
    const entry = byName.get(e.name) ?? { ms: 0, n: 0 };
    entry.ms += dur / 1000;
    entry.n++;
    byName.set(e.name, entry);
  }
  console.log(`--- ${tab.label} main thread by trace event (ms, count):`);
  for (const [name, { ms, n }] of [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP)) {
    console.log(`  ${ms.toFixed(1).padStart(8)} ms ${String(n).padStart(6)}  ${name}`);
  }
  // The longest tasks: what holds the main thread (and so heartbeats) the longest at a time.
  const tasks = events
    .filter((e) => e.pid === main?.pid && e.tid === main?.tid && e.ph === 'X')
    .filter((e) => e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask')
    .sort((a, b) => (b.dur ?? 0) - (a.dur ?? 0));
  const longest = tasks.slice(0, 8).map((e) => ((e.dur ?? 0) / 1000).toFixed(1));
  console.log(`  longest of ${tasks.length} tasks (ms): ${longest.join(' ')}`);
}

/// Where a join's time goes: the new tab's timeline on its own clock (ms since its navigation
/// started), with its page-load milestones, in a 4-tab cluster holding 1,000 entries.
async function joinTimeline(harness) {
  const cluster = await Cluster.create(harness, 'join-profile');
  const { leader } = await form(cluster, 4);
  await leader.e2e('timedBurst', 1_000);
  for (let i = 0; i < 3; i++) {
    const { tab, ms } = await joinOne(cluster);
    const marks = await tab.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource').map((r) => [r.name.split('/').pop().slice(0, 30), Math.round(r.startTime), Math.round(r.responseEnd)]);
      return { domContentLoaded: Math.round(nav.domContentLoadedEventEnd), load: Math.round(nav.loadEventEnd), res };
    })()`);
    const timeline = await tab.hook('timeline');
    const state = await tab.state();
    console.log(`\n=== join ${i + 1}: ${ms} ms by the harness; page ${JSON.stringify(marks)}`);
    for (const e of timeline) console.log(`  ${e.at.toFixed(0).padStart(6)} ms  ${e.kind.padEnd(8)} ${e.text}`);
    console.log(`  now ${JSON.stringify({ role: state.role, commit: state.commit })}`);
    await cluster.close(tab);
    await cluster.waitForAgreement({ timeoutMs: 10_000 });
  }
  return {};
}

const profile = {
  id: 1,
  name: 'profile',
  timeoutMs: 120_000,
  async run(harness) {
    if (process.env.PROFILE_JOIN) return joinTimeline(harness);
    const cluster = await Cluster.create(harness, 'profile');
    const { leader } = await form(cluster, 3);
    const follower = cluster.tabs.find((tab) => tab !== leader);
    // Warm up (JIT, first allocations).
    await leader.e2e('closedLoop', 'warm', 500);
    if (process.env.PROFILE_HIDE_UI) {
      // A/B: the same loop without style, layout and paint (Yew still renders into the DOM).
      for (const tab of cluster.tabs) await tab.evaluate(`document.body.style.display = 'none'`);
    }
    if (process.env.PROFILE_BURST) {
      for (const tab of cluster.tabs) {
        await tab.send('Profiler.enable');
        await tab.send('Profiler.setSamplingInterval', { interval: 200 });
        await tab.send('Profiler.start');
      }
      const r = await leader.e2e('timedBurst', 10_000);
      console.log(`burst: ${r.committed} in ${r.ms.toFixed(0)} ms = ${Math.round(r.committed / (r.ms / 1000))} entries/s`);
      if (r.failed) console.log(`burst: ${r.failed} failed: ${r.firstError}`);
      for (const tab of cluster.tabs) {
        const { total, idle, top } = summarize((await tab.send('Profiler.stop')).profile);
        console.log(`--- ${tab.label}${tab === leader ? ' (leader)' : ''}: busy ${(total - idle).toFixed(0)} of ${total.toFixed(0)} ms`);
        for (const [name, ms] of top) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${name}`);
      }
    }
    if (process.env.PROFILE_TRACE_BURST) {
      // Where a burst's main thread goes at the leader, by trace event, and its longest tasks.
      // PROFILE_TRACE_TAB=follower traces a follower instead.
      const traced = process.env.PROFILE_TRACE_TAB === 'follower' ? follower : leader;
      for (let i = 0; i < Number(process.env.PROFILE_TRACE_BURST); i++) {
        await traceLoop(traced, async () => {
          const r = await leader.e2e('timedBurst', 10_000);
          console.log(`traced burst: ${r.committed} in ${r.ms.toFixed(0)} ms, ${r.failed} failed`);
        });
      }
    }
    if (process.env.PROFILE_TRACE) {
      await traceLoop(leader, async () => {
        const r = await leader.e2e('closedLoop', 'traced', LOOP_MS);
        console.log(`traced leader loop: ${r.committed} commits in ${LOOP_MS} ms`);
      });
    }
    if (process.env.PROFILE_ALL) await profileLoop(cluster, leader, 'all');
    if (!process.env.PROFILE_SKIP) {
      await profileLoop(cluster, leader, 'leader');
      await profileLoop(cluster, follower, 'follower');
    }
    // The benchmark's closed loop (every tab, no profiler) and light-load latency by role.
    const results = await Promise.all(cluster.tabs.map((tab) => tab.e2e('closedLoop', `${tab.label}-all`, LOOP_MS)));
    const committed = results.reduce((sum, r) => sum + r.committed, 0);
    console.log(`\nclosed loop, 3 writers: ${Math.round(committed / (LOOP_MS / 1000))} writes/s`);
    for (const tab of [leader, follower]) {
      const { latencies } = await tab.e2e('spacedAppends', `${tab.label}-lat`, 100, 20);
      latencies.sort((a, b) => a - b);
      const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor((q / 100) * latencies.length))].toFixed(2);
      console.log(`latency from ${tab === leader ? 'leader' : 'follower'}: p50 ${p(50)} p90 ${p(90)} p99 ${p(99)} ms`);
    }
    return {};
  },
};

await main([profile], 'profile', { bench: true });
