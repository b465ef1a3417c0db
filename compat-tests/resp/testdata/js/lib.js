// lib.js holds what the client scripts here (glide.js, ioredis.js) share.
'use strict';
const crypto = require('crypto');

// env returns a required environment variable.
function env(name) {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} not set`);
  return v;
}

// fail ends the run at step, saying what differed from Redis.
function fail(step, msg) {
  throw new Error(`${step}: ${msg}`);
}

// data is n pseudo-random bytes, the same for the same seed.
function data(n, seed) {
  return crypto.createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16)).update(Buffer.alloc(n));
}

// sha256 is the hex SHA-256 of a buffer, for the Go side to compare.
function sha256(b) {
  return crypto.createHash('sha256').update(b).digest('hex');
}

// infoFields parses an INFO reply into name -> value.
function infoFields(text) {
  const f = {};
  for (const line of String(text).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) f[line.slice(0, i)] = line.slice(i + 1);
  }
  return f;
}

// run runs main, prints the result it resolves to as one JSON line and
// exits 0; a failure is printed and exits 1.
function run(script, main) {
  main().then((result) => {
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  }, (e) => {
    process.stderr.write(`${script}: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
}

module.exports = { env, fail, data, sha256, infoFields, run };
