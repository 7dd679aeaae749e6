// Shortens the names by which the wasm module and its wasm-bindgen JavaScript glue refer to each
// other, in a release build's staging directory (run by web/minify-js.sh after terser).
//
// wasm-bindgen names every import after the JavaScript it wraps plus a 16-digit hash
// (`__wbg_setAttribute_f75317b2b5cabfb4`) and every internal export after its Rust path, and both
// files carry each name: about 7 KB of the gzipped bundle, since hashes do not compress. This
// renames them to `a`, `b`, ... in the wasm's import and export sections (every other byte of the
// module is copied as is) and in the glue, and the import module `./NAME_bg.js` to `a`.
//
// A name is renamed only where the glue uses it in a way this script understands: an import as
// the key of the imports object (`NAME:`), an export as a property of the instance's exports
// (`.NAME`). Any other use of the name (a string, a bare identifier) keeps it unchanged, so an
// unexpected glue shape costs bytes, never correctness. Exports the glue never mentions are kept
// too: someone outside may call them.
//
// Usage: node web/minify-names.mjs DIR   (DIR holds exactly one *_bg.wasm and its .js)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const files = readdirSync(dir);
const wasmName = files.filter((f) => f.endsWith('_bg.wasm'));
const jsName = files.filter((f) => f.endsWith('.js'));
if (wasmName.length !== 1 || jsName.length !== 1) {
  throw new Error(`minify-names: expected one *_bg.wasm and one .js in ${dir}, found ${files}`);
}
const wasmPath = join(dir, wasmName[0]);
const jsPath = join(dir, jsName[0]);
const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, 'utf8');

// --- Reading the module -------------------------------------------------------------------------

function reader(bytes, start) {
  let at = start;
  const r = {
    get at() {
      return at;
    },
    byte: () => bytes[at++],
    uleb() {
      let value = 0;
      let shift = 0;
      for (;;) {
        const b = bytes[at++];
        value += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0) return value;
      }
    },
    name() {
      const length = r.uleb();
      const text = bytes.subarray(at, at + length).toString('utf8');
      at += length;
      return text;
    },
    limits() {
      const flags = r.byte();
      if (flags & ~0x07) throw new Error(`minify-names: unknown limits flags ${flags}`);
      r.uleb();
      if (flags & 1) r.uleb();
    },
    skip(n) {
      at += n;
    },
    slice: (from) => bytes.subarray(from, at),
  };
  return r;
}

/** The bytes after an import's names, as they are (what it imports and its type). */
function importDescriptor(r) {
  const from = r.at;
  const kind = r.byte();
  if (kind === 0) {
    r.uleb(); // function: type index
  } else if (kind === 1) {
    const type = r.byte(); // table: element reference type, limits
    if (type !== 0x70 && type !== 0x6f) throw new Error(`minify-names: table type ${type}`);
    r.limits();
  } else if (kind === 2) {
    r.limits(); // memory
  } else if (kind === 3) {
    const type = r.byte(); // global: value type, mutability
    if (![0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f].includes(type)) {
      throw new Error(`minify-names: global type ${type}`);
    }
    r.byte();
  } else if (kind === 4) {
    r.byte(); // tag: attribute, type index
    r.uleb();
  } else {
    throw new Error(`minify-names: unknown import kind ${kind}`);
  }
  return r.slice(from);
}

const sections = [];
{
  if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error('minify-names: not a wasm module');
  const r = reader(wasm, 8);
  while (r.at < wasm.length) {
    const header = r.at;
    const id = r.byte();
    const size = r.uleb();
    const start = r.at;
    if (start + size > wasm.length) throw new Error('minify-names: truncated module');
    sections.push({ id, header, start, end: start + size });
    r.skip(size);
  }
}

function entries(id, read) {
  const section = sections.find((s) => s.id === id);
  if (!section) return [];
  const r = reader(wasm, section.start);
  const count = r.uleb();
  const list = [];
  for (let i = 0; i < count; i++) list.push(read(r));
  if (r.at !== section.end) throw new Error(`minify-names: section ${id} not read to its end`);
  return list;
}

