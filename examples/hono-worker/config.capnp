# workerd config for the Hono agent: `workerd serve config.capnp` after bundling worker.ts to
# dist/worker.js (`pnpm --filter @plangate/examples build:worker`). The tests override the
# listening address with `--socket-addr http=127.0.0.1:<port>`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "agent", worker = .agent)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "agent")],
);

const agent :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2025-11-01",
  bindings = [
    # Secrets and vars reach the app as bindings: env(c) in Hono. Taken here from workerd's own
    # environment; when NVM_API_KEY is not set the agent runs on its in-process local ledger.
    (name = "NVM_API_KEY", fromEnvironment = "NVM_API_KEY"),
    (name = "NVM_ENVIRONMENT", fromEnvironment = "NVM_ENVIRONMENT"),
    (name = "NVM_PLAN_ID", fromEnvironment = "NVM_PLAN_ID"),
  ],
);
