// Waiting and counting: polling a condition with a deadline, and the percentiles the figures use.
//
// Conditions are polled rather than awaited as events because each one reads several tabs (the
// cluster agrees on a leader, every log is equal); a few milliseconds between polls is cheap and
// keeps every wait the same shape. Timings that must be precise are measured in the page.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// Polls `probe()` until it returns a truthy value, which is returned. Past `timeoutMs`, throws
/// with `what` and the last value `describe` made of the probe (or the probe's last error), so a
/// failure says how far things got.
export async function waitFor(what, probe, { timeoutMs, everyMs = 20, describe = undefined } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (last) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `last error: ${lastError.message}` : describe ? await describe() : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `; ${detail}` : ''}`);
    }
    await sleep(everyMs);
  }
}

/// Rejects with "`what` timed out" unless `promise` settles within `ms`.
export function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/// The `p`-th percentile (0..100) of `samples`, nearest rank; NaN when there are none.
export function percentile(samples, p) {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/// A number for a figure line: integers as they are, others with `digits` decimals.
export function fmt(value, digits = 1) {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}
