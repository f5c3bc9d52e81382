// The simulator's OS templates: what a Debian/Ubuntu desktop, a Windows laptop and a Mac report.
// Built once per process and shared by every simulated host of that template: each item is kept
// once, with its JSON already written, so a host's inventory is the template's list plus a few
// per-host differences (see host-state.mjs), never a copy.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash32, Rng } from './prng.mjs';
import {
  BREW_OPTIONAL,
  DEB_INSTALLABLE,
  MAC_CORE,
  MAC_INSTALLABLE,
  MAC_OPTIONAL,
  MAC_OPTIONAL_P,
  WINDOWS_CORE,
  WINDOWS_INSTALLABLE,
  WINDOWS_OPTIONAL,
  WINDOWS_OPTIONAL_P,
} from './software-data.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures');
export const DEFAULT_DPKG_STATUS = '/var/lib/dpkg/status';

/** A software item with its JSON and its identity (source, name, arch: how the agent diffs). */
export function entry(item) {
  return { item, json: JSON.stringify(item), id: `${item.source}\u0000${item.name}\u0000${item.arch ?? ''}` };
}

// --- dpkg

/** The installed packages of a dpkg status file: name, version, maintainer, architecture. */
export function readDpkgStatus(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f = {};
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) f[m[1].toLowerCase()] = m[2].trim();
    }
    if (!f.package || f.status?.split(/\s+/)[2] !== 'installed') continue;
    out.push({ name: f.package.toLowerCase(), version: f.version ?? '', publisher: f.maintainer ?? '', arch: f.architecture ?? 'amd64' });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The real packages, then made-up companions of them (`<name>-dev`, `-doc`, `-data`…, with the same
 * maintainer and version) until there are `target`: this machine has a few hundred packages and a
 * desktop has nearer two thousand. The companions are not real packages; they are there so the
 * collector stores and judges inventories of a desktop's size, with the same share of personal
 * maintainer addresses (software.unapproved without a catalogue title) as the real ones.
 */
function dpkgItems(real, target) {
  const items = real.map((r) => ({ name: r.name, version: r.version, source: 'dpkg', publisher: r.publisher, arch: r.arch }));
  const names = new Set(items.map((i) => i.name));
  const suffixes = [
    ['-dev', null],
    ['-doc', 'all'],
    ['-data', 'all'],
    ['-common', 'all'],
    ['-l10n', 'all'],
    ['-dbgsym', null],
    ['-tools', null],
    ['-examples', 'all'],
  ];
  for (const [suffix, arch] of suffixes) {
    for (const r of real) {
      if (items.length >= target) return items;
      const name = `${r.name}${suffix}`;
      if (names.has(name)) continue;
      names.add(name);
      items.push({ name, version: r.version, source: 'dpkg', publisher: r.publisher, arch: arch ?? r.arch });
    }
  }
  return items;
}

const DEBIAN_TEAM = /@(?:[a-z0-9.-]+\.)?debian\.org>|@alioth-lists\.debian\.net>/i;

/**
 * Ubuntu's view of the same packages: about a third of the archive's packages carry an Ubuntu
 * delta (maintainer `Ubuntu Developers`, version `…ubuntuN`) and some are rebuilds (`…buildN`).
 */
function ubuntuItems(debianItems, seedLabel) {
  const rng = new Rng(hash32(seedLabel));
  return debianItems.map((i) => {
    const r = rng.next();
    if (DEBIAN_TEAM.test(i.publisher) && r < 0.35) {
      return { ...i, version: `${i.version}ubuntu${1 + Math.floor(r * 10)}`, publisher: 'Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>' };
    }
    if (r > 0.85) return { ...i, version: `${i.version}build${1 + Math.floor((r - 0.85) * 20)}` };
    return i;
  });
}

/** Splits a list into a core every host has and an optional pool, deterministically. */
function split(items, optionalShare, label) {
  const rng = new Rng(hash32(label));
  const core = [];
  const optional = [];
  for (const i of items) (rng.next() < optionalShare ? optional : core).push(i);
  return { core, optional };
}

// --- Windows and macOS from fixtures

