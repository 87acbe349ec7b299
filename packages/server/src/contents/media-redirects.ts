import type { PresignedUrlArgs } from '@vidgenie/nodes';

/** How long a media redirect's presigned URL works: long enough to start playing, short enough to share badly. */
export const MEDIA_REDIRECT_SECONDS = 300;

/**
 * Media delivered by redirect: after the route's owner check, a 302 to a presigned URL of the
 * bucket (or of the CDN in front of it). `origin` is where those URLs point, for the CSP.
 */
export interface MediaRedirects {
  readonly origin: string;
  urlFor(args: Omit<PresignedUrlArgs, 'expiresInSeconds'>): Promise<string>;
}

/**
 * Builds {@link MediaRedirects} from a presigner and an optional CDN base URL: the CDN's URLs keep
 * the signed path and query and change only the origin (the CDN forwards them to the bucket).
 * The origin is found once by signing a URL, so it is exact for path-style and virtual-hosted
 * buckets alike.
 * @internal
 */
export async function createMediaRedirects(args: {
  readonly presign: (args: PresignedUrlArgs) => Promise<string>;
  readonly cdnBaseUrl?: string;
}): Promise<MediaRedirects> {
  const cdn = args.cdnBaseUrl === undefined ? undefined : new URL(args.cdnBaseUrl);
  const rebase = (signed: string) => {
    if (cdn === undefined) return signed;
    const url = new URL(signed);
    const base = cdn.pathname.replace(/\/$/, '');
    return `${cdn.origin}${base}${url.pathname}${url.search}`;
  };
  const probe = new URL(rebase(await args.presign({ key: 'origin-probe' })));
  return Object.freeze({
    origin: probe.origin,
    urlFor: async (request: Omit<PresignedUrlArgs, 'expiresInSeconds'>) =>
      rebase(await args.presign({ ...request, expiresInSeconds: MEDIA_REDIRECT_SECONDS })),
  });
}
