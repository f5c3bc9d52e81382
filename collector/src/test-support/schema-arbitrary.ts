import fc from 'fast-check';
import { z } from 'zod';

/*
 * fast-check arbitraries driven by the shared zod schemas (through their JSON Schema, which zod 4
 * writes itself): values shaped like what a schema describes — mostly valid, with hostile text —
 * and mutations of them that break one place at a time. The hardening tests send both to the real
 * collector and compare what it did with what the schema says.
 */

type JsonSchema = {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  additionalProperties?: boolean | JsonSchema;
};

export interface ArbitraryOptions {
  /** Longest array generated (schemas allow thousands; a fuzz case needs a few). */
  maxItems: number;
  /** Longest free text generated. */
  maxString: number;
}

const DEFAULTS: ArbitraryOptions = { maxItems: 3, maxString: 24 };

/** Text an attacker would try: markup, formulas, control characters, odd Unicode, SQL. */
const HOSTILE = [
  '<script>alert(1)</script>',
  '=HYPERLINK("http://x")',
  "'; DROP TABLE hosts; --",
  '\u0000',
  '\u202e\u0007',
  '../../etc/passwd',
  '{{7*7}}',
  '__proto__',
  '\ud800',
  'e\u0301\u0301\u0301',
];

function text(min: number, max: number): fc.Arbitrary<string> {
  const free = fc.oneof(fc.string({ minLength: min, maxLength: max }), fc.string({ unit: 'binary', minLength: min, maxLength: max }));
  const hostile = fc.constantFrom(...HOSTILE.filter((h) => h.length >= min && h.length <= max));
  return HOSTILE.some((h) => h.length >= min && h.length <= max) ? fc.oneof({ arbitrary: free, weight: 3 }, { arbitrary: hostile, weight: 1 }) : free;
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace(/^#\/\$defs\//, '');
  const target = root.$defs?.[name];
  if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
  return target;
}

function fromJsonSchema(input: JsonSchema, root: JsonSchema, o: ArbitraryOptions, depth: number): fc.Arbitrary<unknown> {
  const s = resolve(input, root);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => fromJsonSchema(a, root, o, depth + 1)));
  if (s.allOf?.length) return fromJsonSchema(s.allOf[0]!, root, o, depth + 1);
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((t) => fromJsonSchema({ ...s, type: t }, root, o, depth)));
  switch (s.type) {
    case 'string': {
      const min = s.minLength ?? 0;
      const max = Math.max(min, Math.min(s.maxLength ?? o.maxString, o.maxString));
      if (s.format === 'uuid') return fc.uuid();
      if (s.format === 'date-time') return fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= min && v.length <= (s.maxLength ?? Infinity));
      return text(min, max);
    }
    case 'integer': {
      const min = Math.max(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : Number.MIN_SAFE_INTEGER), Number.MIN_SAFE_INTEGER);
      const max = Math.min(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
      return fc.oneof(fc.integer({ min: Math.max(min, -1000), max: Math.min(max, 1000) }), fc.constantFrom(min, max), fc.maxSafeInteger().filter((n) => n >= min && n <= max));
    }
    case 'number':
      return fc.double({ min: s.minimum ?? -1e12, max: s.maximum ?? 1e12, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      if (s.prefixItems) return fc.tuple(...s.prefixItems.map((p) => fromJsonSchema(p, root, o, depth + 1)));
      const min = s.minItems ?? 0;
      const max = Math.max(min, Math.min(s.maxItems ?? o.maxItems, depth > 3 ? min : o.maxItems));
      return fc.array(s.items ? fromJsonSchema(s.items, root, o, depth + 1) : fc.jsonValue({ maxDepth: 1 }), { minLength: min, maxLength: max });
    }
    case 'object': {
      const props = s.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) model[k] = fromJsonSchema(v, root, o, depth + 1);
      if (Object.keys(model).length === 0) return fc.dictionary(text(1, 8), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in model) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values shaped like `schema`'s input (most of them valid; the test asks the schema which). */
export function arbitraryOf(schema: z.ZodType, options: Partial<ArbitraryOptions> = {}): fc.Arbitrary<unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return fromJsonSchema(json, json, { ...DEFAULTS, ...options }, 0);
}

/** One way to break a value at one place. */
export type Mutation =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'add-key'; at: number; key: string; value: unknown }
  | { kind: 'long-text'; at: number; length: number }
  | { kind: 'deep'; at: number; depth: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 1e308, -0, '', null, true, [], {}, 2 ** 53, '9'.repeat(400))) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add-key' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', ''), fc.string({ maxLength: 12 })), value: fc.jsonValue({ maxDepth: 1 }) }),
  fc.record({ kind: fc.constant('long-text' as const), at: fc.nat(), length: fc.constantFrom(513, 4097, 70_000) }),
  fc.record({ kind: fc.constant('deep' as const), at: fc.nat(), depth: fc.constantFrom(50, 1000) }),
);

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

/** Every place in a JSON value (the root excluded), depth first. */
function slots(value: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      slots(v, out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key: k });
      slots(v, out);
    }
  }
  return out;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

/** `value` (a JSON value, copied) with `mutations` applied, each at its place (modulo the places there are). */
export function mutate(value: unknown, mutations: Mutation[]): unknown {
  // JSON round trip: a deep copy of exactly what goes on the wire.
  let root = JSON.parse(JSON.stringify(value ?? null)) as unknown;
  for (const m of mutations) {
    const places = slots(root);
    if (places.length === 0 || m.kind === 'add-key') {
      if (m.kind === 'add-key' && root && typeof root === 'object' && !Array.isArray(root)) {
        const objects = [root, ...places.map((p) => (p.parent as Record<string, unknown>)[p.key as never]).filter((v) => v && typeof v === 'object' && !Array.isArray(v))];
        Object.defineProperty(objects[m.at % objects.length], m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        continue;
      }
      if (places.length === 0) {
        root = m.kind === 'replace' ? m.value : m.kind === 'long-text' ? 'x'.repeat(m.length) : m.kind === 'deep' ? nested(m.depth) : root;
        continue;
      }
    }
    const { parent, key } = places[m.at % places.length]!;
    const set = (v: unknown) => ((parent as Record<string | number, unknown>)[key] = v);
    switch (m.kind) {
      case 'replace':
        set(m.value);
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 'long-text':
        set('x'.repeat(m.length));
        break;
      case 'deep':
        set(nested(m.depth));
        break;
      case 'add-key':
        break;
    }
  }
  return root;
}
