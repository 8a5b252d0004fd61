import { describe, expect, it } from "vitest";
import { barChart, distributionChart, renderSvg } from "./svg-chart.js";

describe("bench charts", () => {
  it("renders a distribution per implementation as SVG, one tick per trial", async () => {
    const rows = [120, 180, 240].map((ms) => ({ implementation: "lb-operator", ms }));
    rows.push(...[2_900, 3_400].map((ms) => ({ implementation: "MetalLB", ms })));
    const svg = await renderSvg(distributionChart("failover", rows));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("lb-operator");
    expect(svg).toContain("MetalLB");
    expect(svg.match(/aria-roledescription="tick"/g)).toHaveLength(5);
    expect(svg.match(/aria-roledescription="box"/g)).toHaveLength(2);
  });

  it("puts the distribution on a log axis when asked, and keeps the rows in the order given", async () => {
    const rows = [
      { implementation: "zz first", ms: 150 },
      { implementation: "aa second", ms: 15_000 },
    ];
    const linear = await renderSvg(distributionChart("failover", rows));
    const log = await renderSvg(distributionChart("failover", rows, "ms", "log"));
    // A log axis labels its decades; the linear one steps evenly and never shows 100 and 1,000 together.
    expect(log).toMatch(/>1,000</);
    expect(log).toMatch(/>100</);
    expect(linear).not.toMatch(/>100</);
    expect(log.indexOf("zz first")).toBeLessThan(log.indexOf("aa second"));
  });

  it("renders bars with a value axis", async () => {
    const svg = await renderSvg(
      barChart(
        "throughput",
        [
          { path: "direct", gbps: 9.5 },
          { path: "vip", gbps: 8.7 },
        ],
        { category: "path", value: "gbps", valueTitle: "Gbit/s" },
      ),
    );
    expect(svg).toContain("Gbit/s");
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(2);
    expect(svg).toMatch(/aria-label="[^"]*8.7[^"]*vip"/);
  });
});
