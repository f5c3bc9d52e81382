import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initialState, readState, STATE_FILE, writeState } from './outbox-state.js';
import { makeTempDir, removeTempDirs } from './test-support/outbox-fixtures.js';

afterEach(removeTempDirs);

describe('outbox state file', () => {
  it('is missing before the first write', () => {
    expect(readState(makeTempDir())).toEqual({ status: 'missing' });
  });

  it('round-trips through an atomic replace and leaves no temporary file', () => {
    const dir = makeTempDir();
    const state = { ...initialState(), ackedSeq: 41, nextSeq: 50, dropSeqs: [43] };
    state.counters.produced = 49;
    state.droppedByType = { heartbeat: 3 };
    writeState(dir, state, true);
    writeState(dir, { ...state, ackedSeq: 42 }, true);
    expect(readState(dir)).toEqual({ status: 'ok', state: { ...state, ackedSeq: 42 } });
    expect(fs.readdirSync(dir)).toEqual([STATE_FILE]);
  });

  it('reports a file that is not JSON or fails the schema', () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, STATE_FILE), '{"version":1,');
    expect(readState(dir)).toMatchObject({ status: 'invalid', reason: 'not JSON' });
    fs.writeFileSync(path.join(dir, STATE_FILE), JSON.stringify({ ...initialState(), nextSeq: 0 }));
    expect(readState(dir)).toMatchObject({ status: 'invalid', reason: expect.stringContaining('nextSeq') });
  });
});
