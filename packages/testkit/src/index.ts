// @parley/testkit: tooling for tests, never a dependency of the product.
export {
  officialGroupTraffic,
  officialRegistration,
  type CapturedRequest,
  type OfficialGroupTraffic,
  type OfficialRegistration,
} from "./official-fixtures.js";
export { startCaptureServer, type CaptureServer, type CapturedCall } from "./grpc-capture-server.js";
export { createTestWallet, officialSigner, type TestWallet } from "./test-wallet.js";
export { sharedPath, skipUnlessShared } from "./shared-dir.js";
export { mlsSamples, type MlsSamples } from "./mls-samples.js";
export { privateMessageOfSize } from "./private-message.js";
export { testTls } from "./test-tls.js";
export { createInProcessTestNode, startTestNode, type InProcessTestNode } from "./test-node.js";
