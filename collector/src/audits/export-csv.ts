import type { AuditReport } from './report.js';

/**
 * CSV export: one row per finding, RFC 4180 (CRLF line ends, fields quoted when they hold a
 * quote, comma, CR or LF, quotes doubled), UTF-8 with a byte-order mark so spreadsheets read it
 * as UTF-8. Safe to open in a spreadsheet: a cell that starts with `=`, `+`, `-`, `@`, TAB or CR
 * (which Excel, LibreOffice and Google Sheets would run as a formula) gets a leading apostrophe
 * (OWASP "CSV Injection"). Software names, USB product strings and hostnames are untrusted.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | boolean | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_COLUMNS = [
  'audit_id',
  'seed',
  'generated_at',
  'audit_log_head',
  'host_id',
  'hostname',
  'stratum',
  'rank',
  'decision',
  'decision_comment',
  'kind',
  'subject',
  'status',
  'detail',
  'at',
] as const;

export function reportCsv(r: AuditReport): { text: string; rows: number } {
  const head = `${r.auditLogHead.seq}:${r.auditLogHead.hash}`;
  const lines = [CSV_COLUMNS.join(',')];
  let rows = 0;
  for (const h of r.hosts) {
    for (const f of h.findings) {
      rows++;
      lines.push(
        [r.audit.id, r.audit.seed, r.generatedAt, head, h.host.id, h.host.hostname, h.stratum, h.rank, h.decision.decision, h.decision.comment, f.kind, f.subject, f.status, f.detail, f.at]
          .map(csvCell)
          .join(','),
      );
    }
  }
  return { text: `\uFEFF${lines.join('\r\n')}\r\n`, rows };
}
