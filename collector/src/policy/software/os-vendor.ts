import type { SoftwareItem } from '@vigil/shared';

/**
 * "The OS vendor's own package" — what `defaults.approveOsVendor` approves when no catalogue title
 * matches. It is decided from what the agent reports, nothing else, so exactly this counts:
 *
 * | source | field | counts when |
 * |---|---|---|
 * | `dpkg` | publisher (the package's `Maintainer:`) | its e-mail address (inside `<…>`) is at `debian.org` or any subdomain (`lists.debian.org`, `lists.alioth.debian.org`, `tracker.debian.org`, `packages.debian.org`), at `alioth-lists.debian.net`, at `ubuntu.com` or any subdomain (`lists.ubuntu.com`, where Ubuntu's own uploads name `ubuntu-devel-discuss@`), or at `canonical.com` or any subdomain |
 * | `rpm` | publisher (the `Vendor` tag) | exactly `Fedora Project`, `Red Hat, Inc.`, `CentOS`, `Rocky Enterprise Software Foundation` or `AlmaLinux` |
 * | `registry`, `appx` | publisher (`Publisher`; for appx the `O=` of the signer) | exactly `Microsoft Corporation` |
 * | `app` | publisher | exactly `Apple Inc.`, or a bundle identifier starting `com.apple.` |
 * | `snap` | publisher (store account) | exactly `canonical` (core, snapd, lxd…; the verified mark is stripped by the agent) |
 * | `brew`, `flatpak` | — | never: Homebrew and Flathub are not the OS vendor |
 *
 * Comparisons ignore case and surrounding spaces. What this deliberately leaves out:
 * - Debian packages whose maintainer uses a personal address (`tytso@mit.edu` for e2fsprogs,
 *   `md@linux.it` for netbase): the maintainer field cannot tell them from a third-party package
 *   (about 1 in 12 on a stock Debian 12 system). Telling them apart needs the archive a package came
 *   from (apt's `Origin: Debian`), which the agent does not report.
 * - Microsoft subsidiaries' other publisher names, third-party software bundled with Windows.
 * - macOS apps today: the agent reads Info.plist only, which has no publisher, so no `app` item has
 *   one until the agent reports the signing identity or bundle id.
 *
 * Every one of these fields is written by whoever built the package, so anyone can claim to be
 * Debian or Microsoft: this default keeps a fresh install from raising an alert per system package;
 * it is not a control. Prohibited titles are checked before it and still win.
 */

const DEBIAN_UBUNTU_DOMAINS = ['debian.org', 'ubuntu.com', 'canonical.com'];
const DEBIAN_UBUNTU_HOSTS = ['alioth-lists.debian.net'];
const RPM_VENDORS = ['fedora project', 'red hat, inc.', 'centos', 'rocky enterprise software foundation', 'almalinux'];
const MICROSOFT = 'microsoft corporation';

/** The address of a `Name <address>` field (or the field itself when it has no angle brackets). */
export function maintainerAddress(maintainer: string): string {
  const open = maintainer.lastIndexOf('<');
  const close = maintainer.lastIndexOf('>');
  const address = open >= 0 && close > open ? maintainer.slice(open + 1, close) : maintainer;
  return address.trim().toLowerCase();
}

/** Whether a Debian `Maintainer:` field names the Debian or Ubuntu archive (see the table above). */
export function isDebianOrUbuntuMaintainer(maintainer: string): boolean {
  const address = maintainerAddress(maintainer);
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const domain = address.slice(at + 1);
  return DEBIAN_UBUNTU_HOSTS.includes(domain) || DEBIAN_UBUNTU_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`));
}

/**
 * The vendor an item belongs to if it is the OS vendor's own (a short readable name for reasons),
 * else undefined.
 */
export function osVendorOf(item: Pick<SoftwareItem, 'source' | 'publisher'>): string | undefined {
  const publisher = item.publisher?.trim();
  if (!publisher) return undefined;
  const p = publisher.toLowerCase();
  switch (item.source) {
    case 'dpkg':
      return isDebianOrUbuntuMaintainer(publisher) ? `Debian/Ubuntu archive (maintainer ${maintainerAddress(publisher)})` : undefined;
    case 'rpm':
      return RPM_VENDORS.includes(p) ? publisher : undefined;
    case 'registry':
    case 'appx':
      return p === MICROSOFT ? 'Microsoft Corporation' : undefined;
    case 'app':
      return p === 'apple inc.' || p.startsWith('com.apple.') ? 'Apple' : undefined;
    case 'snap':
      return p === 'canonical' ? 'Canonical' : undefined;
    case 'brew':
    case 'flatpak':
      return undefined;
  }
}
