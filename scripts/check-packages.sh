#!/usr/bin/env bash
# Lints what `pnpm publish` would ship for each package: publint (package.json, exports, files)
# and Are The Types Wrong (types for node10, node16 ESM and CJS, bundlers), on the packed tarball
# itself, in which pnpm has replaced `workspace:^` with real versions. Run `pnpm build` first.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v pnpm >/dev/null; then PNPM=(pnpm); else PNPM=(npx -y pnpm@10.34.8); fi
BIN=node_modules/.bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for pkg in ledger core express hono koa fastify node proxy cloudflare redis mcp; do
  if [[ ! -f packages/$pkg/dist/index.js ]]; then
    echo "packages/$pkg/dist is missing: run pnpm build first" >&2
    exit 1
  fi
  printf '\n=== @plangate/%s ===\n' "$pkg"
  (cd "packages/$pkg" && "${PNPM[@]}" pack --pack-destination "$tmp" >/dev/null)
  tarball=$(ls "$tmp"/plangate-"$pkg"-*.tgz)
  "$BIN/publint" run --strict "$tarball"
  "$BIN/attw" --profile strict --format table-flipped "$tarball"
done

# A Worker as a user writes one, compiled against the built types of @plangate/cloudflare with the
# Workers types and no DOM: DurableObjectNamespace<PlanGateStore> must be what the store takes.
printf '\n=== @plangate/cloudflare in a Worker project (tsc, @cloudflare/workers-types) ===\n'
"$BIN/tsc" -p packages/cloudflare/worker-types/tsconfig.json
echo 'No problems found'
