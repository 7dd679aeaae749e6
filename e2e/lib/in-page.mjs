// Code that runs inside each tab, next to the app's test hook (`window.flotilla`, documented in
// web/src/runtime/test_hook.rs). The harness installs it as `window.__e2e` after every page load.
//
// Loads that must not be slowed or skewed by the harness run in the page: a writer that keeps
// appending while the harness closes or freezes tabs, and the closed loop of the benchmark, whose
// every round trip through CDP would otherwise cost more than the commit it measures. The page
// keeps what each append returned; the harness collects it.

/// Installed with `Runtime.evaluate` as `(${installE2e})()`: it must use nothing from this module.
export function installE2e() {
  if (window.__e2e) return;
  const hook = () => window.flotilla;

  /// A writer: appends `${prefix}-${n}` for n = 1, 2, ... with at most `inFlight` appends
  /// outstanding, until stopped. Acknowledged appends (text and committed index) and failures
  /// are kept until `take()` hands them over.
  class Writer {
    constructor(prefix, inFlight, gapMs) {
      this.prefix = prefix;
      this.next = 1;
      this.running = true;
      this.outstanding = 0;
      this.acked = [];
      this.failures = [];
      this.settled = Promise.resolve();
      this.lanes = Array.from({ length: inFlight }, () => this.lane(gapMs));
    }

    async lane(gapMs) {
      while (this.running) {
        const text = `${this.prefix}-${this.next++}`;
        this.outstanding++;
        try {
          const index = await hook().append(text);
          this.acked.push({ text, index });
        } catch (error) {
          this.failures.push({ text, error: String(error) });
          // A refused append (no leader yet) is retried after a short pause, not in a hot loop.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        this.outstanding--;
        if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
    }

    take() {
      const result = { acked: this.acked, failures: this.failures };
      this.acked = [];
      this.failures = [];
      return result;
    }

    async stop() {
      this.running = false;
      await Promise.all(this.lanes);
      return this.take();
    }
  }

  window.__e2e = {
    writer: undefined,
    startWriter(prefix, inFlight = 1, gapMs = 0) {
      this.writer = new Writer(prefix, inFlight, gapMs);
    },
    takeAcks() {
      return this.writer ? this.writer.take() : { acked: [], failures: [] };
    },
    async stopWriter() {
      const writer = this.writer;
      this.writer = undefined;
      return writer ? writer.stop() : { acked: [], failures: [] };
    },

    /// Closed loop for `durationMs`: one append at a time, the next once the previous committed.
    /// Returns the number committed, the failures and every commit latency (ms).
    async closedLoop(prefix, durationMs) {
      const latencies = [];
      let failed = 0;
      let firstError;
      const end = performance.now() + durationMs;
      for (let n = 1; performance.now() < end; n++) {
        const start = performance.now();
        try {
          await hook().append(`${prefix}-${n}`);
          latencies.push(performance.now() - start);
        } catch (error) {
          failed++;
          firstError ??= String(error);
        }
      }
      return { committed: latencies.length, failed, firstError, latencies };
    },

    /// Single appends at light load: `count` appends, `gapMs` apart; latencies in ms.
    async spacedAppends(prefix, count, gapMs) {
      const latencies = [];
      const errors = [];
      for (let n = 1; n <= count; n++) {
        const start = performance.now();
        try {
          await hook().append(`${prefix}-${n}`);
          latencies.push(performance.now() - start);
        } catch (error) {
          errors.push(String(error));
        }
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      return { latencies, errors };
    },

    /// Resolves with the page time (ms since its navigation started) at which this node is a
    /// voter whose commit index reached `commit`, checked about every millisecond; rejects
    /// after `timeoutMs`. A join is timed by the page's own clock this way, not by when the
    /// harness's polls over CDP noticed (hundreds of ms on a busy machine).
    async whenVoterAt(commit, timeoutMs = 15_000) {
      const end = performance.now() + timeoutMs;
      for (;;) {
        const f = hook();
        if (f.ready && f.voters.includes(f.nodeId) && f.commit >= commit) return performance.now();
        if (performance.now() > end) throw new Error(`not a voter at commit ${commit} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    },

    /// A burst of `count` appends in one batch: how long until all committed.
    async timedBurst(count) {
      const start = performance.now();
      const result = await hook().burst(count);
      return { ...result, ms: performance.now() - start };
    },
  };
}
