import { LbOperatorError } from "../../src/toolkit/index.js";

/** The prober's options cannot meet its contract (e.g. a timeout longer than the interval): a configuration bug. */
export class HealthProberConfigError extends LbOperatorError {}
