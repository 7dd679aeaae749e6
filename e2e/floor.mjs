// The floor under one commit's hops: round trips between two plain pages (no app) of one browser
// context, over an RTCDataChannel and over a BroadcastChannel, 20 ms apart (as the latency
// benchmark's appends) and back to back; the main-thread cost of one data channel send after an
// idle gap; and of one 2.7 KB sessionStorage write.
//
//   ../shared/tools/isolated-net node e2e/floor.mjs
//
// A diagnostic, like profile.mjs and hops.mjs: not part of the suite or the benchmark.
import { openPlainPages } from './lib/plain-pages.mjs';

const PAGE = `<!doctype html><script>
window.bc = new BroadcastChannel('floor');
window.log = [];
bc.onmessage = async (e) => {
  const m = e.data;
  if (m.ping !== undefined) bc.postMessage({ pong: m.ping });
  else if (m.pong !== undefined && window.onpong) window.onpong(m.pong);
  else if (m.offer) { await setupAnswer(m.offer); }
  else if (m.answer) { await pc.setRemoteDescription(m.answer); }
  else if (m.cand) { await pc.addIceCandidate(m.cand); }
};
window.pc = new RTCPeerConnection();
pc.onicecandidate = (e) => e.candidate && bc.postMessage({ cand: e.candidate.toJSON() });
pc.ondatachannel = (e) => { window.dc = e.channel; dc.binaryType='arraybuffer'; dc.onmessage = (m) => dc.send(m.data); };
async function setupAnswer(offer) {
  await pc.setRemoteDescription(offer);
  const answer = await pc.createAnswer(); await pc.setLocalDescription(answer);
  bc.postMessage({ answer: { type: answer.type, sdp: answer.sdp } });
}
window.startOffer = async () => {
  window.dc = pc.createDataChannel('d'); dc.binaryType='arraybuffer';
  const open = new Promise((r) => dc.onopen = r);
  const offer = await pc.createOffer(); await pc.setLocalDescription(offer);
  bc.postMessage({ offer: { type: offer.type, sdp: offer.sdp } });
  await open; return 'open';
};
const pct = (a, q) => { a = [...a].sort((x, y) => x - y); return +a[Math.min(a.length - 1, Math.floor(q / 100 * a.length))].toFixed(3); };
window.bcRtt = async (n, gap) => {
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise((r) => { window.onpong = r; bc.postMessage({ ping: i }); });
    lat.push(performance.now() - t);
    if (gap) await new Promise((r) => setTimeout(r, gap));
  }
  return { p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99) };
};
window.dcRtt = async (n, gap) => {
  const lat = []; const buf = new Uint8Array(60);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise((r) => { dc.onmessage = r; dc.send(buf); });
    lat.push(performance.now() - t);
    if (gap) await new Promise((r) => setTimeout(r, gap));
  }
  return { p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99) };
};
window.sendGapCost = async (big) => {
  const mem = new Uint8Array(big ? 32 << 20 : 4096); const view = mem.subarray(1000, 1060);
  const costs = [];
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const t = performance.now(); dc.send(view); costs.push(performance.now() - t);
    await new Promise((r) => { dc.onmessage = r; });
  }
  return { p50: pct(costs, 50), p90: pct(costs, 90), mean: costs.reduce((a, b) => a + b) / costs.length };
};
window.storeCost = () => { const s = 'x'.repeat(2700); const t = performance.now(); for (let i = 0; i < 200; i++) sessionStorage.setItem('k' + (i % 3), s + i); return (performance.now() - t) / 200; };
window.sendCost = () => { const buf = new Uint8Array(60); const t = performance.now(); for (let i = 0; i < 200; i++) dc.send(buf); return (performance.now() - t) / 200; };
</script>`;
const { pages: tabs, evaluate: ev, close } = await openPlainPages(PAGE, ['', '']);
console.log('dc', await ev(tabs[0], 'startOffer()'));
for (let k = 0; k < 1; k++) {
  console.log('bc rtt gap20', JSON.stringify(await ev(tabs[0], 'bcRtt(200, 20)')));
  console.log('dc rtt gap20', JSON.stringify(await ev(tabs[0], 'dcRtt(200, 20)')));
  console.log('bc rtt tight', JSON.stringify(await ev(tabs[0], 'bcRtt(1000, 0)')));
  console.log('dc rtt tight', JSON.stringify(await ev(tabs[0], 'dcRtt(1000, 0)')));
}
console.log('send after gap, small buf', JSON.stringify(await ev(tabs[0], 'sendGapCost(false)')));
console.log('send after gap, 32MB buf view', JSON.stringify(await ev(tabs[0], 'sendGapCost(true)')));
console.log('setItem 2.7KB ms', await ev(tabs[0], 'storeCost()'));
console.log('dc.send ms', await ev(tabs[0], 'sendCost()'));
await close();
