import { describe, expect, it } from "vitest";
import { SortedBigints } from "./sorted-bigints.js";

describe("SortedBigints", () => {
  it("inserts, deletes and reports membership", () => {
    const set = new SortedBigints();
    expect(set.insert(5n)).toBe(true);
    expect(set.insert(5n)).toBe(false);
    expect(set.insert(1n)).toBe(true);
    expect(set.has(5n) && set.has(1n) && !set.has(3n)).toBe(true);
    expect(set.delete(3n)).toBe(false);
    expect(set.delete(5n)).toBe(true);
    expect(set.size).toBe(1);
  });

  it("finds the first absent value like a linear scan would (seeded random sets)", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const set = new SortedBigints();
      const present = new Set<number>();
      for (let i = 0; i < 60; i++) {
        const v = Math.floor(random() * 80);
        if (random() < 0.8) {
          set.insert(BigInt(v));
          present.add(v);
        } else {
          set.delete(BigInt(v));
          present.delete(v);
        }
      }
      for (let x = 0; x < 90; x++) {
        let expected = x;
        while (present.has(expected)) expected++;
        expect(set.firstAbsentAtOrAfter(BigInt(x))).toBe(BigInt(expected));
      }
    }
  });
});

describe("SortedBigints.firstNotIn", () => {
  it("finds the first element missing from a subset, like a linear scan would", () => {
    let seed = 9;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 50; round++) {
      const all = new SortedBigints();
      const sub = new SortedBigints();
      const values: number[] = [];
      for (let i = 0; i < 40; i++) {
        const v = random(100);
        if (all.insert(BigInt(v))) values.push(v);
        if (random(10) < 8) sub.insert(BigInt(v));
      }
      values.sort((a, b) => a - b);
      for (let x = 0; x < 105; x++) {
        const expected = values.find((v) => v >= x && !sub.has(BigInt(v)));
        expect(all.firstNotIn(sub, BigInt(x))).toBe(expected === undefined ? undefined : BigInt(expected));
      }
    }
  });
});
