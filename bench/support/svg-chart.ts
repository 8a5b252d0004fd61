/**
 * Charts for the benches, as SVG files written beside their tables: a Vega-Lite spec compiled by vega-lite and
 * rendered by vega's headless view (`renderer: "none"`, `toSVG()`), which needs no browser and no native canvas
 * (text widths are estimated). Each bench builds its spec from its own rows; this module only renders and writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** One data row of a chart: flat fields only, as Vega-Lite's inline `data.values` wants them. */
export type ChartRow = Readonly<Record<string, string | number>>;

/** Renders a Vega-Lite spec to an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders `spec` and writes it to `path` (directories created), returning the path for the bench to print. */
export async function writeSvgChart(path: string, spec: TopLevelSpec): Promise<string> {
  const svg = await renderSvg(spec);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
  return path;
}

/**
 * A distribution per implementation: one tick per trial and a box (quartiles, whiskers to min/max) on a shared
 * millisecond axis, implementations as rows. For failover and allocation times. `scale: "log"` when the rows differ
 * by orders of magnitude (ours in hundreds of ms, a baseline in seconds), so both boxes stay readable.
 */
export function distributionChart(
  title: string,
  rows: readonly { readonly implementation: string; readonly ms: number }[],
  axisTitle = "milliseconds",
  scale: "linear" | "log" = "linear",
): TopLevelSpec {
  const y = { field: "implementation", type: "nominal", title: null, sort: null, axis: { labelLimit: 0 } } as const;
  const x = {
    field: "ms",
    type: "quantitative",
    title: axisTitle,
    ...(scale === "log" ? { scale: { type: "log" as const } } : {}),
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 560,
    height: { step: 60 },
    data: { values: rows.map((r) => ({ ...r })) },
    layer: [
      { mark: { type: "boxplot", extent: "min-max", size: 28, opacity: 0.35 }, encoding: { x, y } },
      { mark: { type: "tick", thickness: 1.5, size: 22 }, encoding: { x, y, color: { field: "implementation" } } },
    ],
  };
}

/** Bars per group (e.g. a path) and series (e.g. a round or a metric), for throughput. */
export function barChart(
  title: string,
  rows: readonly ChartRow[],
  fields: { readonly category: string; readonly value: string; readonly valueTitle: string; readonly series?: string },
): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 480,
    height: { step: 28 },
    data: { values: rows.map((r) => ({ ...r })) },
    mark: "bar",
    encoding: {
      y: { field: fields.category, type: "nominal", title: null, axis: { labelLimit: 0 } },
      x: { field: fields.value, type: "quantitative", title: fields.valueTitle },
      ...(fields.series ? { color: { field: fields.series, type: "nominal" }, yOffset: { field: fields.series } } : {}),
    },
  };
}
