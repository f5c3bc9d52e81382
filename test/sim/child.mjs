// The simulator as a child process driven over IPC (`child_process.fork`), for benchmarks that
// want the fleet on its own event loop and its own CPU and memory accounting:
//   → {id, cmd: 'start', options}        ← {id, ok, result: <ready summary>}
//   → {id, cmd: 'stats', gc?, resetWindow?} ← {id, ok, result: <stats>}
//   → {id, cmd: 'storm', timeoutMs?}     ← {id, ok, result: <storm result>}
//   → {id, cmd: 'stop'}                  ← {id, ok, result: <final stats>}, then exit
// A fatal error of the simulation is sent as {fatal: message}.
import { startSimulation } from './simulation.mjs';

if (!process.send) {
  process.stderr.write('test/sim/child.mjs is started by child_process.fork (see bench/fleet.mjs); use test/sim/main.mjs from a shell\n');
  process.exit(2);
}

let sim;
const reply = (id, p) =>
  p.then(
    (result) => process.send({ id, ok: true, result }),
    (err) => process.send({ id, ok: false, error: err.message }),
  );

process.on('message', (m) => {
  switch (m.cmd) {
    case 'start':
      reply(
        m.id,
        (async () => {
          sim = await startSimulation({ ...m.options, onProgress: m.options.progress ? (line) => process.stderr.write(`${line}\n`) : undefined });
          sim.failed.catch((err) => process.send({ fatal: err.message }));
          return sim.ready;
        })(),
      );
      break;
    case 'stats':
      if (m.gc) globalThis.gc?.();
      reply(m.id, Promise.resolve(sim.stats({ resetWindow: m.resetWindow === true })));
      break;
    case 'storm':
      reply(m.id, sim.stormReconnect({ timeoutMs: m.timeoutMs }));
      break;
    case 'stop':
      reply(m.id, sim ? sim.stop() : Promise.resolve(null)).then(() => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));
