import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

/**
 * A real PowerShell parser: the tree-sitter grammar (tree-sitter-powershell's WebAssembly build)
 * run by web-tree-sitter, so no native addon or downloaded binary is needed.
 */
let parser: Parser | undefined;

export async function powershellParser(): Promise<Parser> {
  if (parser) return parser;
  await Parser.init();
  const require = createRequire(import.meta.url);
  const wasm = path.join(path.dirname(require.resolve('tree-sitter-powershell/package.json')), 'tree-sitter-powershell.wasm');
  const p = new Parser();
  p.setLanguage(await Language.load(wasm));
  parser = p;
  return p;
}

/** Every ERROR or MISSING node, as `line:column text`. */
export function syntaxErrors(root: Node): string[] {
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.isError || n.isMissing) out.push(`${n.startPosition.row + 1}:${n.startPosition.column + 1} ${n.text.slice(0, 60)}`);
    if (n.hasError || n.isError) for (const c of n.children) if (c) walk(c);
  };
  walk(root);
  return out;
}

/** Nodes of a type, depth first. */
export function nodesOfType(root: Node, type: string): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    if (n.type === type) out.push(n);
    for (const c of n.children) if (c) walk(c);
  };
  walk(root);
  return out;
}
