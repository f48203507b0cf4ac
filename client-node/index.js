'use strict';
/**
 * synod-api: Synod's gRPC contract for Node.js, loaded with @grpc/proto-loader for @grpc/grpc-js.
 *
 *   const { loadSynod } = require('synod-api');
 *   const synod = loadSynod();
 *   const client = new synod.Synod('127.0.0.1:7070', grpc.credentials.createInsecure());
 *
 * TypeScript: index.d.ts types loadSynod() with the types generated into types/ (build.js).
 */
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

/**
 * The options the types are generated with. 64-bit ids, secrets and zxids stay strings
 * (JavaScript numbers would lose precision); enums read as names; each oneof names its member.
 */
const LOADER_OPTIONS = Object.freeze({ longs: String, enums: String, defaults: true, oneofs: true });

/** The packed copy of the proto, or the repository's when running from a checkout. */
const PROTO_ROOT = fs.existsSync(path.join(__dirname, 'proto', 'synod', 'v1', 'synod.proto'))
  ? path.join(__dirname, 'proto')
  : path.join(__dirname, '..', 'proto', 'src', 'main', 'proto');

/** The synod.v1 package: the Synod service constructor and the message types. */
function loadSynod() {
  const definition = protoLoader.loadSync('synod/v1/synod.proto', { includeDirs: [PROTO_ROOT], ...LOADER_OPTIONS });
  return grpc.loadPackageDefinition(definition).synod.v1;
}

module.exports = { loadSynod, LOADER_OPTIONS, PROTO_ROOT };
