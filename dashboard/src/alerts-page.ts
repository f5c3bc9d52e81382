import type { Alert, AlertFeedFrame, ListEnvelope } from './types.js';
import { api, canTriage } from './api.js';
import { el, mount, say, when } from './dom.js';

const STATUSES = ['open', 'acknowledged', 'resolved', 'auto_resolved'] as const;
const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
const RULES = ['usb.unauthorised', 'software.unapproved', 'software.prohibited', 'licence.over_deployed', 'screenlock.noncompliant', 'terminal.unattended', 'agent.silent', 'agent.cloned'] as const;
const RESOLUTIONS = ['fixed', 'removed', 'approved', 'false_positive', 'other'] as const;

interface Filters {
  status: string;
  severity: string;
  rule: string;
  group: string;
  host: string;
}

/**
 * The live alert feed: the first page from `GET /api/v1/alerts`, then every change from
 * `/api/v1/alerts/stream` (same filters) without a reload; resumes from its cursor after a drop.
 */
export function alertsPage(main: HTMLElement): () => void {
  const filters: Filters = { status: 'open,acknowledged', severity: '', rule: '', group: '', host: '' };
  const rows = new Map<string, HTMLTableRowElement>();
  const alerts = new Map<string, Alert>();
  const tbody = el('tbody');
  const live = el('span', { class: 'live', id: 'live' }, 'connecting…');
  const more = el('button', { type: 'button', hidden: true }, 'Load more');
  let nextCursor: string | null = null;
  let socket: WebSocket | undefined;
  let lastCursor: string | undefined;
  let stopped = false;
  let retryMs = 1000;

  const query = (extra: Record<string, string> = {}, keys: readonly (keyof Filters)[] = ['status', 'severity', 'rule', 'group']) => {
    const q = new URLSearchParams();
    for (const k of keys) if (filters[k]) q.set(k, filters[k]);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return q.toString();
  };
  const matches = (a: Alert) =>
    (!filters.status || filters.status.split(',').includes(a.status)) &&
    (!filters.severity || a.severity === filters.severity) &&
    (!filters.rule || a.rule === filters.rule) &&
    (!filters.host || (a.hostname ?? '').toLowerCase().includes(filters.host.toLowerCase()));

  function actions(a: Alert): HTMLElement {
    const box = el('div', { class: 'actions' });
    if (!canTriage() || a.status === 'resolved' || a.status === 'auto_resolved') return box;
    const act = async (label: string, path: string, body: unknown) => {
      try {
        await api(path, { method: 'POST', body });
        say(`${label}: ${a.subject}`);
      } catch (e) {
        say(`${label} failed: ${(e as Error).message}`);
      }
    };
    if (a.status === 'open') box.append(el('button', { type: 'button', onclick: () => void act('Acknowledged', `/api/v1/alerts/${a.id}/acknowledge`, {}) }, 'Acknowledge'));
    const note = el('input', { type: 'text', placeholder: 'note', 'aria-label': `note for ${a.subject}`, maxlength: 500 });
    const resolution = el('select', { 'aria-label': 'resolution' }, ...RESOLUTIONS.map((r) => el('option', { value: r }, r.replace('_', ' '))));
    box.append(
      resolution,
      note,
      el('button', { type: 'button', onclick: () => void act('Resolved', `/api/v1/alerts/${a.id}/resolve`, { resolution: resolution.value, ...(note.value.trim() ? { note: note.value.trim() } : {}) }) }, 'Resolve'),
    );
    if (a.rule === 'usb.unauthorised') {
      box.append(
        el('button', { type: 'button', class: 'primary', onclick: () => void act('Device approved', '/api/v1/usb/approvals', { alertId: a.id, reason: note.value.trim() || `approved from the dashboard` }) }, 'Approve device'),
      );
    }
    return box;
  }

  function render(a: Alert, fresh: boolean): void {
    alerts.set(a.id, a);
    const row = el(
      'tr',
      { 'data-alert': a.id, class: fresh ? 'fresh' : '' },
      el('td', {}, el('span', { class: `sev sev-${a.severity}` }, a.severity)),
      el('td', {}, a.rule, a.monitorOnly ? el('div', { class: 'muted' }, 'monitor only') : null),
      el('td', {}, a.hostId ? el('a', { href: `#/hosts/${a.hostId}` }, a.hostname ?? a.hostId) : el('span', { class: 'muted' }, 'fleet')),
      el('td', { class: 'mono' }, a.subject),
      el('td', {}, a.count),
      el('td', {}, when(a.lastSeenAt)),
      el('td', {}, a.status.replace('_', ' '), a.note ? el('div', { class: 'muted' }, a.note) : null),
      el('td', {}, actions(a)),
    );
    const old = rows.get(a.id);
    if (!matches(a)) {
      old?.remove();
      rows.delete(a.id);
      return;
    }
    if (old) old.replaceWith(row);
    else if (fresh) tbody.prepend(row);
    else tbody.append(row);
    rows.set(a.id, row);
  }

  async function load(reset: boolean): Promise<void> {
    if (reset) {
      tbody.replaceChildren();
      rows.clear();
      nextCursor = null;
    }
    try {
      const page = await api<ListEnvelope<Alert>>(`/api/v1/alerts?${query({ limit: '50', ...(nextCursor ? { cursor: nextCursor } : {}) })}`);
      for (const a of page.items) render(a, false);
      nextCursor = page.nextCursor;
      more.hidden = !nextCursor;
    } catch (e) {
      say(`Could not load alerts: ${(e as Error).message}`);
    }
  }

  function connect(): void {
    if (stopped) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    // Every status: an alert that is resolved must reach the page to leave it.
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/alerts/stream?${query(lastCursor ? { cursor: lastCursor } : {}, ['severity', 'rule', 'group'])}`);
    socket = ws;
    ws.onopen = () => {
      retryMs = 1000;
      live.textContent = 'live';
      live.classList.add('on');
    };
    ws.onmessage = (ev) => {
      const frame = JSON.parse(String(ev.data)) as AlertFeedFrame;
      lastCursor = frame.cursor;
      render(frame.alert, true);
      if (frame.action === 'opened') say(`New ${frame.alert.severity} alert: ${frame.alert.rule} on ${frame.alert.hostname ?? 'the fleet'}`);
    };
    ws.onclose = () => {
      live.textContent = 'reconnecting…';
      live.classList.remove('on');
      if (stopped || socket !== ws) return;
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  }

  const select = (name: keyof Filters, label: string, options: readonly string[], all: string) => {
    const s = el('select', { name, onchange: () => apply(name, s.value) }, el('option', { value: '' }, all), ...options.map((o) => el('option', { value: o }, o.replace('_', ' '))));
    s.value = filters[name];
    return el('label', {}, label, s);
  };
  const statusSelect = el(
    'select',
    { name: 'status', onchange: () => apply('status', statusSelect.value) },
    el('option', { value: 'open,acknowledged' }, 'open + acknowledged'),
    el('option', { value: '' }, 'any'),
    ...STATUSES.map((s) => el('option', { value: s }, s.replace('_', ' '))),
  );
  const group = el('input', { type: 'text', name: 'group', onchange: () => apply('group', group.value.trim()) });
  const host = el('input', { type: 'search', name: 'host', placeholder: 'hostname contains', oninput: () => {
    filters.host = host.value.trim();
    for (const a of alerts.values()) render(a, false);
  } });
  function apply(name: keyof Filters, value: string): void {
    filters[name] = value;
    lastCursor = undefined;
    void load(true);
    const old = socket;
    socket = undefined;
    old?.close();
    connect();
  }

  more.addEventListener('click', () => void load(false));
  mount(
    main,
    el('h1', {}, 'Alerts ', live),
    el(
      'div',
      { class: 'filters', role: 'search' },
      el('label', {}, 'Status', statusSelect),
      select('severity', 'Severity', SEVERITIES, 'any'),
      select('rule', 'Rule', RULES, 'any'),
      el('label', {}, 'Group', group),
      el('label', {}, 'Host', host),
    ),
    el(
      'table',
      { 'aria-label': 'Alerts' },
      el('thead', {}, el('tr', {}, ...['Severity', 'Rule', 'Host', 'Subject', 'Count', 'Last seen', 'Status', 'Actions'].map((h) => el('th', { scope: 'col' }, h)))),
      tbody,
    ),
    more,
  );
  void load(true);
  connect();
  return () => {
    stopped = true;
    socket?.close();
  };
}
