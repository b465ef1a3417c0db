// lib.js holds what the client scripts here (crt.js, sdk.js) share.
'use strict';
const crypto = require('crypto');

// env returns a required environment variable.
function env(name) {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} not set`);
  return v;
}

// fail ends the run at step, saying what differed from S3.
function fail(step, msg) {
  throw new Error(`${step}: ${msg}`);
}

// data is n pseudo-random bytes, the same for the same seed.
function data(n, seed) {
  return crypto.createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16)).update(Buffer.alloc(n));
}

// run runs main, prints the result it resolves to as one JSON line and
// exits 0; a failure is printed (with the AWS SDK's response metadata,
// when the error carries it) and exits 1.
function run(script, main) {
  main().then((result) => {
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  }, (e) => {
    const meta = e && e.$metadata ? ' ' + JSON.stringify(e.$metadata) : '';
    process.stderr.write(`${script}: ${e && e.message ? e.message : e}${meta}\n`);
    process.exit(1);
  });
}

module.exports = { env, fail, data, run };
