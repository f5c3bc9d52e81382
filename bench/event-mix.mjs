// What the ingest and growth benches send and store. An *event* is one agent message carrying one
// fact change (issue 5). Two loads:
//
// - `session`: only `session.state` frames, the same bodies as every earlier run (continuity).
// - `mixed`: per host, a seeded random sequence of
//     70 % `session.state`: the host's local session cycles active → idle (unlocked) → locked → active;
//     20 % USB: `usb.attached` / `usb.detached` in turn (a device is plugged, then unplugged).
//          85 % of attaches are devices the default policy allows (hubs, internal devices: webcam,
//          Bluetooth, fingerprint reader, card reader); 15 % are removable sticks or a phone that
//          nothing approves → `usb.unauthorised` alerts (most from a pool of 3 per host, so
//          re-plugging bumps the open alert; 1 in 5 a stick never seen before → a new alert);
//    10 % `software.changed` diffs of a few items against the host's inventory: 60 % upgrades of
//          1–3 packages, 20 % an install (half a Debian package, approved as the OS vendor's; half
//          third-party software → `software.unapproved`), 20 % a removal of something installed.
//   Before the timed part each host sends one `snapshot` (host facts, 4 allowed USB devices, an
//   inventory of INVENTORY_SIZE Debian packages, compliant screen-lock settings, its session), as a
//   real agent does after enrolling; without it a software diff has nothing to apply to.
//
// Frames are built (and serialised) before anything is timed, and the very same strings go to the
// collector and to the bare baseline.
import { agentEnvelope } from '@vigil/shared';

/** Packages in each host's inventory (this machine's Debian image has 711; a desktop has more). */
export const INVENTORY_SIZE = 700;
export const MIX = { session: 0.7, usb: 0.2, software: 0.1 };

/** mulberry32: a small seeded PRNG, so every run sends the same sequence. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (rnd, xs) => xs[Math.floor(rnd() * xs.length)];

const usb = (vendorId, productId, serial, manufacturer, product, deviceClass, interfaceClasses, busPath, removable, isHub = false, isRootHub = false) => ({
  key: `usb:${vendorId}:${productId}:${serial}`,
  vendorId,
  productId,
  serial,
  manufacturer,
  product,
  deviceClass,
  interfaceClasses,
  busPath,
  removable,
  isHub,
  isRootHub,
});

/** Present at start on every host (all allowed by the default policy: hubs and internal devices). */
export const BASE_DEVICES = [
  usb('1d6b', '0002', '0000:00:14.0', 'Linux 6.1.0-18-amd64 xhci-hcd', 'xHCI Host Controller', '09', ['09'], 'usb1', 'fixed', true, true),
  usb('8087', '0024', '', '', '', '09', ['09'], '1-1', 'fixed', true),
  usb('04f2', 'b6dd', '0001', 'Chicony Electronics Co.,Ltd.', 'Integrated Camera', 'ef', ['0e', '0e'], '1-7', 'fixed'),
  usb('8087', '0026', '', '', '', 'e0', ['e0', 'e0'], '1-10', 'fixed'),
];
/** Plugged in and out during the run, allowed (an external hub, internal devices re-enumerating). */
const ALLOWED_DEVICES = [
  usb('17ef', '1005', '', 'Lenovo', 'ThinkPad USB-C Dock Hub', '09', ['09'], '1-1.5', 'removable', true),
  usb('0bda', '5411', '', 'Generic', '4-Port USB 2.0 Hub', '09', ['09'], '1-1.4', 'unknown', true),
  usb('06cb', '00bd', '9c3b1f0d77e2', 'Synaptics', 'Prometheus MIS Touch Fingerprint Reader', 'ff', ['ff'], '1-9', 'fixed'),
  usb('0bda', '0129', '20100201396000000', 'Generic', 'USB2.0-CRW', '00', ['ff'], '1-3', 'fixed'),
  usb('04f2', 'b6dd', '0001', 'Chicony Electronics Co.,Ltd.', 'Integrated Camera', 'ef', ['0e', '0e'], '1-7', 'fixed'),
];
/** Nothing approves these: each host's own few, and now and then one never seen before. */
const hostSticks = (host) => [
  usb('0781', '5581', `4C53000${host}11`.slice(0, 12), 'SanDisk', 'Ultra', '00', ['08'], '2-1', 'removable'),
  usb('0951', '1666', `E0D55EA57${String(host).padStart(6, '0')}`, 'Kingston', 'DataTraveler 3.0', '00', ['08'], '2-2', 'removable'),
  usb('0fce', '0166', `BH90${String(host).padStart(6, '0')}`, 'Sony', 'Xperia 10 IV', '00', ['ff', '06'], '1-2', 'unknown'),
];
const visitorStick = (host, n) => usb('090c', '1000', `VIS${host}-${n}`, 'Silicon Motion, Inc.', 'Flash Disk', '00', ['08'], '2-3', 'removable');

