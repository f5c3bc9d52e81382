import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionCapacity, RESERVED_FILES } from './capacity.js';

describe('connectionCapacity', () => {
  it("reads this process's open-file limit and keeps a reserve", () => {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
    const soft = Number(/^Max open files\s+(\d+)/.exec(line)![1]);
    expect(connectionCapacity()).toBe(Math.max(16, soft - RESERVED_FILES));
  });

  it('is unlimited where the limit is unlimited or unreadable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-limits-'));
    const file = path.join(dir, 'limits');
    fs.writeFileSync(file, 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            unlimited            unlimited            files     \n');
    expect(connectionCapacity(file)).toBe(Infinity);
    expect(connectionCapacity(path.join(dir, 'missing'))).toBe(Infinity);
    fs.writeFileSync(file, 'Max open files            256                  4096                 files     \n');
    expect(connectionCapacity(file)).toBe(16);
    fs.rmSync(dir, { recursive: true });
  });
});
