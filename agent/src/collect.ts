import type { HostFacts } from '@vigil/shared';

/** What `vigil-agent collect --json` prints: the facts a snapshot would carry, read now. */
export async function collectSnapshot(deps: { version: string; collectHostFacts(v: string): Promise<HostFacts> }): Promise<{ host: HostFacts }> {
  return { host: await deps.collectHostFacts(deps.version) };
}
