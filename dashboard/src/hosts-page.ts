import type { Alert, Host, HostListItem, ListEnvelope } from './types.js';
import { api } from './api.js';
import { el, mount, say, when } from './dom.js';

type SortKey = 'hostname' | 'lastSeen' | 'openAlerts' | 'agentVersion';

/** Hosts, searched, sorted and paged on the server (`?q=`, `?status=`, `?sort=&order=`, cursor): never the whole fleet at once. */
export function hostsPage(main: HTMLElement): () => void {
  const tbody = el('tbody');
  const more = el('button', { type: 'button', hidden: true }, 'Load more');
  const q = el('input', { type: 'search', name: 'q', placeholder: 'hostname contains' });
  const status = el('select', { name: 'status' }, ...['', 'online', 'offline', 'silent', 'retired'].map((s) => el('option', { value: s }, s || 'any')));
  let cursor: string | null = null;
  let timer: number | undefined;
  let sort: SortKey = 'hostname';
  let order: 'asc' | 'desc' = 'asc';
  let generation = 0;

  // Sortable columns: a button in the header, the direction in aria-sort; a second press reverses.
  const header = (label: string, key?: SortKey) => {
    if (!key) return { th: el('th', { scope: 'col' }, label) };
    const th = el('th', { scope: 'col' });
    th.append(
      el('button', {
        type: 'button',
        class: 'sort',
        onclick: () => {
          if (sort === key) order = order === 'asc' ? 'desc' : 'asc';
          else {
            sort = key;
            // Most recent, most alerts, newest version first; names A to Z.
            order = key === 'hostname' ? 'asc' : 'desc';
          }
          void load(true);
        },
      }, label),
    );
    return { th, key };
  };
  const columns = [
    header('Host', 'hostname'),
    header('Status'),
    header('Last seen', 'lastSeen'),
    header('OS'),
    header('Open alerts', 'openAlerts'),
    header('Screen lock'),
    header('Agent', 'agentVersion'),
    header('Groups'),
  ];
  const showSort = () => {
    for (const c of columns) {
      if (!c.key) continue;
      if (c.key === sort) c.th.setAttribute('aria-sort', order === 'asc' ? 'ascending' : 'descending');
      else c.th.removeAttribute('aria-sort');
    }
  };

  async function load(reset: boolean): Promise<void> {
    const mine = ++generation;
    if (reset) cursor = null;
    showSort();
    const params = new URLSearchParams({ limit: '50', sort, order });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (status.value) params.set('status', status.value);
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await api<ListEnvelope<HostListItem>>(`/api/v1/hosts?${params}`);
      if (mine !== generation) return;
      if (reset) tbody.replaceChildren();
      for (const h of page.items) {
        tbody.append(
          el(
            'tr',
            {},
            el('td', {}, el('a', { href: `#/hosts/${h.id}` }, h.hostname)),
            el('td', {}, h.status),
            el('td', {}, when(h.lastSeenAt)),
            el('td', {}, [h.os.distro, h.os.release].filter(Boolean).join(' ') || h.os.platform),
            el('td', {}, h.openAlerts ? el('strong', {}, h.openAlerts) : '0'),
            el('td', {}, (h.openAlertsByRule['screenlock.noncompliant'] ?? 0) > 0 ? el('strong', { class: 'error' }, 'breach') : 'no breach'),
            el('td', {}, h.agentVersion ?? '—'),
            el('td', {}, h.groups.join(', ')),
          ),
        );
      }
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (e) {
      say(`Could not load hosts: ${(e as Error).message}`);
    }
  }
  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void load(true), 250);
  });
  status.addEventListener('change', () => void load(true));
  more.addEventListener('click', () => void load(false));
  mount(
    main,
    el('h1', {}, 'Hosts'),
    el('div', { class: 'filters', role: 'search' }, el('label', {}, 'Search', q), el('label', {}, 'Status', status)),
    el('table', { 'aria-label': 'Hosts' }, el('thead', {}, el('tr', {}, ...columns.map((c) => c.th))), tbody),
    more,
  );
  void load(true);
  return () => clearTimeout(timer);
}

