/** `plangate-proxy --help`. */
export const HELP = `plangate-proxy: put a Nevermined payment plan in front of an existing HTTP API.

Usage:
  plangate-proxy --plan <id> --upstream <url> [flags]
  plangate-proxy --local --upstream <url>            try it on an embedded ledger (no account needed)

Every request is charged its route's cost in plan credits (the caller sends its key as
Authorization: Bearer <key>) and forwarded to the upstream; only an upstream 2xx is charged.

Flags (they override the config file):
  --plan <id>            the plan callers pay with (default: NVM_PLAN_ID)
  --upstream <url>       the API to charge for, e.g. http://127.0.0.1:8080
  --port <n>             where to listen (default 3000; 0 picks a free port)
  --host <address>       default 127.0.0.1; 0.0.0.0 to take requests from other machines
  --config <file>        a JSON config file (routes, costs, gate options)
  --environment <env>    sandbox, live, local or a base URL (default: NVM_ENVIRONMENT, else sandbox)
  --local                the same as --environment local
  --route "<M /path>=<n>" a route's cost, repeatable: --route "POST /v1/chat=5" --route "GET /health=0"
                         (0 = free and not gated; patterns take :param segments and a final *)
  --default-cost <n>     credits for a request no route matches (default 1)
  --timeout-ms <ms>      how long the upstream may stay silent before a 504 (default 30000)
  --batch-ms <ms>        settle credits in batches gathered this long (default 0: at once)
  --no-auto-order        answer 402 when credits run out instead of ordering the plan again
  -h, --help             this text
  --version              the version

Environment:
  NVM_API_KEY            the agent's (plan owner's) Nevermined API key; not needed with --local
  NVM_ENVIRONMENT        as --environment
  NVM_PLAN_ID            as --plan

Config file (every key optional):
  { "plan": "7", "upstream": "http://127.0.0.1:8080", "port": 3000, "host": "127.0.0.1",
    "environment": "sandbox", "routes": { "POST /v1/chat": 5, "GET /health": 0 }, "defaultCost": 1,
    "timeoutMs": 30000, "shutdownGraceMs": 10000, "creditHeaders": true, "methodOverride": false,
    "upstreamHeaders": { "remaining": "X-Plangate-Remaining", "holder": "X-Plangate-Holder",
                         "plan": "X-Plangate-Plan", "cost": "X-Plangate-Cost" },
    "gate": { "timeoutMs": 5000, "autoOrder": { "maxOrders": 3 }, "settle": { "batchMs": 0 } } }

SIGTERM or SIGINT stops taking requests, lets those in flight finish and settles every credit
served before exiting 0. Exit code 2: a mistake in the flags, the config file or the environment.`