/** Programs and Features entries of a `reg query … /s` fixture (DisplayName set, not a system component). */
export function readRegQueryPrograms(file, arch) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  for (const block of text.split(/\r?\n(?=HKEY_)/)) {
    const values = {};
    for (const line of block.split(/\r?\n/)) {
      const m = /^\s{4}(\S.*?)\s{4}(REG_\w+)(?:\s{4}(.*))?$/.exec(line);
      if (m) values[m[1].toLowerCase()] = (m[3] ?? '').trim();
    }
    if (!values.displayname || (values.systemcomponent && Number(values.systemcomponent) !== 0)) continue;
    const d = /^(\d{4})(\d{2})(\d{2})$/.exec(values.installdate ?? '');
    out.push({
      name: values.displayname,
      version: values.displayversion ?? '',
      source: 'registry',
      ...(values.publisher ? { publisher: values.publisher } : {}),
      ...(arch ? { arch } : {}),
      ...(d ? { installedAt: `${d[1]}-${d[2]}-${d[3]}T00:00:00.000Z` } : {}),
    });
  }
  return out;
}

/** CFBundleName (or DisplayName) and CFBundleShortVersionString of the Info.plist fixtures. */
function readInfoPlists(dir) {
  const out = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.Info.plist')).sort()) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const get = (key) => new RegExp(`<key>${key}</key>\\s*<string>([^<]*)</string>`).exec(text)?.[1];
    const name = get('CFBundleName') ?? get('CFBundleDisplayName') ?? f.replace(/\.Info\.plist$/, '');
    out.push({ name, version: get('CFBundleShortVersionString') ?? get('CFBundleVersion') ?? '', source: 'app' });
  }
  return out;
}

function readBrewList(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length >= 2)
    .map(([name, ...versions]) => ({ name, version: versions.join(', '), source: 'brew' }));
}

const win = ([name, version, publisher, arch]) => ({ name, version, source: 'registry', ...(publisher ? { publisher } : {}), ...(arch ? { arch } : {}) });
const app = ([name, version]) => ({ name, version, source: 'app' });
const brew = ([name, version]) => ({ name, version, source: 'brew' });
const deb = ([name, version, publisher, arch]) => ({ name, version, source: 'dpkg', publisher, arch });

// --- USB devices

/** Interface classes from a raw descriptors dump: the class byte of every interface descriptor. */
function classesFromDescriptors(hex) {
  const b = Buffer.from(hex ?? '', 'hex');
  const out = [];
  for (let i = 0; i + 1 < b.length && b[i] > 0; i += b[i]) {
    if (b[i + 1] === 4 && i + 5 < b.length) out.push(b[i + 5].toString(16).padStart(2, '0'));
  }
  return out;
}

/** The devices of the Linux sysfs fixtures, by `vendor:product`, as the agent would report them. */
export function readUsbFixtures(dir = path.join(FIXTURES, 'linux/usb')) {
  const byId = new Map();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    for (const d of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).devices) {
      const a = d.attrs;
      const fromIfaces = Object.values(d.interfaces ?? {}).map((i) => i.bInterfaceClass?.trim());
      const classes = [...new Set((fromIfaces.length ? fromIfaces : classesFromDescriptors(d.descriptors)).filter(Boolean))].sort();
      const vendorId = a.idVendor.trim().toLowerCase();
      const productId = a.idProduct.trim().toLowerCase();
      const deviceClass = (a.bDeviceClass ?? '00').trim().toLowerCase();
      byId.set(`${vendorId}:${productId}`, {
        vendorId,
        productId,
        manufacturer: (a.manufacturer ?? '').trim(),
        product: (a.product ?? '').trim(),
        deviceClass,
        interfaceClasses: classes,
        removable: a.removable === 'fixed' || a.removable === 'removable' ? a.removable : 'unknown',
        isHub: deviceClass === '09',
        from: f,
      });
    }
  }
  return byId;
}

