// glide.js drives gpucache with valkey-glide (@valkey/valkey-glide), the
// Rust client core that LMCache's valkey L2 adapters use, in the shape
// those adapters use it: a key prefix, a 5 s request timeout, SET with and
// without EX, GET into byte buffers, EXISTS, DEL, the older connector's
// non-atomic two-SET batch and MGET, and INFO memory, whose used_memory and
// maxmemory the adapter reads to see how full the store is.
//
// Environment: GPUCACHE_HOST, GPUCACHE_PORT, GPUCACHE_PASSWORD (optional).
// Prints one JSON line: the steps done, what the keys it leaves hold (for
// the Go side to read back), and the INFO memory figures.
'use strict';
const { GlideClient, Batch, Decoder, InfoOptions, TimeUnit } = require('@valkey/valkey-glide');
const { env, fail, data, sha256, infoFields, run } = require('./lib');

// The adapter joins its key_prefix to each key with '@'; keys are
// <model>@<kv rank %08x>@<object group id hex>@<chunk hash hex>.
const prefix = 'team1@';
const MiB = 1 << 20;
// The older valkey:// connector's key, before ':metadata' / ':kv_bytes'.
const oldKey = 'vllm@Qwen/Qwen3-8B@1@0@6c9faa6ae5af1bdf@bfloat16';

async function main() {
  const steps = [];
  const config = {
    addresses: [{ host: env('GPUCACHE_HOST'), port: Number(env('GPUCACHE_PORT')) }],
    requestTimeout: 5000,
    clientName: 'lmcache-valkey-adapter',
  };
  if (process.env.GPUCACHE_PASSWORD) config.credentials = { password: process.env.GPUCACHE_PASSWORD };
  const c = await GlideClient.createClient(config);
  const bytes = { decoder: Decoder.Bytes };
  try {
    // A 32 MiB chunk (LMCache's default) and a 7,340,200-byte partial one.
    const chunks = [[prefix + 'Qwen3-8B@00000000@0@6c9faa6ae5af1bdf', data(32 * MiB, 1)], [prefix + 'Qwen3-8B@00000000@0@6c9faa6ae5af1be0', data(7340200, 2)]];
    for (const [k, v] of chunks) {
      const r = await c.set(k, v);
      if (r !== 'OK') fail('set', `SET ${k}: ${r}`);
    }
    for (const [k, v] of chunks) {
      const got = await c.get(k, bytes);
      if (!Buffer.isBuffer(got) || !got.equals(v)) fail('get', `GET ${k}: ${got && got.length} bytes, want ${v.length}`);
    }
    steps.push('set-get-32MiB');

    const ttlKey = prefix + 'Qwen3-8B@00000001@0@6c9faa6ae5af1bdf';
    if (await c.set(ttlKey, data(4 * MiB, 3), { expiry: { type: TimeUnit.Seconds, count: 600 } }) !== 'OK') fail('set-ex', 'SET EX');
    const ttl = await c.ttl(ttlKey);
    if (ttl <= 0 || ttl > 600) fail('set-ex', `TTL ${ttl}`);
    steps.push('set-ex');

    if (await c.exists([chunks[0][0]]) !== 1) fail('exists', 'EXISTS of a stored key');
    if (await c.exists([prefix + 'missing']) !== 0) fail('exists', 'EXISTS of a missing key');
    if (await c.exists([chunks[0][0], chunks[1][0], prefix + 'missing']) !== 2) fail('exists', 'multi-key EXISTS');
    if (await c.get(prefix + 'missing', bytes) !== null) fail('get-missing', 'GET of a missing key is not null');
    steps.push('exists');

    // The older valkey connector: key:metadata / key:kv_bytes written by a
    // non-atomic batch, read with one MGET.
    const meta = Buffer.alloc(28);
    [4096, 1, 3, 2, 32, 256, 1024].forEach((v, i) => meta.writeInt32LE(v, i * 4));
    const kv = data(2 * MiB, 4);
    const b = new Batch(false);
    b.set(oldKey + ':metadata', meta).set(oldKey + ':kv_bytes', kv);
    const res = await c.exec(b, true);
    if (!res || res.length !== 2 || res[0] !== 'OK' || res[1] !== 'OK') fail('batch', JSON.stringify(res));
    const got = await c.mget([oldKey + ':metadata', oldKey + ':kv_bytes', prefix + 'missing'], bytes);
    if (!got[0].equals(meta) || !got[1].equals(kv) || got[2] !== null) fail('mget', 'MGET [meta, kv, missing]');
    steps.push('batch-mget');

    const info = infoFields(await c.info([InfoOptions.Memory]));
    for (const f of ['used_memory', 'maxmemory']) {
      if (!/^\d+$/.test(info[f] || '')) fail('info-memory', `${f}: ${info[f]}`);
    }
    steps.push('info-memory');

    // Eviction by the adapter's own capacity account: DEL.
    if (await c.del([oldKey + ':metadata', oldKey + ':kv_bytes', prefix + 'missing']) !== 2) fail('del', 'DEL count');
    if (await c.exists([oldKey + ':kv_bytes']) !== 0) fail('del', 'a deleted key exists');
    steps.push('del');

    return {
      steps,
      keys: Object.fromEntries(chunks.map(([k, v]) => [k, sha256(v)])),
      usedMemory: Number(info.used_memory),
      maxMemory: Number(info.maxmemory),
    };
  } finally {
    c.close();
  }
}

run('glide.js', main);
