// The Software page at fleet scale (alone: `node bench/software-page.mjs [--hosts 10000]`; not part
// of `npm run bench`). Fills a fresh data dir directly: HOSTS hosts with 700-3,000 packages each
// out of a pool of 12,000 package names (a common base of 600 nearly every host has, in one or two
// versions, and a long tail), each distinct item once in software_items with its classification
// and its install count, as the ingest path keeps them. Then, in this process, the collector's
// app (buildApp, no listener) answers through inject():
//
// - GET /api/v1/software (first page, installs order; name order; a search; a status filter),
//   each REQUESTS times, p50/p99;
// - the same right after every item's classification is made stale (a policy change before the
//   engine has judged any host again): the first request classifies every item, the next ones not;
// - GET /api/v1/software/hosts for a package on every host and for one on 3 hosts (a page reads
//   at most 2,000 inventories);
// - GET /api/v1/hosts sorted by last seen, open alerts and agent version.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { uuidv7 } from '@vigil/shared';
import { buildApp } from '../collector/dist/app.js';
import { openStore } from '../collector/dist/db/store.js';
import { bootstrap } from '../collector/dist/services/bootstrap.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const HOSTS = arg('hosts', 10_000);
const REQUESTS = arg('requests', 30);
const POOL = 12_000;
const BASE = 600;
const TOKEN = 'vgt_software-bench-token-0123456789abcdef';

let seed = 42;
const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-software-bench-'));
const store = openStore({ dataDir: dir, silentAfterMs: 60_000 });
await bootstrap(store, { enrolSecret: 'software-bench-secret-0123456789abcdef', adminToken: TOKEN, adminPassword: 'software bench password' });
const db = store.db;

const t0 = performance.now();
const now = Date.now();
const item = (n, v) => ({ name: `pkg-${String(n).padStart(5, '0')}`, version: `${1 + (n % 7)}.${v}.0-1`, source: 'dpkg', arch: 'amd64', publisher: n % 10 === 0 ? 'Someone <x@example.com>' : 'Debian Maintainers <debian@lists.debian.org>' });
const insertItem = db.prepare('INSERT INTO software_items (item, source, name, arch, status, subject, policy_version) VALUES (?, ?, ?, ?, ?, ?, 0) RETURNING id');
const ids = new Map();
const idOf = (n, v) => {
  const key = `${n}/${v}`;
  let id = ids.get(key);
  if (id === undefined) {
    const i = item(n, v);
    id = insertItem.get(JSON.stringify(i), 'dpkg', i.name, 'amd64', n % 10 === 0 ? 'unapproved' : 'approved', `dpkg:${i.name}`).id;
    ids.set(key, id);
  }
  return id;
};
const insertHost = db.prepare(`INSERT INTO hosts (id, hostname, platform, distro, release, arch, agent_version, first_seen_at, last_seen_at, status) VALUES (?, ?, 'linux', 'Debian GNU/Linux', '12', 'x64', ?, ?, ?, 'offline')`);
const insertAgent = db.prepare('INSERT INTO agents (id, host_id, token_hash, created_at) VALUES (?, ?, ?, ?)');
const insertList = db.prepare('INSERT INTO host_inventories (host_id, item_ids) VALUES (?, ?)');
const bump = db.prepare('INSERT INTO software_installs (item_id, installs) VALUES (?, ?) ON CONFLICT (item_id) DO UPDATE SET installs = installs + excluded.installs');
const insertAlert = db.prepare(`INSERT INTO alerts (id, rule, host_id, subject, severity, status, first_seen_at, last_seen_at, updated_at) VALUES (?, 'software.unapproved', ?, ?, 'medium', 'open', ?, ?, ?)`);
const installs = new Map();
let packages = 0;
let rare;
db.transaction(() => {
  for (let h = 0; h < HOSTS; h++) {
    const id = uuidv7(now - h);
    insertHost.run(id, `host-${String(h).padStart(5, '0')}`, `0.${1 + (h % 4)}.0`, now - 1e9, now - Math.floor(rnd() * 1e8));
    insertAgent.run(uuidv7(now - h), id, crypto.randomBytes(32), now - 1e9);
    const want = 700 + Math.floor(rnd() * rnd() * 2300);
    const chosen = new Set();
    const list = [];
    for (let n = 0; n < BASE; n++) {
      chosen.add(n);
      list.push(idOf(n, rnd() < 0.85 ? 0 : 1));
    }
    while (list.length < want) {
      // A long tail: lower numbers far more often.
      const n = BASE + Math.floor((POOL - BASE - 10) * rnd() ** 2);
      if (chosen.has(n)) continue;
      chosen.add(n);
      list.push(idOf(n, Math.floor(rnd() * 3)));
    }
    // Three hosts have a rare package, far apart in id order.
    if (h === 1 || h === Math.floor(HOSTS / 2) || h === HOSTS - 2) list.push(idOf(POOL - 1, 0));
    if (h === 1) rare = `dpkg:${item(POOL - 1, 0).name}`;
    for (const i of list) installs.set(i, (installs.get(i) ?? 0) + 1);
    packages += list.length;
    insertList.run(id, JSON.stringify(list));
    for (let a = 0; a < h % 5; a++) insertAlert.run(uuidv7(now), id, `s${a}`, now, now, now);
  }
  for (const [i, n] of installs) bump.run(i, n);
})();
const fill = performance.now() - t0;
const distinct = ids.size;
const bytes = fs.statSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.db') || f.endsWith('.sqlite')) ?? '')).size;

