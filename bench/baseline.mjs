// The bare baseline for the ingest bench: what `ws` and better-sqlite3 alone can do on this machine
// with the same frames, so the collector's figure can be read as a fraction of it. Run as its own
// process (like the collector) by bench/lib.mjs `startBaseline(dataDir)`:
//
//   node bench/baseline.mjs <data-dir>      prints {"url":"http://127.0.0.1:<port>"} once listening
//
// No Vigil code: a plain WebSocketServer on 127.0.0.1; each frame is JSON.parse'd and its body
// re-serialised (as the collector stores the parsed body); rows go into a table shaped like the
// collector's `messages` table (same columns, unique and other indexes, same pragmas as
// collector/src/db/database.ts) in batches, one transaction per batch, with the collector's ingest
// queue trigger (flush on setImmediate, or at once at 2,000 queued); after each commit every
// connection in the batch gets `{type:'ack', body:{upToSeq}}`. What it leaves out is exactly the
// collector's work: schema validation, per-agent sequence and host bookkeeping, the host's current
// state, the policy engine and alerts, authentication, envelopes on the way back.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The collector's own better-sqlite3 (same version and build), resolved from its package.
const Database = createRequire(path.join(ROOT, 'collector/package.json'))('better-sqlite3');

const MAX_BATCH = 2000;

const dataDir = process.argv[2];
if (!dataDir) {
  console.error('usage: node bench/baseline.mjs <data-dir>');
  process.exit(2);
}
fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const db = new Database(path.join(dataDir, 'baseline.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL'); // the collector's default (--db-synchronous full)
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
db.pragma('temp_store = MEMORY');
// collector/src/db/migrations.ts, as of version 11 (rows in arrival order, found by id through a unique index).
db.exec(`
  CREATE TABLE IF NOT EXISTS messages (
    id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    host_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    agent_ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX IF NOT EXISTS messages_by_id ON messages (id);
  CREATE INDEX IF NOT EXISTS messages_by_host ON messages (host_id, received_at);
  CREATE INDEX IF NOT EXISTS messages_by_received ON messages (received_at);
  CREATE INDEX IF NOT EXISTS messages_usb_by_host ON messages (host_id, received_at, seq) WHERE type IN ('usb.attached', 'usb.detached');
`);
const insert = db.prepare(`INSERT INTO messages (id, agent_id, host_id, seq, type, agent_ts, received_at, body)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
const commit = db.transaction((batch, now) => {
  for (const { conn, msg } of batch) insert.run(msg.id, conn.agentId, conn.hostId, msg.seq, msg.type, msg.ts, now, JSON.stringify(msg.body));
});

let items = [];
let scheduled = false;

function flush() {
  scheduled = false;
  if (items.length === 0) return;
  const batch = items;
  items = [];
  commit(batch, Date.now());
  const upTo = new Map();
  for (const { conn, msg } of batch) upTo.set(conn, Math.max(upTo.get(conn) ?? -1, msg.seq));
  for (const [conn, upToSeq] of upTo) if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify({ type: 'ack', body: { upToSeq } }));
}

function push(item) {
  items.push(item);
  if (items.length >= MAX_BATCH) flush();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 8 * 1024 * 1024 });
wss.on('connection', (socket) => {
  // One agent per connection; its ids stand in for what the collector takes from the token.
  const conn = { socket, agentId: randomUUID(), hostId: randomUUID() };
  socket.on('message', (data) => {
    let msg;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    push({ conn, msg });
  });
  socket.on('error', () => {});
});
wss.on('listening', () => console.log(JSON.stringify({ url: `http://127.0.0.1:${wss.address().port}` })));

process.on('SIGTERM', () => {
  flush();
  wss.close();
  for (const s of wss.clients) s.terminate();
  db.close();
  process.exit(0);
});
