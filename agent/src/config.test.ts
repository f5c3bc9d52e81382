import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultStateDir, loadAgentConfig } from './config.js';

describe('agent config', () => {
  it('takes settings from the environment, flags winning', () => {
    const r = loadAgentConfig(['--collector-url', 'https://vigil.example.org:8470/'], {
      VIGIL_COLLECTOR_URL: 'http://ignored',
      VIGIL_STATE_DIR: 'rel/state',
      VIGIL_RECONNECT_MAX_SECONDS: '5',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      collectorUrl: 'https://vigil.example.org:8470',
      stateDir: path.resolve('rel/state'),
      reconnectMaxSeconds: 5,
      sysfsRoot: '/sys',
      dpkgStatus: '/var/lib/dpkg/status',
      outboxMaxBytes: 64 * 1024 * 1024,
    });
  });

  it('lists every problem at once', () => {
    const r = loadAgentConfig(['--collector-url', 'ftp://x', '--log-level', 'loud', '--ca-cert', '/no/such/ca.pem'], {});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(3);
    expect(r.errors.join('\n')).toMatch(/collector-url.*http/);
    expect(r.errors.join('\n')).toMatch(/--log-level/);
    expect(r.errors.join('\n')).toMatch(/cannot read \/no\/such\/ca.pem: ENOENT/);
  });

  it('needs a collector URL to run but not to collect', () => {
    expect(loadAgentConfig([], {}).ok).toBe(false);
    expect(loadAgentConfig(['--json'], {}, false).ok).toBe(true);
  });

  it('uses the platform service directory by default', () => {
    expect(defaultStateDir('linux')).toBe('/var/lib/vigil-agent');
    expect(defaultStateDir('darwin')).toBe('/Library/Application Support/Vigil/agent');
    expect(defaultStateDir('win32', { ProgramData: 'C:\\ProgramData' })).toBe(path.join('C:\\ProgramData', 'Vigil', 'agent'));
  });
});
