// The closed loop's ceiling: three plain pages (no app, no Raft, no storage) exchange exactly the
// messages a 3-voter cluster needs per closed-loop write, over RTCDataChannels, and count writes
// for 5 s as `bench/closed-loop.mjs` does. Page 0 plays the leader:
// - the leader's write: it sends an append to both others, and the write is done at the first
//   ack (a majority of 3);
// - a follower's write: it sends its proposal to the leader, the leader sends the append to both
//   followers, and the proposer's write is done when its append arrives (with 3 voters a follower
//   knows an entry committed once the leader and it hold it, see the core's crate doc); the other
//   follower acks.
// Each tab has one write outstanding at a time. What this prints is an upper bound for any Raft
// over data channels on this machine: the app adds its work to every hop.
//
//   ../shared/tools/isolated-net node e2e/ceiling.mjs [--rounds N]
//
// A diagnostic, like floor.mjs: not part of the suite or the benchmark.
import { openPlainPages } from './lib/plain-pages.mjs';

const PAGES = 3;
const DURATION_MS = 5_000;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;

const PAGE = `<!doctype html><script>
const me = Number(new URLSearchParams(location.search).get('i'));
const bc = new BroadcastChannel('ceiling');
const pcs = {}, dcs = {};
const peer = (other) => {
  if (pcs[other]) return pcs[other];
  const pc = pcs[other] = new RTCPeerConnection();
  pc.onicecandidate = (e) => e.candidate && bc.postMessage({ to: other, from: me, cand: e.candidate.toJSON() });
  pc.ondatachannel = (e) => wire(other, e.channel);
  return pc;
};
const wire = (other, dc) => { dc.binaryType = 'arraybuffer'; dc.onmessage = (m) => onFrame(other, new DataView(m.data)); dcs[other] = dc; };
bc.onmessage = async ({ data: m }) => {
  if (m.to !== me) return;
  const pc = peer(m.from);
  if (m.offer) {
    await pc.setRemoteDescription(m.offer);
    const answer = await pc.createAnswer(); await pc.setLocalDescription(answer);
    bc.postMessage({ to: m.from, from: me, answer: { type: answer.type, sdp: answer.sdp } });
  } else if (m.answer) await pc.setRemoteDescription(m.answer);
  else if (m.cand) await pc.addIceCandidate(m.cand);
};
window.connect = async (other) => {
  const pc = peer(other);
  const dc = pc.createDataChannel('d'); wire(other, dc);
  const open = new Promise((r) => dc.onopen = r);
  const offer = await pc.createOffer(); await pc.setLocalDescription(offer);
  bc.postMessage({ to: other, from: me, offer: { type: offer.type, sdp: offer.sdp } });
  await open; return 'open';
};
// Frames: [kind u8, proposer u8, index u32]. Every follower acks every append, as in Raft.
const APPEND = 1, ACK = 2, PROPOSE = 3;
const followers = () => Object.keys(dcs).map(Number).filter((id) => id !== 0);
const send = (to, kind, proposer = 0, index = 0) => {
  const frame = new DataView(new ArrayBuffer(6));
  frame.setUint8(0, kind); frame.setUint8(1, proposer); frame.setUint32(2, index);
  dcs[to].send(frame.buffer);
};
let writes = 0, running = false, last = 0, pending = null;
const append = (proposer) => { last++; for (const f of followers()) send(f, APPEND, proposer, last); return last; };
const write = () => {
  if (!running) return;
  if (me === 0) pending = append(0);
  else { pending = true; send(0, PROPOSE); }
};
const done = () => { writes++; pending = null; write(); };
function onFrame(from, frame) {
  const kind = frame.getUint8(0), proposer = frame.getUint8(1), index = frame.getUint32(2);
  if (me === 0) {
    if (kind === PROPOSE) append(from);
    else if (kind === ACK && pending !== null && index >= pending) done();
  } else if (kind === APPEND) {
    send(0, ACK, 0, index);
    if (proposer === me && pending !== null) done();
  }
}
window.loop = async (ms) => {
  writes = 0; running = true; pending = null; write();
  await new Promise((r) => setTimeout(r, ms));
  running = false; return writes;
};
</script>`;

const queries = Array.from({ length: PAGES }, (_, i) => `?i=${i}`);
const { pages: tabs, evaluate: ev, close } = await openPlainPages(PAGE, queries);
for (let i = 0; i < PAGES; i++) for (let j = i + 1; j < PAGES; j++) await ev(tabs[i], `connect(${j})`);
for (let round = 0; round < rounds; round++) {
  const counts = await Promise.all(tabs.map((tab) => ev(tab, `loop(${DURATION_MS})`)));
  const total = counts.reduce((a, b) => a + b, 0);
  console.log(`ceiling closed_loop writes_per_s=${Math.round(total / (DURATION_MS / 1000))} per_tab=${counts.map((c) => Math.round(c / (DURATION_MS / 1000))).join('/')}`);
}
await close();
