# The osmoda CLI and daemons, built with the Node.js NixOS ships (22), straight from package-lock.json.
{ lib, buildNpmPackage, importNpmLock, nodejs_22, python3 }:

buildNpmPackage {
  pname = "osmoda";
  version = (lib.importJSON ../package.json).version;
  src = lib.cleanSource ./..;
  nodejs = nodejs_22;

  # No npmDepsHash to keep in sync: dependencies come from the lock file's integrity hashes.
  npmDeps = importNpmLock { npmRoot = lib.cleanSource ./..; };
  npmConfigHook = importNpmLock.npmConfigHook;

  # better-sqlite3 compiles against this Node's headers.
  nativeBuildInputs = [ python3 ];
  npmBuildScript = "build";

  meta = {
    description = "AI-native server management with typed, audited tools and a hash-chained ledger";
    license = lib.licenses.mit;
    mainProgram = "osmoda";
    platforms = lib.platforms.linux;
  };
}