const TEAMS = [
  'Debian GNOME Maintainers <pkg-gnome-maintainers@lists.alioth.debian.org>',
  'Debian X Strike Force <debian-x@lists.debian.org>',
  'Debian Security Tools <team+pkg-security@tracker.debian.org>',
  'Debian Python Team <team+python@tracker.debian.org>',
  'Debian Perl Group <pkg-perl-maintainers@lists.alioth.debian.org>',
  'Debian QA Group <packages@qa.debian.org>',
  'GNU Libc Maintainers <debian-glibc@lists.debian.org>',
  'Debian Multimedia Maintainers <debian-multimedia@lists.debian.org>',
];
const STEMS = ['gtk', 'glib', 'x11', 'xcb', 'pango', 'cairo', 'gst', 'python3', 'perl', 'ssl', 'curl', 'gnome', 'pulse', 'systemd', 'dbus', 'mesa', 'icu', 'xml2', 'sqlite3', 'png', 'jpeg', 'tiff', 'freetype', 'fontconfig', 'harfbuzz', 'nss', 'krb5', 'ldap', 'sasl', 'pam'];
const ARCH = ['amd64', 'amd64', 'amd64', 'all'];

/** A deterministic inventory of approved Debian packages (~140 bytes each, as the agent reports them). */
export function inventory(size = INVENTORY_SIZE) {
  const items = [];
  for (let i = 0; i < size; i++) {
    const stem = STEMS[i % STEMS.length];
    items.push({ name: `lib${stem}-${Math.floor(i / STEMS.length)}`, version: `${1 + (i % 7)}.${i % 13}.${i % 5}-${1 + (i % 3)}+deb12u1`, source: 'dpkg', publisher: TEAMS[i % TEAMS.length], arch: ARCH[i % ARCH.length] });
  }
  return items;
}

/** Installed during the run: the OS vendor's (approved) or third-party (unapproved). */
const DEBIAN_EXTRAS = ['vlc', 'gimp', 'inkscape', 'htop', 'keepassxc', 'thunderbird', 'libreoffice-calc', 'git', 'curl', 'openssh-client'].map((name) => ({
  name,
  version: '1.0.0-1',
  source: 'dpkg',
  publisher: 'Debian QA Group <packages@qa.debian.org>',
  arch: 'amd64',
}));
export const THIRD_PARTY = [
  ['google-chrome-stable', '120.0.6099.109-1', 'Chrome Linux Team <chromium-dev@chromium.org>'],
  ['zoom', '5.17.1.1840', 'Zoom Video Communications, Inc. <support@zoom.us>'],
  ['code', '1.85.1-1702462158', 'Microsoft Corporation <vscode-linux@microsoft.com>'],
  ['teamviewer', '15.49.2', 'TeamViewer GmbH <support@teamviewer.com>'],
  ['anydesk', '6.3.0', 'philandro Software GmbH <info@anydesk.com>'],
  ['slack-desktop', '4.35.131', 'Slack Technologies <feedback@slack.com>'],
  ['spotify-client', '1:1.2.25.1011', 'Spotify AB <tux@spotify.com>'],
  ['dropbox', '2020.03.04', 'Dropbox <support@dropbox.com>'],
].map(([name, version, publisher]) => ({ name, version, source: 'dpkg', publisher, arch: 'amd64' }));