type Judged = { status: 'known' | 'unknown'; reason: string | null; reportedAt: string | null };
type Setting = { status?: string; value?: unknown; reason?: string } | undefined;
interface HostDetail extends Host {
  openAlerts: number;
  exceptions: { id: string; rule: string; subject: string | null; expiresAt: string; reason: string; createdBy: string }[];
  usb: Judged & {
    present: { key?: string; vendorId?: string; productId?: string; product?: string | null; manufacturer?: string | null; allowed?: boolean; allowedBy?: unknown; reasons?: string[] }[];
    history: { at: string; event: 'attached' | 'detached'; key: string; busPath: string; vendorId: string | null; productId: string | null; product: string | null }[];
  };
  software: Judged & { counts: Record<string, number>; items: { name?: string; version?: string; source?: string; publisher?: string | null; status?: string; title?: string | null; reason?: string }[] };
  screenlock: Judged & { settings: { user?: string; enabled?: Setting; idleTimeoutSeconds?: Setting; graceSeconds?: Setting; passwordRequired?: Setting; breaches?: unknown[] }[] };
  sessions: Judged & { sessions: { user?: string; tty?: string | null; seat?: string | null; locked?: boolean | null; idle?: boolean | null; idleSeconds?: number | null }[] };
}

const table = (label: string, head: string[], rows: HTMLTableRowElement[]) =>
  rows.length
    ? el('table', { 'aria-label': label }, el('thead', {}, el('tr', {}, ...head.map((c) => el('th', { scope: 'col' }, c)))), el('tbody', {}, ...rows))
    : el('p', { class: 'muted' }, 'None.');
const unknownNote = (j: Judged) => (j.status === 'unknown' ? el('p', { class: 'muted' }, `Not known: ${j.reason ?? 'not reported yet'}`) : null);
/** What allowed a device, as the API gives it (a rule, an approval…), in words. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object') return String(v);
  const o = v as Record<string, unknown>;
  return [o.kind ?? o.type, o.note ?? o.reason ?? o.id].filter((x) => x !== undefined && x !== null).map(String).join(': ') || JSON.stringify(v);
}
const setting = (v: Setting) => (!v ? '—' : v.status === 'unknown' ? 'unknown' : String(v.value ?? '—'));

/** Software on a host, filtered in the page (one host's inventory, a few hundred to a few thousand rows). */
function softwareSection(items: HostDetail['software']['items']): HTMLElement {
  const filter = el('input', { type: 'search', placeholder: 'name or status', 'aria-label': 'Filter software' });
  const body = el('tbody');
  const show = () => {
    const q = filter.value.trim().toLowerCase();
    const hits = items.filter((i) => !q || `${i.name} ${i.status} ${i.title ?? ''}`.toLowerCase().includes(q));
    body.replaceChildren(
      ...hits.slice(0, 300).map((i) => el('tr', {}, el('td', { class: 'mono' }, i.name ?? ''), el('td', { class: 'mono' }, i.version ?? ''), el('td', {}, i.source ?? ''), el('td', {}, i.status ?? ''), el('td', {}, i.title ?? ''), el('td', { class: 'muted' }, i.reason ?? ''))),
      ...(hits.length > 300 ? [el('tr', {}, el('td', { colspan: 6, class: 'muted' }, `${hits.length - 300} more: narrow the filter`))] : []),
    );
  };
  filter.addEventListener('input', show);
  show();
  // Unapproved and prohibited first: what needs a look.
  return el('div', {}, el('label', {}, 'Filter ', filter), el('table', { 'aria-label': 'Installed software' }, el('thead', {}, el('tr', {}, ...['Name', 'Version', 'Source', 'Status', 'Catalogue title', 'Why'].map((c) => el('th', { scope: 'col' }, c)))), body));
}

