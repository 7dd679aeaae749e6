// What the suite (run.mjs) and the benchmark (bench.mjs) share: the command line, the signal
// server, Chromium with this machine's flags, and running each item under a deadline with a
// failure report.
//
// Items are `{ id, name, timeoutMs, run(harness) }` modules (scenarios/ and bench/). `run`
// returns the figures it measured, as `{ key: value }`, printed on the item's line.
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Chromium } from './cdp.mjs';
import { SignalServer } from './server.mjs';
import { within } from './wait.mjs';

/// Chromium's switches: the ones shared/NOTES.md lists for this machine (root, no GPU, no
/// network), the two that make WebRTC gather loopback candidates inside isolated-net, and a
/// window the size of the README's screenshot. Hidden-tab throttling is left as it is for people.
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--window-size=1280,800',
];

const USAGE = `usage: node e2e/${'{run,bench}'}.mjs --dist DIR --server-bin PATH [options]
  --dist DIR          the release build of the app (trunk build --release --dist DIR)
  --server-bin PATH   the signal-server binary
  --chromium PATH     the browser (default /usr/bin/chromium)
  --only LIST         items to run, by number or name, comma-separated (default all)
  --repeat N          run the selection N times (reliability checks; default 1)
  --screenshot PATH   where scenario 10 saves the README's screenshot (default docs/screenshot.png)
Run it inside shared/tools/isolated-net: WebRTC must find only loopback.`;

export function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      dist: { type: 'string' },
      'server-bin': { type: 'string' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      only: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      screenshot: { type: 'string', default: fileURLToPath(new URL('../../docs/screenshot.png', import.meta.url)) },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.dist || !values['server-bin']) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  return {
    dist: resolve(values.dist),
    serverBin: resolve(values['server-bin']),
    chromium: values.chromium,
    only: values.only ? values.only.split(',').map((s) => s.trim()) : undefined,
    repeat: Number(values.repeat),
    screenshot: resolve(values.screenshot),
  };
}

/// Keeps the items `--only` names (by id or name), in the order given in `items`.
export function select(items, only) {
  if (!only) return items;
  return items.filter((item) => only.includes(String(item.id)) || only.includes(item.name));
}

export class Harness {
  constructor(options) {
    this.options = options;
    this.server = new SignalServer({ bin: options.serverBin, dist: options.dist });
    this.browser = undefined;
    /// Clusters made by the running item: reported on failure, disposed after it.
    this.clusters = [];
  }

  async setup() {
    await this.server.start();
    await this.ensureBrowser();
  }

  /// (Re)starts Chromium if it is not running (a crash must not fail every later item).
  async ensureBrowser() {
    if (this.browser && !this.browser.exited) return;
    this.browser = await Chromium.launch({ executable: this.options.chromium, args: CHROMIUM_ARGS });
  }

  async teardown() {
    await this.browser?.close();
    await this.server.stop();
  }

  /// Runs `item` under its deadline. Prints one line: PASS or FAIL, its time and figures; on
  /// failure, the reason and every tab's state and console. Returns whether it passed.
  async runItem(item, prefix) {
    await this.ensureBrowser();
    if (!this.server.child) await this.server.start();
    const started = Date.now();
    let figures = {};
    let failure;
    try {
      figures = (await within(item.timeoutMs, `${item.name}`, item.run(this))) ?? {};
    } catch (error) {
      failure = error;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    // A figure with an empty key is the item's own value: `join_ms=840`.
    const shown = Object.entries(figures)
      .map(([key, value]) => (key ? ` ${key}=${value}` : `=${value}`))
      .join('');
    const label = `${prefix} ${String(item.id).padStart(2)} ${item.name}`;
    if (!failure && this.options.bench) {
      // The benchmark's lines are its output, read by people and by the README's table.
      console.log(`${prefix} ${item.name}${shown}`);
    } else if (failure) {
      console.log(`FAIL ${label} (${seconds} s)${shown} :: ${failure.message}`);
      for (const cluster of this.clusters) console.log(await cluster.report());
      console.log(`--- signal server: ${this.server.logTail.slice(-10).join('\n')}`);
    } else {
      console.log(`PASS ${label} (${seconds} s)${shown}`);
    }
    for (const cluster of this.clusters) await cluster.dispose();
    this.clusters = [];
    return !failure;
  }
}

/// The whole program of run.mjs and bench.mjs: runs `items` (selected by `--only`, `--repeat`
/// times), prints "N passed, N failed", exits 1 if any failed. `bench` prints each item's line
/// as `${prefix} ${name} figures` instead of PASS lines.
export async function main(items, prefix, { bench = false } = {}) {
  const options = { ...parseCommandLine(process.argv.slice(2)), bench };
  const harness = new Harness(options);
  // An item abandoned at its deadline may still fail later, in the background: say so, and go on.
  process.on('unhandledRejection', (error) => console.log(`# late failure, ignored: ${error?.message ?? error}`));
  // Stopped from outside (Ctrl-C, a CI timeout): leave no browser or server behind.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => {
      console.log(`# ${signal}: stopping`);
      await harness.teardown().catch(() => {});
      process.exit(130);
    });
  }
  let passed = 0;
  let failed = 0;
  if (bench) {
    // Figures measured while other work loads the machine are not comparable: say so up front.
    console.log(`# ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at start`);
  }
  try {
    await harness.setup();
    for (let round = 0; round < options.repeat; round++) {
      for (const item of select(items, options.only)) {
        if (await harness.runItem(item, prefix)) passed++;
        else failed++;
      }
    }
  } catch (error) {
    console.log(`FAIL ${prefix} setup: ${error.stack ?? error.message}`);
    failed++;
  } finally {
    await harness.teardown().catch(() => {});
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
