// The Chrome DevTools Protocol over a pipe: launches Debian's Chromium and talks to it, with no
// npm dependency.
//
// Why not playwright-core: Playwright turns on focus emulation for every page it drives
// (`Emulation.setFocusEmulationEnabled`), which Chromium implements by counting the page as
// "being captured", so a Playwright page never becomes hidden, whatever covers it (measured here
// with Chromium 156: a tab opened over a Playwright page leaves it `visible` and its timers at
// full rate). Scenario 7 must hide a leader's tab for real, with Chromium's throttling of hidden
// pages. Without Playwright, a tab covered by another tab in its window is `hidden` and its
// main-thread `setInterval(100)` fires once a second, as for a person. And why not a Rust
// WebDriver crate: WebDriver has no page lifecycle (freeze) nor tab visibility, so it would need
// CDP as well, and every check is JavaScript run in the page anyway. What we use of CDP is
// small: targets, `Runtime.evaluate`, console events, reload, screenshots and lifecycle states.
//
// Chromium speaks CDP on file descriptors 3 (commands in) and 4 (replies and events out) when
// started with `--remote-debugging-pipe`: JSON messages, each ended by a NUL byte. Commands for a
// page carry the `sessionId` of a flat session (`Target.attachToTarget` with `flatten: true`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/// One Chromium process and its CDP pipe.
export class Chromium {
  /// Starts `executable` with `args` (plus the pipe and a throwaway profile).
  static async launch({ executable, args }) {
    const profile = mkdtempSync(join(tmpdir(), 'flotilla-e2e-profile-'));
    const child = spawn(
      executable,
      [...args, '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    const browser = new Chromium(child, profile);
    // The first command answers once the browser is up; a browser that dies first rejects it.
    await browser.send('Browser.getVersion');
    return browser;
  }

  constructor(child, profile) {
    this.child = child;
    this.profile = profile;
    this.nextId = 1;
    /// Replies awaited, by command id.
    this.pending = new Map();
    /// Event listeners, by `${sessionId}/${method}` ('' is the browser's session).
    this.listeners = new Map();
    /// The browser's own stderr, kept short, for failure reports.
    this.stderrTail = [];
    this.exited = false;
    let buffered = '';
    child.stdio[4].setEncoding('utf8');
    child.stdio[4].on('data', (chunk) => {
      const parts = (buffered + chunk).split('\0');
      buffered = parts.pop();
      for (const part of parts) this.dispatch(JSON.parse(part));
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      this.stderrTail.push(...chunk.split('\n').filter(Boolean));
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - 50));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      const error = new Error(`Chromium exited (${signal ?? code}): ${this.stderrTail.slice(-5).join(' | ')}`);
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    });
    // A write after the browser died must not crash the run: the pending command rejects.
    child.stdio[3].on('error', () => {});
  }

  /// Sends a command; resolves with its result, rejects with its error.
  send(method, params = {}, sessionId = undefined) {
    if (this.exited) return Promise.reject(new Error(`Chromium has exited (${method})`));
    const id = this.nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.child.stdio[3].write(JSON.stringify(message) + '\0');
    });
  }

  /// Calls `listener(params)` on every `method` event of `sessionId` ('' for the browser).
  on(sessionId, method, listener) {
    const key = `${sessionId}/${method}`;
    if (!this.listeners.has(key)) this.listeners.set(key, []);
    this.listeners.get(key).push(listener);
  }

  /// Forgets every listener of a session (its tab is gone).
  forget(sessionId) {
    for (const key of [...this.listeners.keys()]) {
      if (key.startsWith(`${sessionId}/`)) this.listeners.delete(key);
    }
  }

  dispatch(message) {
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error) {
        waiter.reject(new Error(`${waiter.method}: ${message.error.message} ${message.error.data ?? ''}`.trim()));
      } else {
        waiter.resolve(message.result);
      }
      return;
    }
    for (const listener of this.listeners.get(`${message.sessionId ?? ''}/${message.method}`) ?? []) {
      listener(message.params);
    }
  }

  /// Closes the browser (gracefully, then by force) and removes its profile.
  async close() {
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.send('Browser.close').catch(() => {});
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}
