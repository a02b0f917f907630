{
  description = "osmoda: an AI agent runs and manages a NixOS server safely (typed audited tools, hash-chained ledger)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAll (pkgs: rec {
        osmoda = pkgs.callPackage ./nix/package.nix { };
        default = osmoda;
      });

      overlays.default = final: _prev: { osmoda = final.callPackage ./nix/package.nix { }; };

      nixosModules = rec {
        osmoda = import ./nix/module.nix;
        default = osmoda;
      };

      apps = forAll (pkgs: {
        default = { type = "app"; program = "${self.packages.${pkgs.system}.osmoda}/bin/osmoda"; };
      });

      devShells = forAll (pkgs: {
        default = pkgs.mkShell { packages = with pkgs; [ nodejs_22 python3 sqlite bubblewrap nix ]; };
      });
    };
}
