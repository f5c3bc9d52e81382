// The simulated fleet: which template each host follows and everything about it that does not
// change (hostname, hardware, users, devices present at start, which optional software it has),
// all derived from (seed, index) on demand so a host costs a few numbers until something happens
// to it; then what happened (devices plugged in, packages installed, sessions locking) is kept as
// small differences from that start.
import { hash32, mix32, Rng } from './prng.mjs';
import { entry } from './templates.mjs';

export const AGENT_VERSION = '0.1.0';

const FIRST = ['alice', 'amir', 'beth', 'chen', 'dara', 'eve', 'femi', 'grace', 'hana', 'ivan', 'jas', 'kofi', 'leah', 'mo', 'nia', 'owen', 'priya', 'quinn', 'rhys', 'sara', 'tom', 'uma', 'vik', 'wen', 'yara', 'zoe'];
const LAST = ['smith', 'jones', 'patel', 'khan', 'evans', 'wong', 'davies', 'okafor', 'murphy', 'ali', 'brown', 'taylor', 'wilson', 'singh', 'clarke', 'hughes'];
const TIMEZONES = [
  [70, 'Europe/London'],
  [15, 'Europe/Dublin'],
  [10, 'Europe/Berlin'],
  [5, 'America/New_York'],
];

/** Screen-lock idle timeout a host starts with: mostly compliant (≤ 900 s), some not. */
const START_TIMEOUTS = [
  [50, 300],
  [25, 600],
  [15, 900],
  [6, 1800],
  [4, 0],
];

/** A seed from anything the user typed: an integer stays itself, anything else is hashed. */
export function seedNumber(seed) {
  const s = String(seed);
  return /^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) >>> 0 : hash32(s);
}

/** A short, hostname-safe tag of the seed. */
export const seedTag = (seed) => String(seed).toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 12) || 'x';

export class Fleet {
  /**
   * @param {{seed: string|number, templates: object[], usb: object}} o
   */
  constructor({ seed, templates, usb }) {
    this.seed = seedNumber(seed);
    this.tag = seedTag(seed);
    this.templates = templates;
    this.usb = usb;
    this.templateTable = templates.map((t) => [t.weight, t]);
  }

  /** A fresh host: only what the seed decides, nothing has happened to it yet. */
  host(index) {
    const hostSeed = mix32(this.seed, index);
    const rng = new Rng(hostSeed);
    const template = rng.weighted(this.templateTable);
    const h = new Host(this, index, hostSeed, template);
    return h;
  }
}

const pad = (n, w) => String(n).padStart(w, '0');

/** Known fact with where it was read, as the agent's probes report it. */
const known = (value, source) => ({ status: 'known', value, source });

export class Host {
  constructor(fleet, index, hostSeed, template) {
    this.fleet = fleet;
    this.index = index;
    this.seed = hostSeed;
    this.template = template;
    // Differences from the start, created when something first happens.
    /** @type {null | {removed: Set<string>, added: Map<string, object>, upgraded: Map<string, object>}} */
    this.sw = null;
    /** Devices plugged in since the start (not in the baseline). */
    this.plugged = null;
    /** Per user index: the screen-lock timeout now, where it differs from the start. */
    this.lockTimeouts = null;
    /** Per session: 0 active, 1 idle and unlocked, 2 locked; with when it went idle. */
    this.sessionPhase = null;
    this.idleSince = null;
    this.nextPort = 0;
  }

  /** An independent stream for one aspect of the host, so adding an aspect never shifts another. */
  rng(label) {
    return new Rng(mix32(this.seed, hash32(label)));
  }

  get platform() {
    return this.template.platform;
  }

  get hostname() {
    return `${this.template.hostPrefix}-s${this.fleet.tag}-${pad(this.index, 5)}`;
  }

  /** Users of the machine: the owner, and on some a second (shared desks). */
  users() {
    const r = this.rng('users');
    const n = r.chance(0.15) ? 2 : 1;
    const out = [];
    for (let i = 0; i < n; i++) {
      const first = r.pick(FIRST);
      const last = r.pick(LAST);
      out.push(this.platform === 'win32' ? `${first}.${last}` : `${first[0]}${last}`);
    }
    return out[1] === out[0] ? [out[0]] : out;
  }

  hardware() {
    return this.rng('hardware').pick(this.template.hardware);
  }

