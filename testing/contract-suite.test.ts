import { recordingProviderWorld } from "../test/fakes/recording-provider.js";
import { describeProviderContract } from "./contract-suite.js";

// The recording test provider keeps the contract: every rule passes (the rules' own tests are in contract-rules.test.ts).
describeProviderContract("recording test provider", () => recordingProviderWorld());

// A skipped rule is reported as skipped, with its reason in the title.
describeProviderContract("recording test provider, stopped creates skipped", () => recordingProviderWorld(), {
  skip: { "no-leak-after-stopped-create": "shows the skip list" },
});