/** Devices with no capture under test/fixtures: plausible values of common laptop parts (made up, marked so). */
const GENERATED_USB = {
  xhciRoot3: { vendorId: '1d6b', productId: '0003', manufacturer: '', product: 'xHCI Host Controller', deviceClass: '09', interfaceClasses: ['09'], removable: 'unknown', isHub: true },
  webcam: { vendorId: '04f2', productId: 'b6dd', manufacturer: 'Chicony Electronics Co.,Ltd.', product: 'Integrated Camera', deviceClass: 'ef', interfaceClasses: ['0e'], removable: 'fixed', isHub: false },
  cardReader: { vendorId: '0bda', productId: '0129', manufacturer: 'Generic', product: 'USB2.0-CRW', deviceClass: 'ff', interfaceClasses: ['ff'], removable: 'fixed', isHub: false },
  fingerprint: { vendorId: '06cb', productId: '00bd', manufacturer: '', product: '', deviceClass: 'ff', interfaceClasses: ['ff'], removable: 'fixed', isHub: false },
  bluetooth: { vendorId: '8087', productId: '0026', manufacturer: '', product: '', deviceClass: 'e0', interfaceClasses: ['e0'], removable: 'fixed', isHub: false },
  mouse: { vendorId: '046d', productId: 'c077', manufacturer: 'Logitech', product: 'USB Optical Mouse', deviceClass: '00', interfaceClasses: ['03'], removable: 'removable', isHub: false },
  receiver: { vendorId: '046d', productId: 'c52b', manufacturer: 'Logitech', product: 'USB Receiver', deviceClass: '00', interfaceClasses: ['03'], removable: 'removable', isHub: false },
  headset: { vendorId: '0b0e', productId: '245e', manufacturer: 'GN Netcom A/S', product: 'Jabra Link 370', deviceClass: '00', interfaceClasses: ['01', '03'], removable: 'removable', isHub: false },
  kingston: { vendorId: '0951', productId: '1666', manufacturer: 'Kingston', product: 'DataTraveler 3.0', deviceClass: '00', interfaceClasses: ['08'], removable: 'removable', isHub: false },
};

/** The USB parts hosts are made of, with their role in the fleet policy. */
function usbCatalogue() {
  const fx = readUsbFixtures();
  const need = (id) => {
    const d = fx.get(id);
    if (!d) throw new Error(`test/fixtures/linux/usb: no device ${id} (the simulator's USB catalogue uses it)`);
    return d;
  };
  return {
    rootHub: { ...need('1d6b:0002'), product: 'xHCI Host Controller', removable: 'unknown' },
    rootHub3: GENERATED_USB.xhciRoot3,
    internalHub: { ...need('8087:0020'), removable: 'fixed' },
    dockHub: need('17ef:1005'),
    keyboardHub: need('05f3:0081'),
    keyboard: need('05f3:0007'),
    issuedStick: { ...need('0781:5581'), removable: 'removable' },
    phone: need('0fce:0166'),
    badUsbGadget: need('2345:5432'),
    ...GENERATED_USB,
  };
}

// --- templates

/**
 * Loads the shared data once. `dpkgStatus` is the status file the Debian/Ubuntu inventories come
 * from (this machine's by default; the test fixture if that is missing).
 */
