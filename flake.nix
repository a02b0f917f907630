{
  description = "osmoda: an AI agent runs and manages a NixOS server safely (typed audited tools, hash-chained ledger)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f (import nixpkgs { inherit system; overlays = [ self.overlays.default ]; }));
    in
    {
      overlays.default = final: _prev: { osmoda = final.callPackage ./nix/package.nix { }; };

      packages = forAll (pkgs: { inherit (pkgs) osmoda; default = pkgs.osmoda; });

      nixosModules = {
        osmoda = {
          imports = [ ./nix/module.nix ];
          nixpkgs.overlays = [ self.overlays.default ];
        };
        default = self.nixosModules.osmoda;
      };

      apps = forAll (pkgs: {
        default = { type = "app"; program = "${pkgs.osmoda}/bin/osmoda"; };
      });

      devShells = forAll (pkgs: {
        default = pkgs.mkShell {
          packages = with pkgs; [ nodejs_22 python3 sqlite bubblewrap nix espeak-ng pocketsphinx sox util-linux iproute2 ];
        };
      });

      checks = forAll (pkgs: {
        # The unit tests (src/**) in the build sandbox; the integration tests need systemd-less
        # host tools and run in CI (.ci/run) instead.
        unit = pkgs.osmoda.overrideAttrs (_old: {
          pname = "osmoda-unit";
          doCheck = true;
          checkPhase = ''
            runHook preCheck
            npx vitest run src
            runHook postCheck
          '';
        });
        vm-stack = import ./nix/tests/vm-stack.nix { inherit pkgs; module = self.nixosModules.default; };
      });

      nixosConfigurations.osmoda-example = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          self.nixosModules.default
          ({ modulesPath, ... }: {
            imports = [ "${modulesPath}/profiles/minimal.nix" ];
            boot.loader.grub.device = "/dev/vda";
            fileSystems."/" = { device = "/dev/vda1"; fsType = "ext4"; };
            services.openssh.enable = true;
            services.osmoda = {
              enable = true;
              agentd.approval.ttlSecs = 900;
              agentd.files.readRoots = [ "/data" ];
              egress.defaultAllow = [ "cache.nixos.org" "api.anthropic.com" ];
            };
            system.stateVersion = "25.11";
          })
        ];
      };
    };
}
