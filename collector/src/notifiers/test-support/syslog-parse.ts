/**
 * Test-side readers for what a SIEM receives, written from RFC 5424 and RFC 6587 independently of
 * the code under test: an RFC 5424 message parser and an octet-counting frame splitter.
 */

export interface ParsedSyslog {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: { id: string; params: Record<string, string> } | null;
  msg: string | null;
}

const PRINTUSASCII = /^[!-~]+$/;

export function parseRfc5424(line: string): ParsedSyslog {
  const head = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(line);
  if (!head) throw new Error(`not an RFC 5424 header: ${line.slice(0, 120)}`);
  const [, pri, version, timestamp, hostname, appName, procId, msgId] = head as unknown as string[];
  for (const f of [timestamp, hostname, appName, procId, msgId]) if (!PRINTUSASCII.test(f ?? '')) throw new Error(`bad header field ${f}`);
  let i = head[0].length;
  let sd: ParsedSyslog['sd'] = null;
  if (line[i] === '-') {
    i++;
  } else {
    if (line[i] !== '[') throw new Error('expected structured data');
    i++;
    const id = /^[^ \]="]+/.exec(line.slice(i))?.[0];
    if (!id) throw new Error('expected SD-ID');
    i += id.length;
    const params: Record<string, string> = {};
    while (line[i] === ' ') {
      i++;
      const name = /^[^ \]="]{1,32}/.exec(line.slice(i))?.[0];
      if (!name || line[i + name.length] !== '=' || line[i + name.length + 1] !== '"') throw new Error(`bad SD-PARAM at ${i}`);
      i += name.length + 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error('unterminated PARAM-VALUE');
        if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\' || line[i + 1] === ']')) {
          value += line[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') break;
        if (c === ']') throw new Error('unescaped ] in PARAM-VALUE');
        value += c;
        i++;
      }
      i++;
      params[name] = value;
    }
    if (line[i] !== ']') throw new Error(`expected ] at ${i}`);
    i++;
    sd = { id, params };
  }
  let msg: string | null = null;
  if (i < line.length) {
    if (line[i] !== ' ') throw new Error('expected SP before MSG');
    msg = line.slice(i + 1);
  }
  return { pri: Number(pri), version: Number(version), timestamp: timestamp!, hostname: hostname!, appName: appName!, procId: procId!, msgId: msgId!, sd, msg };
}

/** Split RFC 6587 octet-counted frames (`LEN SP MSG`) off a TCP stream; `rest` is an incomplete tail. */
export function splitOctetFrames(buf: Buffer): { frames: string[]; rest: Buffer } {
  const frames: string[] = [];
  let at = 0;
  for (;;) {
    const sp = buf.indexOf(0x20, at);
    if (sp < 0) break;
    const lenText = buf.subarray(at, sp).toString('ascii');
    if (!/^[1-9]\d{0,8}$/.test(lenText)) throw new Error(`bad frame length ${JSON.stringify(lenText)}`);
    const len = Number(lenText);
    if (buf.length < sp + 1 + len) break;
    frames.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
    at = sp + 1 + len;
  }
  return { frames, rest: buf.subarray(at) };
}
