import type { NotificationPayload } from '@vigil/shared';

/**
 * One readable line per notification, for Slack/Teams `text` and the syslog MSG. Hostnames,
 * subjects, device strings and actor names come from endpoints or users: they are untrusted, so
 * every one is cleaned (no control characters, line breaks or invisible formatting characters)
 * and capped, and in the Slack style escaped as Slack requires (`&`, `<`, `>`) and set in code
 * spans, so a product string cannot inject a mention, a link or formatting.
 */

export type TextStyle = 'plain' | 'slack';

/** Caps on untrusted fields, in characters. */
const CAP = { host: 64, subject: 160, summary: 160, actor: 64, hash: 128 } as const;

/** Controls (C0, DEL, C1) and line/paragraph separators become spaces; invisible format characters (bidi overrides, zero-width, BOM) go. */
const BREAKS = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
const INVISIBLE = /\p{Cf}/gu;

/** Untrusted text on one line, without control or invisible characters, at most `max` characters (code points). */
export function cleanText(s: string, max: number): string {
  const one = s.replace(BREAKS, ' ').replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  const chars = [...one];
  return chars.length > max ? `${chars.slice(0, Math.max(0, max - 1)).join('')}…` : one;
}

/** Slack's three control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An untrusted field in the given style: cleaned and capped; for Slack escaped and set as code (no links, mentions or markup). */
function field(s: string, max: number, style: TextStyle): string {
  const clean = cleanText(s, max);
  if (style === 'plain') return clean;
  return `\`${slackEscape(clean.replace(/`/g, "'"))}\``;
}

/** A short readable description from the details, when the rule gives one (USB product, software title, reason). */
function summary(details: Record<string, unknown>): string | null {
  const str = (k: string) => {
    const v = details[k];
    return typeof v === 'string' && v.trim() !== '' ? v : null;
  };
  const product = [str('manufacturer'), str('product')].filter((v) => v !== null).join(' ');
  return product || str('title') || str('reason') || str('message');
}

/** `[HIGH] usb.unauthorised opened on ws-0042: usb:0781:5567:4C53 — SanDisk Cruzer Blade (count 2)`. */
export function formatText(payload: NotificationPayload, style: TextStyle): string {
  switch (payload.type) {
    case 'alert': {
      const a = payload.alert;
      const parts = [`[${a.severity.toUpperCase()}] ${a.rule} ${payload.action}`];
      if (a.resolution && (payload.action === 'resolved' || payload.action === 'auto_resolved')) parts.push(` (${a.resolution})`);
      if (payload.action === 'acknowledged' || payload.action === 'resolved') parts.push(` by ${field(payload.actor, CAP.actor, style)}`);
      const host = a.hostname ?? a.hostId;
      parts.push(host === null ? ' fleet-wide' : ` on ${field(host, CAP.host, style)}`);
      parts.push(`: ${field(a.subject, CAP.subject, style)}`);
      const s = summary(a.details);
      if (s !== null) parts.push(` — ${field(s, CAP.summary, style)}`);
      parts.push(` (count ${a.count})`);
      return parts.join('');
    }
    case 'audit.head':
      return `Vigil audit log head: seq ${payload.seq}, sha256 ${field(payload.hash, CAP.hash, style)}, at ${field(payload.at, 40, style)}`;
    case 'test':
      return `Vigil test notification, sent by ${field(payload.by, CAP.actor, style)} at ${field(payload.at, 40, style)}`;
  }
}
