/**
 * `@vidgenie/nodes/testing`: provider fakes that speak the real wire formats, for tests that
 * drive the official SDKs, and the pieces to build your own.
 *
 * @module
 */

export {
  type BlobStoreConformanceCase,
  type BlobStoreConformanceRunner,
  blobStoreConformanceCases,
  describeBlobStoreConformance,
} from '../blob/blob-store-conformance.ts';
export {
  type FakeFault,
  type FakeHttpServer,
  type FakeHttpServerOptions,
  type FakeLatency,
  type FakeRequest,
  type FakeResponse,
  type FakeRoute,
  startFakeHttpServer,
} from './fakes/fake-http-server.ts';
export {
  type GeminiFake,
  type GeminiFakeOperation,
  type GeminiFakeOptions,
  type GeminiFakeOutcome,
  geminiFaults,
  googleRpcError,
  startGeminiFake,
} from './fakes/gemini-fake.ts';
export {
  OPENAI_FAKE_KEY,
  type OpenAiFake,
  type OpenAiFakeOptions,
  type OpenAiFakeRequest,
  openAiFaults,
  startOpenAiFake,
} from './fakes/openai-fake.ts';
export {
  type FakeClipOptions,
  type RunwayFake,
  type RunwayFakeOptions,
  type RunwayFakeOutcome,
  type RunwayFakeTask,
  renderTestClip,
  runwayFaults,
  startRunwayFake,
} from './fakes/runway-fake.ts';
export {
  STABILITY_RESOLUTIONS,
  type StabilityFake,
  type StabilityFakeOptions,
  type StabilityFakeRequest,
  startStabilityFake,
} from './fakes/stability-fake.ts';
export {
  describeProviderConformance,
  type ProviderConformanceCase,
  type ProviderConformanceHarness,
  type ProviderConformanceKeys,
  type ProviderConformanceRunner,
  type ProviderConformanceSubject,
  providerConformanceCases,
} from './provider-conformance.ts';
