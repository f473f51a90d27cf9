# workerd config of the Durable Object store test (test/runtimes/durable-object.test.ts): the same
# Worker as two services, "a" and "b" — two isolates, each with its own gate — sharing one
# PlanGateStore namespace, which "a" defines and "b" binds by service name (on Cloudflare, every
# isolate of a Worker binds its namespace). Objects are stored in memory for the process's life.
# The test sets the listening addresses (--socket-addr a=… b=…) and the NVM_* environment.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "a", worker = .workerA),
    (name = "b", worker = .workerB),
    # The ledger is served by the test on 127.0.0.1: the default "internet" allows public addresses only.
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [
    (name = "a", address = "127.0.0.1:8787", http = (), service = "a"),
    (name = "b", address = "127.0.0.1:8788", http = (), service = "b"),
  ],
);

const workerA :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2025-11-01",
  globalOutbound = "loopback",
  durableObjectNamespaces = [
    (className = "PlanGateStore", uniqueKey = "plangate-test-PlanGateStore"),
    (className = "StalledStore", uniqueKey = "plangate-test-StalledStore"),
    (className = "LateStore", uniqueKey = "plangate-test-LateStore"),
    (className = "FailingStore", uniqueKey = "plangate-test-FailingStore"),
    (className = "LostReleaseStore", uniqueKey = "plangate-test-LostReleaseStore"),
  ],
  durableObjectStorage = (inMemory = void),
  bindings = [
    (name = "ISOLATE", text = "a"),
    (name = "PLANGATE_STORE", durableObjectNamespace = "PlanGateStore"),
    (name = "STALLED_STORE", durableObjectNamespace = "StalledStore"),
    (name = "LATE_STORE", durableObjectNamespace = "LateStore"),
    (name = "FAILING_STORE", durableObjectNamespace = "FailingStore"),
    (name = "LOST_RELEASE_STORE", durableObjectNamespace = "LostReleaseStore"),
    (name = "NVM_API_KEY", fromEnvironment = "NVM_API_KEY"),
    (name = "NVM_ENVIRONMENT", fromEnvironment = "NVM_ENVIRONMENT"),
  ],
);

const workerB :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2025-11-01",
  globalOutbound = "loopback",
  bindings = [
    (name = "ISOLATE", text = "b"),
    (name = "PLANGATE_STORE", durableObjectNamespace = (className = "PlanGateStore", serviceName = "a")),
    (name = "STALLED_STORE", durableObjectNamespace = (className = "StalledStore", serviceName = "a")),
    (name = "LATE_STORE", durableObjectNamespace = (className = "LateStore", serviceName = "a")),
    (name = "FAILING_STORE", durableObjectNamespace = (className = "FailingStore", serviceName = "a")),
    (name = "LOST_RELEASE_STORE", durableObjectNamespace = (className = "LostReleaseStore", serviceName = "a")),
    (name = "NVM_API_KEY", fromEnvironment = "NVM_API_KEY"),
    (name = "NVM_ENVIRONMENT", fromEnvironment = "NVM_ENVIRONMENT"),
  ],
);