const imports = entries(2, (r) => ({ module: r.name(), name: r.name(), rest: importDescriptor(r) }));
const exports = entries(7, (r) => {
  const name = r.name();
  const from = r.at;
  r.byte();
  r.uleb();
  return { name, rest: r.slice(from) };
});

// --- Choosing new names -------------------------------------------------------------------------

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Every use of `name` in the glue as a whole identifier, with the character before it. */
function uses(name) {
  const pattern = new RegExp(`(^|[^\\w$])${escape(name)}(?![\\w$])(.?)`, 'g');
  return [...js.matchAll(pattern)].map((m) => ({ before: m[1], after: m[2] }));
}

const FIRST = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$';
const NEXT = `${FIRST}0123456789`;
function* shortNames(taken) {
  for (let length = 1; ; length++) {
    const total = FIRST.length * NEXT.length ** (length - 1);
    for (let n = 0; n < total; n++) {
      let rest = n;
      let name = FIRST[rest % FIRST.length];
      rest = Math.floor(rest / FIRST.length);
      for (let i = 1; i < length; i++) {
        name += NEXT[rest % NEXT.length];
        rest = Math.floor(rest / NEXT.length);
      }
      if (!taken.has(name)) yield name;
    }
  }
}

// wasm-bindgen imports everything from one module, whose name appears in the glue once, as the
// key of the imports object. Anything else is left alone.
const modules = [...new Set(imports.map((i) => i.module))];
const moduleRenames = new Map();
if (modules.length === 1 && js.split(`"${modules[0]}"`).length === 2) {
  moduleRenames.set(modules[0], 'a');
}

function plan(list, fits) {
  const renames = new Map();
  const kept = new Set();
  for (const { name } of list) {
    const found = uses(name);
    if (found.length > 0 && found.every(fits)) renames.set(name, null);
    else kept.add(name);
  }
  const fresh = shortNames(kept);
  for (const name of renames.keys()) renames.set(name, fresh.next().value);
  return renames;
}
const importRenames = plan(imports, (u) => u.after === ':' && /[{,]/.test(u.before));
const exportRenames = plan(exports, (u) => u.before === '.');

// --- Writing both files -------------------------------------------------------------------------

function uleb(value) {
  const out = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return Buffer.from(out);
}
const name = (text) => {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([uleb(bytes.length), bytes]);
};

function section(id, list, encode) {
  const body = Buffer.concat([uleb(list.length), ...list.map(encode)]);
  return Buffer.concat([Buffer.from([id]), uleb(body.length), body]);
}
const parts = [wasm.subarray(0, 8)];
for (const s of sections) {
  if (s.id === 2) {
    parts.push(
      section(2, imports, (i) =>
        Buffer.concat([
          name(moduleRenames.get(i.module) ?? i.module),
          name(importRenames.get(i.name) ?? i.name),
          i.rest,
        ]),
      ),
    );
  } else if (s.id === 7) {
    parts.push(section(7, exports, (e) => Buffer.concat([name(exportRenames.get(e.name) ?? e.name), e.rest])));
  } else {
    parts.push(wasm.subarray(s.header, s.end));
  }
}
const out = Buffer.concat(parts);

for (const [module, short] of moduleRenames) js = js.split(`"${module}"`).join(`"${short}"`);
for (const [renames, pattern] of [
  [importRenames, (n) => `([{,])${escape(n)}(?=:)`],
  [exportRenames, (n) => `(\\.)${escape(n)}(?![\\w$])`],
]) {
  for (const [old, short] of renames) js = js.replace(new RegExp(pattern(old), 'g'), `$1${short}`);
}

writeFileSync(wasmPath, out);
writeFileSync(jsPath, js);
console.log(
  `minify-names: ${importRenames.size}/${imports.length} imports, ` +
    `${exportRenames.size}/${exports.length} exports renamed` +
    `; wasm ${wasm.length} -> ${out.length} bytes`,
);
