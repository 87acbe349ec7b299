/**
 * `@vidgenie/nodes/testing`: provider fakes that speak the real wire formats, for tests that
 * drive the official SDKs, and the pieces to build your own.
 *
 * @module
 */
export {
  type FakeFault,
  type FakeHttpServer,
  type FakeRequest,
  type FakeResponse,
  type FakeRoute,
  startFakeHttpServer,
} from './fakes/fake-http-server.ts';
