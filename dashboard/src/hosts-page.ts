import type { Host, ListEnvelope } from './types.js';
import { api } from './api.js';
import { el, mount, say, when } from './dom.js';

/** Hosts, searched and paged on the server (`?q=`, `?status=`, cursor): never the whole fleet at once. */
export function hostsPage(main: HTMLElement): () => void {
  const tbody = el('tbody');
  const more = el('button', { type: 'button', hidden: true }, 'Load more');
  const q = el('input', { type: 'search', name: 'q', placeholder: 'hostname contains' });
  const status = el('select', { name: 'status' }, ...['', 'online', 'offline', 'silent', 'retired'].map((s) => el('option', { value: s }, s || 'any')));
  let cursor: string | null = null;
  let timer: number | undefined;

  async function load(reset: boolean): Promise<void> {
    if (reset) {
      tbody.replaceChildren();
      cursor = null;
    }
    const params = new URLSearchParams({ limit: '50' });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (status.value) params.set('status', status.value);
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await api<ListEnvelope<Host>>(`/api/v1/hosts?${params}`);
      for (const h of page.items) {
        tbody.append(
          el(
            'tr',
            {},
            el('td', {}, el('a', { href: `#/hosts/${h.id}` }, h.hostname)),
            el('td', {}, h.status),
            el('td', {}, when(h.lastSeenAt)),
            el('td', {}, [h.os.distro, h.os.release].filter(Boolean).join(' ') || h.os.platform),
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
    el('table', { 'aria-label': 'Hosts' }, el('thead', {}, el('tr', {}, ...['Host', 'Status', 'Last seen', 'OS', 'Agent', 'Groups'].map((h) => el('th', { scope: 'col' }, h)))), tbody),
    more,
  );
  void load(true);
  return () => clearTimeout(timer);
}

interface HostDetail extends Host {
  openAlerts?: number;
  usb?: { present?: { key?: string; vendorId?: string; productId?: string; product?: string | null; manufacturer?: string | null; allowed?: boolean }[] };
  software?: { counts?: Record<string, number> };
  sessions?: unknown;
  screenlock?: unknown;
}

/** One host: its facts, USB devices present (each judged), software counts, sessions and screen lock. */
export function hostPage(main: HTMLElement, id: string): () => void {
  mount(main, el('p', {}, 'Loading…'));
  void api<HostDetail>(`/api/v1/hosts/${encodeURIComponent(id)}`).then(
    (h) => {
      const present = h.usb?.present ?? [];
      mount(
        main,
        el('p', {}, el('a', { href: '#/hosts' }, '← Hosts')),
        el('h1', {}, h.hostname),
        el(
          'dl',
          {},
          el('dt', {}, 'Status'),
          el('dd', {}, h.status, h.lastGoodbye ? ` (${h.lastGoodbye})` : ''),
          el('dt', {}, 'Last seen'),
          el('dd', {}, when(h.lastSeenAt)),
          el('dt', {}, 'OS'),
          el('dd', {}, [h.os.distro, h.os.release, h.os.arch].filter(Boolean).join(' ')),
          el('dt', {}, 'Agent'),
          el('dd', {}, h.agentVersion ?? '—'),
          el('dt', {}, 'Open alerts'),
          el('dd', {}, el('a', { href: `#/alerts` }, String(h.openAlerts ?? 0))),
        ),
        el('h2', {}, 'USB devices present'),
        present.length
          ? el(
              'table',
              { 'aria-label': 'USB devices present' },
              el('thead', {}, el('tr', {}, ...['Device', 'Vendor:product', 'Allowed'].map((c) => el('th', { scope: 'col' }, c)))),
              el('tbody', {}, ...present.map((d) => el('tr', {}, el('td', {}, [d.manufacturer, d.product].filter(Boolean).join(' ') || '—'), el('td', { class: 'mono' }, `${d.vendorId ?? '?'}:${d.productId ?? '?'}`), el('td', {}, d.allowed ? 'yes' : 'no')))),
            )
          : el('p', { class: 'muted' }, 'None.'),
        el('h2', {}, 'Software'),
        el('p', {}, Object.entries(h.software?.counts ?? {}).map(([k, v]) => `${k}: ${v}`).join(' · ') || '—'),
      );
    },
    (e: Error) => mount(main, el('p', { class: 'error' }, `Could not load the host: ${e.message}`)),
  );
  return () => undefined;
}
