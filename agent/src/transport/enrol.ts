import http from 'node:http';
import https from 'node:https';
import { EnrolResponse, ErrorResponse, VigilError, isErrorCode, type HostFacts } from '@vigil/shared/agent';

export interface EnrolOptions {
  collectorUrl: string;
  secret: string;
  host: HostFacts;
  ca?: Buffer | undefined;
  timeoutMs?: number;
}

/** `POST /api/v1/enrol`: trade the enrolment secret and host facts for an agent id and token. */
export function enrol(opts: EnrolOptions): Promise<EnrolResponse> {
  const url = new URL('/api/v1/enrol', `${opts.collectorUrl}/`);
  const payload = JSON.stringify({ secret: opts.secret, host: opts.host });
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: opts.timeoutMs ?? 15_000,
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 64 * 1024) req.destroy(new VigilError('VIGIL_ERR_BODY_TOO_LARGE', 'enrolment answer too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return reject(new VigilError('VIGIL_ERR_COLLECTOR_UNREACHABLE', `enrolment answered HTTP ${res.statusCode} without JSON`));
          }
          if (res.statusCode === 201 || res.statusCode === 200) {
            const ok = EnrolResponse.safeParse(json);
            return ok.success ? resolve(ok.data) : reject(new VigilError('VIGIL_ERR_MESSAGE_INVALID', 'enrolment answer failed its schema'));
          }
          const err = ErrorResponse.safeParse(json);
          const code = err.success && isErrorCode(err.data.error.code) ? err.data.error.code : 'VIGIL_ERR_INTERNAL';
          reject(new VigilError(code, err.success ? err.data.error.message : `HTTP ${res.statusCode}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new VigilError('VIGIL_ERR_COLLECTOR_UNREACHABLE', `no answer from ${opts.collectorUrl}`)));
    req.on('error', (e) =>
      reject(e instanceof VigilError ? e : new VigilError('VIGIL_ERR_COLLECTOR_UNREACHABLE', `cannot reach ${opts.collectorUrl}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e })),
    );
    req.end(payload);
  });
}
