import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../../src/errors.js";
import { formatIPValue } from "../../src/toolkit/index.js";
import { checkFamilies, parseRequestedAddresses } from "./requested-addresses.js";

const field = "spec.loadBalancerIP";

describe("checkFamilies", () => {
  it("accepts one or two distinct families", () => {
    expect(() => checkFamilies(["IPv6", "IPv4"])).not.toThrow();
    expect(() => checkFamilies([])).toThrow(InvalidSpecError);
    expect(() => checkFamilies(["IPv4", "IPv4"])).toThrow("spec.ipFamilies: must be one or two distinct families");
  });
});

describe("parseRequestedAddresses", () => {
  it("orders requested addresses by the Service's families", () => {
    const addrs = parseRequestedAddresses(["192.0.2.1", "2001:DB8::1"], ["IPv6", "IPv4"], field);
    expect(addrs.map(formatIPValue)).toEqual(["2001:db8::1", "192.0.2.1"]);
    expect(parseRequestedAddresses([], ["IPv4"], field)).toEqual([]);
  });

  it("refuses addresses that do not match the families one to one", () => {
    expect(() => parseRequestedAddresses(["192.0.2.1", "192.0.2.2"], ["IPv4"], field)).toThrow(
      "spec.loadBalancerIP: requests two IPv4 addresses (192.0.2.1, 192.0.2.2); request at most one per IP family",
    );
    expect(() => parseRequestedAddresses(["2001:db8::1"], ["IPv4"], field)).toThrow(
      "address 2001:db8::1 is IPv6, but the Service's ipFamilies are IPv4",
    );
    expect(() => parseRequestedAddresses(["192.0.2.1"], ["IPv4", "IPv6"], field)).toThrow("requests no IPv6 address");
    expect(() => parseRequestedAddresses(["nope"], ["IPv4"], field)).toThrow(
      'spec.loadBalancerIP: "nope" is not an IP address',
    );
  });
});
