import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Runtime, Target } from '../runtime.js';
import type { StagedApp } from '../stage-app.js';

/** A stand-in runtime and app, so the layouts can be built and checked without downloading Node. */
export function fakeBuild(target: Target): { runtime: Runtime; app: StagedApp; tmp: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-installers-'));
  const exe = target === 'win-x64' ? 'node.exe' : 'node';
  fs.mkdirSync(path.join(tmp, 'runtime/bin'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'runtime/bin', exe), 'not really node');
  fs.writeFileSync(path.join(tmp, 'runtime/LICENSE'), 'Node.js licence');
  const app = path.join(tmp, 'app');
  fs.mkdirSync(path.join(app, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(app, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(app, 'bin/vigil-agent.js'), "#!/usr/bin/env node\nimport '../dist/main.js';\n");
  fs.writeFileSync(path.join(app, 'dist/main.js'), 'export {};\n');
  fs.writeFileSync(path.join(app, 'package.json'), '{"name":"@vigil/agent","version":"1.2.3","type":"module"}\n');
  return {
    tmp,
    runtime: { target, version: '24.0.0', node: path.join(tmp, 'runtime/bin', exe), license: path.join(tmp, 'runtime/LICENSE') },
    app: { dir: app, version: '1.2.3', packages: [], skippedNative: [] },
  };
}