  facts(now = Date.now()) {
    const r = this.rng('facts');
    const [manufacturer, model] = this.hardware();
    const octets = [r.int(16, 31), r.int(0, 255), r.int(1, 254)];
    const mac = `${['3c', 'a4', 'f0', '8c'][r.int(0, 3)]}:${r.hex(2)}:${r.hex(2)}:${r.hex(2)}:${r.hex(2)}:${r.hex(2)}`;
    const iface = this.platform === 'win32' ? 'Wi-Fi' : this.platform === 'darwin' ? 'en0' : 'wlp0s20f3';
    const machineId = this.platform === 'win32' ? `${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}` : r.hex(32);
    const serial = `${r.pick(['PF', 'C0', '5C', 'CND'])}${r.hex(6).toUpperCase()}`;
    const loginAt = new Date(now - r.int(600, 9 * 3600) * 1000).toISOString();
    const tty = this.platform === 'win32' ? 'console' : this.platform === 'darwin' ? 'console' : 'seat0';
    return {
      hostname: this.hostname,
      fqdn: `${this.hostname}.corp.example`,
      os: this.template.os,
      hardware: { machineId, serial, manufacturer, model, virtual: false },
      addresses: [{ iface, family: 'ipv4', address: `10.${octets[0]}.${octets[1]}.${octets[2]}`, mac }],
      users: this.users().map((name, i) => ({ name, tty: i === 0 ? tty : `pts/${i}`, since: loginAt })),
      timezone: r.weighted(TIMEZONES),
      agentVersion: AGENT_VERSION,
    };
  }

  // --- software

  /** The template's optional items this host has. */
  optionalEntries() {
    const r = this.rng('optional');
    const p = this.template.optionalP;
    return this.template.optional.filter(() => r.next() < p);
  }

  /** The item with this identity as the host has it now, or undefined. */
  currentItem(e) {
    const sw = this.sw;
    if (!sw) return e.item;
    if (sw.removed.has(e.id)) return undefined;
    return sw.upgraded.get(e.id)?.item ?? e.item;
  }

  /** The inventory's JSON array (without the brackets), built from the template's pre-written items. */
  softwareJson() {
    const t = this.template;
    const optional = this.optionalEntries();
    const sw = this.sw;
    const parts = [];
    if (!sw || (sw.removed.size === 0 && sw.upgraded.size === 0)) {
      if (t.coreJoined !== '') parts.push(t.coreJoined);
      for (const e of optional) parts.push(e.json);
    } else {
      for (const list of [t.core, optional]) {
        for (const e of list) if (!sw.removed.has(e.id)) parts.push(sw.upgraded.get(e.id)?.json ?? e.json);
      }
    }
    if (sw) for (const e of sw.added.values()) parts.push(e.json);
    return parts.join(',');
  }

  softwareCount() {
    let n = this.template.core.length + this.optionalEntries().length;
    if (this.sw) n += this.sw.added.size - this.sw.removed.size;
    return n;
  }

  // --- USB

  device(kind, { serial = '', busPath }) {
    const d = this.fleet.usb[kind];
    return {
      key: `usb:${d.vendorId}:${d.productId}:${serial}`,
      vendorId: d.vendorId,
      productId: d.productId,
      serial,
      manufacturer: d.manufacturer,
      product: d.product,
      deviceClass: d.deviceClass,
      interfaceClasses: d.interfaceClasses,
      busPath,
      removable: d.removable,
      isHub: d.isHub,
      isRootHub: kind === 'rootHub' || kind === 'rootHub3',
    };
  }

  /** Where port `n` is, the way this platform's agent names it. */
  port(n, internal = false) {
    if (this.platform === 'win32') return `Port_#${pad(n, 4)}.Hub_#${internal ? '0002' : '0001'}`;
    if (this.platform === 'darwin') return `0x${(0x01100000 + (internal ? 0x80000 : 0) + n * 0x10000).toString(16).padStart(8, '0')}`;
    return internal ? `1-${n + 4}` : `${1 + (n % 2)}-${1 + Math.floor(n / 2)}`;
  }

  /** A serial number this host's own device of `kind` always has. */
  ownSerial(kind) {
    return this.rng(`serial:${kind}`).hex(kind === 'issuedStick' ? 24 : 16).toUpperCase();
  }

