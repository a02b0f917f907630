# NixOS VM test (needs KVM): the module boots the stack, `osmoda mcp` (as osmoda-agent, with the
# agent token) lists and calls tools, each call lands in the ledger, and the ledger verifies.
{ pkgs, module }:

pkgs.testers.runNixOSTest {
  name = "osmoda-vm-stack";

  nodes.machine = { pkgs, ... }: {
    imports = [ module ];
    services.osmoda = { enable = true; keyd.enable = true; };
    environment.systemPackages = [ pkgs.python3 ];
    virtualisation.memorySize = 2048;
  };

  testScript = ''
    import json

    machine.wait_for_unit("osmoda-init.service")
    for name in ["agentd", "keyd", "watch", "routines", "egress"]:
        machine.wait_for_unit(f"osmoda-{name}.service")
        machine.succeed(f"test -S /run/osmoda/{name}.sock")
    machine.succeed("osmoda health --json")

    # The agent reaches the sockets through the osmoda group and holds only the agent token.
    machine.fail("runuser -u osmoda-agent -- cat /var/lib/osmoda/tokens/operator")
    out = json.loads(machine.succeed("runuser -u osmoda-agent -- python3 ${./mcp-call.py}"))
    assert "approval_approve" not in out["tools"], "the agent must not see approval_approve"
    for name in ["system_health", "memory_store", "memory_recall", "event_log"]:
        assert name in out["tools"], f"{name} is not offered"
        assert not out["calls"][name]["isError"], out["calls"][name]

    events = machine.succeed("osmoda events --type tool.called --limit 50 --json")
    for name in ["system_health", "memory_store"]:
        assert name in events, f"no tool.called event for {name}"
    machine.succeed("osmoda verify-ledger")

    # A config change reloads rather than restarts; a stop is clean.
    machine.succeed("systemctl reload osmoda-agentd.service")
    machine.succeed("systemctl stop osmoda.target")
    machine.succeed("osmoda verify-ledger")
  '';
}
