# Renders services.osmoda.<daemon> into the JSON object of <config>/<daemon>.json. The option tree
# mirrors the daemon's config keys, so rendering is generic: drop null (= "daemon default"), drop
# the module-only keys below, add the shared logLevel and socketGroup, then a few per-daemon translations.
# Uses builtins only, so the test fixture's stub lib can evaluate it too.
{ lib }:

let
  # Keys that are not daemon config keys (SPEC §6 "module-only"). The option/zod comparison in
  # test/nix-options.test.ts skips exactly these.
  moduleOnly = {
    agentd = [ [ "enable" ] [ "backup" "enable" ] [ "backup" "schedule" ] ];
    keyd = [ [ "enable" ] [ "policy" ] ];
    watch = [ [ "enable" ] ];
    routines = [ [ "enable" ] ];
    egress = [ [ "enable" ] ];
    mesh = [ [ "enable" ] [ "openFirewall" ] ];
    mcpd = [ [ "enable" ] ];
    teachd = [ [ "enable" ] ];
    voice = [ [ "enable" ] ];
    gateway = [ [ "enable" ] [ "openFirewall" ] [ "defaultRuntime" ] [ "models" ] [ "models" "osmoda" ] [ "models" "mobile" ] ];
  };

  # Config keys deliberately not written: the secret reaches the daemon through systemd
  # LoadCredential, and the daemon's default path is $CREDENTIALS_DIRECTORY/<name>.
  viaCredential = {
    keyd = [ [ "kekFile" ] ];
    gateway = [ [ "credstoreKeyFile" ] ];
  };

  dropped = name: (moduleOnly.${name} or [ ]) ++ (viaCredential.${name} or [ ]);

  strip = drop: path: value:
    if builtins.isAttrs value then
      let keep = builtins.filter (n: value.${n} != null && !(builtins.elem (path ++ [ n ]) drop)) (builtins.attrNames value);
      in builtins.listToAttrs (map (n: { name = n; value = strip drop (path ++ [ n ]) value.${n}; }) keep)
    else if builtins.isList value then map (strip drop path) value
    else value;

  translate = {
    keyd = cfg: s: if cfg.keyd.policy != null && cfg.keyd.policySeed == null then s // { policySeed = cfg.keyd.policy; } else s;
    # mcpd.json holds servers as a list of {name, …}; the module takes an attribute set by name.
    mcpd = _cfg: s: s // { servers = map (n: s.servers.${n} // { name = n; }) (builtins.attrNames s.servers); };
    gateway = cfg: s: if cfg.gateway.agentsSeed != null then s else s // { agentsSeed = defaultAgents cfg.gateway; };
  };

  defaultAgents = gw: {
    version = 1;
    agents = [
      { id = "osmoda"; display_name = "osmoda (full access)"; runtime = gw.defaultRuntime; model = gw.models.osmoda; channels = [ "web" "api" "voice" ]; enabled = true; }
      { id = "mobile"; display_name = "osmoda (mobile)"; runtime = gw.defaultRuntime; model = gw.models.mobile; channels = [ "telegram" "whatsapp" ]; enabled = true; }
    ];
    bindings = map (c: { channel = c; agent_id = "osmoda"; }) [ "web" "api" "voice" ]
      ++ map (c: { channel = c; agent_id = "mobile"; }) [ "telegram" "whatsapp" ];
  };
in
{
  inherit moduleOnly viaCredential;

  # The attribute set written to <config>/<name>.json.
  settingsFor = name: cfg:
    let base = strip (dropped name) [ ] cfg.${name} // { inherit (cfg) logLevel socketGroup; };
    in (translate.${name} or (_: s: s)) cfg base;
}
