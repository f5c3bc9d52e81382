import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listFiles } from './agent-tree.js';
import { AGENT_DIR } from './paths.js';
import { stageAgentApp } from './stage-app.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-stage-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('staging the agent with its production dependencies', () => {
  const staged = stageAgentApp(path.join(tmp, 'app'), { version: '9.8.7' });
  const files = listFiles(staged.dir).map((f) => f.split(path.sep).join('/'));

  it('runs from the stage alone, reporting the packaged version', () => {
    // --version loads main.js and, through its imports, every module the agent needs.
    const out = execFileSync(process.execPath, [path.join(staged.dir, 'bin/vigil-agent.js'), '--version'], { cwd: tmp, encoding: 'utf8' });
    expect(out.trim()).toBe('9.8.7');
  }, 60_000);

  it('holds every production dependency of the agent, and @vigil/shared as built', () => {
    const agent = JSON.parse(fs.readFileSync(path.join(AGENT_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(agent.dependencies)) expect(fs.existsSync(path.join(staged.dir, 'node_modules', dep, 'package.json')), dep).toBe(true);
    expect(files).toContain('node_modules/@vigil/shared/dist/index.js');
    expect(staged.packages.map((p) => p.replace(/@[^@]+$/, ''))).toEqual(expect.arrayContaining(['@vigil/shared', 'pino', 'ws', 'zod', 'systeminformation']));
  });

  it('has no compiled addon, no optional usb-detection, no dev dependency and no build leftovers', () => {
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([]);
    expect(files.filter((f) => f.includes('usb-detection') || f.includes('/typescript/') || f.includes('/vitest/'))).toEqual([]);
    expect(files.filter((f) => /\.(d\.[cm]?ts|tsbuildinfo|map)$/.test(f))).toEqual([]);
    expect(fs.existsSync(path.join(staged.dir, 'node_modules/@types'))).toBe(false);
  });
});
