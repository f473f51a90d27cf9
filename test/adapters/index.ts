// What an adapter's own tests use of the shared adapter harness.
export { auth, eventually, expectProblem, get, restoreEnvAfterEach, sleep, type Answer } from './http'
export { closeServer, listenOn, probe, type RunningApp } from './driver'
