// The signal server as a child process: serves the built app and introduces the tabs.
//
// It listens on a free loopback port picked here (the server logs the address it was given, not
// the one it bound, so port 0 would leave us guessing), and keeps that port across a restart
// (scenario 9), as a redeployed server would: the tabs reconnect to the URL they know.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { sleep, waitFor } from './wait.mjs';

/// A free TCP port on 127.0.0.1 (free when asked: the server binds it right after).
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export class SignalServer {
  constructor({ bin, dist }) {
    this.bin = bin;
    this.dist = dist;
    this.port = undefined;
    this.child = undefined;
    /// The last lines it printed, for failure reports.
    this.logTail = [];
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /// Starts the server (on its previous port after a stop) and waits until `/healthz` answers.
  async start() {
    this.port ??= await freePort();
    const child = spawn(this.bin, ['--addr', `127.0.0.1:${this.port}`, '--static-dir', this.dist], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Plain text logs (no colour codes) for failure reports.
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'signal_server=info', NO_COLOR: '1' },
    });
    this.child = child;
    const keep = (chunk) => {
      this.logTail.push(...chunk.toString().split('\n').filter(Boolean));
      this.logTail.splice(0, Math.max(0, this.logTail.length - 100));
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(
      `the signal server on ${this.url}`,
      async () => {
        if (exited) throw new Error(`it exited: ${this.logTail.slice(-3).join(' | ')}`);
        const response = await fetch(`${this.url}/healthz`);
        return response.ok;
      },
      { timeoutMs: 10_000, everyMs: 50 },
    );
  }

  /// Stops it with SIGTERM (it closes every socket with "going away"), SIGKILL after 5 s.
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const forced = sleep(5_000).then(() => child.kill('SIGKILL'));
    await Promise.race([exited, forced]);
    await exited;
    this.child = undefined;
  }
}
