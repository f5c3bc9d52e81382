import type { UsbDevice } from '@vigil/shared/agent';
import { isUnknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { loadUsbDetection, type HotplugDevice, type HotplugSource } from './hotplug.js';
import { SysfsUsbScanner } from './linux.js';
import { readUsbDevices } from './read-usb-devices.js';
import { deviceIdentity, toUsbDevice } from './usb-device.js';

export interface UsbWatcherOptions {
  /** Poll period for sysfs, in ms: default and maximum 1000, so a device present 3 s is always seen. */
  intervalMs?: number;
  onAttached(device: UsbDevice): void;
  onDetached(device: UsbDevice): void;
  /** Use usb-detection events to re-read at once (default true; only with the real `/sys` on Linux). */
  hotplug?: boolean;
  /** Where hotplug events come from; tests inject their own. Defaults to loading usb-detection. */
  loadHotplug?: (log: ProbeSources['log']) => Promise<HotplugSource | undefined>;
}

/** Safety-net re-read on Windows and macOS while hotplug events drive the reads (each one runs a command). */
export const SAFETY_POLL_MS = 60_000;
/** Without hotplug events, how often the command is run: PowerShell is costly, ioreg is cheap. */
export const COMMAND_POLL_MS: Partial<Record<NodeJS.Platform, number>> = { win32: 10_000, darwin: 2_000 };
/** After an add event, the read that confirms the OS lists the device comes this soon. */
const CONFIRM_MS = 1_000;
/** Hotplug announcements awaiting confirmation that are kept at most. */
const MAX_ANNOUNCED = 100;

const sameClasses = (a: UsbDevice, b: UsbDevice): boolean => a.interfaceClasses.join() === b.interfaceClasses.join();

/**
 * Watches the USB devices and reports each attach and detach once. It re-reads the devices on
 * a timer and on hotplug events and diffs the sets by bus path and key; a device whose
 * interface classes change in place is reported as detached and attached again, so the
 * collector always judges the device as it now is. A device that a hotplug event announced but
 * that was gone before two reads could list it is still reported, from the event's data.
 */
export class UsbWatcher {
  private known = new Map<string, UsbDevice>();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private confirmTimer: NodeJS.Timeout | undefined;
  private hot: HotplugSource | undefined;
  private scanner: SysfsUsbScanner | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private announced: Array<{ device: HotplugDevice; reads: number }> = [];
  private loggedUnknown = '';

  constructor(
    private readonly src: ProbeSources,
    private readonly opts: UsbWatcherOptions,
  ) {}

  /** Starts watching from `initial` (the devices already reported in the snapshot). */
  async start(initial: UsbDevice[]): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.known = new Map(initial.map((d) => [deviceIdentity(d), d]));
    if (this.src.platform === 'linux') this.scanner = new SysfsUsbScanner(this.src.sysfsRoot);
    const hotplugAllowed = this.opts.hotplug !== false && (this.src.platform !== 'linux' || this.src.sysfsRoot === '/sys');
    if (hotplugAllowed) {
      const hot = await (this.opts.loadHotplug ?? loadUsbDetection)(this.src.log);
      if (hot && this.running) {
        this.hot = hot;
        hot.start((kind, device) => this.onHotplug(kind, device));
      }
    }
    if (!this.running) return;
    void this.refresh();
    this.schedule();
  }

  /** Stops timers and hotplug monitoring; nothing is reported after this resolves. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.confirmTimer);
    this.timer = this.confirmTimer = undefined;
    const hot = this.hot;
    this.hot = undefined;
    hot?.stop();
  }

  private get pollMs(): number {
    if (this.scanner) return Math.max(50, Math.min(this.opts.intervalMs ?? 1000, 1000));
    if (this.hot) return SAFETY_POLL_MS;
    return Math.max(this.opts.intervalMs ?? 1000, COMMAND_POLL_MS[this.src.platform] ?? SAFETY_POLL_MS);
  }

  /** A plain (not unref'd) timer: the agent must keep running; stop() clears it. */
  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, this.pollMs);
  }

  private onHotplug(kind: 'add' | 'remove', device: HotplugDevice): void {
    if (!this.running) return;
    // Bounded: a flood of events while the devices cannot be read must not grow memory.
    if (kind === 'add') this.announced = [...this.announced, { device, reads: 0 }].slice(-MAX_ANNOUNCED);
    void this.refresh();
  }

  /** Runs one read now, or one more right after the read in progress. */
  private refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again && this.running);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    let outcome: ProbeOutcome<UsbDevice>;
    try {
      outcome = this.scanner ? await this.scanner.scan() : await readUsbDevices(this.src);
    } catch (err) {
      this.src.log.warn({ err: (err as Error).message }, 'USB read failed');
      return;
    }
    if (!this.running) return;
    if (isUnknown(outcome)) {
      // The devices are not readable now: keep what we knew, say so once per reason.
      if (outcome.reason !== this.loggedUnknown) this.src.log.debug({ reason: outcome.reason }, 'USB devices unknown');
      this.loggedUnknown = outcome.reason;
      return;
    }
    this.loggedUnknown = '';
    const current = new Map(outcome.map((d) => [deviceIdentity(d), d]));
    const detached: UsbDevice[] = [];
    const attached: UsbDevice[] = [];
    for (const [id, d] of this.known) if (!current.has(id)) detached.push(d);
    for (const [id, d] of current) {
      const before = this.known.get(id);
      if (!before) {
        attached.push(d);
      } else if (!sameClasses(before, d)) {
        detached.push(before);
        attached.push(d);
      }
    }
    this.known = current;
    const missed = this.settleAnnounced(outcome);
    for (const d of detached) this.emit('onDetached', d);
    for (const d of attached) this.emit('onAttached', d);
    for (const d of missed) {
      this.emit('onAttached', d);
      this.emit('onDetached', d);
    }
  }

  /**
   * Devices announced by hotplug that two reads have not listed: they came and went between
   * reads. They are returned (built from the event) so that they are reported all the same.
   */
  private settleAnnounced(listed: UsbDevice[]): UsbDevice[] {
    const missed: UsbDevice[] = [];
    const seen = (h: HotplugDevice) =>
      listed.some((d) => parseInt(d.vendorId, 16) === h.vendorId && parseInt(d.productId, 16) === h.productId);
    this.announced = this.announced.filter((a) => {
      if (seen(a.device)) return false;
      if (++a.reads < 2) return true;
      const d = toUsbDevice({
        vendorId: a.device.vendorId,
        productId: a.device.productId,
        serial: a.device.serialNumber,
        manufacturer: a.device.manufacturer,
        product: a.device.deviceName,
        interfaceClasses: [],
        busPath: `hotplug:${a.device.locationId ?? 'unknown'}`,
        removable: 'unknown',
        isRootHub: false,
      });
      if (d) missed.push(d);
      return false;
    });
    if (this.announced.length > 0 && this.running) {
      clearTimeout(this.confirmTimer);
      this.confirmTimer = setTimeout(() => void this.refresh(), CONFIRM_MS);
    }
    return missed;
  }

  private emit(kind: 'onAttached' | 'onDetached', device: UsbDevice): void {
    try {
      this.opts[kind](device);
    } catch (err) {
      this.src.log.warn({ err: (err as Error).message, key: device.key }, 'USB event handler failed');
    }
  }
}
