// Summarizes a trace that test/driver.mjs recorded (stopTrace): the
// functions where each thread spent its CPU samples, self time, most first.
//
//	node test/profile.mjs trace.json [how many, default 25]
import { readFileSync } from 'node:fs';

const [path, top = '25'] = process.argv.slice(2);
const trace = JSON.parse(readFileSync(path, 'utf8'));
const events = Array.isArray(trace) ? trace : trace.traceEvents;
const threadNames = new Map();
for (const e of events) if (e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, e.args.name);

// A profile comes in chunks: nodes (id, callFrame, parent) and samples
// with the time since the previous one.
const profiles = new Map();
for (const e of events) {
  if (e.name !== 'Profile' && e.name !== 'ProfileChunk') continue;
  const key = `${e.pid}:${e.id}`;
  let p = profiles.get(key);
  if (!p) profiles.set(key, p = { thread: threadNames.get(`${e.pid}:${e.tid}`) || `${e.pid}:${e.tid}`, nodes: new Map(), self: new Map() });
  const data = e.args.data || {};
  for (const n of data.cpuProfile?.nodes || []) p.nodes.set(n.id, n.callFrame);
  const samples = data.cpuProfile?.samples || [];
  const deltas = data.timeDeltas || [];
  for (let i = 0; i < samples.length; i++) p.self.set(samples[i], (p.self.get(samples[i]) || 0) + (deltas[i] || 0));
}
for (const p of profiles.values()) {
  const byFunction = new Map();
  let total = 0;
  for (const [id, us] of p.self) {
    const f = p.nodes.get(id);
    if (!f) continue;
    const name = `${f.functionName || '(anonymous)'} ${(f.url || '').split('/').pop()}:${(f.lineNumber ?? -1) + 1}:${(f.columnNumber ?? -1) + 1}`;
    byFunction.set(name, (byFunction.get(name) || 0) + us);
    total += us;
  }
  if (total < 50_000) continue;
  console.log(`\n${p.thread}: ${(total / 1000).toFixed(0)} ms sampled`);
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    console.log(`${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
}
