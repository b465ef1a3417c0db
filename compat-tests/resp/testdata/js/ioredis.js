// ioredis.js drives gpucache with ioredis, the most used Redis client for
// Node.js: its ready check (INFO, waiting while `loading:1`), strings and
// buffers, a pipeline of many commands, auto-pipelining, counters, TTLs,
// MSET/MGET, SCAN as a stream, error replies surfaced as ReplyError, and a
// reconnect after the connection drops.
//
// Environment: GPUCACHE_HOST, GPUCACHE_PORT, GPUCACHE_PASSWORD (optional).
// Prints one JSON line: the steps done and what the keys it leaves hold.
'use strict';
const Redis = require('ioredis');
const { env, fail, data, sha256, run } = require('./lib');

const MiB = 1 << 20;

async function main() {
  const steps = [];
  const opts = {
    host: env('GPUCACHE_HOST'),
    port: Number(env('GPUCACHE_PORT')),
    password: process.env.GPUCACHE_PASSWORD || undefined,
    enableReadyCheck: true,
    maxRetriesPerRequest: 2,
    lazyConnect: true,
  };
  const r = new Redis(opts);
  try {
    await r.connect(); // resolves after the ready check (INFO) passed
    if (r.status !== 'ready') fail('connect', `status ${r.status}`);
    steps.push('ready-check');

    if (await r.set('io:str', 'héllo wörld') !== 'OK') fail('set', 'SET');
    if (await r.get('io:str') !== 'héllo wörld') fail('get', 'GET of a UTF-8 string');
    const big = data(16 * MiB, 5);
    await r.set('io:big', big);
    const back = await r.getBuffer('io:big');
    if (!back.equals(big)) fail('getBuffer', `${back.length} bytes`);
    if (await r.strlen('io:big') !== big.length) fail('strlen', 'STRLEN');
    steps.push('strings');

    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.set(`io:p:${i}`, `v${i}`);
    for (let i = 0; i < 500; i++) p.get(`io:p:${i}`);
    p.incrby('io:ctr', 7).incr('io:ctr').expire('io:ctr', 100).ttl('io:ctr');
    const res = await p.exec();
    for (let i = 0; i < 500; i++) {
      if (res[i][0] || res[i][1] !== 'OK') fail('pipeline', `SET ${i}: ${res[i]}`);
      if (res[500 + i][1] !== `v${i}`) fail('pipeline', `GET ${i}: ${res[500 + i]}`);
    }
    const [incrby, incr, expire, ttl] = res.slice(1000).map((x) => x[1]);
    if (incrby !== 7 || incr !== 8 || expire !== 1 || !(ttl > 0 && ttl <= 100)) fail('pipeline', `counter ${incrby} ${incr} ${expire} ${ttl}`);
    steps.push('pipeline');

    // Auto-pipelining: concurrent calls share writes.
    const ap = new Redis({ ...opts, enableAutoPipelining: true, lazyConnect: false });
    try {
      const vals = await Promise.all(Array.from({ length: 200 }, (_, i) => ap.get(`io:p:${i}`)));
      vals.forEach((v, i) => { if (v !== `v${i}`) fail('auto-pipeline', `GET ${i}: ${v}`); });
    } finally {
      ap.disconnect();
    }
    steps.push('auto-pipeline');

    if (await r.mset({ 'io:m1': 'a', 'io:m2': Buffer.from([0, 1, 2, 255]) }) !== 'OK') fail('mset', 'MSET');
    const m = await r.mgetBuffer('io:m1', 'io:m2', 'io:missing');
    if (m[0].toString() !== 'a' || !m[1].equals(Buffer.from([0, 1, 2, 255])) || m[2] !== null) fail('mget', JSON.stringify(m));
    steps.push('mset-mget');

    const seen = new Set();
    await new Promise((resolve, reject) => {
      const s = r.scanStream({ match: 'io:p:*', count: 100 });
      s.on('data', (keys) => keys.forEach((k) => seen.add(k)));
      s.on('end', resolve);
      s.on('error', reject);
    });
    if (seen.size !== 500) fail('scan', `${seen.size} keys, want 500`);
    steps.push('scan-stream');

    try {
      await r.call('INCR', 'io:str');
      fail('reply-error', 'INCR of a string succeeded');
    } catch (e) {
      if (!(e instanceof Redis.ReplyError) || !/not an integer/.test(e.message)) throw e;
    }
    steps.push('reply-error');

    // The server drops the connection (CLIENT KILL of itself): ioredis
    // reconnects and the next command works.
    const id = await r.client('ID');
    await r.client('KILL', 'ID', String(id)).catch(() => {});
    if (await r.get('io:m1') !== 'a') fail('reconnect', 'GET after reconnect');
    steps.push('reconnect');

    if (await r.del(...Array.from({ length: 500 }, (_, i) => `io:p:${i}`)) !== 500) fail('del', 'DEL of 500 keys');
    steps.push('del');

    return { steps, keys: { 'io:big': sha256(big), 'io:str': sha256(Buffer.from('héllo wörld')) } };
  } finally {
    r.disconnect();
  }
}

run('ioredis.js', main);
