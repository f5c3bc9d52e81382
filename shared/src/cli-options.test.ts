import { describe, expect, it } from 'vitest';
import { formatOptionsHelp, parseOptions, type OptionSpec } from './cli-options.js';

const specs = {
  port: { flag: 'port', env: 'VIGIL_PORT', type: 'number', description: 'port' },
  host: { flag: 'host', env: 'VIGIL_HOST', type: 'string', description: 'host', defaultText: '127.0.0.1' },
  tls: { flag: 'tls', env: 'VIGIL_TLS', type: 'boolean', description: 'tls' },
} as const satisfies Record<string, OptionSpec>;

describe('parseOptions', () => {
  it('takes the environment, and flags win over it', () => {
    const p = parseOptions(specs, ['--port', '9000', '--host=::1'], { VIGIL_PORT: '1', VIGIL_HOST: 'x', VIGIL_TLS: 'true' });
    expect(p).toEqual({ values: { port: 9000, host: '::1', tls: true }, positionals: [], help: false, errors: [] });
  });

  it('reports every problem at once', () => {
    const p = parseOptions(specs, ['--port', 'abc', '--nope', '--host'], { VIGIL_TLS: 'maybe' });
    expect(p.errors).toEqual([
      'VIGIL_TLS: "maybe" is not a boolean (use true or false)',
      '--port: "abc" is not a number',
      '--nope: unknown option',
      '--host: needs a value',
    ]);
  });

  it('handles --no-flag, positionals, -- and --help', () => {
    const p = parseOptions(specs, ['revoke', '--no-tls', '-h', '--', '--port'], {});
    expect(p).toMatchObject({ values: { tls: false }, positionals: ['revoke', '--port'], help: true, errors: [] });
  });

  it('documents flags, variables and defaults in help', () => {
    const help = formatOptionsHelp(specs);
    expect(help).toContain('--host <value>');
    expect(help).toContain('[env VIGIL_HOST] (default: 127.0.0.1)');
  });
});
