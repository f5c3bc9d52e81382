import { SessionState } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { readSessions } from './index.js';
import { fixture, ok, scriptedRunner, sourcesFor } from './test-support/fixture-runner.js';

describe('readSessions', () => {
  it('sorts sessions by id, numerically, whatever order the OS printed them in', async () => {
    const rows = fixture('win32', 'quser-2019-remote.txt').trimEnd().split('\n').reverse().join('\n');
    const { runner } = scriptedRunner((file) => (file === 'quser' ? ok(rows) : undefined));
    const sessions = (await readSessions(sourcesFor('win32', runner), 600, Date.parse('2020-11-17T12:30:00Z'))) as SessionState[];
    expect(sessions.map((s) => s.id)).toEqual(['30', '42', '55']);
    for (const s of sessions) expect(SessionState.parse(s)).toEqual(s);
  });

  it('picks the reader by platform', async () => {
    const { runner, calls } = scriptedRunner(() => undefined);
    await readSessions(sourcesFor('darwin', runner), 600);
    await readSessions(sourcesFor('linux', runner), 600);
    expect(calls.map((c) => c[0])).toEqual(['ioreg', 'ioreg', 'who', 'loginctl']);
  });

  it('is unknown on a platform it does not read', async () => {
    const { runner, calls } = scriptedRunner(() => undefined);
    expect(await readSessions(sourcesFor('freebsd', runner), 600)).toEqual({ status: 'unknown', reason: 'session state is not read on freebsd' });
    expect(calls).toEqual([]);
  });

  it('turns a reader that throws into unknown with the reason', async () => {
    const runner = { run: () => Promise.reject(new Error('spawn EMFILE')) };
    expect(await readSessions(sourcesFor('win32', runner), 600)).toEqual({ status: 'unknown', reason: 'reading sessions failed: spawn EMFILE' });
  });
});
