import type { Overview } from './types.js';
import { api } from './api.js';
import { el, mount } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
/** One colour per rule, distinguishable and dark enough for white gaps between bars. */
const COLOURS: Record<string, string> = {
  'usb.unauthorised': '#a40e26',
  'software.prohibited': '#6f42c1',
  'software.unapproved': '#bc4c00',
  'licence.over_deployed': '#7d5e00',
  'screenlock.noncompliant': '#0a58ca',
  'terminal.unattended': '#1a7f37',
  'agent.silent': '#57606a',
  'agent.cloned': '#1b7c83',
};

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c);
  return node;
}

/** Open alerts at the end of each day, stacked by rule: a chart, with the same figures as a table beside it. */
function openAlertsChart(o: Overview): Element {
  const days = o.openAlertsByDay;
  const rules = Object.keys(COLOURS).filter((r) => days.some((d) => (d.counts[r] ?? 0) > 0));
  const max = Math.max(1, ...days.map((d) => Object.values(d.counts).reduce((a, b) => a + b, 0)));
  const w = 720;
  const hgt = 220;
  const bw = Math.floor((w - 40) / days.length);
  const chart = svg('svg', { viewBox: `0 0 ${w} ${hgt + 30}`, role: 'img', 'aria-labelledby': 'chart-title', class: 'chart' }, svg('title', { id: 'chart-title' }, 'Open alerts at the end of each day, by rule'));
  chart.append(svg('text', { x: 0, y: 12, 'font-size': 11 }, String(max)), svg('line', { x1: 36, x2: w, y1: hgt, y2: hgt, stroke: '#d0d7de' }));
  days.forEach((d, i) => {
    let y = hgt;
    const x = 40 + i * bw;
    for (const rule of rules) {
      const n = d.counts[rule] ?? 0;
      if (!n) continue;
      const bh = (n / max) * (hgt - 20);
      y -= bh;
      chart.append(svg('rect', { x, y, width: Math.max(1, bw - 4), height: bh, fill: COLOURS[rule]! }, svg('title', {}, `${d.day}: ${n} ${rule}`)));
    }
    if (days.length <= 31 && (i % Math.ceil(days.length / 10) === 0 || i === days.length - 1)) chart.append(svg('text', { x, y: hgt + 16, 'font-size': 11 }, d.day.slice(5)));
  });
  // Colours set through the CSSOM: the page's CSP allows no inline style attributes.
  const swatch = (rule: string) => {
    const s = el('span', { class: 'swatch' });
    s.style.background = COLOURS[rule]!;
    return s;
  };
  const legend = el('ul', { class: 'legend' }, ...rules.map((r) => el('li', {}, swatch(r), r)));
  const table = el(
    'details',
    {},
    el('summary', {}, 'The figures'),
    el(
      'table',
      { 'aria-label': 'Open alerts by day' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Day'), ...rules.map((r) => el('th', { scope: 'col' }, r)))),
      el('tbody', {}, ...days.map((d) => el('tr', {}, el('td', {}, d.day), ...rules.map((r) => el('td', {}, d.counts[r] ?? 0))))),
    ),
  );
  return el('section', { 'aria-labelledby': 'open-by-day' }, el('h2', { id: 'open-by-day' }, 'Open alerts by rule, last 14 days'), rules.length ? chart : el('p', { class: 'muted' }, 'No open alerts in this window.'), legend, table);
}

/** The fleet at a glance: hosts online and in breach, compliance per rule, open alerts over time. */
export function overviewPage(main: HTMLElement): () => void {
  mount(main, el('p', {}, 'Loading…'));
  void api<Overview>('/api/v1/overview?days=14').then(
    (o) => {
      const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
      const clean = o.hosts.total ? (o.hosts.total - o.hosts.withOpenAlerts) / o.hosts.total : 1;
      mount(
        main,
        el('h1', {}, 'Fleet overview'),
        el(
          'div',
          { class: 'tiles' },
          el('div', { class: 'tile' }, el('strong', {}, o.hosts.total), el('span', {}, 'hosts')),
          el('div', { class: 'tile' }, el('strong', {}, o.hosts.online), el('span', {}, 'online now')),
          el('div', { class: 'tile' }, el('strong', {}, pct(clean)), el('span', {}, 'with no open alert')),
        ),
        openAlertsChart(o),
        el('h2', {}, 'Compliance by rule'),
        el(
          'table',
          { 'aria-label': 'Compliance by rule' },
          el('thead', {}, el('tr', {}, ...['Rule', 'Hosts in breach', 'Compliant'].map((c) => el('th', { scope: 'col' }, c)))),
          el('tbody', {}, ...o.compliance.map((c) => el('tr', {}, el('td', {}, c.rule), el('td', {}, c.hostsInBreach), el('td', {}, el('meter', { min: 0, max: 1, value: c.rate, 'aria-label': `${c.rule} compliant` }), ` ${pct(c.rate)}`)))),
        ),
      );
    },
    (e: Error) => mount(main, el('p', { class: 'error' }, `Could not load the overview: ${e.message}`)),
  );
  return () => undefined;
}
