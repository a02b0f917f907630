# Helpers shared by the option files: every daemon key is one typed option whose default equals the
# daemon's zod default (test/nix-options.test.ts compares both), so an unset option and a missing
# JSON key mean the same thing.
{ lib }:

let
  inherit (lib) types;
in
rec {
  # An option with a default.
  mk = type: default: description: lib.mkOption { inherit type default description; };

  # An option the daemon may leave unset: null is not written to the JSON file, so the daemon's own
  # default (often computed from the paths, e.g. $CREDENTIALS_DIRECTORY) applies.
  mkNull = type: description: lib.mkOption { type = types.nullOr type; default = null; inherit description; };

  # A list that extends built-in entries (SPEC §6 "lists extend them"): the option holds the
  # additions and the rendered value is builtins ++ additions, so a deny list cannot be shortened.
  mkExtend = type: builtinEntries: description: lib.mkOption {
    type = types.listOf type;
    default = [ ];
    apply = extra: builtinEntries ++ extra;
    description = "${description} Entries given here are added to the built-in ones.";
  };

  enable = default: what: mk types.bool default "Run ${what}.";

  # Strings, not Nix paths: a path literal would be copied into the store by toJSON.
  absPath = types.strMatching "/.*";
  # Absolute, or below the state dir (`<state>/…`), expanded by the daemon.
  statePath = types.strMatching "(/|<state>(/|$)).*";
  runPath = types.strMatching "(/|<run>/).*";

  between = lo: hi: types.ints.between lo hi;
  secs = lo: hi: default: description: mk (between lo hi) default description;
}