export function hostFacts(host) {
  return {
    hostname: `ws-${String(host).padStart(5, '0')}`,
    fqdn: `ws-${String(host).padStart(5, '0')}.corp.example.org`,
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64', kernel: '6.1.0-18-amd64', codename: 'bookworm' },
    hardware: { machineId: `${String(host).padStart(8, '0')}4f2a9c1b8e7d6a5f4e3d2c1b`, manufacturer: 'LENOVO', model: '21HD', virtual: false },
    addresses: [{ iface: 'wlp0s20f3', family: 'ipv4', address: `10.${(host >> 8) & 255}.${host & 255}.${10 + (host % 200)}`, mac: '3c:21:9c:4a:5b:6c' }],
    users: [{ name: `user${host}`, tty: 'seat0', since: '2026-11-23T08:01:12Z' }],
    timezone: 'Europe/London',
    agentVersion: '0.1.0',
  };
}

const fact = (value, source) => ({ status: 'known', value, source });
export const screenlock = (host) => [
  {
    user: `user${host}`,
    desktop: 'GNOME',
    enabled: fact(true, 'gsettings org.gnome.desktop.screensaver lock-enabled'),
    idleTimeoutSeconds: fact(300, 'gsettings org.gnome.desktop.session idle-delay'),
    graceSeconds: fact(0, 'gsettings org.gnome.desktop.screensaver lock-delay'),
    passwordRequired: fact(true, 'pam'),
  },
];

/** The host's local session in one of its three states (idleSince: when it went idle). */
export function session(host, state, at) {
  const base = { id: String(2 + (host % 5)), user: `user${host}`, remote: false, seat: 'seat0', type: 'x11' };
  if (state === 0) return { ...base, locked: false, idle: false };
  if (state === 1) return { ...base, locked: false, idle: true, idleSince: new Date(at).toISOString().replace(/\.\d+Z$/, 'Z') };
  return { ...base, locked: true, idle: true, idleSince: new Date(at).toISOString().replace(/\.\d+Z$/, 'Z') };
}

/**
 * One host's mixed events as `[type, body]`, from its state after the snapshot onwards: a generator
 * (the growth bench draws millions of bodies from it).
 */
export function* mixedEvents(host, seed = host + 1, now = () => Date.now(), inventorySize = INVENTORY_SIZE) {
  const rnd = prng(seed * 7919 + 17);
  const sticks = hostSticks(host);
  const inv = new Map(inventory(inventorySize).map((i) => [i.name, i]));
  const installed = [];
  let plugged = null;
  let sessionState = 0;
  let visitors = 0;
  let upgrades = 0;
  for (;;) {
    const r = rnd();
    if (r < MIX.session) {
      sessionState = (sessionState + 1) % 3;
      yield ['session.state', { sessions: [session(host, sessionState, now() - 1000)] }];
    } else if (r < MIX.session + MIX.usb) {
      if (plugged) {
        yield ['usb.detached', { key: plugged.key, busPath: plugged.busPath }];
        plugged = null;
        continue;
      }
      if (rnd() < 0.85) plugged = pick(rnd, ALLOWED_DEVICES);
      else plugged = rnd() < 0.8 ? pick(rnd, sticks) : visitorStick(host, ++visitors);
      yield ['usb.attached', { device: plugged, present: false }];
    } else {
      const s = rnd();
      if (s < 0.2 && installed.length > 0) {
        const item = installed.splice(Math.floor(rnd() * installed.length), 1)[0];
        inv.delete(item.name);
        yield ['software.changed', { installed: [], removed: [item], upgraded: [] }];
      } else if (s < 0.4) {
        const candidates = (rnd() < 0.5 ? DEBIAN_EXTRAS : THIRD_PARTY).filter((i) => !inv.has(i.name));
        if (candidates.length === 0) continue;
        const item = pick(rnd, candidates);
        inv.set(item.name, item);
        installed.push(item);
        yield ['software.changed', { installed: [item], removed: [], upgraded: [] }];
      } else {
        const names = [...inv.keys()];
        if (names.length === 0) continue;
        const upgraded = [];
        const n = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < n; k++) {
          const from = inv.get(pick(rnd, names));
          if (upgraded.some((u) => u.from.name === from.name)) continue;
          const to = { ...from, version: `${from.version.replace(/\+b\d+$/, '')}+b${++upgrades}` };
          inv.set(to.name, to);
          const i = installed.findIndex((x) => x.name === to.name);
          if (i >= 0) installed[i] = to;
          upgraded.push({ from, to });
        }
        yield ['software.changed', { installed: [], removed: [], upgraded }];
      }
    }
  }
}