const app = await buildApp({ store, logLevel: 'error', heartbeatSeconds: 30, evaluationTickMs: 3_600_000 });
await app.ready();
const auth = { authorization: `Bearer ${TOKEN}` };
const get = async (url) => {
  const s = performance.now();
  const res = await app.inject({ url, headers: auth });
  const ms = performance.now() - s;
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return { ms, body: res.json() };
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
/** The first request on its own (it may fill a cache), then p50/p99 of the next n. */
async function time(label, url, n = REQUESTS) {
  const ms = [];
  let { ms: first, body } = await get(url);
  for (let i = 0; i < n; i++) ({ ms: ms[i], body } = await get(url));
  console.log(`${label.padEnd(56)} first ${first.toFixed(1).padStart(6)} ms   then p50 ${pct(ms, 50).toFixed(1).padStart(6)} ms, p99 ${pct(ms, 99).toFixed(1).padStart(6)} ms (${n})`);
  return body;
}

console.log(`fleet: ${HOSTS} hosts, ${packages} installed packages (${(packages / HOSTS).toFixed(0)} per host), ${distinct} distinct items; filled in ${(fill / 1000).toFixed(1)} s; file ${(bytes / 2 ** 20).toFixed(0)} MiB`);
const first = await time('GET /api/v1/software (installs order, 50 rows)', '/api/v1/software');
console.log(`  ${first.total} rows; first: ${first.items[0].name} ${first.items[0].installs} installs`);
await time('GET /api/v1/software?sort=name&limit=200', '/api/v1/software?sort=name&limit=200');
await time('GET /api/v1/software?q=pkg-011', '/api/v1/software?q=pkg-011');
await time('GET /api/v1/software?status=unapproved', '/api/v1/software?status=unapproved');

await time('GET /api/v1/software/hosts (on every host, 50)', `/api/v1/software/hosts?name=dpkg:pkg-00001&status=os-vendor`);
const r = await time(`GET /api/v1/software/hosts (on 3 hosts, one page)`, `/api/v1/software/hosts?name=${encodeURIComponent(rare)}&status=os-vendor`, 5);
let pages = 1;
let found = r.items.length;
let cursor = r.nextCursor;
const s = performance.now();
while (cursor) {
  const { body } = await get(`/api/v1/software/hosts?name=${encodeURIComponent(rare)}&status=os-vendor&cursor=${cursor}`);
  pages++;
  found += body.items.length;
  cursor = body.nextCursor;
}
console.log(`  the rare package: ${found} hosts found in ${pages} pages, the rest ${(performance.now() - s).toFixed(0)} ms`);
for (const sort of ['hostname', 'lastSeen', 'openAlerts', 'agentVersion']) {
  await time(`GET /api/v1/hosts?sort=${sort}&order=desc (50)`, `/api/v1/hosts?sort=${sort}&order=desc`, 10);
}

// A policy change: every item is stale until the engine judges the hosts again (here never: the
// seeded hosts have no host_state rows), so the list classifies every installed item itself.
const put = await app.inject({
  method: 'PUT',
  url: '/api/v1/policy',
  headers: { ...auth, 'content-type': 'application/yaml' },
  payload: 'software:\n  titles:\n    - { title: "Base tools", match: { name: "pkg-000*" }, status: approved }\n    - { title: "Licensed tool", match: { name: "pkg-0011*" }, status: licensed, seats: 100 }\n',
});
if (put.statusCode !== 200) throw new Error(put.body);
const stale = await time('GET /api/v1/software after a policy change (all stale)', '/api/v1/software');
console.log(`  ${stale.total} rows; first: ${stale.items[0].name} ${stale.items[0].installs} installs`);

await app.close();
fs.rmSync(dir, { recursive: true, force: true });
