/** The Acme Images provider, its fake and its error mapping: everything about Acme, in one folder. */
export {
  type AcmeErrorBody,
  AcmeHttpError,
  AcmeShapeError,
  acmeFailure,
  mapAcmeError,
} from './acme-errors.ts';
export {
  ACME_FAKE_KEY,
  type AcmeFake,
  type AcmeFakeOptions,
  renderGradientPng,
  startAcmeFake,
} from './acme-fake.ts';
export {
  ACME_BASE_URL,
  ACME_DEFAULT_MODEL,
  type AcmeImageProviderOptions,
  acmeImageConfig,
  acmePixelSize,
  createAcmeImageProvider,
} from './acme-image-provider.ts';