/** One host: its facts, USB devices present and their history, software with each item's catalogue status, screen lock, sessions, alerts. */
export function hostPage(main: HTMLElement, id: string): () => void {
  mount(main, el('p', {}, 'Loading…'));
  void Promise.all([api<HostDetail>(`/api/v1/hosts/${encodeURIComponent(id)}`), api<ListEnvelope<Alert>>(`/api/v1/alerts?hostId=${encodeURIComponent(id)}&limit=50`)]).then(
    ([h, alerts]) => {
      const rank: Record<string, number> = { prohibited: 0, unapproved: 1, licensed: 2, approved: 3 };
      const items = [...h.software.items].sort((a, b) => (rank[a.status ?? ''] ?? 4) - (rank[b.status ?? ''] ?? 4) || String(a.name).localeCompare(String(b.name)));
      mount(
        main,
        el('p', {}, el('a', { href: '#/hosts' }, '← Hosts')),
        el('h1', {}, h.hostname),
        el(
          'dl',
          { class: 'facts' },
          el('dt', {}, 'Status'),
          el('dd', {}, h.status, h.lastGoodbye ? ` (${h.lastGoodbye})` : ''),
          el('dt', {}, 'Last seen'),
          el('dd', {}, when(h.lastSeenAt)),
          el('dt', {}, 'OS'),
          el('dd', {}, [h.os.distro, h.os.release, h.os.arch].filter(Boolean).join(' ')),
          el('dt', {}, 'Agent'),
          el('dd', {}, h.agentVersion ?? '—'),
          el('dt', {}, 'Groups'),
          el('dd', {}, h.groups.join(', ') || '—'),
          el('dt', {}, 'Open alerts'),
          el('dd', {}, String(h.openAlerts)),
        ),
        el('h2', {}, 'USB devices present'),
        unknownNote(h.usb),
        table('USB devices present', ['Device', 'Vendor:product', 'Allowed', 'Why'], h.usb.present.map((d) =>
          el('tr', {}, el('td', {}, [d.manufacturer, d.product].filter(Boolean).join(' ') || '—'), el('td', { class: 'mono' }, `${d.vendorId ?? '?'}:${d.productId ?? '?'}`), el('td', {}, d.allowed ? 'yes' : 'no'), el('td', { class: 'muted' }, d.allowed ? describe(d.allowedBy) : (d.reasons ?? []).join('; '))),
        )),
        el('h2', {}, 'USB history'),
        table('USB history', ['When', 'Event', 'Device', 'Port'], h.usb.history.map((e) =>
          el('tr', {}, el('td', {}, when(e.at)), el('td', {}, e.event), el('td', {}, e.product ?? `${e.vendorId ?? '?'}:${e.productId ?? '?'}`), el('td', { class: 'mono' }, e.busPath)),
        )),
        el('h2', {}, 'Screen lock'),
        unknownNote(h.screenlock),
        table('Screen lock', ['User', 'Enabled', 'Idle timeout (s)', 'Grace (s)', 'Password', 'Breaches'], h.screenlock.settings.map((u) =>
          el('tr', {}, el('td', {}, u.user ?? ''), el('td', {}, setting(u.enabled)), el('td', {}, setting(u.idleTimeoutSeconds)), el('td', {}, setting(u.graceSeconds)), el('td', {}, setting(u.passwordRequired)), el('td', {}, String(u.breaches?.length ?? 0))),
        )),
        el('h2', {}, 'Sessions'),
        unknownNote(h.sessions),
        table('Sessions', ['User', 'Terminal', 'Locked', 'Idle'], h.sessions.sessions.map((x) =>
          el('tr', {}, el('td', {}, x.user ?? ''), el('td', {}, x.tty ?? x.seat ?? ''), el('td', {}, x.locked == null ? 'unknown' : x.locked ? 'yes' : 'no'), el('td', {}, x.idle == null ? 'unknown' : x.idle ? `yes${x.idleSeconds ? ` (${x.idleSeconds} s)` : ''}` : 'no')),
        )),
        el('h2', {}, 'Alerts'),
        table('Host alerts', ['Severity', 'Rule', 'Subject', 'Status', 'Last seen'], alerts.items.map((a) =>
          el('tr', {}, el('td', {}, el('span', { class: `sev sev-${a.severity}` }, a.severity)), el('td', {}, a.rule), el('td', { class: 'mono' }, a.subject), el('td', {}, a.status.replace('_', ' ')), el('td', {}, when(a.lastSeenAt))),
        )),
        el('h2', {}, 'Software'),
        unknownNote(h.software),
        el('p', {}, Object.entries(h.software.counts).map(([k, v]) => `${k}: ${v}`).join(' · ') || '—'),
        softwareSection(items),
      );
    },
    (e: Error) => mount(main, el('p', { class: 'error' }, `Could not load the host: ${e.message}`)),
  );
  return () => undefined;
}
