# The option tree of services.osmoda (SPEC §6): shared keys, then one attribute set per daemon whose
# keys are that daemon's config keys (src/daemons/<name>/config.ts) plus a few module-only keys
# (see moduleOnly in ../settings.nix).
{ lib, pkgs }:

let
  h = import ./common.nix { inherit lib; };
  built = import ./built.nix { inherit lib h; };
  pending = import ./pending.nix { inherit lib h; };
  gw = import ./gateway.nix { inherit lib h; };
  mesh = import ./mesh.nix { inherit lib h; };
in
{
  enable = lib.mkEnableOption "osmoda, the AI-native server platform";
  package = lib.mkOption {
    type = lib.types.package;
    default = pkgs.osmoda or (pkgs.callPackage ../package.nix { });
    defaultText = lib.literalExpression "pkgs.osmoda";
    description = "The osmoda package.";
  };
  logLevel = lib.mkOption {
    type = lib.types.enum [ "debug" "info" "warn" "error" ];
    default = "info";
    description = "Log level of every daemon (JSON lines on stderr, in the journal); written as logLevel into each <name>.json.";
  };
  socketGroup = lib.mkOption {
    type = lib.types.strMatching "[a-z_][a-z0-9_-]{0,31}";
    default = "osmoda";
    description = "Group given every daemon's socket in /run/osmoda (mode 0660); written as socketGroup into each <name>.json. The egress proxy socket always uses osmoda-sandbox.";
  };
  agentd = import ./agentd.nix { inherit lib h; };
  inherit (built) keyd watch routines egress;
  inherit mesh;
  inherit (pending) mcpd teachd voice;
  inherit (gw) gateway remoteAccess;
}