  /** Devices present at start: controllers, internal parts, keyboard and mouse. */
  baselineUsb() {
    const r = this.rng('usb');
    const out = [];
    if (this.platform === 'linux') {
      out.push(this.device('rootHub', { serial: '0000:00:14.0', busPath: 'usb1' }));
      out.push(this.device('rootHub3', { serial: '0000:00:14.0', busPath: 'usb2' }));
    }
    const laptop = !/OptiPlex|EliteDesk|NUC|Mac14/.test(this.hardware()[1]);
    let internal = 0;
    if (r.chance(0.3)) out.push(this.device('internalHub', { busPath: this.port(internal++, true) }));
    if (laptop) {
      out.push(this.device('webcam', { serial: '0001', busPath: this.port(internal++, true) }));
      if (this.platform !== 'darwin') out.push(this.device('bluetooth', { busPath: this.port(internal++, true) }));
      if (r.chance(0.5)) out.push(this.device('cardReader', { serial: '20100201396000000', busPath: this.port(internal++, true) }));
      if (this.platform !== 'darwin' && r.chance(0.4)) out.push(this.device('fingerprint', { serial: this.ownSerial('fingerprint').toLowerCase(), busPath: this.port(internal++, true) }));
    }
    if (r.chance(0.3)) {
      out.push(this.device('dockHub', { busPath: this.port(this.nextFreePort(out)) }));
    }
    if (r.chance(0.25)) {
      out.push(this.device('keyboardHub', { busPath: this.port(this.nextFreePort(out)) }));
      out.push(this.device('keyboard', { busPath: this.port(this.nextFreePort(out)) }));
    } else {
      out.push(this.device('receiver', { busPath: this.port(this.nextFreePort(out)) }));
    }
    if (r.chance(0.2)) out.push(this.device('headset', { serial: this.ownSerial('headset'), busPath: this.port(this.nextFreePort(out)) }));
    return out;
  }

  nextFreePort(devices) {
    const used = new Set(devices.map((d) => d.busPath));
    for (let n = 0; ; n++) if (!used.has(this.port(n))) return n;
  }

  usbNow() {
    const base = this.baselineUsb();
    return this.plugged ? [...base, ...this.plugged] : base;
  }

  // --- screen lock and sessions

  lockSettings() {
    const r = this.rng('screenlock');
    return this.users().map((user, i) => {
      const start = r.weighted(START_TIMEOUTS);
      const timeout = this.lockTimeouts?.[i] ?? start;
      return lockSetting(this.platform, this.template.desktop, user, timeout, i);
    });
  }

  /** The host's sessions now: one local session per user (the second user's is a remote one on Linux). */
  sessions() {
    const users = this.users();
    if (!this.sessionPhase) {
      const r = this.rng('sessions');
      this.sessionPhase = users.map(() => (r.chance(0.25) ? 2 : 0));
      this.idleSince = users.map(() => 0);
    }
    return users.map((user, i) => sessionState(this.platform, user, i, this.sessionPhase[i], this.idleSince[i]));
  }

  /** The full snapshot body as JSON, assembled from pieces (the inventory is the large part). */
  snapshotJson(now = Date.now()) {
    return `{"host":${JSON.stringify(this.facts(now))},"usb":${JSON.stringify(this.usbNow())},"software":[${this.softwareJson()}],"screenlock":${JSON.stringify(this.lockSettings())},"sessions":${JSON.stringify(this.sessions())}}`;
  }

  /** A short description for comparing fleets (same seed → same description). */
  describe() {
    return {
      index: this.index,
      hostname: this.hostname,
      template: this.template.id,
      users: this.users(),
      softwareItems: this.softwareCount(),
      softwareDigest: hash32(this.softwareJson()).toString(16),
      usb: this.baselineUsb().map((d) => d.key),
      screenlockTimeouts: this.lockSettings().map((s) => s.idleTimeoutSeconds.value),
      facts: hash32(JSON.stringify(this.facts(0))).toString(16),
    };
  }

  // --- changes (events)

  ensureSw() {
    return (this.sw ??= { removed: new Set(), added: new Map(), upgraded: new Map() });
  }

  /** Installs `e` (a template entry); returns the item. */
  install(e) {
    const sw = this.ensureSw();
    // One of its own packages removed earlier and now back: simply no longer removed.
    if (sw.removed.delete(e.id)) return e.item;
    sw.added.set(e.id, e);
    return e.item;
  }

