# workerd config of the MCP runtime test (test/runtimes/mcp-worker.test.ts). The test sets the
# listening address (--socket-addr http=…) and the NVM_* and SETTLE_BATCH_MS environment.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "mcp", worker = .mcp),
    # The ledger is served by the test on 127.0.0.1: the default "internet" allows public addresses only.
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "mcp")],
);

const mcp :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2025-11-01",
  globalOutbound = "loopback",
  bindings = [
    (name = "NVM_API_KEY", fromEnvironment = "NVM_API_KEY"),
    (name = "NVM_ENVIRONMENT", fromEnvironment = "NVM_ENVIRONMENT"),
    (name = "NVM_PLAN_ID", fromEnvironment = "NVM_PLAN_ID"),
    (name = "SETTLE_BATCH_MS", fromEnvironment = "SETTLE_BATCH_MS"),
  ],
);
