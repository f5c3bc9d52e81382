// Child process for the watcher's shutdown test: starts the compiled UsbWatcher with the real
// usb-detection (when it loads) on the real /sys, stops it, and then must exit by itself.
// argv[2]: URL of the compiled probes/usb/index.js.
const { UsbWatcher } = await import(process.argv[2]);

const messages = [];
const log = { debug() {}, info: (_o, m) => messages.push(m), warn: (_o, m) => messages.push(m ?? String(_o)) };
const src = { platform: 'linux', sysfsRoot: '/sys', dpkgStatus: '', fsRoot: '/', runner: { run: async () => ({ stdout: '', stderr: '', code: 0 }) }, log };

const watcher = new UsbWatcher(src, { intervalMs: 200, onAttached() {}, onDetached() {} });
await watcher.start([]);
await new Promise((r) => setTimeout(r, 500));
await watcher.stop();
const hotplug = !messages.some((m) => /usb-detection/.test(m));
process.stdout.write(`${JSON.stringify({ stopped: true, hotplug })}\n`);
// No process.exit(): the test checks that nothing keeps the event loop alive.
