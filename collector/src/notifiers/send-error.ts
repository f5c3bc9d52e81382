/**
 * Why a send failed, as one line fit to store and show (`last_error`): the network error's code
 * and message rather than fetch's bare "fetch failed", and never a URL (a webhook URL may itself
 * be the credential).
 */
export function describeSendError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 300);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return err.message || err.name;
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    const inner = e instanceof AggregateError ? e.errors[0] : (e as { cause?: unknown }).cause;
    // fetch's own TypeError says only "fetch failed", and a failed happy-eyeballs connect is an
    // AggregateError without a message: their causes say why.
    const wrapper = e.message === 'fetch failed' || (e instanceof AggregateError && !e.message);
    if (!(wrapper && inner instanceof Error)) {
      const msg = e.message || e.name;
      parts.push(typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg);
    }
    e = inner;
  }
  return redactUrls(parts.join(': ') || err.name);
}

/** Replace anything that looks like a URL by its origin. */
function redactUrls(s: string): string {
  return s.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (u) => {
    try {
      return new URL(u).origin;
    } catch {
      return '[url]';
    }
  });
}
