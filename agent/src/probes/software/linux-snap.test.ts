import { describe, expect, it } from 'vitest';
import { SoftwareItem } from '@vigil/shared';
import { parseSnapList, readSnap } from './linux-snap.js';
import { fakeRunner, readFixture, type Call } from './test-support/fakes.js';

describe('snap list (real captures)', () => {
  it('skips disabled revisions listed by --all', () => {
    const items = parseSnapList(readFixture('linux', 'snap-list-all.txt'));
    expect(items.map((i) => `${i.name} ${i.version}`)).toEqual([
      'certbot 1.26.0',
      'cmake 3.23.1',
      'core 16-2.54.4',
      'core18 20220309',
      'core20 20220318',
    ]);
    for (const i of items) SoftwareItem.parse(i);
  });

  it('strips verification marks from publishers, ASCII and Unicode alike', () => {
    expect(parseSnapList(readFixture('linux', 'snap-list-ascii.txt'))).toEqual([
      { name: 'core18', version: '20201210', source: 'snap', publisher: 'canonical' },
      { name: 'lxd', version: '4.0.5', source: 'snap', publisher: 'canonical' },
      { name: 'snapd', version: '2.48.2', source: 'snap', publisher: 'canonical' },
    ]);
    expect(parseSnapList(readFixture('linux', 'snap-list-all.txt'))[0]?.publisher).toBe('certbot-eff');
  });

  it('keeps a side-loaded snap without publisher (revision x1, publisher "-")', () => {
    const items = parseSnapList(readFixture('linux', 'snap-list-ubuntu-core.txt'));
    expect(items).toHaveLength(7);
    expect(items.find((i) => i.name === 'otbr-gadget')).toEqual({ name: 'otbr-gadget', version: 'test', source: 'snap' });
    expect(items.find((i) => i.name === 'avahi')?.publisher).toBe('ondra');
    expect(items.find((i) => i.name === 'openthread-border-router')?.publisher).toBe('canonical-iot-labs');
  });

  it('runs snap list without unicode or colour', async () => {
    const calls: Call[] = [];
    const res = await readSnap(fakeRunner({ snap: { stdout: readFixture('linux', 'snap-list-ascii.txt') } }, calls));
    expect(calls[0]?.args).toEqual(['list', '--unicode=never', '--color=never']);
    expect(res.status === 'ok' && res.items.length).toBe(3);
  });

  it('treats no snap command as absent, nothing installed as empty, and snapd down as failed', async () => {
    expect(await readSnap(fakeRunner({}))).toEqual({ source: 'snap', status: 'absent' });
    const empty = await readSnap(fakeRunner({ snap: { stdout: '', stderr: "No snaps are installed yet. Try 'snap install hello-world'.\n" } }));
    expect(empty).toEqual({ source: 'snap', status: 'ok', items: [] });
    const down = await readSnap(fakeRunner({ snap: { code: 1, error: 'failed', stderr: 'error: cannot communicate with server: connection refused\n' } }));
    expect(down.status).toBe('failed');
  });
});
