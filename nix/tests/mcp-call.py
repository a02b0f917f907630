"""Drives `osmoda mcp` over stdio as an MCP client would: initialize, list the tools, call a few,
and print one JSON summary. Run as osmoda-agent inside the VM test (nix/tests/vm-stack.nix)."""
import json
import subprocess
import sys

proc = subprocess.Popen(["osmoda", "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
next_id = 0


def request(method, params):
    global next_id
    next_id += 1
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params}) + "\n")
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            sys.exit(f"osmoda mcp closed stdout while waiting for {method}")
        message = json.loads(line)
        if message.get("id") == next_id:
            if "error" in message:
                sys.exit(f"{method} failed: {message['error']}")
            return message["result"]


request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "vm-test", "version": "1"}})
proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
proc.stdin.flush()
tools = [t["name"] for t in request("tools/list", {})["tools"]]
calls = {}
for name, args in [
    ("system_health", {}),
    ("memory_store", {"summary": "vm test was here", "category": "vm-test"}),
    ("memory_recall", {"query": "vm test"}),
    ("event_log", {"limit": 5}),
]:
    result = request("tools/call", {"name": name, "arguments": args})
    calls[name] = {"isError": result.get("isError", False), "text": result["content"][0]["text"]}
proc.stdin.close()
proc.wait(timeout=10)
print(json.dumps({"tools": tools, "calls": calls}))
