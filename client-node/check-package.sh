#!/usr/bin/env bash
# Checks the synod-api npm package as a user gets it: packs it (npm pack runs build.js), installs
# the tarball into a fresh project, loads the contract from the installed copy, and type-checks a
# TypeScript client against the generated types with tsc --strict.
#
# Usage: client-node/check-package.sh
# Exits 0 when the package is sound, 1 when it is not, 77 (skipped) when node/npm are missing or
# the npm registry cannot be reached to install the dependencies.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
TYPESCRIPT_VERSION=5.9.3
TYPES_NODE_VERSION=20.9.5

skip() {
  echo "check-package: SKIP: $*" >&2
  exit 77
}
for tool in node npm; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$here"
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund >"$work/ci.log" 2>&1 || { cat "$work/ci.log" >&2; skip "npm ci failed (registry unreachable?)"; }
fi
# The last line names the tarball (prepack prints its own line first).
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "packed $tarball"
tar -tzf "$work/$tarball" >"$work/contents.txt"
for f in package/index.js package/index.d.ts package/proto/synod/v1/synod.proto package/types/synod.ts; do
  grep -qx "$f" "$work/contents.txt" || { echo "check-package: $f missing from $tarball" >&2; exit 1; }
done

mkdir "$work/user"
cd "$work/user"
npm init -y >/dev/null
npm install --no-audit --no-fund "$work/$tarball" "typescript@$TYPESCRIPT_VERSION" "@types/node@$TYPES_NODE_VERSION" \
  >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; skip "npm install failed (registry unreachable?)"; }

# The installed package loads its own copy of the proto (no checkout around it).
node -e '
  const { loadSynod, PROTO_ROOT } = require("synod-api");
  const synod = loadSynod();
  if (!PROTO_ROOT.includes("node_modules")) throw new Error("proto not loaded from the package: " + PROTO_ROOT);
  if (typeof synod.Synod !== "function") throw new Error("no Synod service stub");
  console.log("loaded synod.v1 from " + PROTO_ROOT);
'

cat > client.ts <<'TS'
import * as grpc from '@grpc/grpc-js';
import { loadSynod } from 'synod-api';
import type { ExistsRequest } from 'synod-api/types/synod/v1/ExistsRequest';
import type { ExistsResponse__Output } from 'synod-api/types/synod/v1/ExistsResponse';
import type { ClientMessage } from 'synod-api/types/synod/v1/ClientMessage';
import type { ServerMessage__Output } from 'synod-api/types/synod/v1/ServerMessage';

const synod = loadSynod();
const client = new synod.Synod('127.0.0.1:7070', grpc.credentials.createInsecure());
const request: ExistsRequest = { path: '/app' };
client.Exists(request, (err: grpc.ServiceError | null, answer?: ExistsResponse__Output) => {
  const exists: boolean | undefined = answer?.exists;
  const mzxid: string | undefined = answer?.stat?.mzxid; // 64-bit: a string
  console.log(err, exists, mzxid);
});
const stream = client.Session();
const open: ClientMessage = { open: { timeoutMs: '10000' } };
stream.write(open);
stream.on('data', (m: ServerMessage__Output) => {
  if (m.kind === 'opened') {
    const id: string = m.opened!.sessionId;
    console.log(id);
  }
});
TS
npx tsc --strict --noEmit --skipLibCheck --esModuleInterop --moduleResolution node --module commonjs --target es2020 client.ts
echo "OK: synod-api $tarball installs, loads, and type-checks"
