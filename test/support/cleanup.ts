import fs from 'node:fs';
import { afterEach } from 'vitest';
import type WebSocket from 'ws';
import { removeSysfsRoots } from '../../agent/src/probes/usb/test-support/sysfs-tree.js';
import { tempDir, type Proc } from './processes.js';

/**
 * What a test file's tests start, undone after each test: processes SIGKILLed, live-feed sockets
 * terminated, sysfs trees and scratch directories removed. Call once at the top of the file.
 */
export function cleanedAfterEach(): { procs: Proc[]; feeds: WebSocket[]; scratch(prefix: string): string } {
  const procs: Proc[] = [];
  const feeds: WebSocket[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const ws of feeds.splice(0)) ws.terminate();
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await removeSysfsRoots();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return {
    procs,
    feeds,
    /** A temp dir removed after the test. */
    scratch(prefix: string): string {
      const d = tempDir(prefix);
      dirs.push(d);
      return d;
    },
  };
}
