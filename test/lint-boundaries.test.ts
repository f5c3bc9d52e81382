import { ESLint } from 'eslint';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/processes.js';

const eslint = new ESLint({ cwd: ROOT });

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('package boundaries (lint)', () => {
  it('forbids the agent from importing collector code, by name or by path', async () => {
    expect(await restricted('agent/src/x.ts', "import { buildApp } from '@vigil/collector';\nexport const a = buildApp;\n")).toHaveLength(1);
    expect(await restricted('agent/src/x.ts', "import { buildApp } from '../../collector/src/app.js';\nexport const a = buildApp;\n")).toHaveLength(1);
  });

  it('forbids the collector from importing agent code', async () => {
    expect(await restricted('collector/src/x.ts', "import { createAgent } from '@vigil/agent';\nexport const a = createAgent;\n")).toHaveLength(1);
  });

  it('lets both import @vigil/shared, and keeps shared free of I/O', async () => {
    expect(await restricted('agent/src/x.ts', "import { LIMITS } from '@vigil/shared';\nexport const a = LIMITS;\n")).toEqual([]);
    expect(await restricted('collector/src/x.ts', "import { LIMITS } from '@vigil/shared';\nexport const a = LIMITS;\n")).toEqual([]);
    expect(await restricted('shared/src/x.ts', "import fs from 'node:fs';\nexport const a = fs;\n")).toHaveLength(1);
  });
});
