import type { CatalogueTitleInput, PolicyProblem, PutPolicyResponse, SoftwareHosts, SoftwareList, SoftwareTitleRow, SoftwareTitleStatus } from './types.js';
import { api, ApiError, isAdmin } from './api.js';
import { count, el, mount, say } from './dom.js';

const STATUSES: { value: SoftwareTitleStatus | ''; label: string }[] = [
  { value: '', label: 'any' },
  { value: 'approved', label: 'approved' },
  { value: 'licensed', label: 'licensed' },
  { value: 'prohibited', label: 'prohibited' },
  { value: 'unapproved', label: 'unapproved' },
  { value: 'os-vendor', label: 'OS vendor default' },
];
const STATUS_LABEL: Record<SoftwareTitleStatus, string> = { approved: 'approved', licensed: 'licensed', prohibited: 'prohibited', unapproved: 'unapproved', 'os-vendor': 'OS vendor default' };
/** The sources a catalogue title can be limited to (the shared schema's `SoftwareSource`). */
const SOURCES = ['dpkg', 'rpm', 'snap', 'flatpak', 'registry', 'appx', 'app', 'brew'];
const PAGE = 50;

type SortKey = 'installs' | 'name';

/**
 * Software across the fleet (every role): titles and uncatalogued packages with installs, status
 * and seats, searched, filtered, sorted and paged on the server. Admins add, change and remove
 * catalogue titles here; each change is a new policy version, refused with its problems shown
 * beside the form when the policy schema says no.
 */
