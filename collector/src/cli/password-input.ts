/** The most read from stdin for a password: anything longer is not one. */
const STDIN_CAP = 64 * 1024;

type Result = { ok: true; value: string } | { ok: false; errors: string[] };

/** Everything on `input` up to its first newline (a trailing `\r` dropped), read to the end or the cap. */
export async function passwordFromStream(input: NodeJS.ReadableStream): Promise<Result> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(b);
    size += b.length;
    if (size > STDIN_CAP) return { ok: false, errors: [`--password-stdin: more than ${STDIN_CAP} bytes on standard input`] };
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const nl = text.indexOf('\n');
  const value = (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, '');
  if (!value) return { ok: false, errors: ['--password-stdin: standard input held no password'] };
  return { ok: true, value };
}

/** Asks on the terminal without echoing what is typed. Resolves undefined on Ctrl-C or Ctrl-D. */
function askHidden(question: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string | undefined> {
  return new Promise((resolve) => {
    output.write(`${question}: `);
    let typed = '';
    const done = (value: string | undefined) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      output.write('\n');
      resolve(value);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(typed);
        if (ch === '\u0003' || ch === '\u0004') return done(undefined);
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}

/**
 * A new password: from stdin with `fromStdin` (scripts: `printf %s "$PW" | vigil-collector user add
 * … --password-stdin`), else asked twice on the terminal. Never from a flag or the environment,
 * where it would show in `ps` and shell history.
 */
export async function readPassword(opts: { fromStdin: boolean; prompt: string; input?: NodeJS.ReadStream; output?: NodeJS.WriteStream }): Promise<Result> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  if (opts.fromStdin) return passwordFromStream(input);
  if (!input.isTTY) return { ok: false, errors: ['no terminal to ask for the password on: give it on standard input with --password-stdin'] };
  const first = await askHidden(opts.prompt, input, output);
  if (first === undefined) return { ok: false, errors: ['cancelled'] };
  const again = await askHidden(`${opts.prompt} (again)`, input, output);
  if (again === undefined) return { ok: false, errors: ['cancelled'] };
  if (first !== again) return { ok: false, errors: ['the two passwords differ'] };
  return { ok: true, value: first };
}
