# The Worker of config.capnp as one service whose Durable Objects are stored on disk (workerd's
# SQLite files, in the directory the test passes with --directory-path store-disk=…), so that the
# test can stop workerd and start it again: what the objects said must still be there.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "a", worker = .worker),
    (name = "store-disk", disk = (path = "/nonexistent", writable = true)),
  ],
  sockets = [(name = "a", address = "127.0.0.1:8787", http = (), service = "a")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2025-11-01",
  durableObjectNamespaces = [(className = "PlanGateStore", uniqueKey = "plangate-test-PlanGateStore")],
  durableObjectStorage = (localDisk = "store-disk"),
  bindings = [
    (name = "ISOLATE", text = "a"),
    (name = "PLANGATE_STORE", durableObjectNamespace = "PlanGateStore"),
  ],
);
