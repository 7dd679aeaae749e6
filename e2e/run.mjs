// The end-to-end suite: every scenario of issue 6 against a release build, in real Chromium tabs
// over real WebRTC, introduced by the real signal server. See README.md for how to run it.
//
//   node e2e/run.mjs --dist DIR --server-bin PATH [--only 1,3] [--repeat N]
//
// Prints one line per scenario (PASS/FAIL, seconds, measured figures), then "N passed, N failed";
// exits 1 if any failed. Scenarios run in the order they were made reliable, most basic first,
// so the first failure is usually the one to look at.
import { main } from './lib/harness.mjs';
import form from './scenarios/01-form.mjs';
import concurrentAppends from './scenarios/02-concurrent-appends.mjs';
import closeLeader from './scenarios/03-close-leader.mjs';
import freezeLeader from './scenarios/04-freeze-leader.mjs';
import reloadFollower from './scenarios/05-reload-follower.mjs';
import snapshotJoin from './scenarios/06-snapshot-join.mjs';
import hideLeader from './scenarios/07-hide-leader.mjs';
import isolateHeal from './scenarios/08-isolate.mjs';
import restartServer from './scenarios/09-restart-server.mjs';
import screenshot from './scenarios/10-screenshot.mjs';

await main(
  [form, concurrentAppends, closeLeader, reloadFollower, isolateHeal, freezeLeader, hideLeader, restartServer, snapshotJoin, screenshot],
  'e2e',
);
