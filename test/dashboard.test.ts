import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Alert, listEnvelope } from '@vigil/shared';
import { addSysfsDevice, loadSysfsFixture, makeSysfsRoot, removeSysfsRoots } from '../agent/src/probes/usb/test-support/sysfs-tree.js';
import { api, COLLECTOR_BIN, freePort, ROOT, startAgent, startCollector, tempDir, type CollectorProc, type Proc } from './support/processes.js';

// The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against the real
// collector and a real agent whose USB bus is a sysfs tree built from real captures.

const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test/e2e/screenshots');
const PASSWORDS = { admin: 'admin password for e2e', ann: 'analyst password for e2e', audrey: 'auditor password for e2e' };

let collector: CollectorProc;
let agent: Proc;
let sysfs: string;
let browser: Browser;

function userAdd(name: 'ann' | 'audrey', role: string, dataDir: string): void {
  const r = spawnSync(process.execPath, [COLLECTOR_BIN, 'user', 'add', '--role', role, '--password-stdin', '--data-dir', dataDir, name], { input: `${PASSWORDS[name]}\n`, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (as .ci/run does) or set VIGIL_CHROMIUM`);
  fs.mkdirSync(SHOTS, { recursive: true });
  const dataDir = tempDir('dashboard');
  collector = await startCollector({ dataDir, port: await freePort(), env: { VIGIL_ADMIN_PASSWORD: PASSWORDS.admin } });
  userAdd('ann', 'analyst', dataDir);
  userAdd('audrey', 'auditor', dataDir);
  sysfs = await makeSysfsRoot();
  const fixture = await loadSysfsFixture('sandisk-stick.json');
  for (const d of fixture.devices.filter((d) => d.attrs.idVendor !== '0781')) await addSysfsDevice(sysfs, d);
  agent = startAgent({ stateDir: tempDir('dashboard-agent'), url: collector.url, env: { VIGIL_SYSFS_ROOT: sysfs } });
  await agent.waitForLog((l) => l.msg === 'connected to the collector');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await agent?.kill('SIGKILL');
  await collector?.kill('SIGKILL');
  removeSysfsRoots();
});

async function logIn(name: keyof typeof PASSWORDS): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(collector.url);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(PASSWORDS[name]);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#live.on').waitFor();
  return page;
}

const alertRow = (page: Page, rule: string) => page.locator('tbody tr', { hasText: rule });

describe('the IT dashboard', () => {
  it('refuses a wrong password on the login page', async () => {
    const page = await browser.newPage();
    await page.goto(collector.url);
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('wrong');
    await page.screenshot({ path: path.join(SHOTS, 'login.png') });
    await page.close();
  });

  it('shows an alert live when a stick is plugged into a real agent, then acknowledges it and approves the device', async () => {
    const page = await logIn('admin');
    await page.screenshot({ path: path.join(SHOTS, 'alerts-empty.png') });
    const fixture = await loadSysfsFixture('sandisk-stick.json');
    await addSysfsDevice(sysfs, fixture.devices.find((d) => d.attrs.idVendor === '0781')!);
    const row = alertRow(page, 'usb.unauthorised');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('usb:0781:');
    await page.screenshot({ path: path.join(SHOTS, 'alerts-live.png') });

    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('acknowledged');
    await row.getByRole('button', { name: 'Approve device' }).click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 10_000 }).toMatch(/approved|failed/);
    expect(await page.locator('#status').textContent()).toContain('Device approved');
    // Approved: resolved, so it leaves the open + acknowledged view.
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(0);
    const [alert] = listEnvelope(Alert).parse((await api(collector.url, '/api/v1/alerts?rule=usb.unauthorised')).body).items;
    expect(alert).toMatchObject({ status: 'resolved', resolution: 'approved', acknowledgedBy: 'user:admin' });

    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    expect(await page.locator('.tile').first().textContent()).toBe('1hosts');
    // This machine's packages without a catalogue title are open software.unapproved alerts: bars.
    expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(0);
    expect(await page.locator('table[aria-label="Compliance by rule"] tbody tr').count()).toBe(6);
    await page.screenshot({ path: path.join(SHOTS, 'overview.png'), fullPage: true });

    await page.getByRole('link', { name: 'Hosts' }).click();
    const hostLink = page.locator('tbody a').first();
    await hostLink.waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'hosts.png') });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await hostLink.click();
    await page.getByRole('heading', { name: 'USB devices present' }).waitFor({ timeout: 5000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}\npage errors: ${pageErrors.join('; ')}\nmain: ${(await page.locator('main').textContent())?.slice(0, 500)}`);
    });
    expect(await page.locator('table[aria-label="USB devices present"]').textContent()).toContain('0781:');
    expect(await page.locator('table[aria-label="USB history"]').textContent()).toContain('attached');
    // This machine's real dpkg inventory, what needs a look first.
    expect(await page.locator('table[aria-label="Installed software"] tbody tr').first().textContent()).toContain('unapproved');
    await page.getByLabel('Filter software').fill('libc6');
    expect(await page.locator('table[aria-label="Installed software"] tbody').textContent()).toContain('approved');
    await page.screenshot({ path: path.join(SHOTS, 'host-detail.png') });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('User name').waitFor();
    await page.close();
  });

  it('edits the policy as admin: a bad document is refused with its problems shown by line, a good one takes force', async () => {
    const page = await logIn('admin');
    await page.getByRole('link', { name: 'Policy' }).click();
    const editor = page.getByLabel('Policy document (YAML)');
    await editor.waitFor();
    await editor.fill('version: 1\nscreenlock:\n  maxIdleSeconds: soon\n');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await expect.poll(() => page.locator('#policy-problems').textContent(), { timeout: 10_000 }).toMatch(/line 3: screenlock\.maxIdleSeconds/);
    await page.screenshot({ path: path.join(SHOTS, 'policy-invalid.png') });
    await editor.fill('version: 1\nscreenlock: { maxIdleSeconds: 600 }\n');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 10_000 }).toMatch(/Policy version \d+ in force/);
    expect(await page.locator('#policy-problems').textContent()).toBe('');
    const current = (await api(collector.url, '/api/v1/policy')).body as { document: string; createdBy: string };
    expect(current).toMatchObject({ document: 'version: 1\nscreenlock: { maxIdleSeconds: 600 }\n', createdBy: 'user:admin' });
    await page.close();
  });

  it('lets an analyst triage, and an auditor only look (in the page and in the API)', async () => {
    const analyst = await logIn('ann');
    await analyst.locator('select[name="status"]').selectOption('');
    await analyst.locator('tbody tr').first().waitFor();
    expect(await analyst.getByRole('button', { name: 'Resolve' }).count()).toBeGreaterThan(0);
    // Policy is the admin's.
    expect(await analyst.getByRole('link', { name: 'Policy' }).count()).toBe(0);
    await analyst.close();

    const auditor = await logIn('audrey');
    await auditor.locator('select[name="status"]').selectOption('');
    await auditor.locator('tbody tr').first().waitFor();
    expect(await auditor.getByRole('button', { name: /Acknowledge|Resolve|Approve/ }).count()).toBe(0);
    await auditor.screenshot({ path: path.join(SHOTS, 'alerts-auditor.png') });
    // The server refuses too, even with the session's CSRF token.
    const status = await auditor.evaluate(async () => {
      const session = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
      const alerts = (await (await fetch('/api/v1/alerts')).json()) as { items: { id: string }[] };
      const res = await fetch(`/api/v1/alerts/${alerts.items[0]!.id}/resolve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-vigil-csrf': session.csrfToken },
        body: JSON.stringify({ resolution: 'fixed' }),
      });
      return res.status;
    });
    expect(status).toBe(403);
    await auditor.close();
  });
});
