// `browser latency p50_ms=... p99_ms=...`: single appends at light load, from the proposer's
// append to its commit as the proposer learns it, from every tab in turn (leader and followers),
// each 20 ms after the last.
import { Cluster } from '../lib/cluster.mjs';
import { form } from '../lib/procedures.mjs';
import { fmt, percentile } from '../lib/wait.mjs';

const PER_TAB = 200;
const GAP_MS = 20;

export default {
  id: 3,
  name: 'latency',
  timeoutMs: 60_000,
  async run(harness) {
    const cluster = await Cluster.create(harness, 'latency');
    const { leader } = await form(cluster, 3);
    const byRole = { leader: [], follower: [] };
    for (const tab of cluster.tabs) {
      const { latencies, errors } = await tab.e2e('spacedAppends', tab.label, PER_TAB, GAP_MS);
      if (errors.length) throw new Error(`${tab.label}: ${errors.length} appends failed, e.g. ${errors[0]}`);
      byRole[tab === leader ? 'leader' : 'follower'].push(...latencies);
    }
    const all = [...byRole.leader, ...byRole.follower];
    return {
      p50_ms: fmt(percentile(all, 50), 2),
      p99_ms: fmt(percentile(all, 99), 2),
      leader_p50_ms: fmt(percentile(byRole.leader, 50), 2),
      follower_p50_ms: fmt(percentile(byRole.follower, 50), 2),
    };
  },
};
