'use strict';
/**
 * Synod from Node.js: an ephemeral node lives exactly as long as the session that created it.
 *
 * Loads synod.proto at run time through this package's index.js, opens a session on the bidirectional
 * Session stream, creates an ephemeral node through it, watches the node with a Watch server
 * stream, closes the session and waits for the node-deleted event, then checks with a unary
 * Exists that the node is gone.
 *
 * Usage: node example.js HOST:PORT [NODE_PATH] [--timeout SECONDS]
 *
 * Exits 0 only if all of that happened, 1 if anything failed, 2 on bad usage; it never runs
 * longer than the timeout.
 */
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
// This package's own entry point, as a user's code would require('synod-api'): it loads
// synod.proto with the options its TypeScript types are generated with (64-bit ids and zxids as
// strings, enums as names, each oneof naming its member).
const { loadSynod } = require('./index.js');

const SESSION_TIMEOUT_MS = 10000;

class ExampleError extends Error {}

/** Turns a readable gRPC stream into "wait for the next message" with a deadline. */
class MessageReader {
  constructor(stream, name) {
    this.name = name;
    this.buffered = [];
    this.waiting = null;
    this.failure = null;
    this.done = false;
    stream.on('data', (message) => this.push(message));
    stream.on('error', (error) => this.fail(error));
    stream.on('end', () => this.fail(null));
  }

  push(message) {
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(message);
    } else {
      this.buffered.push(message);
    }
  }

  fail(error) {
    this.done = true;
    this.failure = error;
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(error || new ExampleError(`the ${this.name} stream ended`));
    }
  }

  next() {
    if (this.buffered.length > 0) {
      return Promise.resolve(this.buffered.shift());
    }
    if (this.done) {
      return Promise.reject(this.failure || new ExampleError(`the ${this.name} stream ended`));
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }
}

/** One Session stream: writes client messages, reads server messages in order. */
class SessionStream {
  constructor(client, deadline) {
    this.call = client.Session({ deadline });
    this.reader = new MessageReader(this.call, 'session');
    this.ended = false;
  }

  send(message) {
    this.call.write(message);
  }

  /** The next server message, which must be of the given kind (opened, response, ended...). */
  async receive(kind) {
    const message = await this.reader.next();
    if (message.kind === 'ended') {
      this.ended = true;
    }
    if (message.kind !== kind) {
      throw new ExampleError(`expected '${kind}' on the session stream, got '${message.kind}': `
        + JSON.stringify(message[message.kind]));
    }
    return message[kind];
  }

  /** Sends one request and returns its response; a failed request throws with its reason. */
  async request(requestNo, what, op) {
    this.send({ request: { requestNo, ...op } });
    const response = await this.receive('response');
    if (response.requestNo !== String(requestNo)) {
      throw new ExampleError(`response to request ${response.requestNo}, expected ${requestNo}`);
    }
    if (response.error) {
      throw new ExampleError(`${what} failed: ${response.error.reason}: ${response.error.message}`);
    }
    return response;
  }

  finish() {
    this.call.end();
  }
}

/** Promise form of a unary call. */
function unary(client, method, request, deadline) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** The next event of the Watch stream, which must be about the given path. */
async function nextEvent(events, nodePath) {
  const event = await events.next();
  console.log(`event ${event.type} ${event.path} (zxid ${event.zxid})`);
  if (event.type === 'RESYNC_NEEDED') {
    throw new ExampleError('the server no longer holds the history this watch asked to replay');
  }
  if (event.path !== nodePath) {
    throw new ExampleError(`event for ${event.path}, expected ${nodePath}`);
  }
  return event;
}

/** Creates the ephemeral node, watches it, closes the session, waits for the deletion. */
async function watchUntilGone(client, session, nodePath, deadline) {
  const created = (await session.request(1, `create ${nodePath}`, {
    create: { path: nodePath, data: Buffer.from('hello from node'), kind: 'EPHEMERAL' },
  })).create;
  console.log(`created ephemeral ${created.path} (zxid ${created.stat.czxid}, `
    + `owner session ${created.stat.ephemeralOwner})`);

  // Watching from the zxid just before the create replays the creation, then streams live:
  // no event can be missed, however long the watch takes to be registered.
  const startZxid = (BigInt(created.stat.czxid) - 1n).toString();
  const watch = client.Watch({ path: nodePath, kind: 'WATCH_PERSISTENT', startZxid }, { deadline });
  const events = new MessageReader(watch, 'watch');
  console.log(`watching ${nodePath} from zxid ${startZxid}`);
  try {
    if ((await nextEvent(events, nodePath)).type !== 'NODE_CREATED') {
      throw new ExampleError('the first event was not the creation');
    }

    session.send({ close: {} });
    const ended = await session.receive('ended');
    session.finish();
    console.log(`session ended: ${ended.reason} (zxid ${ended.zxid})`);

    if ((await nextEvent(events, nodePath)).type !== 'NODE_DELETED') {
      throw new ExampleError('the event after the close was not the deletion');
    }
  } finally {
    watch.cancel();
  }
}

