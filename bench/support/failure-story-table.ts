/** The failure stories' outcome table: one row per story (or part), one column per implementation. */
export type StoryRow = { readonly story: string; readonly outcome: string };

/**
 * Header `story | <label>...` and a row per story in the order first seen; a story an implementation did not
 * report (its run failed before it) shows "-".
 */
export function outcomeTable(labels: readonly string[], columns: readonly (readonly StoryRow[])[]): string[][] {
  const stories: string[] = [];
  for (const col of columns) for (const r of col) if (!stories.includes(r.story)) stories.push(r.story);
  return [
    ["story", ...labels],
    ...stories.map((story) => [
      story,
      ...labels.map((_, i) => columns[i]?.find((r) => r.story === story)?.outcome ?? "-"),
    ]),
  ];
}
