import { InvalidSpecError } from "../src/errors.js";

/** The field an InvalidSpecError names, for asserting which input a provider refused. */
export class ExpectedInvalidSpecError extends Error {
  constructor() {
    super("expected an InvalidSpecError");
    this.name = "ExpectedInvalidSpecError";
  }
}

/** Runs `fn` and returns the `field` of the InvalidSpecError it throws; any other outcome throws. */
export function invalidSpecField(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidSpecError) return err.field;
    throw err;
  }
  throw new ExpectedInvalidSpecError();
}
