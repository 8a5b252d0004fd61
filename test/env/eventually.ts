// Moved to the test kit (testing/eventually.ts). Kept only while test/integration/aws-controller.test.ts, owned by
// another branch of issue 12, still imports it here; delete once that import points at testing/eventually.js.
export { delay, eventually } from "../../testing/eventually.js";
