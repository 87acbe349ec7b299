import { requireServices } from '@vidgenie/engine';
import type { BlobStore } from '../blob/blob-store.ts';
import type { MediaTools } from '../media/media-tools.ts';

/** The host services VidGenie's media nodes need. */
export interface MediaServices {
  readonly blobs: BlobStore;
  readonly media: MediaTools;
}

/** The service declaration shared by the media nodes. @internal */
export const mediaServices = requireServices<MediaServices>();
