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

/**
 * axe-core, a plain script. The dashboard's CSP (script-src 'self') rightly refuses it as an
 * inline <script> (page.addScriptTag), so it is evaluated through the DevTools protocol instead,
 * which CSP does not govern; the page keeps its CSP.
 */
const AXE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
/** axe-core on the page as it stands: no serious or critical accessibility violation. */
async function accessible(page: Page, name: string): Promise<void> {
  // (This package's TypeScript has no DOM types: the page's globals are reached through globalThis.)
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    type Result = { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] };
    const { axe } = globalThis as unknown as { axe: { run(opts: object): Promise<Result> } };
    const r = await axe.run({ resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${name}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
}

describe('the IT dashboard', () => {
  it('refuses a wrong password on the login page', async () => {
    const page = await browser.newPage();
    await page.goto(collector.url);
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('wrong');
    await page.screenshot({ path: path.join(SHOTS, 'login.png') });
    // The audit can fail: a button without a name is a critical violation.
    await page.evaluate("document.body.append(Object.assign(document.createElement('button'), { id: 'axe-canary' }))");
    await expect(accessible(page, 'canary')).rejects.toThrow(/button-name/);
    await page.evaluate("document.getElementById('axe-canary').remove()");
    await accessible(page, 'login');
    await page.close();
  });

  it('shows an alert live when a stick is plugged into a real agent, then acknowledges it and approves the device', async () => {
    const page = await logIn('admin');
    await page.screenshot({ path: path.join(SHOTS, 'alerts-empty.png') });
    await accessible(page, 'alerts');
    const fixture = await loadSysfsFixture('sandisk-stick.json');
    await addSysfsDevice(sysfs, fixture.devices.find((d) => d.attrs.idVendor === '0781')!);
    const row = alertRow(page, 'usb.unauthorised');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('usb:0781:');
    await page.screenshot({ path: path.join(SHOTS, 'alerts-live.png') });
    await accessible(page, 'alerts with a live alert');

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
    // One row per host rule (every rule but the fleet-wide licence.over_deployed): 7 with agent.cloned.
    expect(await page.locator('table[aria-label="Compliance by rule"] tbody tr').count()).toBe(7);
    await page.screenshot({ path: path.join(SHOTS, 'overview.png'), fullPage: true });
    await accessible(page, 'overview');

    await page.getByRole('link', { name: 'Hosts' }).click();
    const hostLink = page.locator('tbody a').first();
    await hostLink.waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'hosts.png') });
    await accessible(page, 'hosts');
    // Sorted on the server from the header buttons, the direction in aria-sort.
    const lastSeen = page.getByRole('button', { name: 'Last seen' });
    await lastSeen.click();
    await expect.poll(() => page.locator('th', { has: lastSeen }).getAttribute('aria-sort')).toBe('descending');
    await lastSeen.click();
    await expect.poll(() => page.locator('th', { has: lastSeen }).getAttribute('aria-sort')).toBe('ascending');
    expect(await page.locator('th', { has: page.getByRole('button', { name: 'Host' }) }).getAttribute('aria-sort')).toBeNull();
    await hostLink.waitFor();
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
    await accessible(page, 'host detail');
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
    await accessible(page, 'policy');
    await editor.fill('version: 1\nscreenlock: { maxIdleSeconds: 600 }\n');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 10_000 }).toMatch(/Policy version \d+ in force/);
    expect(await page.locator('#policy-problems').textContent()).toBe('');
    const current = (await api(collector.url, '/api/v1/policy')).body as { document: string; createdBy: string };
    expect(current).toMatchObject({ document: 'version: 1\nscreenlock: { maxIdleSeconds: 600 }\n', createdBy: 'user:admin' });
    await page.close();
  });

  it('lists this machine\'s real software, and an admin edits the catalogue from the page', async () => {
    const page = await logIn('admin');
    await page.getByRole('link', { name: 'Software' }).click();
    const rows = page.locator('table[aria-label="Software"] tbody tr');
    await rows.first().waitFor();
    // One host: every installed row has 1 install (several for a name with several architectures).
    expect(await rows.count()).toBeGreaterThan(10);
    expect(await rows.first().locator('td').nth(2).textContent()).toMatch(/^[1-9]/);
    await accessible(page, 'software');

    // Search and filter on the server.
    await page.getByLabel('Search').fill('libc6');
    await expect.poll(() => rows.first().textContent()).toContain('dpkg:libc6');
    expect(await rows.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('OS vendor default')]));
    await page.getByLabel('Search').fill('');
    await page.locator('select[name="status"]').selectOption('unapproved');
    await expect.poll(async () => new Set(await rows.locator('td:nth-child(2)').allTextContents())).toEqual(new Set(['unapproved']));
    await page.locator('select[name="status"]').selectOption('');

    // Keyboard: Tab reaches the sort buttons in order, Enter sorts, and focus is visible.
    await page.locator('select[name="status"]').focus();
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Title');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).not.toBe('none');
    await page.keyboard.press('Enter');
    const titleHeader = page.locator('th', { has: page.getByRole('button', { name: 'Title' }) });
    await expect.poll(() => titleHeader.getAttribute('aria-sort')).toBe('ascending');
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Installs');

    // A bad title is refused by the policy schema, its problems shown by the fields.
    await page.getByLabel('Title', { exact: true }).fill('GNU C library');
    await page.getByLabel('Match name').fill('   ');
    await page.getByLabel('Catalogue status').selectOption('licensed');
    await page.getByRole('button', { name: 'Add title' }).click();
    await expect.poll(() => page.locator('#catalogue-problems').textContent(), { timeout: 10_000 }).toContain('problem');
    expect(await page.locator('#catalogue-name-error').textContent()).toContain('must not be empty');
    expect(await page.locator('#catalogue-seats-error').textContent()).toContain('needs seats');
    expect(await page.getByLabel('Match name').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: path.join(SHOTS, 'software-invalid.png'), fullPage: true });

    // A licensed title with fewer seats than installs: over-deployed, highlighted.
    await page.getByLabel('Match name').fill('libc6*');
    await page.getByRole('checkbox', { name: 'dpkg', exact: true }).check();
    await page.getByLabel('Seats (licensed only)').fill('0');
    await page.getByRole('button', { name: 'Add title' }).click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 10_000 }).toMatch(/policy version \d+ in force/);
    expect(await page.locator('#catalogue-problems').textContent()).toBe('');
    await page.getByLabel('Search').fill('GNU C');
    const over = page.locator('tr.over', { hasText: 'GNU C library' });
    await over.waitFor({ timeout: 15_000 });
    expect(await over.textContent()).toMatch(/1 host for 0 seats · over-deployed by 1/);
    expect(await over.textContent()).toContain('licensed');
    const current = (await api(collector.url, '/api/v1/policy')).body as { document: string; createdBy: string };
    expect(current.createdBy).toBe('user:admin');
    expect(current.document).toContain('GNU C library');
    await page.getByRole('button', { name: 'Hosts with GNU C library' }).click();
    await page.locator('#software-hosts a').first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'software.png'), fullPage: true });
    await accessible(page, 'software with the form in use');
    await page.close();
  });

  it('lets an analyst triage, and an auditor only look (in the page and in the API)', async () => {
    const analyst = await logIn('ann');
    await analyst.locator('select[name="status"]').selectOption('');
    await analyst.locator('tbody tr').first().waitFor();
    expect(await analyst.getByRole('button', { name: 'Resolve' }).count()).toBeGreaterThan(0);
    // Policy is the admin's.
    expect(await analyst.getByRole('link', { name: 'Policy' }).count()).toBe(0);
    await analyst.getByRole('link', { name: 'Software' }).click();
    await analyst.locator('table[aria-label="Software"] tbody tr').first().waitFor();
    expect(await analyst.getByRole('button', { name: /^(Edit|Remove|Catalogue) / }).count()).toBe(0);
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

    // The Software page: no edit controls, and the API refuses a catalogue change.
    await auditor.getByRole('link', { name: 'Software' }).click();
    await auditor.locator('table[aria-label="Software"] tbody tr').first().waitFor();
    expect(await auditor.getByRole('button', { name: /^(Edit|Remove|Catalogue) |Add title/ }).count()).toBe(0);
    expect(await auditor.locator('form.catalogue').count()).toBe(0);
    const refused = await auditor.evaluate(async () => {
      const session = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
      const headers = { 'content-type': 'application/json', 'x-vigil-csrf': session.csrfToken };
      const title = { title: 'Zoom', match: { name: 'zoom' }, status: 'approved' };
      const add = await fetch('/api/v1/software/catalogue', { method: 'POST', headers, body: JSON.stringify({ title }) });
      const del = await fetch('/api/v1/software/catalogue/GNU%20C%20library', { method: 'DELETE', headers: { 'x-vigil-csrf': session.csrfToken } });
      return [add.status, del.status];
    });
    expect(refused).toEqual([403, 403]);
    await accessible(auditor, 'software (auditor)');
    await auditor.close();
  });
});
