import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isDebianOrUbuntuMaintainer, maintainerAddress, osVendorOf } from './os-vendor.js';

describe('isDebianOrUbuntuMaintainer', () => {
  it.each([
    // Real Maintainer fields from Debian 12 and Ubuntu archives.
    ['GNU Libc Maintainers <debian-glibc@lists.debian.org>', true],
    ['Matthias Klose <doko@debian.org>', true],
    ['Debian LVM Team <team+lvm@tracker.debian.org>', true],
    ['util-linux packagers <util-linux@packages.debian.org>', true],
    ['Debian Java Maintainers <pkg-java-maintainers@lists.alioth.debian.org>', true],
    ['Debian Accessibility Team <pkg-a11y-devel@alioth-lists.debian.net>', true],
    ['Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>', true],
    ['Ubuntu Core Developers <ubuntu-devel-discuss@lists.ubuntu.com>', true],
    ['Kubuntu Developers <kubuntu-devel@lists.ubuntu.com>', true],
    ['Michael Vogt <michael.vogt@ubuntu.com>', true],
    ['Canonical Ltd <someone@canonical.com>', true],
    ['NodeSource Support <support@nodesource.com>', false],
    ['Google Cloud CLI Authors <https://code.google.com/p/google-cloud-sdk/>', false],
    ['Kubernetes Authors <kubernetes-dev+release@googlegroups.com>', false],
    ['Theodore Y. Ts\'o <tytso@mit.edu>', false],
    ['Impostor <x@debian.org.evil.example>', false],
    ['Impostor <x@notdebian.org>', false],
    ['Impostor <x@debian.net>', false],
    ['', false],
  ])('%j → %s', (maintainer, expected) => {
    expect(isDebianOrUbuntuMaintainer(maintainer)).toBe(expected);
  });

  it('reads the address inside the last angle brackets, else the whole field', () => {
    expect(maintainerAddress('A <B> Team <Team@Lists.Debian.org>')).toBe('team@lists.debian.org');
    expect(maintainerAddress(' root@debian.org ')).toBe('root@debian.org');
  });
});

describe('osVendorOf', () => {
  it.each([
    [{ source: 'rpm', publisher: 'Fedora Project' }, 'Fedora Project'],
    [{ source: 'rpm', publisher: 'Red Hat, Inc.' }, 'Red Hat, Inc.'],
    [{ source: 'rpm', publisher: 'Rocky Enterprise Software Foundation' }, 'Rocky Enterprise Software Foundation'],
    [{ source: 'rpm', publisher: 'AlmaLinux' }, 'AlmaLinux'],
    [{ source: 'rpm', publisher: 'CentOS' }, 'CentOS'],
    [{ source: 'rpm', publisher: 'MongoDB' }, undefined],
    [{ source: 'rpm', publisher: 'Fedora Project Fan Club' }, undefined],
    [{ source: 'registry', publisher: 'Microsoft Corporation' }, 'Microsoft Corporation'],
    [{ source: 'appx', publisher: 'microsoft corporation' }, 'Microsoft Corporation'],
    [{ source: 'registry', publisher: 'tribe29 GmbH' }, undefined],
    [{ source: 'registry', publisher: 'Microsoft Corporation Ltd (not really)' }, undefined],
    [{ source: 'app', publisher: 'Apple Inc.' }, 'Apple'],
    [{ source: 'app', publisher: 'com.apple.Safari' }, 'Apple'],
    [{ source: 'app', publisher: 'com.applesoft.x' }, undefined],
    [{ source: 'app', publisher: undefined }, undefined],
    [{ source: 'snap', publisher: 'canonical' }, 'Canonical'],
    [{ source: 'snap', publisher: 'canonical-iot-labs' }, undefined],
    [{ source: 'brew', publisher: 'Apple Inc.' }, undefined],
    [{ source: 'flatpak', publisher: 'Microsoft Corporation' }, undefined],
    [{ source: 'registry', publisher: 'Microsoft Corporation' }, 'Microsoft Corporation'],
    [{ source: 'dpkg', publisher: 'Microsoft Corporation' }, undefined],
  ] as const)('%j → %s', (item, expected) => {
    expect(osVendorOf(item)).toBe(expected);
  });
});

/** This machine's real dpkg database: `Package\tMaintainer` per installed package. */
function installedDebianPackages(): { name: string; maintainer: string }[] | undefined {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package}\t${db:Status-Status}\t${Maintainer}\n'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return r.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((f) => f[1] === 'installed')
    .map(([name = '', , maintainer = '']) => ({ name, maintainer }));
}

const packages = installedDebianPackages();
const isDebian = (() => {
  try {
    return /^ID=debian$/m.test(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
})();

describe.skipIf(!packages || !isDebian)('on this Debian machine’s real dpkg database', () => {
  const all = packages ?? [];
  const vendor = all.filter((p) => osVendorOf({ source: 'dpkg', publisher: p.maintainer }) !== undefined);

  it('counts the great majority of installed packages as the OS vendor’s', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(vendor.length / all.length).toBeGreaterThan(0.85);
    const names = new Set(vendor.map((p) => p.name));
    for (const core of ['bash', 'libc6', 'dpkg', 'coreutils', 'apt', 'tzdata']) if (all.some((p) => p.name === core)) expect(names).toContain(core);
  });

  it('does not count packages from third-party repositories', () => {
    // `apt-cache policy` on this machine finds these installed versions in no Debian archive, only
    // in /var/lib/dpkg/status: they came from NodeSource's and Google's repositories.
    const thirdParty = all.filter((p) => p.name === 'nodejs' || p.name === 'kubectl' || p.name.startsWith('google-cloud-cli'));
    for (const p of thirdParty) expect(osVendorOf({ source: 'dpkg', publisher: p.maintainer }), p.name).toBeUndefined();
  });
});
