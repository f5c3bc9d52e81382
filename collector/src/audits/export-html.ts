import type { AuditReport } from './report.js';

/**
 * Printable HTML report: one self-contained page (inline CSS, no script, no external resource;
 * its own Content-Security-Policy forbids both), every value escaped. Print it to PDF from a
 * browser for a signed-off paper copy.
 */

export function escapeHtml(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const e = escapeHtml;

function table(headers: string[], rows: unknown[][]): string {
  if (!rows.length) return '<p class="none">none</p>';
  return `<table><thead><tr>${headers.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const STYLE = `
body{font:12px/1.4 system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:20px}h2{font-size:16px;margin-top:2em;border-bottom:1px solid #999;page-break-before:always}h3{font-size:13px;margin-bottom:.3em}
table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{border:1px solid #bbb;padding:2px 4px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#eee}.meta td:first-child{font-weight:bold;width:14em}.none{color:#666;font-style:italic}
.bad{color:#a00;font-weight:bold}code{font-size:11px}
@media print{h2{page-break-before:always}}`;

export function reportHtml(r: AuditReport): string {
  const a = r.audit;
  const meta = reportMeta(r);
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>Vigil audit ${e(a.id)}</title><style>${STYLE}</style></head><body>`,
    `<h1>Vigil audit report</h1>`,
    `<table class="meta"><tbody>${meta.map(([k, v]) => `<tr><td>${e(k)}</td><td><code>${e(v)}</code></td></tr>`).join('')}</tbody></table>`,
    '<h3>Sample</h3>',
    table(
      ['#', 'Host', 'Host id', 'Stratum', 'Rank', 'HMAC-SHA256', 'Fresh evidence', 'Decision', 'Comment'],
      r.hosts.map((h, i) => [i + 1, h.host.hostname, h.host.id, h.stratum, h.rank, h.hmac, h.freshness.freshEvidenceAt ?? 'none', h.decision.decision ?? 'undecided', h.decision.comment ?? '']),
    ),
  ];
  for (const h of r.hosts) {
    parts.push(`<h2>${e(h.host.hostname ?? h.host.id)}</h2>`);
    parts.push(
      table(
        ['Host id', 'Platform', 'Groups', 'Status', 'Agent', 'Decision'],
        [[h.host.id, `${h.host.platform ?? ''} ${h.host.distro ?? ''} ${h.host.release ?? ''}`, h.host.groups.join(', '), h.host.status, h.host.agentVersion ?? '', `${h.decision.decision ?? 'undecided'} ${h.decision.comment ?? ''}`]],
      ),
    );
    const f = h.freshness;
    parts.push('<h3>Evidence freshness</h3>');
    parts.push(
      table(
        ['Collect-now sent', 'Fresh snapshot', 'Software facts', 'USB facts', 'Screen-lock facts'],
        [[f.requestedAt ?? 'not connected', f.freshEvidenceAt ?? 'none yet', ...(['software', 'usb', 'screenlock'] as const).map((k) => (f.facts[k].reportedAt ? `${f.facts[k].reportedAt} (${f.facts[k].ageSeconds} s old, ${f.facts[k].status})` : 'never'))]],
      ),
    );
    parts.push('<h3>Findings</h3>');
    parts.push(table(['Kind', 'Subject', 'Status', 'Detail', 'At'], h.findings.map((x) => [x.kind, x.subject, x.status, x.detail, x.at ?? ''])));
    parts.push('<h3>Licensed titles</h3>');
    parts.push(table(['Title', 'Seats', 'Installs fleet-wide', 'Over by'], h.software.licences.map((l) => [l.title, l.seats, l.installsFleetWide, l.overBy])));
    parts.push('<h3>USB devices seen in the period</h3>');
    parts.push(table(['Device', 'Product', 'First seen', 'Last seen', 'Present now', 'Approved', 'Why not'], h.usb.devices.map((d) => [d.key, `${d.manufacturer} ${d.product}`, d.firstSeenAt, d.lastSeenAt, d.presentNow ? 'yes' : 'no', d.approved ? 'yes' : 'NO', d.reasons.join('; ')])));
    parts.push('<h3>Alerts in the period</h3>');
    parts.push(table(['Rule', 'Subject', 'Severity', 'Status', 'Resolution', 'By', 'First seen', 'Last seen', 'Note'], h.alerts.map((x) => [x.rule, x.subject, x.severity, x.status, x.resolution ?? '', x.resolvedBy ?? '', x.firstSeenAt, x.lastSeenAt, x.note ?? ''])));
    parts.push('<h3>Installed software</h3>');
    parts.push(table(['Name', 'Version', 'Source', 'Status', 'Title'], h.software.items.map((s) => [s.name, s.version, s.source, s.status, s.title ?? ''])));
  }
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}

/** The facts that open every export of an audit report: what was drawn, how, and against which audit-log head. */
export function reportMeta(r: AuditReport): [string, unknown][] {
  const a = r.audit;
  return [
    ['Audit id', a.id],
    ['Title', a.title ?? ''],
    ['Status', a.closedAt ? `closed ${a.closedAt} by ${a.closedBy}` : 'open'],
    ['Drawn', `${a.createdAt} by ${a.createdBy}`],
    ['Algorithm', a.algorithm],
    ['Seed', `${a.seed}${a.seedGenerated ? ' (generated by the collector)' : ''}`],
    ['Period under review', `${a.period.from} – ${a.period.to}`],
    ['Strata', a.strata ? JSON.stringify(a.strata) : 'none'],
    ['Population', `${a.populationSize} hosts, SHA-256 ${a.populationSha256}`],
    ['Sample', `${a.sampleSize} hosts, SHA-256 ${a.sampleSha256}`],
    ['Draw recorded in audit log', `seq ${a.auditLogSeq}`],
    ['Generated', r.generatedAt],
    ['Audit-log chain head', `${r.auditLogHead.seq}:${r.auditLogHead.hash}`],
    ['Policy version', r.policyVersion],
  ];
}