export function softwarePage(main: HTMLElement): () => void {
  const admin = isAdmin();
  const tbody = el('tbody');
  const summary = el('p', { class: 'muted', id: 'software-summary' });
  const more = el('button', { type: 'button', hidden: true }, 'Load more');
  const q = el('input', { type: 'search', name: 'q', placeholder: 'title or source:name' });
  const status = el('select', { name: 'status' }, ...STATUSES.map((s) => el('option', { value: s.value }, s.label)));
  const hostsPanel = el('section', { 'aria-label': 'Hosts with a title', id: 'software-hosts' });
  let sort: SortKey = 'installs';
  let cursor: string | null = null;
  let timer: number | undefined;
  let refresh: number | undefined;
  let generation = 0;

  const sortButton = (key: SortKey, label: string) => {
    const th = el('th', { scope: 'col' });
    const button = el('button', { type: 'button', class: 'sort' }, label);
    button.addEventListener('click', () => {
      sort = key;
      void load(true);
    });
    th.append(button);
    return { th, key };
  };
  const sortable = [sortButton('name', 'Title'), sortButton('installs', 'Installs')];
  const showSort = () => {
    for (const s of sortable) {
      if (s.key === sort) s.th.setAttribute('aria-sort', s.key === 'installs' ? 'descending' : 'ascending');
      else s.th.removeAttribute('aria-sort');
    }
  };

  const form = admin ? catalogueForm(() => void load(true)) : undefined;

  async function load(reset: boolean): Promise<void> {
    const mine = ++generation;
    if (reset) cursor = null;
    showSort();
    const params = new URLSearchParams({ limit: String(PAGE), sort });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (status.value) params.set('status', status.value);
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await api<SoftwareList>(`/api/v1/software?${params}`);
      if (mine !== generation) return;
      if (reset) tbody.replaceChildren();
      for (const r of page.items) tbody.append(row(r));
      cursor = page.nextCursor;
      more.hidden = !cursor;
      // Seats held follow as the engine judges hosts again after a change: look again shortly
      // (only while the first page is all that is shown, so nobody's place is lost).
      clearTimeout(refresh);
      if (page.judging > 0 && reset) refresh = window.setTimeout(() => void load(true), 1500);
      summary.textContent = `${page.total} ${page.total === 1 ? 'row' : 'rows'}, ${tbody.rows.length} shown · policy version ${page.policyVersion}${page.judging ? ` · ${page.judging} hosts still being judged: seats held follow` : ''}`;
      if (page.total === 0) tbody.append(el('tr', {}, el('td', { colspan: admin ? 6 : 5, class: 'muted' }, 'Nothing matches.')));
    } catch (e) {
      say(`Could not load software: ${(e as Error).message}`);
    }
  }

  function row(r: SoftwareTitleRow): HTMLTableRowElement {
    const over = (r.overBy ?? 0) > 0;
    const seats =
      r.seats === null
        ? '—'
        : el('span', {}, `${r.licensedHosts ?? 0} ${r.licensedHosts === 1 ? 'host' : 'hosts'} for ${r.seats} ${r.seats === 1 ? 'seat' : 'seats'}`, over ? el('strong', { class: 'over-note' }, ` · over-deployed by ${r.overBy}`) : null);
    const showHosts = el('button', { type: 'button', 'aria-label': `Hosts with ${r.name}` }, 'Hosts');
    showHosts.addEventListener('click', () => void hosts(r, null, true));
    const actions: HTMLElement[] = [showHosts];
    if (admin && form && r.kind === 'title' && r.definition) {
      const def = r.definition;
      actions.push(
        el('button', { type: 'button', 'aria-label': `Edit ${r.name}`, onclick: () => form.edit(def) }, 'Edit'),
        el('button', { type: 'button', 'aria-label': `Remove ${r.name}`, onclick: () => void form.remove(def.title) }, 'Remove'),
      );
    } else if (admin && form && r.kind === 'package') {
      const [source, ...rest] = r.name.split(':');
      actions.push(el('button', { type: 'button', 'aria-label': `Catalogue ${r.name}`, onclick: () => form.draft(rest.join(':'), source ?? '') }, 'Catalogue'));
    }
    return el(
      'tr',
      { class: over ? 'over' : undefined, 'data-status': r.status },
      el('td', {}, el('span', { class: r.kind === 'package' ? 'mono' : undefined }, r.name), r.kind === 'title' ? el('span', { class: 'muted' }, ' (catalogue title)') : null),
      el('td', {}, el('span', { class: `status status-${r.status}` }, STATUS_LABEL[r.status])),
      el('td', { class: 'num' }, String(r.installs), r.packages > 1 ? el('span', { class: 'muted' }, ` (${r.packages} packages)`) : null),
      el('td', {}, seats),
      el('td', {}, el('div', { class: 'actions' }, ...actions)),
    );
  }

  async function hosts(r: SoftwareTitleRow, after: string | null, fresh: boolean): Promise<void> {
    const params = new URLSearchParams({ name: r.name, status: r.status, limit: '50' });
    if (after) params.set('cursor', after);
    try {
      const page = await api<SoftwareHosts>(`/api/v1/software/hosts?${params}`);
      let list = hostsPanel.querySelector('ul');
      if (fresh || !list) {
        list = el('ul', { class: 'host-links' });
        const heading = el('h2', { tabindex: -1 }, `Hosts with ${r.name}`);
        mount(hostsPanel, heading, list);
        heading.focus();
      }
      hostsPanel.querySelector('button.more-hosts')?.remove();
      for (const x of page.items) list.append(el('li', {}, el('a', { href: `#/hosts/${x.id}` }, x.hostname)));
      if (page.nextCursor) {
        const next = page.nextCursor;
        hostsPanel.append(el('button', { type: 'button', class: 'more-hosts', onclick: () => void hosts(r, next, false) }, 'More hosts'));
      } else if (list.children.length === 0) list.append(el('li', { class: 'muted' }, 'No host has it now.'));
    } catch (e) {
      say(`Could not load the hosts: ${(e as Error).message}`);
    }
  }

  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void load(true), 250);
  });
  status.addEventListener('change', () => void load(true));
  more.addEventListener('click', () => void load(false));
  const head = el('tr', {}, sortable[0]!.th, el('th', { scope: 'col' }, 'Status'), sortable[1]!.th, el('th', { scope: 'col' }, 'Licences'), el('th', { scope: 'col' }, 'Actions'));
  mount(
    main,
    el('h1', {}, 'Software'),
    el('div', { class: 'filters', role: 'search' }, el('label', {}, 'Search', q), el('label', {}, 'Status', status)),
    summary,
    el('table', { 'aria-label': 'Software', 'aria-describedby': 'software-summary' }, el('thead', {}, head), tbody),
    more,
    hostsPanel,
    form?.element,
  );
  void load(true);
  return () => {
    clearTimeout(timer);
    clearTimeout(refresh);
  };
}

