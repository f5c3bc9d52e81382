// The simulator as a child process driven over IPC (`child_process.fork`): one shard of a fleet
// spread over several processes (shards.mjs), or the whole fleet on its own event loop with its
// own CPU and memory accounting (bench/fleet.mjs):
//   → {id, cmd: 'start', options}          ← {id, ok, result: <ready summary>}
//   → {id, cmd: 'stats', gc?, resetWindow?, raw?} ← {id, ok, result: <stats>}
//   → {id, cmd: 'storm', timeoutMs?, raw?}  ← {id, ok, result: <storm result>}
//   → {id, cmd: 'stop'}                    ← {id, ok, result: <final stats, raw>}, then exit
//   → {id, cmd: 'describe', options}       ← {id, ok, result: <describeFleet(options)>}, no collector
// A fatal error of the simulation is sent as {fatal: message}. With `options.sharedState`
// (an array of [fleet index, credentials] from the parent's state file), credentials are sent to
// the parent as {persist: [[index, credentials], …]} instead of written to a file here.
import { describeFleet } from './describe.mjs';
import { startSimulation } from './simulation.mjs';

if (!process.send) {
  process.stderr.write('test/sim/child.mjs is started by child_process.fork (see shards.mjs); use test/sim/main.mjs from a shell\n');
  process.exit(2);
}

let sim;
/** Sends the outcome of `p`; resolves once it has been handed to the IPC channel (so exiting then loses nothing). */
const reply = (id, p) =>
  p
    .then(
      (result) => ({ id, ok: true, result }),
      (err) => ({ id, ok: false, error: err.message }),
    )
    .then((msg) => new Promise((resolve) => process.send(msg, () => resolve())));

function start(options) {
  const { sharedState, progress, progressLabel, ...o } = options;
  if (sharedState) o.state = { saved: new Map(sharedState), save: (agents) => process.send({ persist: [...agents] }) };
  if (progress) o.onProgress = (line) => process.stderr.write(`${progressLabel ? line.replace(/^\[sim /, `[sim ${progressLabel} `) : line}\n`);
  return startSimulation(o);
}

process.on('message', (m) => {
  switch (m.cmd) {
    case 'start':
      reply(
        m.id,
        (async () => {
          sim = await start(m.options);
          sim.failed.catch((err) => process.send({ fatal: err.message }));
          return sim.ready;
        })(),
      );
      break;
    case 'stats':
      if (m.gc) globalThis.gc?.();
      reply(m.id, Promise.resolve(sim.stats({ resetWindow: m.resetWindow === true, raw: m.raw === true })));
      break;
    case 'storm':
      reply(m.id, sim.stormReconnect({ timeoutMs: m.timeoutMs, raw: m.raw === true }));
      break;
    case 'stop':
      reply(
        m.id,
        sim ? sim.stop({ raw: true }) : Promise.resolve(null),
      ).then(() => process.exit(0));
      break;
    case 'describe':
      reply(m.id, Promise.resolve().then(() => describeFleet(m.options))).then(() => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));
