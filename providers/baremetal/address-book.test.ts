import { describe, expect, it } from "vitest";
import { AddressBook, type Holder } from "./address-book.js";
import { formatIPValue, parseIPValue } from "../../src/toolkit/index.js";

const holder = (ips: string[], sharingKey?: string): Holder => ({
  uid: undefined,
  addrs: ips.map((ip) => parseIPValue(ip)!),
  party: { key: "", sharingKey, backendKey: undefined, backendKnown: true, ports: [] },
});

describe("AddressBook", () => {
  it("reports addresses that became used or free, counting every user", () => {
    const book = new AddressBook();
    expect(book.add("ns/a", holder(["192.0.2.1", "2001:db8::1"], "k")).map(formatIPValue)).toEqual([
      "192.0.2.1",
      "2001:db8::1",
    ]);
    expect(book.add("ns/b", holder(["192.0.2.1"], "k"))).toEqual([]);
    expect(() => book.add("ns/b", holder([]))).toThrow("unassign first");
    expect(book.others(parseIPValue("192.0.2.1")!, "ns/a")).toHaveLength(1);
    expect(book.unassign("ns/a").map(formatIPValue)).toEqual(["2001:db8::1"]);
    expect(book.unassign("ns/a")).toEqual([]);
    expect(book.unassign("ns/b").map(formatIPValue)).toEqual(["192.0.2.1"]);
    expect(book.keys()).toEqual([]);
  });
});
