import { describe, expect, it } from "vitest";
import { parseDockerfile, productionRuntime } from "./production-runtime.js";

describe("productionRuntime", () => {
  it("reads the final stage's runtime ENV and the ENTRYPOINT's node flags, not the build stages'", () => {
    const text = [
      "FROM base AS build",
      "ENV MALLOC_ARENA_MAX=8",
      "ENV npm_config_nodedir=/usr/local",
      'ENTRYPOINT ["node", "--inspect", "x.js"]',
      "FROM base",
      "ENV MALLOC_ARENA_MAX=2",
      "ENV npm_config_cache=/tmp",
      'ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/dist/src/main.js"]',
    ].join("\n");
    expect(parseDockerfile(text)).toEqual({
      env: { MALLOC_ARENA_MAX: "2" },
      nodeArgs: ["--max-semi-space-size=8"],
    });
  });

  it("refuses an ENTRYPOINT that does not start node", () => {
    expect(() => parseDockerfile('FROM x\nENTRYPOINT ["/bin/sh", "-c", "node a.js"]')).toThrow(/exec-form/);
  });

  it("the repo's Dockerfile parses, and its controller runs with the tuning the bench measured", () => {
    const runtime = productionRuntime(process.cwd());
    expect(runtime.env.MALLOC_ARENA_MAX).toBe("2");
    expect(runtime.nodeArgs).toContain("--max-semi-space-size=8");
  });
});
