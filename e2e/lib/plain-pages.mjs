// Plain pages for the diagnostics that measure the browser without the app (floor.mjs,
// ceiling.mjs): `html` served on loopback, one page per query string in one browser context of
// Debian's Chromium with the suite's switches, and `evaluate(page, expression)` awaiting the
// expression's promise in that page.
import http from 'node:http';
import { Chromium } from './cdp.mjs';
import { CHROMIUM_ARGS } from './harness.mjs';

export async function openPlainPages(html, queries) {
  const server = http.createServer((req, res) => { res.setHeader('content-type', 'text/html'); res.end(html); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await Chromium.launch({ executable: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const { browserContextId } = await browser.send('Target.createBrowserContext');
  const pages = [];
  for (const query of queries) {
    const { targetId } = await browser.send('Target.createTarget', { url: url + query, browserContextId, newWindow: true });
    const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
    pages.push(sessionId);
  }
  // Time to load; the pages have no readiness signal of their own.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const evaluate = async (page, expression) => {
    const r = await browser.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, page);
    if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };
  const close = async () => { await browser.close(); server.close(); };
  return { pages, evaluate, close };
}
