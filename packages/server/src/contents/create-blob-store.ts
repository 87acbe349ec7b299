import { join } from 'node:path';
import { type BlobStore, createFsBlobStore, createS3BlobStore, type S3BlobStore } from '@vidgenie/nodes';
import { ConfigError, type ServerConfig } from '../config/server-config.ts';

/** The configuration {@link createBlobStore} reads. */
export type BlobStoreConfig = Pick<
  ServerConfig,
  | 'VIDGENIE_DATA_DIR'
  | 'S3_BUCKET'
  | 'S3_REGION'
  | 'S3_ENDPOINT'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_FORCE_PATH_STYLE'
>;

/** A blob store and how to free what it holds (the S3 store's client and local copies). */
export interface ConfiguredBlobStore {
  readonly blobs: BlobStore;
  /** `s3` with `S3_BUCKET`, else `fs`. */
  readonly kind: 'fs' | 's3';
  /** Presigned download URLs (S3 only). */
  readonly presign?: S3BlobStore['presignedUrl'];
  dispose(): Promise<void>;
}

/**
 * The media blob store the configuration asks for: with `S3_BUCKET`, the S3 store of
 * `@vidgenie/nodes` (region, endpoint, path style and static credentials from `S3_*`, else the AWS
 * SDK's defaults); otherwise files under `VIDGENIE_DATA_DIR/media`. Throws {@link ConfigError} when
 * only one of `S3_ACCESS_KEY_ID` and `S3_SECRET_ACCESS_KEY` is set.
 *
 * @example
 * ```ts
 * import { createBlobStore, loadConfig } from '@vidgenie/server';
 * const media = createBlobStore(loadConfig({ S3_BUCKET: 'vidgenie-media', S3_REGION: 'eu-west-3' }));
 * console.log(media.kind); // "s3"
 * await media.dispose();
 * ```
 */
export function createBlobStore(config: BlobStoreConfig): ConfiguredBlobStore {
  const hasKeyId = config.S3_ACCESS_KEY_ID !== undefined;
  const hasSecret = config.S3_SECRET_ACCESS_KEY !== undefined;
  if (hasKeyId !== hasSecret) {
    throw new ConfigError([
      'S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither (neither uses the AWS credential chain)',
    ]);
  }
  if (config.S3_BUCKET === undefined) {
    return {
      kind: 'fs',
      blobs: createFsBlobStore({ root: join(config.VIDGENIE_DATA_DIR, 'media') }),
      dispose: async () => {},
    };
  }
  const store: S3BlobStore = createS3BlobStore({
    bucket: config.S3_BUCKET,
    clientConfig: {
      ...(config.S3_REGION === undefined ? {} : { region: config.S3_REGION }),
      ...(config.S3_ENDPOINT === undefined ? {} : { endpoint: config.S3_ENDPOINT }),
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      ...(config.S3_ACCESS_KEY_ID === undefined || config.S3_SECRET_ACCESS_KEY === undefined
        ? {}
        : {
            credentials: {
              accessKeyId: config.S3_ACCESS_KEY_ID,
              secretAccessKey: config.S3_SECRET_ACCESS_KEY,
            },
          }),
    },
  });
  return {
    kind: 's3',
    blobs: store,
    presign: (args) => store.presignedUrl(args),
    dispose: () => store.dispose(),
  };
}
