import type { Color, PDFDocument, PDFFont, PDFPage } from 'pdf-lib';
import type { AuditReport } from '@vigil/shared';
import { reportMeta } from './export-html.js';

/**
 * PDF export: the printable report as a PDF, made with pdf-lib (pure JavaScript: nothing native,
 * nothing downloaded at install). Text only, in the standard Helvetica fonts, so it embeds no font
 * file. Those fonts cover Windows-1252 only: any other character (and every control character)
 * is shown as `?` — the JSON export holds the exact text. pdf-lib writes every string as a PDF
 * string object, so untrusted text cannot change the document's structure.
 *
 * pdf-lib is loaded on the first PDF export only: importing it costs about 0.6 s, which every
 * collector start and every CLI command would otherwise pay.
 */

const PAGE = { width: 595.28, height: 841.89, margin: 42 } as const; // A4, 15 mm margins
const SIZE = 8.5;
const LEADING = 11;

/** Windows-1252 characters beyond Latin-1 that the standard fonts can draw. */
const CP1252_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

export function pdfSafe(text: unknown): string {
  const s = text === null || text === undefined ? '' : String(text);
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x09 || c === 0x0a || c === 0x0d) out += ' ';
    else if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || CP1252_EXTRA.has(ch)) out += ch;
    else out += '?';
  }
  return out;
}

class Writer {
  private page!: PDFPage;
  private y = 0;

  constructor(
    private readonly doc: PDFDocument,
    private readonly font: PDFFont,
    private readonly bold: PDFFont,
    private readonly footer: string,
    private readonly grey: Color,
  ) {
    this.newPage();
  }

  newPage(): void {
    this.page = this.doc.addPage([PAGE.width, PAGE.height]);
    this.y = PAGE.height - PAGE.margin;
    const n = this.doc.getPageCount();
    this.page.drawText(`${this.footer} — page ${n}`, { x: PAGE.margin, y: PAGE.margin / 2, size: 7, font: this.font, color: this.grey });
  }

  private wrap(text: string, font: PDFFont, size: number, width: number): string[] {
    const lines: string[] = [];
    for (const para of text.split('\n')) {
      let line = '';
      for (const word of para.split(' ')) {
        const candidate = line ? `${line} ${word}` : word;
        if (font.widthOfTextAtSize(candidate, size) <= width) {
          line = candidate;
          continue;
        }
        if (line) lines.push(line);
        // A word wider than the line (a hash, a long serial) is cut into pieces.
        let rest = word;
        while (font.widthOfTextAtSize(rest, size) > width) {
          let cut = rest.length - 1;
          while (cut > 1 && font.widthOfTextAtSize(rest.slice(0, cut), size) > width) cut--;
          lines.push(rest.slice(0, cut));
          rest = rest.slice(cut);
        }
        line = rest;
      }
      lines.push(line);
    }
    return lines;
  }

  text(raw: unknown, opts: { bold?: boolean; size?: number; indent?: number; gapBefore?: number } = {}): void {
    const size = opts.size ?? SIZE;
    const font = opts.bold ? this.bold : this.font;
    const indent = opts.indent ?? 0;
    const leading = Math.max(LEADING, size * 1.3);
    this.y -= opts.gapBefore ?? 0;
    for (const line of this.wrap(pdfSafe(raw), font, size, PAGE.width - 2 * PAGE.margin - indent)) {
      if (this.y - leading < PAGE.margin) this.newPage();
      this.y -= leading;
      this.page.drawText(line, { x: PAGE.margin + indent, y: this.y, size, font });
    }
  }
}

export async function reportPdf(r: AuditReport): Promise<Buffer> {
  const { PDFDocument, StandardFonts, rgb } = await import('pdf-lib');
  const a = r.audit;
  const doc = await PDFDocument.create();
  const when = new Date(r.generatedAt);
  doc.setTitle(pdfSafe(`Vigil audit ${a.id}`));
  doc.setProducer('Vigil collector');
  doc.setCreator('Vigil collector');
  doc.setCreationDate(when);
  doc.setModificationDate(when);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const w = new Writer(doc, font, bold, `Vigil audit ${a.id} — generated ${r.generatedAt} — audit-log head ${r.auditLogHead.seq}:${r.auditLogHead.hash}`, rgb(0.4, 0.4, 0.4));

  w.text('Vigil audit report', { bold: true, size: 16 });
  const meta = reportMeta(r);
  for (const [k, v] of meta) w.text(`${k}: ${pdfSafe(v)}`, { gapBefore: 1 });

  w.text('Sample', { bold: true, size: 11, gapBefore: 8 });
  r.hosts.forEach((h, i) =>
    w.text(
      `${i + 1}. ${h.host.hostname ?? h.host.id} (${h.host.id}) — stratum ${h.stratum}, rank ${h.rank}, HMAC ${h.hmac} — fresh evidence: ${h.freshness.freshEvidenceAt ?? 'none'} — decision: ${h.decision.decision ?? 'undecided'}${h.decision.comment ? ` (${h.decision.comment})` : ''}`,
      { indent: 6 },
    ),
  );

  for (const h of r.hosts) {
    w.newPage();
    w.text(h.host.hostname ?? h.host.id, { bold: true, size: 13 });
    w.text(`Host id ${h.host.id}; ${h.host.platform ?? ''} ${h.host.distro ?? ''} ${h.host.release ?? ''}; groups: ${h.host.groups.join(', ') || 'none'}; status ${h.host.status}; agent ${h.host.agentVersion ?? '?'}`);
    w.text(`Decision: ${h.decision.decision ?? 'undecided'}${h.decision.comment ? ` — ${h.decision.comment}` : ''}${h.decision.decidedBy ? ` (${h.decision.decidedBy}, ${h.decision.decidedAt})` : ''}`);
    const f = h.freshness;
    w.text(
      `Evidence: collect-now ${f.requestedAt ? `sent ${f.requestedAt}` : 'not sent (agent not connected)'}; fresh snapshot ${f.freshEvidenceAt ?? 'none yet'}; ` +
        (['software', 'usb', 'screenlock'] as const).map((k) => `${k} ${f.facts[k].reportedAt ? `${f.facts[k].reportedAt} (${f.facts[k].ageSeconds} s old)` : 'never'}`).join('; '),
    );
    w.text('Findings', { bold: true, size: 10, gapBefore: 6 });
    for (const x of h.findings) w.text(`[${x.kind}] ${x.subject} — ${x.status} — ${x.detail}${x.at ? ` (${x.at})` : ''}`, { indent: 6 });
    w.text('Alerts in the period', { bold: true, size: 10, gapBefore: 6 });
    if (!h.alerts.length) w.text('none', { indent: 6 });
    for (const x of h.alerts) {
      w.text(`${x.rule} ${x.subject} — ${x.severity}, ${x.status}${x.resolution ? ` (${x.resolution} by ${x.resolvedBy} ${x.resolvedAt})` : ''}; ${x.firstSeenAt} – ${x.lastSeenAt}${x.note ? `; note: ${x.note}` : ''}`, { indent: 6 });
    }
    w.text('Installed software', { bold: true, size: 10, gapBefore: 6 });
    if (!h.software.items.length) w.text('none reported', { indent: 6 });
    for (const s of h.software.items) w.text(`${s.name} ${s.version} (${s.source}) — ${s.status}${s.title ? `, ${s.title}` : ''}`, { indent: 6 });
  }
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}