export function loadTemplates({ dpkgStatus = DEFAULT_DPKG_STATUS } = {}) {
  const statusFile = fs.existsSync(dpkgStatus) ? dpkgStatus : path.join(FIXTURES, 'linux/software/dpkg-status');
  const real = readDpkgStatus(statusFile);
  if (real.length === 0) throw new Error(`${statusFile}: no installed packages`);
  const regFixtures = [
    ...readRegQueryPrograms(path.join(FIXTURES, 'win32/software/reg-query-hklm-uninstall.txt')),
    ...readRegQueryPrograms(path.join(FIXTURES, 'win32/software/reg-query-wow6432node-uninstall.txt'), 'x86'),
  ];
  const macFixtureApps = readInfoPlists(path.join(FIXTURES, 'darwin/software'));
  const brewFixture = readBrewList(path.join(FIXTURES, 'darwin/software/brew-list-versions.txt'));

  const debianAll = dpkgItems(real, 1900);
  const ubuntuAll = ubuntuItems(dpkgItems(real, 2150), 'ubuntu');
  const debian = split(debianAll, 0.2, 'debian-12-desktop');
  const ubuntu = split(ubuntuAll, 0.2, 'ubuntu-22.04-desktop');
  // A minimal install: the real packages only (a few hundred), with a small optional pool.
  const minimal = split(ubuntuAll.slice(0, real.length), 0.25, 'ubuntu-24.04-minimal');

  const usb = usbCatalogue();
  const debInstallable = DEB_INSTALLABLE.map(([i, status]) => ({ entry: entry(deb(i)), status }));

  const templates = [
    {
      id: 'windows-11',
      weight: 35,
      platform: 'win32',
      os: { platform: 'win32', distro: 'Microsoft Windows 11 Enterprise', release: '10.0.22631', arch: 'x64', build: '22631' },
      hostPrefix: 'wlt',
      hardware: [['Dell Inc.', 'Latitude 5440'], ['LENOVO', '21HD003MUK'], ['HP', 'HP EliteBook 840 G10']],
      core: [...WINDOWS_CORE.map(win), ...regFixtures],
      optional: WINDOWS_OPTIONAL.map(win),
      optionalP: WINDOWS_OPTIONAL_P,
      installable: WINDOWS_INSTALLABLE.map(([i, status]) => ({ entry: entry(win(i)), status })),
    },
    {
      id: 'windows-10',
      weight: 15,
      platform: 'win32',
      os: { platform: 'win32', distro: 'Microsoft Windows 10 Enterprise', release: '10.0.19045', arch: 'x64', build: '19045' },
      hostPrefix: 'wws',
      hardware: [['Dell Inc.', 'OptiPlex 7090'], ['HP', 'HP EliteDesk 800 G6 Desktop Mini PC']],
      core: [...WINDOWS_CORE.map(win), ...regFixtures],
      optional: WINDOWS_OPTIONAL.map(win),
      optionalP: WINDOWS_OPTIONAL_P,
      installable: WINDOWS_INSTALLABLE.map(([i, status]) => ({ entry: entry(win(i)), status })),
    },
    {
      id: 'macos-14',
      weight: 15,
      platform: 'darwin',
      os: { platform: 'darwin', distro: 'macOS', release: '14.5', arch: 'arm64', kernel: '23.5.0', build: '23F79' },
      hostPrefix: 'mac',
      hardware: [['Apple Inc.', 'MacBookPro18,3'], ['Apple Inc.', 'Mac14,2']],
      core: MAC_CORE.map(app),
      optional: [...MAC_OPTIONAL.map(app), ...macFixtureApps, ...brewFixture, ...BREW_OPTIONAL.map(brew)],
      optionalP: MAC_OPTIONAL_P,
      installable: MAC_INSTALLABLE.map(([i, status]) => ({ entry: entry(app(i)), status })),
    },
    {
      id: 'ubuntu-22.04-desktop',
      weight: 20,
      platform: 'linux',
      os: { platform: 'linux', distro: 'Ubuntu', release: '22.04', arch: 'x64', kernel: '6.5.0-41-generic', codename: 'jammy' },
      hostPrefix: 'ubu',
      desktop: 'gnome',
      hardware: [['LENOVO', '20XW0055UK'], ['Dell Inc.', 'XPS 13 9315']],
      ...ubuntu,
      optionalP: 0.5,
      installable: debInstallable,
    },
    {
      id: 'debian-12-desktop',
      weight: 10,
      platform: 'linux',
      os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64', kernel: '6.1.0-21-amd64', codename: 'bookworm' },
      hostPrefix: 'deb',
      desktop: 'kde',
      hardware: [['LENOVO', '21CB007GUK'], ['Framework', 'Laptop (13th Gen Intel Core)']],
      ...debian,
      optionalP: 0.5,
      installable: debInstallable,
    },
    {
      id: 'ubuntu-24.04-minimal',
      weight: 5,
      platform: 'linux',
      os: { platform: 'linux', distro: 'Ubuntu', release: '24.04', arch: 'x64', kernel: '6.8.0-35-generic', codename: 'noble' },
      hostPrefix: 'kio',
      desktop: 'gnome',
      hardware: [['Intel(R) Client Systems', 'NUC11TNKi5']],
      ...minimal,
      optionalP: 0.5,
      installable: debInstallable,
    },
  ].map((t) => {
    const core = t.core.map(entry);
    return { ...t, core, coreJoined: core.map((e) => e.json).join(','), optional: t.optional.map(entry), coreIds: new Set(core.map((e) => e.id)) };
  });
  return { templates, usb, sources: { dpkgStatus: statusFile, dpkgPackages: real.length } };
}
