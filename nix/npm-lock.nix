# package-lock.json is written without `resolved` URLs (npm's omit-lockfile-registry-resolved
# style), which leaves an offline Nix build nothing to fetch. This fills in the public registry's
# tarball URL for each registry package; the lock's own `integrity` (sha512) stays the hash that
# fetchurl checks, so every dependency is still pinned by the lock file. Builtins only.
lock:

let
  # "node_modules/a/node_modules/@s/b" → "@s/b" (an aliased package names itself with `name`).
  packageName = key: entry:
    if entry ? name then entry.name
    else let parts = builtins.split "node_modules/" key; in builtins.elemAt parts (builtins.length parts - 1);
  # "@s/b" → "b"
  baseName = name: let parts = builtins.split "/" name; in builtins.elemAt parts (builtins.length parts - 1);
  tarball = name: version: "https://registry.npmjs.org/${name}/-/${baseName name}-${version}.tgz";
  backfill = key: entry:
    if key == "" || entry ? resolved || entry.link or false || entry.inBundle or false then entry
    else entry // { resolved = tarball (packageName key entry) entry.version; };
in
lock // { packages = builtins.mapAttrs backfill lock.packages; }
