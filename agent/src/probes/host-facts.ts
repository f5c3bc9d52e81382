import os from 'node:os';
import si from 'systeminformation';
import { HostFacts, Platform, type LoggedInUser, type NetworkAddress } from '@vigil/shared/agent';

/** Values systeminformation uses for "not readable". */
const blank = (v: string | undefined | null): string | undefined => {
  const s = (v ?? '').trim();
  return s === '' || s === '-' || /^(unknown|default string|to be filled by o\.e\.m\.|not specified|none)$/i.test(s) ? undefined : s.slice(0, 128);
};

function addresses(nics: si.Systeminformation.NetworkInterfacesData[]): NetworkAddress[] {
  const out: NetworkAddress[] = [];
  // Default interface first, internal (loopback) never.
  for (const n of [...nics].sort((a, b) => Number(b.default) - Number(a.default))) {
    if (n.internal) continue;
    const mac = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(n.mac) && n.mac !== '00:00:00:00:00:00' ? n.mac.toLowerCase() : undefined;
    if (n.ip4) out.push({ iface: n.iface.slice(0, 128), family: 'ipv4', address: n.ip4, ...(mac ? { mac } : {}) });
    const ip6 = n.ip6?.split('%')[0];
    if (ip6) out.push({ iface: n.iface.slice(0, 128), family: 'ipv6', address: ip6, ...(mac ? { mac } : {}) });
  }
  return out.slice(0, 64);
}

/** Who is logged in and since when: never the command they are running. */
function users(list: si.Systeminformation.UserData[]): LoggedInUser[] {
  return list.slice(0, 256).map((u) => {
    const since = u.date && u.time ? new Date(`${u.date}T${u.time}`) : undefined;
    return {
      name: u.user.slice(0, 128),
      ...(blank(u.tty) ? { tty: blank(u.tty) } : {}),
      ...(since && !Number.isNaN(since.getTime()) ? { since: since.toISOString() } : {}),
      ...(blank(u.ip) ? { remoteHost: blank(u.ip) } : {}),
    };
  });
}

/**
 * Host facts from systeminformation: OS, hostname, hardware ids where readable, primary
 * addresses, logged-in users. Anything unreadable is left out rather than guessed.
 */
export async function collectHostFacts(agentVersion: string): Promise<HostFacts> {
  const [osInfo, uuid, system, nics, who, time] = await Promise.all([
    si.osInfo(),
    si.uuid(),
    si.system(),
    si.networkInterfaces().then((n) => (Array.isArray(n) ? n : [n])),
    si.users().catch(() => []),
    Promise.resolve(si.time()),
  ]);
  const platform = Platform.safeParse(osInfo.platform === 'Windows' ? 'win32' : osInfo.platform);
  const candidate = {
    hostname: (blank(osInfo.hostname) ?? os.hostname()).slice(0, 255) || 'unknown',
    ...(blank(osInfo.fqdn) ? { fqdn: blank(osInfo.fqdn) } : {}),
    os: {
      platform: platform.success ? platform.data : (process.platform as Platform),
      distro: blank(osInfo.distro) ?? os.type(),
      release: blank(osInfo.release) ?? os.release(),
      arch: blank(osInfo.arch) ?? os.arch(),
      ...(blank(osInfo.kernel) ? { kernel: blank(osInfo.kernel) } : {}),
      ...(blank(osInfo.codename) ? { codename: blank(osInfo.codename) } : {}),
      ...(blank(osInfo.build) ? { build: blank(osInfo.build) } : {}),
    },
    hardware: {
      ...(blank(uuid.os) ? { machineId: blank(uuid.os) } : {}),
      ...(blank(uuid.hardware) || blank(system.uuid) ? { uuid: blank(uuid.hardware) ?? blank(system.uuid) } : {}),
      ...(blank(system.serial) ? { serial: blank(system.serial) } : {}),
      ...(blank(system.manufacturer) ? { manufacturer: blank(system.manufacturer) } : {}),
      ...(blank(system.model) ? { model: blank(system.model) } : {}),
      virtual: Boolean(system.virtual),
    },
    addresses: addresses(nics),
    users: users(who),
    ...(blank(time.timezone) ? { timezone: blank(time.timezone) } : {}),
    agentVersion,
  };
  // The same schema the collector applies: what we send is what it accepts.
  return HostFacts.parse(candidate);
}
