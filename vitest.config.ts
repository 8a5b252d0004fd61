import { defineConfig } from "vitest/config";

// Two projects: `unit` runs beside the code with no real parts; `integration` needs the real control plane
// (and later moto, the lab) and runs its files one at a time so they do not fight over 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "src/**/*.test.ts",
            "providers/**/*.test.ts",
            "speaker/**/*.test.ts",
            "testing/**/*.test.ts",
            "bench/**/*.test.ts",
          ],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
