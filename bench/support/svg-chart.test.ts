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
