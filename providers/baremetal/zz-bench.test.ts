import { it } from "vitest";
import { AddressAllocator } from "./allocator.js";
it("bench", () => {
  const a = new AddressAllocator({ pools: [{ name: "big", addresses: ["10.0.0.0/16"], autoAssign: true, avoidBuggyIPs: false }] });
  const t = performance.now();
  for (let i = 0; i < 5000; i++) a.allocate(`ns/s${i}`, { requestedIPs: [], sharingKey: "true", ports: [{ protocol: "TCP", port: 80 }], ipFamilies: ["IPv4"] });
  console.log("same-key 5000:", performance.now() - t);
});