  has(e) {
    if (this.sw?.added.has(e.id)) return true;
    if (this.sw?.removed.has(e.id)) return false;
    return this.template.coreIds.has(e.id) || this.optionalEntries().some((o) => o.id === e.id);
  }

  remove(e) {
    const sw = this.ensureSw();
    const item = sw.added.get(e.id)?.item ?? this.currentItem(e);
    if (sw.added.delete(e.id)) {
      // Installed during the run: gone again without a trace.
    } else sw.removed.add(e.id);
    sw.upgraded.delete(e.id);
    return item;
  }

  upgrade(e) {
    const sw = this.ensureSw();
    const from = sw.added.get(e.id)?.item ?? this.currentItem(e);
    const to = { ...from, version: bumpVersion(from.version) };
    const next = entry(to);
    if (sw.added.has(e.id)) sw.added.set(e.id, next);
    else sw.upgraded.set(e.id, next);
    return { from, to };
  }
}

/** The next version: the last number in it plus one (`1.2-3` → `1.2-4`), or `.1` appended. */
export function bumpVersion(v) {
  const m = /(\d+)(\D*)$/.exec(v);
  if (!m) return `${v}.1`;
  return `${v.slice(0, m.index)}${Number(m[1]) + 1}${m[2]}`;
}

function lockSetting(platform, desktop, user, timeout, i) {
  const enabled = timeout > 0;
  if (platform === 'win32') {
    const sid = `HKU\\S-1-5-21-1004336348-1177238915-682003330-${1001 + i}\\Control Panel\\Desktop`;
    return {
      user,
      enabled: known(enabled, `${sid}\\ScreenSaveActive`),
      idleTimeoutSeconds: known(timeout, `${sid}\\ScreenSaveTimeOut`),
      graceSeconds: known(0, 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\ScreenSaverGracePeriod'),
      passwordRequired: known(true, `${sid}\\ScreenSaverIsSecure`),
    };
  }
  if (platform === 'darwin') {
    return {
      user,
      enabled: known(enabled, 'sysadminctl -screenLock status'),
      idleTimeoutSeconds: known(timeout, 'defaults -currentHost read com.apple.screensaver idleTime'),
      graceSeconds: known(5, 'sysadminctl -screenLock status'),
      passwordRequired: known(true, 'sysadminctl -screenLock status'),
    };
  }
  if (desktop === 'kde') {
    return {
      user,
      desktop: 'kde',
      enabled: known(enabled, '~/.config/kscreenlockerrc [Daemon] Autolock'),
      idleTimeoutSeconds: known(timeout, '~/.config/kscreenlockerrc [Daemon] Timeout'),
      graceSeconds: known(5, '~/.config/kscreenlockerrc [Daemon] LockGrace'),
      passwordRequired: known(true, 'kscreenlocker always asks for the password'),
    };
  }
  return {
    user,
    desktop: 'gnome',
    enabled: known(enabled, 'gsettings org.gnome.desktop.screensaver lock-enabled; gsettings org.gnome.desktop.lockdown disable-lock-screen'),
    idleTimeoutSeconds: known(timeout, 'gsettings org.gnome.desktop.session idle-delay'),
    graceSeconds: known(0, 'gsettings org.gnome.desktop.screensaver lock-delay'),
    passwordRequired: known(true, "gsettings org.gnome.desktop.screensaver lock-enabled (GNOME's lock screen always asks for the password)"),
  };
}

function sessionState(platform, user, i, phase, idleSince) {
  const idle = phase === 1;
  const since = idle ? { idleSince: new Date(idleSince).toISOString() } : {};
  if (platform === 'win32') {
    // quser does not say whether a session is locked (agent/src/probes/sessions/WINDOWS.md).
    return { id: String(1 + i), user, locked: null, idle, ...since, remote: i > 0, ...(i === 0 ? { seat: 'console' } : {}), type: i === 0 ? 'console' : 'rdp-tcp' };
  }
  if (platform === 'darwin') return { id: i === 0 ? 'console' : `ttys00${i}`, user, locked: i === 0 ? phase === 2 : null, idle: i === 0 ? idle : null, ...since, remote: i > 0, ...(i === 0 ? { seat: 'console' } : {}), type: i === 0 ? 'console' : 'tty' };
  if (i > 0) return { id: String(10 + i), user, locked: null, idle: null, remote: true, type: 'tty' };
  return { id: '2', user, locked: phase === 2, idle, ...since, remote: false, seat: 'seat0', type: 'wayland' };
}
