import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from './parse-policy.js';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../README.md');

describe('the README policy example', () => {
  it('is a valid policy document (the documentation cannot drift from the schema)', () => {
    const text = fs.readFileSync(README, 'utf8');
    const section = text.slice(text.indexOf('### The policy document'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    const parsed = parsePolicy(yaml ?? '');
    expect(parsed.ok ? [] : parsed.problems).toEqual([]);
    if (!parsed.ok) return;
    expect(parsed.policy.software.titles.map((t) => t.status)).toEqual(['licensed', 'prohibited', 'approved']);
    expect(parsed.policy.usb.allow).toHaveLength(3);
  });
});