/** The admin's catalogue title form: add, or edit the title picked in the table. */
function catalogueForm(changed: () => void) {
  const field = (name: string, label: string, input: HTMLInputElement | HTMLSelectElement, hint?: string) => {
    const id = `catalogue-${name}`;
    input.id = id;
    const error = el('span', { class: 'error field-error', id: `${id}-error` });
    const hintEl = hint ? el('span', { class: 'muted hint', id: `${id}-hint` }, hint) : null;
    input.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
    return { input, error, node: el('div', { class: 'field' }, el('label', { for: id }, label), input, hintEl, error) };
  };
  const title = field('title', 'Title', el('input', { name: 'title', autocomplete: 'off' }));
  const name = field('name', 'Match name', el('input', { name: 'match-name', autocomplete: 'off' }), 'Glob: * any run, ? one character; several separated by commas');
  const publisher = field('publisher', 'Publisher (optional)', el('input', { name: 'match-publisher', autocomplete: 'off' }), 'Glob, e.g. Microsoft*');
  const versions = field('versions', 'Versions (optional)', el('input', { name: 'versions', autocomplete: 'off' }), 'Range, e.g. >=3.11 <4');
  const status = field('status', 'Catalogue status', el('select', { name: 'catalogue-status' }, ...['approved', 'licensed', 'prohibited'].map((s) => el('option', { value: s }, s))));
  const seats = field('seats', 'Seats (licensed only)', el('input', { name: 'seats', type: 'number', min: 0, step: 1, inputmode: 'numeric' }));
  const note = field('note', 'Note (optional)', el('input', { name: 'note', autocomplete: 'off' }));
  const sourceBoxes = SOURCES.map((s) => el('input', { type: 'checkbox', name: 'source', value: s }));
  const sourceError = el('span', { class: 'error field-error', id: 'catalogue-source-error' });
  const sources = el(
    'fieldset',
    { class: 'sources', 'aria-describedby': 'catalogue-source-error' },
    el('legend', {}, 'Sources (none ticked: any)'),
    ...sourceBoxes.map((b) => el('label', { class: 'inline' }, b, ` ${b.value}`)),
    sourceError,
  );
  const problems = el('ul', { id: 'catalogue-problems', class: 'error', 'aria-live': 'polite' });
  const heading = el('h2', { id: 'catalogue-heading', tabindex: -1 }, 'Add a catalogue title');
  const save = el('button', { type: 'submit', class: 'primary' }, 'Add title');
  const cancel = el('button', { type: 'button', hidden: true }, 'Cancel');
  let editing: string | null = null;

  const fields: Record<string, { input: HTMLInputElement | HTMLSelectElement; error: HTMLElement }> = { title, 'match.name': name, 'match.publisher': publisher, versions, status, seats, note };
  const clearProblems = () => {
    problems.replaceChildren();
    for (const f of Object.values(fields)) {
      f.error.textContent = '';
      f.input.removeAttribute('aria-invalid');
    }
    sourceError.textContent = '';
  };
  const reset = () => {
    editing = null;
    for (const f of [title, name, publisher, versions, seats, note]) f.input.value = '';
    status.input.value = 'approved';
    for (const b of sourceBoxes) b.checked = false;
    heading.textContent = 'Add a catalogue title';
    save.textContent = 'Add title';
    cancel.hidden = true;
    clearProblems();
  };
  const globs = (v: string) => {
    const parts = v.split(',').map((p) => p.trim());
    return parts.length === 1 ? v : parts;
  };
  const input = (): CatalogueTitleInput => {
    const ticked = sourceBoxes.filter((b) => b.checked).map((b) => b.value);
    const match: CatalogueTitleInput['match'] = {};
    if (name.input.value !== '') match.name = globs(name.input.value);
    if (publisher.input.value !== '') match.publisher = globs(publisher.input.value);
    if (ticked.length) match.source = ticked;
    const t: CatalogueTitleInput = { title: title.input.value, match, status: status.input.value };
    if (versions.input.value !== '') t.versions = versions.input.value;
    if (seats.input.value !== '') t.seats = Number(seats.input.value);
    if (note.input.value !== '') t.note = note.input.value;
    return t;
  };
  const showProblems = (e: Error) => {
    const list = e instanceof ApiError && Array.isArray(e.details) ? (e.details as PolicyProblem[]) : [];
    problems.replaceChildren(el('li', {}, e.message), ...list.map((p) => el('li', {}, `${p.path}: ${p.message}`)));
    let first: HTMLElement | undefined;
    for (const p of list) {
      // software.titles[3].match.name → match.name
      const key = /^software\.titles\[\d+\]\.?(.*)$/.exec(p.path)?.[1] ?? '';
      const f = key.startsWith('match.source') ? undefined : (fields[key] ?? (key === 'match' || key === '' ? fields['match.name'] : undefined));
      if (key.startsWith('match.source')) sourceError.textContent = p.message;
      if (!f) continue;
      f.error.textContent = f.error.textContent ? `${f.error.textContent}; ${p.message}` : p.message;
      f.input.setAttribute('aria-invalid', 'true');
      first ??= f.input;
    }
    first?.focus();
  };
  const done = (r: PutPolicyResponse, what: string) => {
    say(r.created ? `${what}: policy version ${r.version} in force; ${count(r.reevaluating, 'host')} being judged again` : 'No change: that is the catalogue in force');
    reset();
    changed();
  };

  const element = el(
    'form',
    { class: 'catalogue', 'aria-labelledby': 'catalogue-heading', novalidate: true },
    heading,
    el('p', { class: 'muted' }, 'Each change is saved as a new policy version and every host is judged again.'),
    title.node,
    name.node,
    publisher.node,
    sources,
    versions.node,
    status.node,
    seats.node,
    note.node,
    problems,
    el('div', { class: 'actions' }, save, cancel),
  );
  element.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearProblems();
    save.disabled = true;
    const body = { title: input() };
    const request = editing === null ? api<PutPolicyResponse>('/api/v1/software/catalogue', { method: 'POST', body }) : api<PutPolicyResponse>(`/api/v1/software/catalogue/${encodeURIComponent(editing)}`, { method: 'PUT', body });
    request.then(
      (r) => done(r, `"${body.title.title}" saved`),
      (e: Error) => {
        showProblems(e);
        say('The catalogue was not changed');
      },
    ).finally(() => (save.disabled = false));
  });
  cancel.addEventListener('click', reset);

  return {
    element,
    /** Fill the form with a title to change. */
    edit(def: NonNullable<SoftwareTitleRow['definition']>) {
      reset();
      editing = def.title;
      title.input.value = def.title;
      const join = (v: string | string[] | undefined) => (v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v);
      name.input.value = join(def.match.name);
      publisher.input.value = join(def.match.publisher);
      for (const b of sourceBoxes) b.checked = def.match.source?.includes(b.value as never) ?? false;
      versions.input.value = def.versions ?? '';
      status.input.value = def.status;
      seats.input.value = def.seats === undefined ? '' : String(def.seats);
      note.input.value = def.note ?? '';
      heading.textContent = `Edit "${def.title}"`;
      save.textContent = 'Save title';
      cancel.hidden = false;
      title.input.focus();
    },
    /** Start a title for an uncatalogued package. */
    draft(packageName: string, source: string) {
      reset();
      title.input.value = packageName;
      name.input.value = packageName;
      for (const b of sourceBoxes) b.checked = b.value === source;
      title.input.focus();
    },
    async remove(titleName: string) {
      if (!window.confirm(`Remove the catalogue title "${titleName}"? This saves a new policy version.`)) return;
      try {
        done(await api<PutPolicyResponse>(`/api/v1/software/catalogue/${encodeURIComponent(titleName)}`, { method: 'DELETE' }), `"${titleName}" removed`);
      } catch (e) {
        say(`Could not remove it: ${(e as Error).message}`);
      }
    },
  };
}
