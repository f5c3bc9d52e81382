import { describe, expect, it } from 'vitest';
import { SoftwareItem } from '@vigil/shared';
import { AGENT_RPM_LAYOUT, parseRpmQuery, readRpm, rpmQueryFormat, type RpmLayout } from './linux-rpm.js';
import { fakeRunner, readFixture, type Call } from './test-support/fakes.js';

/**
 * The layout go-rpmdb's test data was captured with (see SOURCES.md):
 * rpm -qa --queryformat '%|EPOCH?{%{EPOCH}}:{}|¶%{NAME}¶%{VERSION}¶%{RELEASE}¶%|ARCH?{%{ARCH}}:{}|¶…'
 */
const GO_RPMDB_LAYOUT: RpmLayout = {
  columns: ['EPOCH', 'NAME', 'VERSION', 'RELEASE', 'ARCH', 'SOURCERPM', 'SIZE', 'LICENSE', 'VENDOR', 'SUMMARY', 'SIGMD5'],
  fieldSeparator: '¶',
  recordSeparator: '\n',
};

describe('rpm -qa output (real Fedora 35 + MongoDB capture)', () => {
  const { items, malformed } = parseRpmQuery(readFixture('linux', 'rpm-qa-fedora35-plus-mongo.txt'), GO_RPMDB_LAYOUT);

  it('reads every record, each a valid SoftwareItem', () => {
    expect(malformed).toBe(0);
    expect(items).toHaveLength(16);
    for (const i of items) SoftwareItem.parse(i);
  });

  it('writes epoch:version-release when the package has an epoch, version-release otherwise', () => {
    const byName = new Map(items.map((i) => [i.name, i]));
    expect(byName.get('vim-data')?.version).toBe('2:9.0.915-1.fc35');
    expect(byName.get('openssl-libs')?.version).toBe('1:1.1.1q-1.fc35');
    expect(byName.get('mongocli')?.version).toBe('0:1.25.0-1'); // an explicit Epoch: 0, as %{EVR} prints it
    expect(byName.get('bash')).toEqual({ name: 'bash', version: '5.1.8-3.fc35', source: 'rpm', publisher: 'Fedora Project', arch: 'x86_64' });
  });

  it('leaves out what a package does not have (gpg-pubkey: no arch, no vendor)', () => {
    expect(items.find((i) => i.name === 'gpg-pubkey')).toEqual({ name: 'gpg-pubkey', version: '9867c58f-601c49ca', source: 'rpm' });
    expect(items.find((i) => i.name === 'mongodb-org-shell')?.publisher).toBeUndefined();
    expect(items.find((i) => i.name === 'mongocli')?.publisher).toBe('MongoDB Inc.');
  });
});

describe('the agent rpm query', () => {
  it('asks rpm for one record per package with conditional optional tags', () => {
    expect(rpmQueryFormat(AGENT_RPM_LAYOUT)).toBe(
      '%{NAME}\u001f%|EPOCH?{%{EPOCH}}:{}|\u001f%{VERSION}\u001f%{RELEASE}\u001f%|ARCH?{%{ARCH}}:{}|\u001f%|VENDOR?{%{VENDOR}}:{}|\u001f%|INSTALLTIME?{%{INSTALLTIME}}:{}|\u001e\n',
    );
  });

  it('turns INSTALLTIME (epoch seconds) into installedAt', () => {
    // Output in the agent layout, built field by field from the Fedora fixture's tar record.
    const line = ['tar', '2', '1.34', '2.fc35', 'x86_64', 'Fedora Project', '1651664132'].join('\u001f') + '\u001e\n';
    const { items } = parseRpmQuery(line + line.replace('tar', 'bash').replace('\u001f2\u001f', '\u001f\u001f'), AGENT_RPM_LAYOUT);
    expect(items[0]).toEqual({ name: 'tar', version: '2:1.34-2.fc35', source: 'rpm', publisher: 'Fedora Project', arch: 'x86_64', installedAt: '2022-05-04T11:35:32.000Z' });
    expect(items[1]?.version).toBe('1.34-2.fc35');
  });

  it('runs rpm -qa with that format and parses its output', async () => {
    const calls: Call[] = [];
    const out = ['zlib', '', '1.2.11', '32.fc35', 'x86_64', 'Fedora Project', '1651664000'].join('\u001f') + '\u001e\n';
    const res = await readRpm(fakeRunner({ rpm: { stdout: out } }, calls));
    expect(calls[0]?.args).toEqual(['-qa', '--queryformat', rpmQueryFormat(AGENT_RPM_LAYOUT)]);
    expect(res).toEqual({ source: 'rpm', status: 'ok', items: [expect.objectContaining({ name: 'zlib', version: '1.2.11-32.fc35' })] });
  });

  it('treats rpm not installed as absent, and a failing rpm as failed', async () => {
    expect(await readRpm(fakeRunner({}))).toEqual({ source: 'rpm', status: 'absent' });
    const res = await readRpm(fakeRunner({ rpm: { code: 1, error: 'failed', stderr: 'error: rpmdb: BDB0113 Thread/process failed\n' } }));
    expect(res).toMatchObject({ status: 'failed', reason: expect.stringContaining('BDB0113') });
  });

  it('reports output in some other format as a failure rather than an empty inventory', async () => {
    const res = await readRpm(fakeRunner({ rpm: { stdout: readFixture('linux', 'rpm-qa-fedora35-plus-mongo.txt') } }));
    expect(res.status).toBe('failed');
  });
});
