import type { CurrentPolicy, PolicyProblem, PutPolicyResponse } from './types.js';
import { api, ApiError } from './api.js';
import { count, el, mount, say, when } from './dom.js';

/**
 * The policy (admin): the version in force and its YAML, edited in place. A bad document is
 * refused by the server with every problem and its line, listed here beside the editor; the old
 * version stays in force.
 */
export function policyPage(main: HTMLElement): () => void {
  mount(main, el('p', {}, 'Loading…'));
  const editor = el('textarea', { id: 'policy-document', rows: 28, cols: 100, spellcheck: 'false', 'aria-describedby': 'policy-problems' });
  const info = el('p', { class: 'muted' });
  const problems = el('ul', { id: 'policy-problems', class: 'error', 'aria-live': 'polite' });
  const save = el('button', { type: 'button', class: 'primary' }, 'Save as a new version');
  const show = (p: { version: number; createdBy: string; createdAt: string; source: string }) =>
    (info.textContent = p.version ? `Version ${p.version} in force, by ${p.createdBy} on ${when(p.createdAt)} (${p.source}).` : 'The built-in default policy is in force.');

  save.addEventListener('click', () => {
    save.disabled = true;
    problems.replaceChildren();
    api<PutPolicyResponse>('/api/v1/policy', { method: 'PUT', body: { document: editor.value } }).then(
      (r) => {
        show(r);
        say(r.created ? `Policy version ${r.version} in force; ${count(r.reevaluating, 'host')} being judged again` : 'No change: that is the version in force');
      },
      (e: Error) => {
        const list = e instanceof ApiError && Array.isArray(e.details) ? (e.details as PolicyProblem[]) : [];
        problems.replaceChildren(el('li', {}, e.message), ...list.map((p) => el('li', {}, `${p.line ? `line ${p.line}: ` : ''}${p.path}: ${p.message}`)));
        say('The policy was not saved');
      },
    ).finally(() => (save.disabled = false));
  });

  void api<CurrentPolicy>('/api/v1/policy').then(
    (p) => {
      editor.value = p.document;
      show(p);
      mount(main, el('h1', {}, 'Policy'), info, el('label', { for: 'policy-document' }, 'Policy document (YAML)'), editor, el('p', {}, save), problems);
    },
    (e: Error) => mount(main, el('p', { class: 'error' }, `Could not load the policy: ${e.message}`)),
  );
  return () => undefined;
}
