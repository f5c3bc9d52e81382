// Child process of the kill -9 test. Opens the compiled outbox in a directory and appends
// forever, writing one stdout line per append that returned ("<seq> <id>") and around each ack
// ("ack-begin <upTo>" before, "ack <upTo>" after). stdout is written synchronously, so a line
// is out before the next append starts; the parent kills this process at a random moment.
import fs from 'node:fs';

const [, , outboxModuleUrl, dir] = process.argv;
const { Outbox } = await import(outboxModuleUrl);
const ob = Outbox.open({ dir, segmentBytes: 16 * 1024 });
const say = (text) => fs.writeSync(1, `${text}\n`);
say(`open ${ob.stats().lastSeq}`);

const device = (serial) => ({
  device: {
    key: `usb:0781:5567:${serial}`,
    vendorId: '0781',
    productId: '5567',
    serial,
    manufacturer: 'SanDisk',
    product: 'Cruzer Blade',
    deviceClass: '00',
    interfaceClasses: ['08'],
    busPath: '1-1.4',
    removable: 'removable',
    isHub: false,
    isRootHub: false,
  },
  present: false,
});
const heartbeat = (n) => ({ counters: ob.counters(), droppedByType: {}, outbox: { pending: 0, bytes: 0 }, uptimeSeconds: n });

for (let round = 1; ; round++) {
  const items = [];
  for (let k = 0; k < 1 + (round % 7); k++) items.push(k % 3 === 0 ? { type: 'usb.attached', body: device(`R${round}K${k}`) } : { type: 'heartbeat', body: heartbeat(round) });
  const envelopes = round % 2 === 0 ? ob.appendMany(items) : items.map((i) => ob.append(i.type, i.body));
  say(envelopes.map((e) => `${e.seq} ${e.id}`).join('\n'));
  if (round % 20 === 0) {
    const upTo = Math.max(0, ob.stats().lastSeq - 40);
    say(`ack-begin ${upTo}`);
    ob.ack(upTo);
    say(`ack ${upTo}`);
  }
}
