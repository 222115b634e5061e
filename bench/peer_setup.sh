#!/usr/bin/env bash
# Install the node-oidc-provider peer (../shared/peers/node-oidc-provider) into bench/peer/.
set -euo pipefail
cd "$(dirname "$0")"
SRC="${PEER_SRC:-../../shared/peers/node-oidc-provider}"
mkdir -p peer
cp "$SRC/server.mjs" "$SRC/post.lua" peer/
cd peer
if [ ! -d node_modules/oidc-provider ]; then
  [ -f package.json ] || npm init -y >/dev/null
  npm install --no-audit --no-fund --silent oidc-provider@9
fi
