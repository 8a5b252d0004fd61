export { HealthProber, type ProberOptions } from "./health-prober.js";
export { HealthProberConfigError } from "./health-errors.js";
export { probeKey, type ProbeResult, type ProbeTarget } from "./probe-target.js";
export { PROBE_USER_AGENT, networkProbe, probeHttp, probeTcp, type ProbeFn } from "./probes.js";
