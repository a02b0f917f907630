# The osmoda CLI and daemons, built with the Node.js NixOS ships (22), straight from package-lock.json.
#
# Dependencies are pinned by the lock file: importNpmLock fetches every package with fetchurl and the
# lock's sha512 `integrity`, so there is no separate npmDepsHash to compute and keep in sync (that
# hash can only be computed by downloading the whole dependency tree, which this repository's
# offline CI cannot do). See nix/README.md.
{ lib, buildNpmPackage, importNpmLock, nodejs_22, python3 }:

let
  src = lib.cleanSource ./..;
  packageLock = import ./npm-lock.nix (lib.importJSON ../package-lock.json);
in
buildNpmPackage {
  pname = "osmoda";
  version = (lib.importJSON ../package.json).version;
  inherit src;
  nodejs = nodejs_22;

  npmDeps = importNpmLock { npmRoot = src; inherit packageLock; };
  npmConfigHook = importNpmLock.npmConfigHook;

  # better-sqlite3 compiles against this Node's headers.
  nativeBuildInputs = [ python3 ];
  npmBuildScript = "build";

  # skills/ and templates/ ship inside the package through package.json "files" (SPEC §5).

  meta = {
    description = "AI-native server management with typed, audited tools and a hash-chained ledger";
    license = lib.licenses.mit;
    mainProgram = "osmoda";
    platforms = lib.platforms.linux;
  };
}
