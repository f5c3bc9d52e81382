// Summarises a V8 .cpuprofile (node --cpu-prof; `node bench/ingest.mjs --collector-only --cpu-prof-dir=DIR`):
// self time by function, inclusive time by function, and optionally the direct callees of one
// function, as % of the samples taken.
//
//   node bench/cpuprofile-summary.mjs <file.cpuprofile> [--top=40] [--callees=<part of a function's name>]
import fs from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpuprofile-summary.mjs <file.cpuprofile> [--top=40] [--callees=NAME]');
  process.exit(2);
}
const opt = (name) => rest.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const top = Number(opt('top') ?? 40);
const callees = opt('callees');
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|collector|shared)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;

const self = new Map();
const total = new Map();
const under = new Map();
for (const sample of profile.samples) {
  const leaf = byId.get(sample);
  self.set(name(leaf), (self.get(name(leaf)) ?? 0) + 1);
  const seen = new Set();
  let child;
  let attributed = false;
  for (let id = sample; id !== undefined; id = parent.get(id)) {
    const k = name(byId.get(id));
    if (!seen.has(k)) {
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + 1);
    }
    // The frame just below the innermost frame that matches `callees`.
    if (callees && !attributed && child !== undefined && k.includes(callees)) {
      const c = name(byId.get(child));
      under.set(c, (under.get(c) ?? 0) + 1);
      attributed = true;
    }
    child = id;
  }
}
const n = profile.samples.length;
const print = (title, m) => {
  console.log(`--- ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * v) / n).toFixed(1).padStart(5)} %  ${k}`);
};
console.log(`${n} samples`);
print('self', self);
print('inclusive', total);
if (callees) print(`direct callees of ${callees}`, under);
