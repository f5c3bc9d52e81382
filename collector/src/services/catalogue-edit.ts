import { isMap, isSeq, parseDocument } from 'yaml';
import { VigilError, type CatalogueTitleInput } from '@vigil/shared';

/** What to do to the catalogue: add a title, replace the title named `name`, or remove it. */
export type CatalogueChange = { kind: 'add'; title: CatalogueTitleInput } | { kind: 'replace'; name: string; title: CatalogueTitleInput } | { kind: 'remove'; name: string };

/**
 * The policy document with its `software.titles` changed, as YAML text: the rest of the document
 * (comments, order, everything else) stays as written. Titles are found by name, case-insensitively
 * (the catalogue refuses two that differ only in case). Validation is not done here: the result
 * goes through the same path as `PUT /api/v1/policy`, which refuses it with every problem.
 */
export function changeCatalogue(document: string, change: CatalogueChange): string {
  const doc = parseDocument(document);
  if (doc.errors.length > 0 || !(isMap(doc.contents) || doc.contents === null)) throw new VigilError('VIGIL_ERR_INTERNAL', 'The policy in force could not be read back');
  const path = ['software', 'titles'];
  const titles: unknown = doc.getIn(path, true);
  const js = doc.toJS({ maxAliasCount: 100 }) as { software?: { titles?: { title?: unknown }[] } } | null;
  const existing = Array.isArray(js?.software?.titles) ? js.software.titles : [];
  const index = change.kind === 'add' ? -1 : existing.findIndex((t) => typeof t.title === 'string' && t.title.trim().toLowerCase() === change.name.trim().toLowerCase());
  if (change.kind !== 'add' && index < 0) throw new VigilError('VIGIL_ERR_NOT_FOUND', `No catalogue title "${change.name}"`);
  if (change.kind === 'remove') doc.deleteIn([...path, index]);
  else {
    const node = doc.createNode(withoutUndefined(change.title));
    if (change.kind === 'replace') doc.setIn([...path, index], node);
    else if (isSeq(titles)) titles.items.push(node);
    else doc.setIn(path, doc.createNode([withoutUndefined(change.title)]));
  }
  return String(doc);
}

/** The title without keys the form left out (YAML would write them as null). */
function withoutUndefined(t: CatalogueTitleInput): Record<string, unknown> {
  const match = Object.fromEntries(Object.entries(t.match).filter(([, v]) => v !== undefined));
  return Object.fromEntries(Object.entries({ ...t, match }).filter(([, v]) => v !== undefined));
}
