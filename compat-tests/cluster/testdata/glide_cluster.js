// glide_cluster.js drives a gpucache cluster with valkey-glide's
// GlideClusterClient, as LMCache's valkey adapters do in cluster mode: one
// seed address, a 5 s request timeout, SET and GET of keys spread over
// all slots, EXISTS, and MGET inside one slot (a hash tag).
//
// Environment: GPUCACHE_HOST, GPUCACHE_PORT (one node; the client learns
// the others from CLUSTER SLOTS). Prints one JSON line.
'use strict';
const { GlideClusterClient } = require('@valkey/valkey-glide');
const { env, fail, run } = require('../../resp/testdata/js/lib');

async function main() {
  const c = await GlideClusterClient.createClient({
    addresses: [{ host: env('GPUCACHE_HOST'), port: Number(env('GPUCACHE_PORT')) }],
    requestTimeout: 5000,
    clientName: 'lmcache-valkey-adapter',
  });
  try {
    const n = 200;
    for (let i = 0; i < n; i++) {
      const r = await c.set(`team1@model@${i.toString(16)}`, `v${i}`);
      if (r !== 'OK') fail('set', `SET ${i}: ${r}`);
    }
    let keys = 0;
    for (let i = 0; i < n; i++) {
      const v = await c.get(`team1@model@${i.toString(16)}`);
      if (v !== `v${i}`) fail('get', `GET ${i}: ${v}`);
      if (await c.exists([`team1@model@${i.toString(16)}`]) !== 1) fail('exists', `EXISTS ${i}`);
      keys++;
    }
    await c.mset({ '{chunk}:metadata': 'm', '{chunk}:kv_bytes': 'kv' });
    const got = await c.mget(['{chunk}:metadata', '{chunk}:kv_bytes']);
    if (got[0] !== 'm' || got[1] !== 'kv') fail('mget', JSON.stringify(got));
    const slots = await c.customCommand(['CLUSTER', 'SLOTS']);
    return { keys, slots: slots.map((s) => `${s[0]}-${s[1]}`) };
  } finally {
    c.close();
  }
}

run('glide_cluster.js', main);