/** The snapshot a host sends first in the mixed load. */
export function snapshotBody(host, at = Date.now(), inventorySize = INVENTORY_SIZE) {
  return { host: hostFacts(host), usb: BASE_DEVICES, software: inventory(inventorySize), screenlock: screenlock(host), sessions: [session(host, 0, at)] };
}

/** The original `session.state` body (same as every run before the mixed load existed). */
const legacySession = (seq) => ({ sessions: [{ id: String(seq % 7), user: 'alice', locked: seq % 2 === 0, idle: seq % 3 === 0, remote: false, seat: 'seat0' }] });

/**
 * One agent's frames: `setup` (sent and acknowledged before timing starts; seqs from 1) and
 * `timed` (seqs following), serialised. `count`: timed events.
 */
export function buildFrames(kind, host, count, { inventorySize = INVENTORY_SIZE } = {}) {
  const setup = [];
  const timed = [];
  const counts = {};
  let seq = 1;
  if (kind === 'session') {
    for (let i = 0; i < count; i++, seq++) timed.push(JSON.stringify(agentEnvelope('session.state', seq, legacySession(seq))));
    counts['session.state'] = count;
  } else {
    setup.push(JSON.stringify(agentEnvelope('snapshot', seq++, snapshotBody(host, Date.now(), inventorySize))));
    const events = mixedEvents(host, host + 1, () => Date.now(), inventorySize);
    for (let i = 0; i < count; i++, seq++) {
      const [type, body] = events.next().value;
      counts[type] = (counts[type] ?? 0) + 1;
      timed.push(JSON.stringify(agentEnvelope(type, seq, body)));
    }
  }
  const bytes = timed.reduce((n, f) => n + f.length, 0);
  return { setup, timed, firstTimedSeq: setup.length + 1, counts, bytes };
}

/** Which part of the mix a message type belongs to. */
export const partOf = (type) => (type.startsWith('usb.') ? 'usb' : type === 'software.changed' ? 'software' : type === 'session.state' ? 'session' : type);

/**
 * One agent's mixed frames split by part (`session`, `usb`, `software`), each keeping its order
 * (so diffs still apply to the inventory, detaches follow their attaches) with its seqs
 * renumbered to follow the setup frames.
 */
export function splitByPart(frames) {
  const parts = {};
  for (const s of frames.timed) {
    const env = JSON.parse(s);
    (parts[partOf(env.type)] ??= []).push(env);
  }
  const out = {};
  for (const [part, envs] of Object.entries(parts)) {
    const timed = envs.map((env, i) => JSON.stringify({ ...env, seq: frames.firstTimedSeq + i }));
    out[part] = { setup: frames.setup, timed, firstTimedSeq: frames.firstTimedSeq, counts: { [part]: timed.length }, bytes: timed.reduce((n, f) => n + f.length, 0) };
  }
  return out;
}
