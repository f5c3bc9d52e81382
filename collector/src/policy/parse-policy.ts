import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { POLICY_DOCUMENT_MAX_BYTES, PolicyDocument, type Policy } from '@vigil/shared/policy';

/**
 * Reads a policy document (YAML 1.2; JSON is valid YAML) into a valid `Policy`, or lists every
 * problem with the line it is on where there is one. Never throws on bad input: a YAML syntax
 * error, a duplicate key, a document over 1 MiB, too many aliases, an empty document are all
 * problems. An empty document is refused rather than read as `{}`, so that a truncated upload
 * cannot silently reset the policy to its defaults; write `{}` for the defaults.
 */

export interface PolicyProblem {
  /** Where, e.g. `usb.allow[1].vendorId` or `severities["terminal.unattended"]`; `(root)` for the whole document. */
  path: string;
  message: string;
  /** 1-based line in the document, where one can be named. */
  line?: number;
}

export type ParsePolicyResult = { ok: true; policy: Policy } | { ok: false; problems: PolicyProblem[] };

/** Most problems listed; any beyond are summed up in one last problem. */
export const MAX_POLICY_PROBLEMS = 200;
/** Most aliases expanded (YAML "billion laughs" defence). */
const MAX_ALIAS_COUNT = 100;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `usb.allow[1].vendorId`; keys that are not identifiers are quoted: `severities["agent.silent"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = String(part);
      out += IDENTIFIER.test(key) ? (out === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** The node at `path`, or at the nearest ancestor that exists (a missing key is reported on its parent). */
function nearestNode(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = doc.getIn(path.slice(0, n), true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

/** The key node of `key` in the mapping at `path`, for "unrecognised key" problems. */
function keyNode(doc: Document, path: readonly PropertyKey[], key: string): Node | undefined {
  const map: unknown = doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return isScalar(pair?.key) ? pair.key : undefined;
}

function lineOf(lines: LineCounter, node: Node | undefined): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : lines.linePos(start).line;
}

/** One problem per zod issue, except one per key of an "unrecognised keys" issue (each on its own line). */
function schemaProblems(error: z.ZodError, doc: Document, lines: LineCounter): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const line = lineOf(lines, keyNode(doc, issue.path, key) ?? nearestNode(doc, issue.path));
        problems.push({ path: formatPath([...issue.path, key]), message: `unknown key "${key}"`, ...(line && { line }) });
      }
      continue;
    }
    const line = lineOf(lines, nearestNode(doc, issue.path));
    problems.push({ path: formatPath(issue.path), message: issue.message, ...(line && { line }) });
  }
  return problems;
}

/** Sorts by line (problems without one last, order otherwise kept) and caps the list. */
function finish(problems: PolicyProblem[]): { ok: false; problems: PolicyProblem[] } {
  const sorted = [...problems].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  if (sorted.length <= MAX_POLICY_PROBLEMS) return { ok: false, problems: sorted };
  const shown = sorted.slice(0, MAX_POLICY_PROBLEMS - 1);
  shown.push({ path: '(root)', message: `… and ${sorted.length - shown.length} more problems` });
  return { ok: false, problems: shown };
}

/** Parses and validates a policy document. Pure apart from reading `text`. */
export function parsePolicy(text: string): ParsePolicyResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > POLICY_DOCUMENT_MAX_BYTES) {
    return finish([{ path: '(root)', message: `the policy document is ${bytes} bytes; the most accepted is ${POLICY_DOCUMENT_MAX_BYTES} (1 MiB)` }]);
  }
  const lines = new LineCounter();
  // resolveKnownTags off: `!!binary`, `!!set`, `!!timestamp`… would make Buffers, Sets and Dates.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true, resolveKnownTags: false });
  const yamlProblems = [...doc.errors, ...doc.warnings].map((e): PolicyProblem => ({
    path: '(root)',
    message: e.message,
    line: lines.linePos(e.pos[0]).line,
  }));
  if (yamlProblems.length > 0) return finish(yamlProblems);
  if (doc.contents === null) return finish([{ path: '(root)', message: 'the policy document is empty; write {} for the defaults' }]);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    return finish([{ path: '(root)', message: `the document cannot be read: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  const result = PolicyDocument.safeParse(value);
  if (result.success) return { ok: true, policy: result.data };
  return finish(schemaProblems(result.error, doc, lines));
}
