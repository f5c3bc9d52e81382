/**
 * Command-line options with environment fallbacks, shared by both programs so every setting has
 * a flag and a `VIGIL_*` variable, flags win, and `--help` is generated from the same table.
 * Pure: the caller passes argv and the environment in.
 */

export interface OptionSpec {
  /** Flag without dashes, e.g. `data-dir`. */
  flag: string;
  env?: string;
  type: 'string' | 'number' | 'boolean';
  description: string;
  /** Shown in --help. */
  defaultText?: string;
  /** Accepted but hidden from --help (test hooks). */
  hidden?: boolean;
}

export type OptionValue = string | number | boolean;

export interface ParsedOptions<K extends string> {
  values: Partial<Record<K, OptionValue>>;
  positionals: string[];
  help: boolean;
  /** Every problem found, so they can be reported at once. */
  errors: string[];
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

function convert(spec: OptionSpec, raw: string, origin: string, errors: string[]): OptionValue | undefined {
  if (spec.type === 'string') return raw;
  if (spec.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      errors.push(`${origin}: "${raw}" is not a number`);
      return undefined;
    }
    return n;
  }
  const v = raw.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  errors.push(`${origin}: "${raw}" is not a boolean (use true or false)`);
  return undefined;
}

export function parseOptions<K extends string>(
  specs: Record<K, OptionSpec>,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedOptions<K> {
  const errors: string[] = [];
  const values: Partial<Record<K, OptionValue>> = {};
  const byFlag = new Map<string, K>();
  for (const key of Object.keys(specs) as K[]) byFlag.set(specs[key].flag, key);

  for (const key of Object.keys(specs) as K[]) {
    const spec = specs[key];
    const raw = spec.env ? env[spec.env] : undefined;
    if (raw !== undefined && raw !== '') {
      const v = convert(spec, raw, spec.env ?? key, errors);
      if (v !== undefined) values[key] = v;
    }
  }

  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let inline: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let key = byFlag.get(name);
    if (key === undefined && name.startsWith('no-') && inline === undefined) {
      const k = byFlag.get(name.slice(3));
      if (k !== undefined && specs[k].type === 'boolean') {
        key = k;
        name = name.slice(3);
        inline = 'false';
      }
    }
    if (key === undefined) {
      errors.push(`--${name}: unknown option`);
      continue;
    }
    const spec = specs[key];
    if (inline === undefined) {
      if (spec.type === 'boolean') inline = 'true';
      else if (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('--')) inline = argv[++i] as string;
      else {
        errors.push(`--${name}: needs a value`);
        continue;
      }
    }
    const v = convert(spec, inline, `--${name}`, errors);
    if (v !== undefined) values[key] = v;
  }
  return { values, positionals, help, errors };
}

/** The options table for --help. */
export function formatOptionsHelp(specs: Record<string, OptionSpec>): string {
  const rows = Object.values(specs)
    .filter((s) => !s.hidden)
    .map((s) => {
      const left = `  --${s.flag}${s.type === 'boolean' ? '' : ` <${s.type === 'number' ? 'n' : 'value'}>`}`;
      const right = [s.description, s.env ? `[env ${s.env}]` : '', s.defaultText ? `(default: ${s.defaultText})` : '']
        .filter(Boolean)
        .join(' ');
      return [left, right] as const;
    });
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length), 0) + 2);
  return rows.map(([l, r]) => (l.length >= width ? `${l}\n${' '.repeat(width)}${r}` : l.padEnd(width) + r)).join('\n');
}