/** Plaintext, or TLS when given a CA bundle (and mutual TLS with a client certificate). */
function credentials(tls) {
  if (!tls.ca) {
    return grpc.credentials.createInsecure();
  }
  const read = (file) => (file ? fs.readFileSync(file) : null);
  return grpc.credentials.createSsl(read(tls.ca), read(tls.key), read(tls.cert));
}

async function run(synod, target, nodePath, deadline, tls = {}) {
  const client = new synod.Synod(target, credentials(tls));
  try {
    await new Promise((resolve, reject) => client.waitForReady(deadline, (error) => (error
      ? reject(new ExampleError(`cannot reach a Synod server at ${target}`)) : resolve())));
    console.log(`connected to ${target}`);

    const session = new SessionStream(client, deadline);
    session.send({ open: { timeoutMs: SESSION_TIMEOUT_MS } });
    const opened = await session.receive('opened');
    console.log(`session opened: id=${opened.sessionId} timeout_ms=${opened.timeoutMs}`);
    try {
      await watchUntilGone(client, session, nodePath, deadline);
    } finally {
      if (!session.ended) {
        // Best effort, so that a failed run does not leave its session to expire.
        session.finish();
        await unary(client, 'CloseSession', { sessionId: opened.sessionId, secret: opened.secret },
          Date.now() + 2000).catch(() => {});
      }
    }

    const exists = await unary(client, 'Exists', { path: nodePath }, deadline);
    console.log(`exists ${nodePath}: ${exists.exists}`);
    if (exists.exists) {
      throw new ExampleError(`${nodePath} still exists after its session closed`);
    }
    console.log('OK: the ephemeral node disappeared when its session closed');
  } finally {
    client.close();
  }
}

/** A gRPC failure as one line, with Synod's machine-readable reason when the server sent one. */
function describe(error) {
  if (error instanceof ExampleError || typeof error.code !== 'number') {
    return error.message;
  }
  const reason = error.metadata ? error.metadata.get('synod-error-reason') : [];
  return `${grpc.status[error.code]}: ${error.details}` + (reason.length ? ` (reason ${reason[0]})` : '');
}

function parseArgs(argv) {
  const positional = [];
  let timeoutS = 20;
  const tls = {};
  const tlsFlags = { '--tls-ca': 'ca', '--tls-cert': 'cert', '--tls-key': 'key' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    if (flag === '--timeout') {
      timeoutS = Number(inline !== undefined ? inline : argv[++i]);
    } else if (flag in tlsFlags) {
      tls[tlsFlags[flag]] = inline !== undefined ? inline : argv[++i];
    } else {
      positional.push(argv[i]);
    }
  }
  if (positional.length < 1 || positional.length > 2 || !(timeoutS > 0)
      || !tls.cert !== !tls.key || (tls.cert && !tls.ca)) {
    return null;
  }
  return { target: positional[0], nodePath: positional[1] || `/synod-example-node-${process.pid}`, timeoutS, tls };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    console.error('usage: node example.js HOST:PORT [NODE_PATH] [--timeout SECONDS]'
      + ' [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]');
    return 2;
  }
  // The calls carry deadlines; this is the backstop that makes sure the process never hangs.
  const watchdog = setTimeout(() => {
    console.error(`FAIL: still running after ${args.timeoutS + 5}s`);
    process.exit(1);
  }, (args.timeoutS + 5) * 1000);
  watchdog.unref();
  try {
    await run(loadSynod(), args.target, args.nodePath, Date.now() + args.timeoutS * 1000, args.tls);
    return 0;
  } catch (error) {
    console.error(`FAIL: ${describe(error)}`);
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
