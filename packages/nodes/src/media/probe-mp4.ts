import { open } from 'node:fs/promises';
import { createFile, MP4BoxBuffer } from 'mp4box';
import type { VideoProbe } from './media-tools.ts';

/** Read at a time while looking for the `moov` (box headers are small, a `moov` tens of KiB). */
const CHUNK_BYTES = 64 * 1024;
/** Past this much read without a complete `moov`, the file is left to ffmpeg. */
const MAX_READ_BYTES = 16 * 1024 * 1024;

/**
 * The duration and first video track's size of an MP4 (or MOV) file, read from its `moov` box with
 * mp4box (no process started): the figures `ffmpeg -i` prints, the duration rounded to the
 * hundredth of a second as ffmpeg shows it. Reads the file's box headers and its `moov` only,
 * skipping the media data wherever the `moov` is (start or end). Undefined when the file is not an
 * MP4 it can read (one that does not open with an `ftyp` box included), has no video track, no
 * duration (a fragmented file without one), or keeps its `moov` past the first 16 MiB read:
 * callers then ask ffmpeg. Rejects only when `signal` aborts. @internal
 */
export async function probeMp4(path: string, signal?: AbortSignal): Promise<VideoProbe | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await handle.stat();
    const file = createFile(false);
    let movie: Parameters<NonNullable<typeof file.onReady>>[0] | undefined;
    let failed = false;
    file.onReady = (info) => {
      movie = info;
    };
    file.onError = () => {
      failed = true;
    };
    let position = 0;
    let read = 0;
    while (movie === undefined && !failed && position < size && read < MAX_READ_BYTES) {
      signal?.throwIfAborted();
      const length = Math.min(CHUNK_BYTES, size - position);
      const buffer = new MP4BoxBuffer(length);
      const { bytesRead } = await handle.read(new Uint8Array(buffer), 0, length, position);
      if (bytesRead === 0) break;
      // An MP4 (or a MOV written since 2001) opens with its `ftyp` box; anything else is left to
      // ffmpeg, and not to mp4box, which prints what it cannot parse to the console.
      if (position === 0 && !startsWithFtyp(new Uint8Array(buffer, 0, bytesRead))) return undefined;
      buffer.fileStart = position;
      read += bytesRead;
      const next = file.appendBuffer(buffer, position + bytesRead >= size);
      // mp4box says where the next box it needs begins (past an mdat it does not keep).
      position = next > position ? next : position + bytesRead;
    }
    file.flush();
    signal?.throwIfAborted();
    if (movie === undefined || failed) return undefined;
    const track = movie.videoTracks[0];
    const width = track?.video?.width ?? 0;
    const height = track?.video?.height ?? 0;
    const seconds = movie.timescale > 0 ? movie.duration / movie.timescale : 0;
    const durationSeconds = Math.round(seconds * 100) / 100;
    if (!(durationSeconds > 0) || !(width > 0) || !(height > 0)) return undefined;
    return { durationSeconds, width, height };
  } catch {
    signal?.throwIfAborted();
    return undefined;
  } finally {
    await handle.close();
  }
}

/** Whether `bytes` open with an `ftyp` box header (its size, then `ftyp`). */
function startsWithFtyp(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 && bytes[4] === 0x66 && bytes[5] === 0x74 && bytes[6] === 0x79 && bytes[7] === 0x70
  );
}
