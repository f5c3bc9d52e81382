// The policy an IT department would have written for the simulated fleet after reviewing its
// baseline: the software every template starts with is covered by catalogue titles (so a steady
// fleet raises no software.unapproved for its own image), keyboards/mice, the issued sticks and the
// headsets are allowed; what users plug in or install beyond that is judged for real (unknown
// sticks, phones, torrent clients, games). Without it, day one on a default policy raises an alert
// for every personal-maintainer Debian package and every third-party Windows and Mac program.
//
// Written as JSON, which is also YAML, so it goes straight to `--policy-file` or `PUT /api/v1/policy`.

const DEBIAN_OR_UBUNTU = /@(?:[a-z0-9.-]+\.)?(?:debian\.org|ubuntu\.com|canonical\.com)>?\s*$|@alioth-lists\.debian\.net>?\s*$/i;
const chunks = (list, n = 64) => Array.from({ length: Math.ceil(list.length / n) }, (_, i) => list.slice(i * n, i * n + n));

/** The policy document (an object) for the given templates. */
export function fleetPolicy(templates) {
  const titles = [
    { title: 'BitTorrent clients', match: { name: ['*torrent*', 'transmission*', 'qbittorrent*'] }, status: 'prohibited', note: 'AUP 4.2: no peer-to-peer file sharing' },
    { title: 'Adobe Acrobat', match: { name: 'Adobe Acrobat (64-bit)', source: ['registry'] }, status: 'licensed', seats: 2000 },
    { title: 'Homebrew formulae (developer Macs)', match: { name: '*', source: ['brew'] }, status: 'approved' },
  ];
  const personal = new Set();
  const names = { registry: new Set(), app: new Set(), dpkg: new Set() };
  for (const t of templates) {
    for (const e of [...t.core, ...t.optional]) {
      const i = e.item;
      if (i.source === 'dpkg') {
        if (!DEBIAN_OR_UBUNTU.test(i.publisher ?? '')) personal.add(i.publisher);
      } else if (i.source === 'registry') {
        if (i.publisher !== 'Microsoft Corporation') names.registry.add(i.name);
      } else if (i.source === 'app') names.app.add(i.name);
    }
    for (const { entry, status } of t.installable) {
      if (status === 'approved') names[entry.item.source]?.add(entry.item.name);
    }
  }
  chunks([...personal].sort()).forEach((publisher, k) =>
    titles.push({ title: `Debian packages with personal maintainer addresses (reviewed, ${k + 1})`, match: { publisher, source: ['dpkg'] }, status: 'approved' }),
  );
  const label = { registry: 'Windows programs', app: 'Mac apps', dpkg: 'Third-party Debian/Ubuntu packages' };
  for (const source of ['registry', 'app', 'dpkg']) {
    chunks([...names[source]].sort()).forEach((name, k) => titles.push({ title: `${label[source]} approved by IT (${k + 1})`, match: { name, source: [source] }, status: 'approved' }));
  }
  return {
    version: 1,
    mode: 'enforce',
    usb: {
      allowHubs: true,
      allowInternal: true,
      allow: [
        { interfaceClasses: ['03'], note: 'keyboards and mice (HID only: a HID + storage gadget does not pass)' },
        { vendorId: '0b0e', note: 'Jabra headsets' },
        { vendorId: '0781', productId: '5581', note: 'IT-issued SanDisk sticks' },
      ],
    },
    screenlock: { maxIdleSeconds: 900, maxGraceSeconds: 5, requirePassword: true },
    software: { defaults: { approveOsVendor: true }, titles },
  };
}

export const fleetPolicyText = (templates) => `${JSON.stringify(fleetPolicy(templates), null, 2)}\n`;
