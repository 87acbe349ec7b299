/** What a blob store knows about a stored object. */
export interface BlobInfo {
  readonly key: string;
  readonly bytes: number;
  readonly mimeType: string;
}

/**
 * Where media bytes live (filesystem by default, S3 in production). Keys are relative paths such
 * as `runs/<runId>/image.png`; implementations reject keys that escape their root.
 */
export interface BlobStore {
  /** Stores bytes (or a stream) under a key, replacing any previous object. */
  put(args: {
    readonly key: string;
    readonly body: Uint8Array | AsyncIterable<Uint8Array>;
    readonly mimeType: string;
  }): Promise<BlobInfo>;
  /** Reads an object whole. Rejects when it does not exist. */
  getBytes(args: { readonly key: string }): Promise<Uint8Array>;
  /** Streams an object. Rejects when it does not exist. */
  getStream(args: { readonly key: string }): Promise<AsyncIterable<Uint8Array>>;
  /** Size and type, or undefined when absent. */
  stat(args: { readonly key: string }): Promise<BlobInfo | undefined>;
  delete(args: { readonly key: string }): Promise<void>;
  /**
   * A local file path holding the object, for tools like ffmpeg that read files. Filesystem stores
   * return the object's own path; others download to a temporary file.
   */
  localPath(args: { readonly key: string }): Promise<string>;
  /** A URL to download the object (a file URL, a presigned URL or a server route). */
  url(args: { readonly key: string; readonly expiresInSeconds?: number }): Promise<string>;
  /**
   * Optional: the keys of the objects under `prefix` (a folder: `runs/r1/` lists `runs/r1/a.png`
   * and `runs/r1/x/b.mp4`, not `runs/r10/c.png`), in no particular order. Hosts use it to find
   * media no record names (written by a step that crashed before it was checkpointed), so that
   * cleanup can collect it. The conformance suite checks it when present.
   */
  list?(args: { readonly prefix: string }): AsyncIterable<string>;
  /**
   * Optional: stores the local file at `path` under `key` (as `put` does, replacing any previous
   * object) and takes the file over: once it resolves, the file is no longer at `path`. A
   * filesystem store on the same volume renames the file into place, so no byte is copied (a
   * provider's downloaded video goes into the store in one call instead of a read and a write per
   * chunk); others copy it, then remove it. When it rejects, the file is left at `path` for the
   * caller to deal with. Callers without it `put` a stream of the file and remove the file
   * themselves. The conformance suite checks it when present.
   */
  putFile?(args: {
    readonly key: string;
    readonly path: string;
    readonly mimeType: string;
  }): Promise<BlobInfo>;
}
